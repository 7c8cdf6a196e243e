"""``JiraSandbox``: the parts of Jira Cloud's REST API v3 the jira connector reads (see
sources/jira/jira_api_doc.md), declared with the sandbox kit (sources/toolkit/sandbox).

* Basic auth with an Atlassian account's email and API token; 401 otherwise. Errors as
  ``{"errorMessages": [...], "errors": {}}``.
* ``GET /rest/api/3/myself``: the account, with its profile ``timeZone`` (here
  ``America/New_York``): JQL dates are read in it.
* ``GET /rest/api/3/search/jql``: ``jql`` (a bounded query of ``updated >= "yyyy-MM-dd HH:mm"``
  or ``"yyyy/MM/dd HH:mm"`` or a date, ``project = KEY`` / ``project in (A, B)``, joined by
  ``AND``, then ``ORDER BY updated ASC|DESC``; anything else answers 400 "Error in the JQL
  Query"), ``fields`` (comma-separated, ``*all``, ``*navigable``; without it an issue has its
  ``id`` only), ``maxResults`` (1–100, default 50) and ``nextPageToken``; the body is
  ``{"issues", "isLast", "nextPageToken"}``, the token absent on the last page. Tokens are
  seek positions, stable while issues change. JQL dates have minute resolution.
* ``GET /rest/api/3/project/search`` and ``GET /rest/api/3/issue/{issue}/changelog``: ``startAt``
  and ``maxResults`` (100 at most), the body ``{"values", "startAt", "maxResults", "total",
  "isLast", "nextPage"}``; ``GET /rest/api/3/users/search``: ``startAt``/``maxResults``, a
  plain JSON array.
* ``POST /rest/api/3/changelog/bulkfetch``: ``{"issueIdsOrKeys": [1–1000], "maxResults":
  ≤10000, "nextPageToken"}`` → ``{"issueChangeLogs": [{"issueId", "changeHistories"}],
  "nextPageToken"}``.
* ``POST /rest/api/3/issue`` (``{"fields": {"project": {"key"}, "summary", "issuetype":
  {"name"}}}`` → 201 ``{"id", "key", "self"}``), ``PUT /rest/api/3/issue/{id}`` (204) and
  ``DELETE /rest/api/3/issue/{id}`` (204). Every change to an issue (through the API or a
  scenario) adds its changelog entry and moves the issue's ``updated``, as Jira does.
* Timestamps as Jira writes them, ``2024-01-01T10:00:00.000+0000``; writes in one second share it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sources.toolkit.cursors import parse_instant
from sources.toolkit.sandbox import (
    BOOLEAN, STRING, BasicAuth, DeclaredSandbox, Request, Response, SizedPaging, Table, array_of, derived, maybe, obj,
    one_of, route, timestamp_as,
)
from sources.toolkit.sandbox.fields import get_path, stamp
from sources.toolkit.sandbox.paging import decode_position, encode_position, int_arg

EMAIL, API_TOKEN = "sandbox-admin@example.com", "jira_sandbox_token"
TIME_ZONE = "America/New_York"
ISSUES, PROJECTS = 220, ("ENG", "OPS", "WEB", "DATA", "SEC", "HR")
JIRA_TIME = timestamp_as("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass(frozen=True)
class SearchPaging(SizedPaging):
    """``nextPageToken`` (a seek position: the last issue's ``updated`` and id) and ``isLast``."""

    size_param: str = "maxResults"
    default_size: int = 50
    max_size: int = 100

    def page(self, sandbox, request, records, table):
        size, token = self.size(sandbox, request), request.arg("nextPageToken")
        if token:
            after, descending = decode_position(sandbox, token, "nextPageToken"), sandbox.descending(request)
            records = [r for r in records if (_position(r) < after if descending else _position(r) > after)]
        chunk = records[:size]
        wanted = [f.strip() for f in (request.arg("fields") or "id").split(",")]
        body = ({"isLast": True} if len(chunk) == len(records) else
                {"isLast": False, "nextPageToken": encode_position(_position(chunk[-1]))})
        return [_project(r, wanted) for r in chunk], body, {}


@dataclass(frozen=True)
class StartAtPaging(SizedPaging):
    """``startAt``/``maxResults`` with ``values``, ``total``, ``isLast`` and ``nextPage``."""

    size_param: str = "maxResults"
    default_size: int = 50
    max_size: int = 100

    def page(self, sandbox, request, records, table):
        size, start = self.size(sandbox, request), int_arg(sandbox, request, "startAt", 0)
        chunk = records[start:start + size]
        last = start + size >= len(records)
        body = {"startAt": start, "maxResults": size, "total": len(records), "isLast": last}
        if not last:
            body["nextPage"] = f"{sandbox.url}{request.path}?" + urlencode({"startAt": start + size, "maxResults": size})
        return chunk, body, {}


@dataclass(frozen=True)
class ArrayPaging(SizedPaging):
    """``startAt``/``maxResults`` over a plain array body (``users/search``: 1000 at most)."""

    size_param: str = "maxResults"
    default_size: int = 50
    max_size: int = 1000
    clamp: bool = True

    def page(self, sandbox, request, records, table):
        size, start = self.size(sandbox, request), int_arg(sandbox, request, "startAt", 0)
        return records[start:start + size], {}, {}


USER = {"accountId": STRING, "accountType": one_of("atlassian", "app"), "displayName": STRING,
        "emailAddress": maybe(STRING), "active": BOOLEAN, "timeZone": one_of("UTC", "Europe/Berlin", TIME_ZONE)}
PERSON = obj(accountId=STRING, displayName=STRING)
ISSUE = {"id": derived(lambda r, i: str(10000 + i)), "key": derived(lambda r, i: f"{PROJECTS[i % len(PROJECTS)]}-{i + 1}"),
         "self": derived(lambda r, i: f"https://sandbox.atlassian.net/rest/api/3/issue/{10000 + i}"),
         "fields": obj(summary=STRING, status=obj(name=one_of("To Do", "In Progress", "Done")),
                       issuetype=obj(name=one_of("Task", "Bug", "Story")),
                       priority=obj(name=one_of("Low", "Medium", "High")),
                       project=obj(id=derived(lambda r, i: str(100 + i % len(PROJECTS))),
                                   key=derived(lambda r, i: PROJECTS[i % len(PROJECTS)])),
                       assignee=maybe(PERSON), labels=array_of(one_of("backend", "frontend", "infra", "urgent")),
                       created=JIRA_TIME, updated=JIRA_TIME)}
PROJECT = {"id": derived(lambda r, i: str(100 + i)), "key": derived(lambda r, i: PROJECTS[i] if i < len(PROJECTS) else f"P{i}"),
           "name": STRING,
           "projectTypeKey": one_of("software", "business", "service_desk"), "style": one_of("classic", "next-gen"),
           "simplified": BOOLEAN, "isPrivate": BOOLEAN}
CHANGE = {"id": derived(lambda r, i: str(50000 + i)), "issue_id": STRING,
          "author": PERSON, "created": JIRA_TIME,
          "items": array_of(obj(field=one_of("status", "summary", "assignee", "priority"), fieldtype=one_of("jira"),
                                fromString=maybe(STRING), toString=maybe(STRING)))}
_DATE = re.compile(r'^(\d{4})[-/](\d{2})[-/](\d{2})(?: (\d{2}):(\d{2}))?$')
_CLAUSE = re.compile(r'^(?:updated\s*>=\s*"(?P<since>[^"]+)"|project\s*=\s*"?(?P<project>\w+)"?'
                     r'|project\s+in\s*\((?P<projects>[\w\s,"]+)\))$', re.IGNORECASE)


class JiraSandbox(DeclaredSandbox):
    name = "jira"
    auth = BasicAuth(EMAIL, API_TOKEN)
    error_body = {"errorMessages": ["{message}"], "errors": {}}
    unauthorized_message = "Client must be authenticated to access this resource."
    tables = (
        Table("issues", "/rest/api/3/search/jql", ISSUE, "id", cursor="fields.updated", rows=ISSUES, ties=30,
              paging=SearchPaging(), envelope="issues"),
        Table("projects", "/rest/api/3/project/search", PROJECT, "id", rows=len(PROJECTS), paging=StartAtPaging(),
              envelope="values"),
        Table("users", "/rest/api/3/users/search", USER, "accountId", rows=70, paging=ArrayPaging()),
        Table("issue_changelog", "/rest/api/3/issue/{issue}/changelog", CHANGE, "id", cursor="created", rows=300,
              append_only=True, paging=StartAtPaging(default_size=100), envelope="values"),
    )

    # -- every change to an issue is a changelog entry, and moves the issue's `updated` --------
    def create_record(self, table_name: str, values: dict | None = None, at=None, i: int | None = None) -> dict:
        if table_name == "issue_changelog" and not (values or {}).get("issue_id"):  # an entry of some issue
            n = len(self.rows[table_name]) + len(self.deleted[table_name]) if i is None else i
            issues = sorted(self.rows["issues"])
            values = {**(values or {}), "issue_id": issues[n % len(issues)]}
        record = super().create_record(table_name, values, at, i)
        if table_name == "issue_changelog":
            issue = self.rows["issues"].get(record["issue_id"])
            if at is None and issue:  # a seeded entry: at or before its issue's last update
                record["created"] = stamp(JIRA_TIME, parse_instant(issue["fields"]["updated"])
                                          - timedelta(minutes=int(record["id"]) % 3))
            elif issue:  # a change now: the issue moves with it (never back)
                if parse_instant(record["created"]) > parse_instant(issue["fields"]["updated"]):
                    issue["fields"]["updated"] = record["created"]
        elif table_name == "issues" and at is None:
            created = parse_instant(record["fields"]["updated"]) - timedelta(days=1 + int(record["id"]) % 20)
            record["fields"]["created"] = stamp(JIRA_TIME, created)
        return record

    def update_record(self, table_name: str, record: dict, values: dict, at) -> dict:
        before = copy.deepcopy(record.get("fields", {}))
        record = super().update_record(table_name, record, values, at)
        if table_name == "issues":
            changed = [k for k, v in record["fields"].items() if k not in ("updated",) and before.get(k) != v]
            self._log_change(record, at, changed or ["summary"], before)
        return record

    def _log_change(self, issue: dict, at: datetime, changed: list, before: dict) -> None:
        items = [{"field": name, "fieldtype": "jira", "fromString": _text(before.get(name)),
                  "toString": _text(issue["fields"].get(name))} for name in changed]
        super().create_record("issue_changelog", {"issue_id": issue["id"], "items": items,
                                                  "author": {"accountId": "sandbox-admin", "displayName": "Sandbox Admin"}},
                              at=at)

    def scenario(self, table: str, change: str, n: int) -> list:
        if table == "issues" and change == "update":  # an edit of the summary, as a user makes it
            with self.lock:
                chosen = self._rngs["issues"].sample(sorted(self.rows["issues"].values(), key=lambda r: r["id"]), n)
                at = self.now()
                return [copy.deepcopy(self.update_record("issues", r, {"fields": {**r["fields"], "summary": f"edited {stamp(JIRA_TIME, at)}"}}, at))
                        for r in chosen]
        return super().scenario(table, change, n)

    # -- search ------------------------------------------------------------------------
    def descending(self, request: Request) -> bool:
        return self._jql(request.arg("jql") or "")[1]

    def records_for(self, table: Table, request: Request) -> list[dict]:
        records = super().records_for(table, request)
        if table.name == "issue_changelog":
            issue = self._issue(request.path.split("/")[-2])
            return sorted((r for r in records if r["issue_id"] == issue["id"]), key=lambda r: (r["created"], r["id"]))
        if table.name != "issues":
            return records
        where, descending = self._jql(request.arg("jql") or "")
        return sorted((r for r in records if all(test(r) for test in where)), key=_position, reverse=descending)

    def _order(self, table: Table, request: Request, records: list[dict]) -> list[dict]:
        return records if table.name in ("issues", "issue_changelog") else super()._order(table, request, records)

    def _jql(self, jql: str) -> tuple[list, bool]:
        """The tests a JQL query makes of an issue, and whether it orders newest first."""
        parts = re.split(r"\s*\bORDER\s+BY\s+", jql.strip(), maxsplit=1, flags=re.IGNORECASE)
        query, order = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
        descending = False
        if order:
            match = re.fullmatch(r'updated(?:\s+(ASC|DESC))?', order.strip(), re.IGNORECASE)
            if not match:
                raise self.fail(400, f"Error in the JQL Query: cannot order by '{order.strip()}' here")
            descending = (match.group(1) or "ASC").upper() == "DESC"
        if not query:
            raise self.fail(400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
        tests = []
        for clause in re.split(r"\s+AND\s+", query, flags=re.IGNORECASE):
            clause = clause.strip()
            while clause.startswith("(") and clause.endswith(")"):
                clause = clause[1:-1].strip()
            match = _CLAUSE.match(clause)
            if not match:
                raise self.fail(400, f"Error in the JQL Query: '{clause.strip()}' is not a clause this API supports")
            if match.group("since"):
                since = self._jql_date(match.group("since"))
                tests.append(lambda r, s=since: parse_instant(r["fields"]["updated"]) >= s)
            else:
                keys = {match.group("project")} if match.group("project") else {
                    k.strip().strip('"') for k in match.group("projects").split(",")}
                tests.append(lambda r, k=frozenset(keys): r["fields"]["project"]["key"] in k)
        return tests, descending

    def _jql_date(self, text: str) -> datetime:
        """A JQL date, in the searching user's time zone, to the minute."""
        match = _DATE.match(text.strip())
        if not match:
            raise self.fail(400, f"Error in the JQL Query: Date value '{text}' for field 'updated' is invalid. Valid formats "
                                 "include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'")
        y, mo, d, h, mi = (int(v) if v else 0 for v in match.groups())
        return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(TIME_ZONE))

    def _issue(self, id_or_key: str) -> dict:
        for issue in self.rows["issues"].values():
            if id_or_key in (issue["id"], issue["key"]):
                return issue
        raise self.fail(404, "Issue does not exist or you do not have permission to see it.")

    # -- routes beside the declared listings -----------------------------------------------
    @route("GET", r"/rest/api/3/myself")
    def myself(self, request: Request) -> Response:
        return Response.json({"accountId": "sandbox-admin", "emailAddress": EMAIL, "displayName": "Sandbox Admin",
                              "active": True, "timeZone": TIME_ZONE, "accountType": "atlassian"})

    @route("POST", r"/rest/api/3/changelog/bulkfetch")
    def bulkfetch(self, request: Request) -> Response:
        body = self._body(request)
        wanted, size = body.get("issueIdsOrKeys"), body.get("maxResults", 1000)
        if not isinstance(wanted, list) or not 1 <= len(wanted) <= 1000:
            return self.error(400, "issueIdsOrKeys must list 1 to 1000 issues")
        if not isinstance(size, int) or not 1 <= size <= 10000:
            return self.error(400, "maxResults must be between 1 and 10000")
        with self.lock:
            ids = [self._issue(str(w))["id"] for w in wanted]
            entries = sorted((r for r in self.rows["issue_changelog"].values() if r["issue_id"] in ids),
                             key=lambda r: (ids.index(r["issue_id"]), r["created"], r["id"]))
            start = int(decode_position(self, body["nextPageToken"], "nextPageToken")[0]) if body.get("nextPageToken") else 0
            chunk = entries[start:start + size]
            logs: dict = {}
            for entry in chunk:
                logs.setdefault(entry["issue_id"], []).append({k: copy.deepcopy(v) for k, v in entry.items() if k != "issue_id"})
            answer = {"issueChangeLogs": [{"issueId": i, "changeHistories": h} for i, h in logs.items()]}
            if start + size < len(entries):
                answer["nextPageToken"] = encode_position([start + size])
            return Response.json(answer)

    @route("POST", r"/rest/api/3/issue")
    def create_issue(self, request: Request) -> Response:
        fields = self._body(request).get("fields")
        if not isinstance(fields, dict) or not fields.get("summary") or not get_path(fields, "project.key"):
            return self.error(400, "Field 'summary' and 'project' are required")
        if fields["project"]["key"] not in PROJECTS:
            return self.error(400, f"project: valid project is required (no project {fields['project']['key']!r})")
        with self.lock:
            at = self.now()
            issue = self.create_record("issues", at=at)
            index = PROJECTS.index(fields["project"]["key"])
            issue["fields"].update(summary=fields["summary"], project={"id": str(100 + index), "key": PROJECTS[index]},
                                   issuetype={"name": get_path(fields, "issuetype.name") or "Task"})
            issue["key"] = f"{PROJECTS[index]}-{int(issue['id']) - 10000 + 1}"
            return Response.json({"id": issue["id"], "key": issue["key"], "self": issue["self"]}, status=201)

    @route("PUT", r"/rest/api/3/issue/(?P<issue>[^/]+)")
    def edit_issue(self, request: Request, issue: str) -> Response:
        fields = self._body(request).get("fields")
        if not isinstance(fields, dict):
            return self.error(400, "the body needs 'fields'")
        with self.lock:
            record = self._issue(issue)
            self.update_record("issues", record, {"fields": {**record["fields"], **fields}}, self.now())
        return Response.empty(204)

    @route("DELETE", r"/rest/api/3/issue/(?P<issue>[^/]+)")
    def delete_issue(self, request: Request, issue: str) -> Response:
        with self.lock:
            self.delete_record("issues", self._issue(issue), self.now())
        return Response.empty(204)


def _position(issue: dict) -> list:
    """Where an issue stands in an ``updated`` order: its time, then its id."""
    return [parse_instant(issue["fields"]["updated"]).timestamp(), int(issue["id"])]


def _project(issue: dict, wanted: list) -> dict:
    """An issue with the fields a search asked for (Jira sends only ``id`` without ``fields``)."""
    shown = {k: issue[k] for k in ("id", "key", "self")}
    if wanted in (["*all"], ["*navigable"]):
        return {**shown, "fields": issue["fields"]}
    chosen = {k: issue["fields"][k] for k in wanted if k in issue["fields"]}
    return {**shown, "fields": chosen} if chosen else {"id": issue["id"]}


def _text(value) -> str | None:
    if isinstance(value, dict):
        return value.get("name") or value.get("displayName")
    return None if value is None else str(value)
