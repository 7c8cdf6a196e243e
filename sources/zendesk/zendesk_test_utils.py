"""Write-back utilities for zendesk: create marked tickets and users through the API
(``POST /api/v2/tickets``, ``POST /api/v2/users``, the marker in the subject, name and tags)
and delete them (``DELETE /api/v2/tickets/{id}``: the ticket stays in the export as
``status: "deleted"``; ``DELETE /api/v2/users/{id}``: ``active: false``), so the suite can check
that a fresh connector reads both; ``cleanup()`` deletes what this instance created and did
not delete yet. Use a sandbox or trial account for live runs.
"""

from __future__ import annotations

import uuid

from sources.interface.write_back import LakeflowConnectWriteTestUtils
from sources.zendesk.zendesk import ZendeskLakeflowConnect

#: table -> (API path, body key)
WRITES = {"tickets": ("/api/v2/tickets", "ticket"), "users": ("/api/v2/users", "user"),
          "organizations": ("/api/v2/organizations", "organization")}


class ZendeskTestUtils(LakeflowConnectWriteTestUtils):
    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.connector = ZendeskLakeflowConnect(dict(options))
        self.marker = f"lf-test-{uuid.uuid4().hex[:12]}"

    def list_insertable_tables(self) -> list[str]:
        return list(WRITES)

    def _body(self, table: str, i: int) -> tuple[dict, dict]:
        """The record to write and how the columns read back map to what was written."""
        if table == "tickets":
            return ({"subject": f"Lakeflow test {self.marker} {i}", "comment": {"body": f"written by {self.marker}"},
                     "tags": [self.marker]}, {"subject": "subject", "description": "description"})
        if table == "users":
            return ({"name": f"Lakeflow test {i}", "email": f"{self.marker}.{i}@example.com", "role": "end-user"},
                    {"name": "name", "email": "email"})
        return {"name": f"Lakeflow test {self.marker} {i}"}, {"name": "name"}

    def generate_rows_and_write(self, table_name, number_of_rows):
        if table_name not in WRITES:
            return False, [], {}
        path, key = WRITES[table_name]
        rows, mapping = [], {}
        for i in range(number_of_rows):
            body, mapping = self._body(table_name, i)
            row = self.connector.client.request("POST", path, json={key: body}).json()[key]
            self.created.append((table_name, row["id"]))
            rows.append({**body, "id": row["id"], "description": body["comment"]["body"]} if table_name == "tickets"
                        else {**body, "id": row["id"]})
        return True, rows, {"id": "id", **mapping}

    def list_deletable_tables(self) -> list[str]:
        return ["tickets", "users"]

    def delete_rows(self, table_name, number_of_rows):
        """Delete ``number_of_rows`` records this instance created (creating them first)."""
        if table_name not in self.list_deletable_tables():
            return False, [], {}
        mine = [key for table, key in self.created if table == table_name]
        if len(mine) < number_of_rows:
            self.generate_rows_and_write(table_name, number_of_rows - len(mine))
            mine = [key for table, key in self.created if table == table_name]
        deleted = []
        for record_id in mine[:number_of_rows]:
            self.connector.client.request("DELETE", f"{WRITES[table_name][0]}/{record_id}")
            self.created.remove((table_name, record_id))
            deleted.append({"id": record_id})
        return True, deleted, {"id": "id"}

    def cleanup(self) -> None:
        for table, record_id in self.created:
            self.connector.client.request("DELETE", f"{WRITES[table][0]}/{record_id}", ok_statuses=(404,))
        self.created.clear()
