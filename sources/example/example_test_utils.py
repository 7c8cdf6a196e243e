"""Write-back utilities for the example connector: create, delete and clean up test rows.

Every row written carries this instance's marker (``lf-test-<run id>``): customers in their
email, orders in ``metadata["lf_test_run"]``, events in ``payload["source"]``. ``cleanup()``
deletes only customers and orders this instance created (events are append-only: the API
cannot delete them, so test events stay, recognisable by the marker).
"""

from __future__ import annotations

import uuid
from typing import Any

from sources.interface.write_back import LakeflowConnectWriteTestUtils
from sources.example.example import ExampleApiError, ExampleLakeflowConnect

_ID = {"customers": "customer_id", "orders": "order_id", "events": "event_id"}

# Write-side name -> read-side path (dots for nesting). Identical names: the API returns what
# was written, and the suite compares decimals as numbers and timestamps as strings.
_MAPPINGS = {
    "customers": {
        "customer_id": "customer_id", "email": "email", "name": "name", "tier": "tier",
        "credit_limit": "credit_limit", "address.city": "address.city", "address.country": "address.country",
        "updated_at": "updated_at",
    },
    "orders": {
        "order_id": "order_id", "customer_id": "customer_id", "status": "status", "total": "total",
        "metadata.lf_test_run": "metadata.lf_test_run", "updated_at": "updated_at",
    },
    "events": {
        "event_id": "event_id", "customer_id": "customer_id", "type": "type",
        "payload.source": "payload.source", "payload.value": "payload.value", "occurred_at": "occurred_at",
    },
}


class ExampleTestUtils(LakeflowConnectWriteTestUtils):
    """Writes through the example API's ``POST``/``DELETE`` endpoints with the connector's
    own HTTP client (same auth, retries and rate limit)."""

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.connector = ExampleLakeflowConnect(dict(options))
        self.run_id = uuid.uuid4().hex[:12]
        self.marker = f"lf-test-{self.run_id}"
        self._counter = 0
        self._customer_id: int | None = None

    def __repr__(self) -> str:
        return f"ExampleTestUtils(run={self.run_id!r}, connector={self.connector!r})"

    # -- inserts ---------------------------------------------------------------------------
    def list_insertable_tables(self) -> list[str]:
        return ["customers", "orders", "events"]

    def generate_rows_and_write(self, table_name: str, number_of_rows: int) -> tuple[bool, list[dict], dict[str, str]]:
        if table_name not in self.list_insertable_tables():
            return False, [], {}
        rows = []
        try:
            for _ in range(number_of_rows):
                rows.append(self._create(table_name))
        except ExampleApiError:
            return False, rows, dict(_MAPPINGS[table_name])
        return True, rows, dict(_MAPPINGS[table_name])

    def _create(self, table: str) -> dict:
        self._counter += 1
        n = self._counter
        if table == "customers":
            body = {"email": f"{self.marker}-{n}@example.com", "name": f"Write Back {n}", "tier": "pro",
                    "credit_limit": f"{100 + n}.25", "address": {"street": f"{n} Test Lane", "city": "Testville", "country": "NL"}}
        elif table == "orders":
            body = {"customer_id": self._a_customer(), "status": "pending",
                    "items": [{"sku": "SKU-0001", "quantity": n, "unit_price": "2.50"}],
                    "metadata": {"lf_test_run": self.marker}}
        else:
            body = {"customer_id": 1, "type": "write_back", "payload": {"source": self.marker, "value": float(n)}}
        row = self.connector.request("POST", f"/api/v1/{table}", body=body)
        if table in ("customers", "orders"):
            self.created.append((table, row[_ID[table]]))
        return row

    def _a_customer(self) -> int:
        """A customer to attach test orders to: one this instance created."""
        if self._customer_id is None:
            self._customer_id = self._create("customers")["customer_id"]
        return self._customer_id

    # -- deletes ---------------------------------------------------------------------------
    def list_deletable_tables(self) -> list[str]:
        return ["orders"]

    def delete_rows(self, table_name: str, number_of_rows: int) -> tuple[bool, list[dict], dict[str, str]]:
        if table_name not in self.list_deletable_tables():
            return False, [], {}
        deleted = []
        try:
            for _ in range(number_of_rows):
                row = self._create(table_name)
                rid = row[_ID[table_name]]
                self.connector.request("DELETE", f"/api/v1/{table_name}/{rid}")
                self.created.remove((table_name, rid))
                deleted.append({_ID[table_name]: rid})
        except ExampleApiError:
            return False, deleted, {_ID[table_name]: _ID[table_name]}
        return True, deleted, {_ID[table_name]: _ID[table_name]}

    def cleanup(self) -> None:
        """Delete the customers and orders this instance created (orders first, so no test
        order points at a deleted test customer). Rows already gone are fine."""
        for table, rid in sorted(self.created, key=lambda tr: tr[0] != "orders"):
            try:
                self.connector.request("DELETE", f"/api/v1/{table}/{rid}")
            except ExampleApiError as exc:
                if exc.status != 404:
                    raise
        self.created.clear()

    def written_marker(self) -> Any:
        """The marker carried by every row this instance writes."""
        return self.marker
