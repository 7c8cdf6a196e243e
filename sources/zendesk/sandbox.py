"""``ZendeskSandbox``: the parts of Zendesk Support's API the zendesk connector reads (see
sources/zendesk/zendesk_api_doc.md), declared with the sandbox kit (sources/toolkit/sandbox).

* Basic auth as ``{email}/token:{api_token}``, else 401 ``{"error": "Couldn't authenticate you"}``;
  other errors as ``{"error": "InvalidValue", "description": ...}``.
* Cursor-based incremental exports ``GET /api/v2/incremental/tickets/cursor`` and
  ``/api/v2/incremental/users/cursor``: ``start_time`` (epoch seconds, on or after) on the
  first request, then ``cursor=``; ``per_page`` up to 1000 (the default); the body carries
  ``after_cursor``, ``after_url``, ``before_cursor``, ``before_url`` and ``end_of_stream``.
  Tickets compare on ``generated_timestamp``, users on ``updated_at``. A record changed while
  a reader pages moves to the end of the stream and comes again, as in a real export.
* The time-based export ``GET /api/v2/incremental/organizations``: ``start_time`` (on or
  after), ``per_page`` up to 1000; ``organizations``, ``count``, ``end_time`` (the last
  record's time, the next page's ``start_time``, so pages overlap there), ``next_page`` and
  ``end_of_stream``. A page that would end inside a run of records sharing one timestamp
  takes the whole run (more than ``per_page``), as Zendesk documents.
* Deleted tickets stay in the ticket export with ``status: "deleted"`` (``exclude_deleted=true``
  leaves them out) and deleted users in the user export with ``active: false``, both stamped
  with the deletion's time.
* ``start_time`` must be at least ``recent_seconds`` in the past and records changed in the
  last ``recent_seconds`` are not exported yet (Zendesk: one minute; the suite runs with 0 so
  that what it writes is exported at once; ``tests/test_zendesk_export.py`` runs with it on).
* Incremental exports are limited to ``export_limit`` = (requests, seconds) per account
  (Zendesk: 10 per minute; off unless given), then 429 with ``Retry-After``.
* Writes: ``POST /api/v2/{tickets|users|organizations}`` with ``{"ticket": {...}}`` (201),
  ``PUT .../{id}`` (200), ``DELETE .../{id}`` (tickets and organizations 204, users 200 with
  the user, ``active: false``).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sources.toolkit.cursors import parse_instant
from sources.toolkit.sandbox import (
    BOOLEAN, EPOCH_SECONDS, INTEGER, STRING, TIMESTAMP, BasicAuth, DeclaredSandbox, Filter, Request, Response,
    SizedPaging, Table, array_of, derived, maybe, one_of,
)
from sources.toolkit.sandbox.paging import decode_position, encode_position
from sources.toolkit.sandbox.fields import get_path, iso

EMAIL, API_TOKEN = "sandbox-admin@example.com", "zd_sandbox_token"


def _epoch(value) -> int:
    return int(parse_instant(value).timestamp())


@dataclass(frozen=True)
class ExportCursorPaging(SizedPaging):
    """Zendesk's cursor-based export: the records after the position an ``after_cursor``
    names (its last record's cursor value and id), in (cursor, id) order."""

    size_param: str = "per_page"
    default_size: int = 1000
    max_size: int = 1000

    def page(self, sandbox, request, records, table):
        size, token = self.size(sandbox, request), request.arg("cursor")
        position = tuple(decode_position(sandbox, token, "cursor")) if token else None
        key = lambda r: (_epoch(get_path(r, table.cursor)), r[table.primary_key])  # noqa: E731
        if position is not None:
            records = [r for r in records if key(r) > position]
        chunk = records[:size]
        after = encode_position(key(chunk[-1])) if chunk else (token or encode_position((_epoch(request.arg("start_time") or 0), -1)))
        return chunk, {"after_cursor": after, "after_url": f"{sandbox.url}{request.path}?"
                       + urlencode({"cursor": after, "per_page": size}),
                       "before_cursor": None, "before_url": None, "end_of_stream": len(records) <= size}, {}


@dataclass(frozen=True)
class ExportTimePaging(SizedPaging):
    """Zendesk's time-based export: ``per_page`` records from ``start_time`` (a run of records
    sharing the last one's time taken whole), ``end_time`` the last one's time."""

    size_param: str = "per_page"
    default_size: int = 1000
    max_size: int = 1000

    def page(self, sandbox, request, records, table):
        size = self.size(sandbox, request)
        at = lambda r: _epoch(get_path(r, table.cursor))  # noqa: E731
        end = min(size, len(records))
        while 0 < end < len(records) and at(records[end]) == at(records[end - 1]):
            end += 1
        chunk = records[:end]
        end_time = at(chunk[-1]) if chunk else _epoch(request.arg("start_time") or 0)
        return chunk, {"count": len(chunk), "end_time": end_time, "end_of_stream": end == len(records),
                       "next_page": f"{sandbox.url}{request.path}?"
                       + urlencode({"start_time": end_time, "per_page": size})}, {}


START_TIME = lambda field: (Filter("start_time", field, ">="),)  # noqa: E731
TICKET = {"id": INTEGER, "url": derived(lambda r, i: f"https://sandbox.zendesk.com/api/v2/tickets/{r['id']}.json"),
          "subject": STRING, "description": STRING, "status": one_of("new", "open", "pending", "hold", "solved", "closed"),
          "priority": maybe(one_of("low", "normal", "high", "urgent")), "type": maybe(one_of("problem", "incident", "question", "task")),
          "requester_id": INTEGER, "assignee_id": maybe(INTEGER), "organization_id": maybe(INTEGER),
          "tags": array_of(one_of("billing", "bug", "vip", "refund", "onboarding")),
          "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "generated_timestamp": EPOCH_SECONDS}
USER = {"id": INTEGER, "name": STRING, "email": STRING,
        "role": one_of("end-user", "agent", "admin"), "active": one_of(True), "suspended": BOOLEAN,
        "organization_id": maybe(INTEGER), "time_zone": one_of("UTC", "Europe/Paris", "America/New_York"),
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP}
ORGANIZATION = {"id": INTEGER, "name": STRING, "domain_names": array_of(STRING), "details": maybe(STRING),
                "tags": array_of(one_of("enterprise", "smb", "partner")), "created_at": TIMESTAMP, "updated_at": TIMESTAMP}


class ZendeskSandbox(DeclaredSandbox):
    name = "zendesk"
    auth = BasicAuth(EMAIL, API_TOKEN, user_suffix="/token")
    error_body = {"error": "InvalidValue", "description": "{message}"}
    tables = (
        Table("tickets", "/api/v2/incremental/tickets/cursor", TICKET, "id", cursor="generated_timestamp", rows=260,
              ties=30, filters=START_TIME("generated_timestamp"), paging=ExportCursorPaging(), envelope="tickets",
              writes=("create", "update", "delete"), write_path="/api/v2/tickets", body_key="ticket", update_method="PUT"),
        Table("users", "/api/v2/incremental/users/cursor", USER, "id", cursor="updated_at", rows=180,
              filters=START_TIME("updated_at"), paging=ExportCursorPaging(), envelope="users",
              writes=("create", "update", "delete"), write_path="/api/v2/users", body_key="user", update_method="PUT",
              delete_body=lambda r: {"user": {**r, "active": False}}),
        Table("organizations", "/api/v2/incremental/organizations", ORGANIZATION, "id", cursor="updated_at", rows=120,
              ties=15, filters=START_TIME("updated_at"), paging=ExportTimePaging(), envelope="organizations",
              writes=("create", "update", "delete"), write_path="/api/v2/organizations", body_key="organization",
              update_method="PUT"),
    )

    def __init__(self, token: str | None = None, seed: int = 0, *, recent_seconds: float = 0,
                 export_limit: tuple[int, float] | None = None, **kwargs) -> None:
        self.recent_seconds, self.export_limit = recent_seconds, export_limit
        self._exports: collections.deque = collections.deque()
        self.export_rejections = 0  # 429s answered for the export limit
        self._export_lock = threading.Lock()
        super().__init__(token, seed, **kwargs)

    def authenticate(self, request: Request) -> Response | None:
        if self.auth.accepts(request):
            return None
        return Response.json({"error": "Couldn't authenticate you"}, status=401)

    def before_handle(self, request: Request, endpoint: str) -> Response | None:
        if not request.path.startswith("/api/v2/incremental/"):
            return None
        if self.export_limit is not None:
            limit, seconds = self.export_limit
            with self._export_lock:
                now = time.monotonic()
                while self._exports and now - self._exports[0] >= seconds:
                    self._exports.popleft()
                if len(self._exports) >= limit:
                    self.export_rejections += 1
                    wait = max(1, round(seconds - (now - self._exports[0]) + 0.5))
                    return Response.json({"error": "APIRateLimitExceeded",
                                          "description": "Number of allowed incremental export API requests per "
                                                         "minute exceeded"}, status=429, headers={"Retry-After": str(wait)})
                self._exports.append(now)
        start = request.arg("start_time")
        try:
            too_recent = bool(start) and bool(self.recent_seconds) and _epoch(start) > time.time() - self.recent_seconds
        except ValueError:
            return self.error(400, f"start_time must be epoch seconds, got {start!r}")
        if too_recent:
            return self.error(400, f"Too recent start_time. Use a start_time older than {self.recent_seconds:g} seconds")
        return None

    # -- deletions stay in the exports; the last `recent_seconds` are not exported yet ---------
    def records_for(self, table: Table, request: Request) -> list[dict]:
        records = super().records_for(table, request)
        if table.name == "tickets" and request.arg("exclude_deleted") != "true":
            records += [{**r, "status": "deleted", "updated_at": at, "generated_timestamp": _epoch(at)}
                        for r, at in self.deleted["tickets"].values()]
        elif table.name == "users":
            records += [{**r, "active": False, "updated_at": at} for r, at in self.deleted["users"].values()]
        if self.recent_seconds:
            horizon = time.time() - self.recent_seconds
            records = [r for r in records if _epoch(get_path(r, table.cursor)) <= horizon]
        return records

    def create_record(self, table_name: str, values: dict | None = None, at=None, i: int | None = None) -> dict:
        record = super().create_record(table_name, values, at, i)
        if table_name == "tickets":
            record["generated_timestamp"] = _epoch(record["updated_at"])
        if at is None:  # a seeded record was created a while before its last change
            record["created_at"] = iso(parse_instant(record["updated_at"]) - timedelta(minutes=30 + record["id"] % 90))
        return record

    def update_record(self, table_name: str, record: dict, values: dict, at) -> dict:
        record = super().update_record(table_name, record, values, at)
        record["updated_at"] = iso(at)  # tickets' cursor is generated_timestamp; updated_at moves too
        return record

    def demo_changes(self) -> str:
        """``lakeflow demo``'s changes between its runs."""
        done = super().demo_changes()
        tickets, users = self.scenario("tickets", "delete", 2), self.scenario("users", "delete", 1)
        return f"{done}; tickets -{len(tickets)}, users -{len(users)}"

    def on_write(self, table: Table, record: dict, body: dict, created: bool) -> None:
        comment = body.get("comment")
        if table.name == "tickets" and created and isinstance(comment, dict) and comment.get("body"):
            record["description"] = comment["body"]  # a ticket's description is its first comment
