"""``ZendeskLakeflowConnect``: a Zendesk Support account's tickets, users and organizations
as Spark tables, read through Zendesk's incremental export API (see ``zendesk_api_doc.md``).

Connection options: ``subdomain`` (``acme`` for ``https://acme.zendesk.com``; or ``base_url``),
``email`` and ``api_token`` (basic auth as ``{email}/token:{api_token}``), ``page_size``
(1–1000, default 1000) and the shared client's ``connect_timeout``, ``read_timeout``,
``retry_*`` and ``request_deadline``.

Every table is read from an incremental export from ``start_time`` (epoch seconds, on or
after) to its ``end_of_stream``, then through an :class:`InclusiveCursor` on the field the
export compares (tickets: ``generated_timestamp``, users and organizations: ``updated_at``),
so records sharing the second of the last one read are neither lost nor read twice; a record
changed while pages are read comes again later in the stream, and its latest version is kept.

* ``tickets`` (cursor-based export) and ``users`` (cursor-based) are **cdc_with_deletes**:
  deleted tickets stay in the export with ``status: "deleted"``, deleted users with
  ``active: false``; those are the delete flow, the rest the upserts.
* ``organizations`` (time-based export: pages overlap at ``end_time``) is **cdc**: the
  export does not mark deleted organizations.

The export never holds the last minute, so the saved cursor is always a minute old and the
next ``start_time`` is always accepted.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Iterator

from pyspark.sql.types import StructType

from sources.http import HttpClient, HttpSettings
from sources.interface import ConnectorError, ReadLimits, SupportsReadLimits
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import (
    BOOLEAN, EPOCH_SECONDS, HTTP_OPTIONS, LONG, STRING, TIMESTAMP, BodyUrlPaginator, HttpConnector, InclusiveCursor,
    Opt, OptionSet, array_of, parse_instant, struct,
)

OPTIONS = OptionSet(
    Opt("subdomain", doc="the account's subdomain: acme for https://acme.zendesk.com (or give base_url)"),
    Opt("email", required=True, doc="the email address of the agent or admin the API token belongs to"),
    Opt("api_token", secret=True, required=True, doc="an API token (Admin Center → Apps and integrations → Zendesk API)"),
    Opt("base_url", doc="the API's URL, https://<subdomain>.zendesk.com by default"),
    Opt("page_size", int, default=1000, low=1, high=1000),
)

METADATA = {
    "tickets": {"primary_keys": ["id"], "cursor_field": "generated_timestamp", "ingestion_type": "cdc_with_deletes"},
    "users": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc_with_deletes"},
    "organizations": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
}
#: table -> (export path, the body's list of records, the body's next-page URL)
EXPORTS = {
    "tickets": ("/api/v2/incremental/tickets/cursor", "tickets", "after_url"),
    "users": ("/api/v2/incremental/users/cursor", "users", "after_url"),
    "organizations": ("/api/v2/incremental/organizations", "organizations", "next_page"),
}
#: table -> whether an exported record is a deletion
DELETED: dict[str, Callable[[dict], bool]] = {
    "tickets": lambda r: r.get("status") == "deleted",
    "users": lambda r: r.get("active") is False,
    "organizations": lambda r: False,
}
SCHEMAS: dict[str, StructType] = {
    "tickets": struct(id=LONG, url=STRING, subject=STRING, description=STRING, status=STRING, priority=STRING,
                      type=STRING, requester_id=LONG, assignee_id=LONG, organization_id=LONG, tags=array_of(STRING),
                      created_at=TIMESTAMP, updated_at=TIMESTAMP, generated_timestamp=EPOCH_SECONDS),
    "users": struct(id=LONG, name=STRING, email=STRING, role=STRING, active=BOOLEAN, suspended=BOOLEAN,
                    organization_id=LONG, time_zone=STRING, created_at=TIMESTAMP, updated_at=TIMESTAMP),
    "organizations": struct(id=LONG, name=STRING, domain_names=array_of(STRING), details=STRING, tags=array_of(STRING),
                            created_at=TIMESTAMP, updated_at=TIMESTAMP),
}


class ZendeskLakeflowConnect(HttpConnector, SupportsReadLimits):
    """Reads Zendesk Support (see the module docstring)."""

    CONNECTION_OPTIONS = OptionSet(OPTIONS, HTTP_OPTIONS)
    METADATA, SCHEMAS = METADATA, SCHEMAS

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = OPTIONS.parse(self.options, owner="Zendesk")
        if not parsed.base_url and not parsed.subdomain:
            raise ConnectorError("Zendesk needs the option 'subdomain' (acme for https://acme.zendesk.com) "
                                 "or 'base_url'")
        self.base_url = (parsed.base_url or f"https://{parsed.subdomain}.zendesk.com").rstrip("/")
        self._credential = base64.b64encode(f"{parsed.email}/token:{parsed.api_token}".encode()).decode()
        self._token = parsed.api_token
        self.page_size = parsed.page_size
        self.http = HttpSettings.from_options(self.options, owner="Zendesk")

    def make_client(self) -> HttpClient:
        # 429 answers carry Retry-After (the export allows 10 requests a minute); the shared
        # retry policy waits that long.
        return HttpClient.from_settings(self.base_url, self.http, headers={"Authorization": f"Basic {self._credential}"},
                                        secrets=[self._token, self._credential])

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict | None]:
        records, offset = self._export(self.check_table(table_name), start_offset, limits, deleted=False)
        return iter(records), offset

    def read_table_deletes(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                           limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        if METADATA[self.check_table(table_name)]["ingestion_type"] != "cdc_with_deletes":
            raise ConnectorError(f"Zendesk table {table_name!r} has no delete flow: its export does not mark "
                                 "deleted records")
        records, offset = self._export(table_name, start_offset, limits, deleted=True)
        return iter(records), offset

    def _export(self, table: str, start_offset: Any, limits: ReadLimits, deleted: bool) -> tuple[list, dict]:
        """The export from the offset's cursor to its end: the records (deletions or the rest)
        not read before, oldest first, bounded by the call's limits; and the next offset."""
        state = InclusiveCursor.parse(start_offset, table)
        path, records_path, next_url = EXPORTS[table]
        start_time = 0 if state.since is None else int(parse_instant(state.since).timestamp())
        cursor = METADATA[table]["cursor_field"]
        latest: dict = {}  # a record changed while paging comes again later: keep that version
        for page in self.client.paginate(path, BodyUrlPaginator(next_url, "end_of_stream", records_path),
                                         params={"start_time": start_time, "per_page": self.page_size}):
            latest.update((record["id"], record) for record in page)
        wanted = [r for r in latest.values() if DELETED[table](r) == deleted]
        return state.read(wanted, lambda r: r[cursor], lambda r: r["id"], table, limits)
