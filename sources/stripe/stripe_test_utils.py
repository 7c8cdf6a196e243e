"""Write-back utilities for stripe: create marked customers through the API
(``POST /v1/customers``, form-encoded, the marker in ``metadata``), so the suite can check that
a fresh connector reads them; ``cleanup()`` deletes the customers this instance created
(``DELETE /v1/customers/{id}``). Use a test-mode key (``sk_test_…``) for live runs.
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
        return []  # customers is a snapshot table: a deleted customer is gone at the next read

    def delete_rows(self, table_name, number_of_rows):
        return False, [], {}

    def cleanup(self) -> None:
        for _, customer in self.created:
            self.connector.client.request("DELETE", f"/v1/customers/{customer}", ok_statuses=(404,))
        self.created.clear()
