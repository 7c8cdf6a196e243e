"""``JiraLakeflowConnect``: a Jira Cloud site's issues, their changelog, projects and users as
Spark tables, read through Jira's REST API v3 (see ``jira_api_doc.md``).

Connection options: ``site`` (``acme`` for ``https://acme.atlassian.net``; or ``base_url``),
``email`` and ``api_token`` (basic auth), ``page_size`` (issues, projects: 1–100, default 100)
and the shared client's ``connect_timeout``, ``read_timeout``, ``retry_*`` and
``request_deadline``. Table option ``jql`` (issues, issue_changelog): a JQL filter the read
adds to its own (``project = ENG``).

* ``issues`` is **cdc** on ``fields.updated``, searched with JQL (``GET
  /rest/api/3/search/jql``). JQL compares dates to the minute, in the time zone of the
  account's profile (``/rest/api/3/myself``): a read asks for ``updated >= "<the cursor's
  minute, in that zone>"`` and an :class:`InclusiveCursor` on the exact ``updated`` drops what
  was read before, so issues updated in the cursor's minute or millisecond are neither lost
  nor read twice. Jira has no feed of deleted issues (a full refresh removes them).
* ``issue_changelog`` is **append** on ``created``: every change history of the issues
  updated since the cursor's minute (``POST /rest/api/3/changelog/bulkfetch``, 1000 issues a
  request), each with its ``issue_id``; the same inclusive cursor on ``created``. A change
  always moves its issue's ``updated``, so no change is missed.
* ``projects`` and ``users`` are **snapshots** (``/rest/api/3/project/search``,
  ``/rest/api/3/users/search``).
"""

from __future__ import annotations

import base64
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyspark.sql.types import StructType

from sources.http import HttpClient, HttpSettings
from sources.interface import ConnectorError, ReadLimits, SupportsReadLimits
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import (
    BOOLEAN, HTTP_OPTIONS, STRING, TIMESTAMP, BodyTokenPaginator, BodyUrlPaginator, HttpConnector, InclusiveCursor,
    OffsetPaginator, Opt, OptionSet, array_of, parse_instant, struct,
)

OPTIONS = OptionSet(
    Opt("site", doc="the site's name: acme for https://acme.atlassian.net (or give base_url)"),
    Opt("email", required=True, doc="the email address of the Atlassian account the API token belongs to"),
    Opt("api_token", secret=True, required=True, doc="an API token (id.atlassian.com → Security → API tokens)"),
    Opt("base_url", doc="the site's URL, https://<site>.atlassian.net by default"),
    Opt("page_size", int, default=100, low=1, high=100),
)
TABLE_OPTS = OptionSet(Opt("jql", doc="a JQL filter added to the read's own (issues, issue_changelog): project = ENG"))

METADATA = {
    "issues": {"primary_keys": ["id"], "cursor_field": "fields.updated", "ingestion_type": "cdc"},
    "issue_changelog": {"primary_keys": ["id"], "cursor_field": "created", "ingestion_type": "append"},
    "projects": {"primary_keys": ["id"], "cursor_field": None, "ingestion_type": "snapshot"},
    "users": {"primary_keys": ["accountId"], "cursor_field": None, "ingestion_type": "snapshot"},
}
PERSON = struct(accountId=STRING, displayName=STRING)
NAMED = struct(name=STRING)
ISSUE_FIELDS = struct(summary=STRING, status=NAMED, issuetype=NAMED, priority=NAMED,
                      project=struct(id=STRING, key=STRING), assignee=PERSON, labels=array_of(STRING),
                      created=TIMESTAMP, updated=TIMESTAMP)
SCHEMAS: dict[str, StructType] = {
    "issues": struct(id=STRING, key=STRING, self=STRING, fields=ISSUE_FIELDS),
    "issue_changelog": struct(id=STRING, issue_id=STRING, author=PERSON, created=TIMESTAMP,
                              items=array_of(struct(field=STRING, fieldtype=STRING, fromString=STRING, toString=STRING))),
    "projects": struct(id=STRING, key=STRING, name=STRING, projectTypeKey=STRING, style=STRING, simplified=BOOLEAN,
                       isPrivate=BOOLEAN),
    "users": struct(accountId=STRING, accountType=STRING, displayName=STRING, emailAddress=STRING, active=BOOLEAN,
                    timeZone=STRING),
}
SEARCH_FIELDS = ",".join(f.name for f in ISSUE_FIELDS.fields)
BULK_ISSUES, BULK_ENTRIES = 1000, 1000


class JiraLakeflowConnect(HttpConnector, SupportsReadLimits):
    """Reads Jira Cloud (see the module docstring)."""

    CONNECTION_OPTIONS = OptionSet(OPTIONS, HTTP_OPTIONS)
    TABLE_OPTIONS = TABLE_OPTS
    METADATA, SCHEMAS = METADATA, SCHEMAS

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = OPTIONS.parse(self.options, owner="Jira")
        if not parsed.base_url and not parsed.site:
            raise ConnectorError("Jira needs the option 'site' (acme for https://acme.atlassian.net) or 'base_url'")
        self.base_url = (parsed.base_url or f"https://{parsed.site}.atlassian.net").rstrip("/")
        self._token = parsed.api_token
        self._credential = base64.b64encode(f"{parsed.email}:{parsed.api_token}".encode()).decode()
        self.page_size = parsed.page_size
        self.http = HttpSettings.from_options(self.options, owner="Jira")
        self._zone: ZoneInfo | None = None

    def make_client(self) -> HttpClient:
        return HttpClient.from_settings(self.base_url, self.http, headers={"Authorization": f"Basic {self._credential}"},
                                        secrets=[self._token, self._credential])

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict | None]:
        kind = METADATA[self.check_table(table_name)]["ingestion_type"]
        if table_name == "projects":
            pages = self.client.paginate("/rest/api/3/project/search", BodyUrlPaginator("nextPage", "isLast", "values"),
                                         params={"maxResults": self.page_size})
            return (p for page in pages for p in page), None
        if kind == "snapshot":
            pages = self.client.paginate("/rest/api/3/users/search",
                                         OffsetPaginator("startAt", "maxResults", limit=1000, records_path=""))
            return (u for page in pages for u in page), None
        jql = TABLE_OPTS.parse(table_options, owner=f"Jira table {table_name!r}").jql
        state = InclusiveCursor.parse(start_offset, table_name)
        issues = self._issues_since(state.since, jql, SEARCH_FIELDS if table_name == "issues" else "updated")
        if table_name == "issues":
            records, offset = state.read(issues, lambda r: r["fields"]["updated"], lambda r: r["id"], table_name, limits)
        else:
            records, offset = state.read(self._changes(list(issues)), lambda r: r["created"], lambda r: r["id"],
                                         table_name, limits)
        return iter(records), offset

    def _issues_since(self, since: Any, jql: str | None, fields: str) -> list[dict]:
        """The issues updated in or after the minute of ``since`` (all without it), one
        version each (the latest, should an issue change while pages are read)."""
        start = "1970-01-01 00:00" if since is None else parse_instant(since).astimezone(self.zone()).strftime("%Y-%m-%d %H:%M")
        query = f'updated >= "{start}"' + (f" AND ({jql})" if jql else "") + " ORDER BY updated ASC"
        latest: dict = {}
        for page in self.client.paginate("/rest/api/3/search/jql", BodyTokenPaginator("nextPageToken", "nextPageToken", "issues"),
                                         params={"jql": query, "fields": fields, "maxResults": self.page_size}):
            latest.update((issue["id"], issue) for issue in page)
        return list(latest.values())

    def _changes(self, issues: list[dict]) -> list[dict]:
        """Every change history of ``issues``, each with its ``issue_id``."""
        entries = []
        for at in range(0, len(issues), BULK_ISSUES):
            body: dict = {"issueIdsOrKeys": [i["id"] for i in issues[at:at + BULK_ISSUES]], "maxResults": BULK_ENTRIES}
            while True:
                answer = self.client.request("POST", "/rest/api/3/changelog/bulkfetch", json=body).json()
                logs = answer.get("issueChangeLogs") if isinstance(answer, dict) else None
                if not isinstance(logs, list):
                    raise ConnectorError("Jira answered POST /rest/api/3/changelog/bulkfetch without an "
                                         f"'issueChangeLogs' list: {str(answer)[:200]}")
                entries += [{**entry, "issue_id": log["issueId"]} for log in logs for entry in log["changeHistories"]]
                if not answer.get("nextPageToken"):
                    break
                body = {**body, "nextPageToken": answer["nextPageToken"]}
        return entries

    def zone(self) -> ZoneInfo:
        """The account's profile time zone, in which Jira reads JQL dates."""
        if self._zone is None:
            name = self.client.request("GET", "/rest/api/3/myself").json().get("timeZone") or "UTC"
            try:
                self._zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConnectorError(f"Jira's account time zone {name!r} is unknown to this machine's time zone "
                                     "database: install the tzdata package") from None
        return self._zone

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "_zone": None}

