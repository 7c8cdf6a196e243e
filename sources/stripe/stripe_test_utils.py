"""Write-back utilities for stripe: create marked customers through the API
(``POST /v1/customers``, form-encoded, the marker in ``metadata``) and delete them
(``DELETE /v1/customers/{id}``), so the suite can check that a fresh connector reads both;
``cleanup()`` deletes the customers this instance created and did not delete yet. Use a test-mode key (``sk_test_…``) for live runs.
"""

from __future__ import annotations

import uuid

from sources.interface.write_back import LakeflowConnectWriteTestUtils
from sources.stripe.stripe import StripeLakeflowConnect


class StripeTestUtils(LakeflowConnectWriteTestUtils):
    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.connector = StripeLakeflowConnect(dict(options))
        self.marker = f"lf-test-{uuid.uuid4().hex[:12]}"

    def list_insertable_tables(self) -> list[str]:
        return ["customers"]

    def generate_rows_and_write(self, table_name, number_of_rows):
        if table_name not in self.list_insertable_tables():
            return False, [], {}
        rows = []
        for i in range(number_of_rows):
            body = {"email": f"{self.marker}.{i}@example.com", "name": f"Lakeflow test {i}",
                    "metadata": {"lakeflow_run": self.marker}}
            row = self.connector.client.request("POST", "/v1/customers", data=body).json()
            self.created.append(("customers", row["id"]))
            rows.append(row)
        return True, rows, {"id": "id", "email": "email", "name": "name"}

    def list_deletable_tables(self) -> list[str]:
        return ["customers"]

    def delete_rows(self, table_name, number_of_rows):
        """Delete ``number_of_rows`` customers this instance created (creating them first);
        their ``customer.deleted`` events are the delete flow."""
        if table_name not in self.list_deletable_tables():
            return False, [], {}
        mine = [key for table, key in self.created if table == "customers"]
        if len(mine) < number_of_rows:
            ok, _, _ = self.generate_rows_and_write("customers", number_of_rows - len(mine))
            if not ok:
                return False, [], {}
            mine = [key for table, key in self.created if table == "customers"]
        deleted = []
        for customer in mine[:number_of_rows]:
            body = self.connector.client.request("DELETE", f"/v1/customers/{customer}").json()
            self.created.remove(("customers", customer))
            deleted.append({"id": body["id"]})
        return True, deleted, {"id": "id"}

    def cleanup(self) -> None:
        for _, customer in self.created:
            self.connector.client.request("DELETE", f"/v1/customers/{customer}", ok_statuses=(404,))
        self.created.clear()
