"""Write-back test utilities for the HubSpot connector.

Writes marked records to contacts, companies and deals with the batch create API, archives
(soft-deletes) only records this instance created, and reports how written fields are
read back (``email`` → ``properties.email``). Works against the sandbox and a real portal
alike (the token comes from the options; it needs the ``crm.objects.<type>.write`` scopes).

Markers: every row carries ``lakeflow-test-<uuid>`` (in the contact email and last name,
the company name and domain, the deal name), so a test never confuses its rows with
anything else in a portal.
"""

from __future__ import annotations

import uuid
from typing import Any

from sources.interface.write_back import LakeflowConnectWriteTestUtils
from sources.hubspot.api import DEFAULT_BASE_URL, HubSpotApi

BATCH = 100


def _marker() -> str:
    return f"lakeflow-test-{uuid.uuid4().hex[:12]}"


def _contact(marker: str) -> dict[str, str]:
    return {"email": f"{marker}@example.com", "firstname": "Lakeflow", "lastname": f"Test {marker}",
            "jobtitle": "Connector test"}


def _company(marker: str) -> dict[str, str]:
    return {"name": f"Lakeflow Test {marker}", "domain": f"{marker}.example.com", "city": "Testville"}


def _deal(marker: str) -> dict[str, str]:
    return {"dealname": f"Lakeflow Test {marker}", "amount": "1234.56", "pipeline": "default",
            "dealstage": "appointmentscheduled"}


_GENERATORS = {"contacts": _contact, "companies": _company, "deals": _deal}


class HubSpotTestUtils(LakeflowConnectWriteTestUtils):
    """Writes and archives marked HubSpot records (contacts, companies, deals)."""

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.api = HubSpotApi((options.get("base_url") or DEFAULT_BASE_URL), options["access_token"])
        self._archived: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return f"HubSpotTestUtils(base_url={self.api.base_url!r}, created={len(self.created)})"

    def list_insertable_tables(self) -> list[str]:
        return list(_GENERATORS)

    def list_deletable_tables(self) -> list[str]:
        return list(_GENERATORS)

    def _create(self, table: str, number_of_rows: int) -> list[dict[str, Any]]:
        if table not in _GENERATORS:
            raise ValueError(f"HubSpotTestUtils cannot write to {table!r}; writable: {', '.join(_GENERATORS)}")
        written: list[dict[str, Any]] = []
        for start in range(0, number_of_rows, BATCH):
            inputs = [_GENERATORS[table](_marker()) for _ in range(min(BATCH, number_of_rows - start))]
            body = self.api.post(f"/crm/v3/objects/{table}/batch/create",
                                 {"inputs": [{"properties": p} for p in inputs]})
            results = (body or {}).get("results") or []
            by_marker = {}
            for result in results:
                props = result.get("properties") or {}
                for key in ("email", "name", "dealname"):
                    if props.get(key):
                        by_marker[props[key]] = str(result["id"])
            for props in inputs:
                key = props.get("email") or props.get("name") or props.get("dealname")
                rid = by_marker.get(key)
                if rid is None:
                    raise RuntimeError(f"HubSpot batch create of {table} did not return the record {key!r}")
                self.created.append((table, rid))
                written.append({"id": rid, **props})
        return written

    @staticmethod
    def _mapping(rows: list[dict[str, Any]]) -> dict[str, str]:
        names = [k for k in rows[0] if k != "id"] if rows else []
        return {"id": "id", **{name: f"properties.{name}" for name in names}}

    def generate_rows_and_write(self, table_name: str, number_of_rows: int) -> tuple[bool, list[dict], dict[str, str]]:
        rows = self._create(table_name, number_of_rows)
        return True, rows, self._mapping(rows)

    def _archive(self, table: str, ids: list[str]) -> None:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            self.api.post(f"/crm/v3/objects/{table}/batch/archive", {"inputs": [{"id": i} for i in chunk]})
            self._archived.update((table, i) for i in chunk)

    def delete_rows(self, table_name: str, number_of_rows: int) -> tuple[bool, list[dict], dict[str, str]]:
        rows = self._create(table_name, number_of_rows)
        self._archive(table_name, [r["id"] for r in rows])
        return True, rows, {"id": "id"}

    def cleanup(self) -> None:
        """Archive every record this instance created and has not archived yet."""
        pending: dict[str, list[str]] = {}
        for table, rid in self.created:
            if (table, rid) not in self._archived:
                pending.setdefault(table, []).append(rid)
        for table, ids in pending.items():
            self._archive(table, ids)
        self.api.close()
