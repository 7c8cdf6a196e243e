"""``GithubLakeflowConnect``: one GitHub repository (and one organisation's repositories) as
Spark tables, read through the REST API v3 (see ``github_api_doc.md``).

Connection options: ``access_token`` (required; a fine-grained personal access token, sent as
``Authorization: Bearer``), ``base_url`` (default ``https://api.github.com``) and the shared
client's ``connect_timeout``, ``read_timeout``, ``retry_*`` and ``request_deadline``. Table
options: ``owner`` and ``repo`` (every table but ``repositories``), ``org`` (``repositories``).

Incremental tables are listed newest first (``direction=desc``) and sorted back into cursor
order here: under concurrent writes a page-numbered listing in descending order can only
repeat records (deduplicated), never skip one. ``issues`` and ``commits`` send ``since`` (one
second before the offset's cursor, so the bound's inclusiveness does not matter);
``pull_requests`` and ``repositories`` have no such filter and stop paging at the first page
older than the offset. The offset is an :class:`InclusiveCursor` (the highest cursor read and
the ids read at it), so records sharing one timestamp are neither lost nor repeated.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

from pyspark.sql.types import StructType

from sources.http import HttpClient, HttpSettings
from sources.http.retry import RetryPolicy
from sources.interface import ConnectorError, ReadLimits, SupportsReadLimits
from sources.interface.options import option
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import (
    HTTP_OPTIONS, HttpConnector, InclusiveCursor, LinkHeaderPaginator, Opt, OptionSet, cursor_key, parse_instant,
)
from sources.toolkit.schema import BOOLEAN as B, LONG as L, STRING as S, TIMESTAMP as T, array_of, struct

DEFAULT_BASE_URL = "https://api.github.com"

_USER = struct(login=S, id=L, type=S)
_LABEL = struct(id=L, name=S, color=S)
_REF = struct(ref=S, sha=S)
_SIG = struct(name=S, email=S, date=T)
SCHEMAS: dict[str, StructType] = {
    "issues": struct(id=L, node_id=S, number=L, title=S, body=S, state=S, state_reason=S, locked=B, comments=L,
                      user=_USER, labels=array_of(_LABEL), assignees=array_of(_USER),
                      milestone=struct(id=L, number=L, title=S), author_association=S, html_url=S,
                      created_at=T, updated_at=T, closed_at=T),
    "pull_requests": struct(id=L, node_id=S, number=L, title=S, body=S, state=S, locked=B, draft=B, user=_USER,
                             labels=array_of(_LABEL), head=_REF, base=_REF, merge_commit_sha=S,
                             author_association=S, html_url=S, created_at=T, updated_at=T, closed_at=T,
                             merged_at=T),
    "commits": struct(sha=S, node_id=S, html_url=S, author=_USER, committer=_USER,
                       commit=struct(message=S, author=_SIG, committer=_SIG, comment_count=L),
                       parents=array_of(struct(sha=S))),
    "releases": struct(id=L, node_id=S, tag_name=S, target_commitish=S, name=S, body=S, draft=B, prerelease=B,
                        author=_USER, html_url=S, created_at=T, published_at=T),
    "repositories": struct(id=L, node_id=S, name=S, full_name=S, private=B, owner=_USER, html_url=S,
                            description=S, fork=B, language=S, default_branch=S, stargazers_count=L,
                            forks_count=L, open_issues_count=L, archived=B, topics=array_of(S), visibility=S,
                            created_at=T, updated_at=T, pushed_at=T),
}
METADATA: dict[str, dict] = {
    "issues": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "pull_requests": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "commits": {"primary_keys": ["sha"], "cursor_field": "commit.committer.date", "ingestion_type": "append"},
    "releases": {"primary_keys": ["id"], "cursor_field": None, "ingestion_type": "snapshot"},
    "repositories": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
}
#: table -> (path under /repos/{owner}/{repo} or /orgs/{org}, query, sends ``since``)
_LISTINGS = {
    "issues": ("/issues", {"state": "all", "sort": "updated", "direction": "desc"}, True),
    "pull_requests": ("/pulls", {"state": "all", "sort": "updated", "direction": "desc"}, False),
    "commits": ("/commits", {}, True),
    "releases": ("/releases", {}, False),
    "repositories": ("/repos", {"type": "all", "sort": "updated", "direction": "desc"}, False),
}
#: The connector's own connection options; the shared client's (``connect_timeout`` …) are
#: read by :meth:`HttpSettings.from_options`.
OPTIONS = OptionSet(
    Opt("access_token", secret=True, required=True, doc="a fine-grained personal access token"),
    Opt("base_url", default=DEFAULT_BASE_URL),
)


def _rate_limited(status: int, headers, body: str) -> str | None:
    """GitHub's rate limits: 429, or 403 with ``Retry-After`` or ``X-RateLimit-Remaining: 0``."""
    if status in (403, 429) and (headers.get("Retry-After") is not None or headers.get("X-RateLimit-Remaining") == "0"):
        return "retry"
    return None


def _cursor(table: str, record: dict):
    return record["commit"]["committer"]["date"] if table == "commits" else record.get("updated_at")


class GithubLakeflowConnect(HttpConnector, SupportsReadLimits):
    """Reads GitHub (see the module docstring)."""

    CONNECTION_OPTIONS = OptionSet(OPTIONS, HTTP_OPTIONS)
    TABLE_OPTIONS = OptionSet(Opt("owner", doc="the repository's owner"), Opt("repo", doc="the repository's name"),
                              Opt("org", doc="the organisation whose repositories are listed"))
    METADATA, SCHEMAS = METADATA, SCHEMAS

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = OPTIONS.parse(self.options, owner="Github")
        self._token = parsed.access_token
        self.base_url = parsed.base_url.rstrip("/")
        self.http = HttpSettings.from_options(self.options, owner="Github")

    def make_client(self) -> HttpClient:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        return HttpClient.from_settings(self.base_url, self.http, headers=headers, secrets=[self._token],
                                        retry=RetryPolicy(classify=_rate_limited))


    def _path(self, table: str, table_options: dict[str, str]) -> str:
        names = ("org",) if table == "repositories" else ("owner", "repo")
        values = [option(table_options or {}, n) for n in names]
        if None in values:
            raise ConnectorError(f"Github table {table!r} needs the table option(s) {', '.join(names)}.")
        return ("/orgs/" if table == "repositories" else "/repos/") + "/".join(values) + _LISTINGS[table][0]

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        _, query, sends_since = _LISTINGS[self.check_table(table_name)]
        path = self._path(table_name, table_options)
        if METADATA[table_name]["ingestion_type"] == "snapshot":
            pages = self.client.paginate(path, LinkHeaderPaginator(), params={**query, "per_page": 100})
            return (record for page in pages for record in page), None
        state = InclusiveCursor.parse(start_offset, table_name)
        params = {**query, "per_page": 100}
        if sends_since and state.since:  # a second early: correct whether GitHub's bound is inclusive or not
            params["since"] = (parse_instant(state.since) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        key = METADATA[table_name]["primary_keys"][0]
        newest: dict = {}  # id -> record; a page shift may repeat one
        for page in self.client.paginate(path, LinkHeaderPaginator(), params=params):
            for record in page:
                if table_name != "issues" or "pull_request" not in record:  # the issues list includes PRs
                    newest.setdefault(record[key], record)
            if state.since and page and cursor_key(_cursor(table_name, page[-1])) < cursor_key(state.since):
                break  # newest first: the rest is older than the offset
        records, offset = state.read(newest.values(), lambda r: _cursor(table_name, r), lambda r: r[key], table_name,
                                     limits)
        return iter(records), offset

    def read_table_deletes(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                           limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        raise ConnectorError(f"Github table {self.check_table(table_name)!r} reports no deletes (GitHub's REST "
                             "listings do not return deleted records).")
