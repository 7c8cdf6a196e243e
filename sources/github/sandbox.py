"""``GithubSandbox``: the parts of GitHub's REST API v3 the github connector reads (see
sources/github/github_api_doc.md), declared with the sandbox kit (sources/toolkit/sandbox).

* Bearer auth (``Authorization: Bearer <token>``; ``token <t>`` is accepted too, as GitHub does);
  401 ``Bad credentials`` otherwise; errors as ``{"message", "documentation_url"}``, 422 for
  invalid parameters.
* ``GET /repos/{owner}/{repo}/issues`` (issues *and* pull requests, the latter marked by a
  ``pull_request`` key; ``state``, ``since`` inclusive on ``updated_at``, ``sort``,
  ``direction``), ``/pulls`` (``state``, ``sort``, ``direction``; no ``since``), ``/commits``
  (``since``/``until`` on the committer date, newest first), ``/releases`` (newest first),
  ``GET /orgs/{org}/repos`` (``sort``, ``direction``).
* Paging by ``page``/``per_page`` (default 30, at most 100) with a ``Link`` header.
* ``POST /repos/{owner}/{repo}/issues`` and ``PATCH /repos/{owner}/{repo}/issues/{number}``.
* Seeded data fills every column; the last 120 of the 260 issues share one ``updated_at``.
* ``rate_limit(times)``: 403 with ``Retry-After`` (secondary limit); ``primary_rate_limit(times)``:
  403 with ``X-RateLimit-Remaining: 0`` (primary limit).
"""

from __future__ import annotations

import hashlib

from sources.toolkit.sandbox import (
    BOOLEAN, INTEGER, STRING, TIMESTAMP, BearerAuth, DeclaredSandbox, Fault, Filter, PageNumberPaging, Request,
    Response, Sort, Table, array_of, derived, maybe, obj, one_of,
)

OWNER, REPO, ORG = "lakeflow-dev", "sandbox-repo", "lakeflow-dev"
PAGES = PageNumberPaging(link_header=True, clamp=True)
USER = obj(login=one_of("octo", "mona", "hubot", "lisa"), id=INTEGER, type=one_of("User"))
LABEL = obj(id=INTEGER, name=one_of("bug", "enhancement", "question", "good first issue"), color=STRING)
SIGNATURE = obj(name=STRING, email=STRING, date=TIMESTAMP)
STATE = Filter("state", "state", "==", default="open", any_value="all")


def _sha(kind: str, i: int) -> str:
    return hashlib.sha1(f"{kind}{i}".encode()).hexdigest()


def _url(kind: str):
    return derived(lambda r, i: f"https://github.com/{OWNER}/{REPO}/{kind}/{r['number']}")


def _closed_at(r: dict, i: int):
    return r["updated_at"] if r["state"] == "closed" else None


ISSUE = {
    "id": INTEGER, "node_id": derived(lambda r, i: f"I_kw{r['id']}"), "number": derived(lambda r, i: i + 1),
    "title": STRING, "body": STRING, "state": one_of("open", "closed"),
    "state_reason": derived(lambda r, i: "completed" if r["state"] == "closed" else None), "locked": BOOLEAN,
    "comments": INTEGER, "user": USER, "labels": array_of(LABEL), "assignees": array_of(USER),
    "milestone": maybe(obj(id=INTEGER, number=INTEGER, title=STRING)),
    "author_association": one_of("OWNER", "MEMBER", "CONTRIBUTOR", "NONE"), "html_url": _url("issues"),
    "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "closed_at": derived(_closed_at),
}
PULL = {
    "id": INTEGER, "node_id": derived(lambda r, i: f"PR_kw{r['id']}"), "number": derived(lambda r, i: 5001 + i),
    "title": STRING, "body": STRING, "state": one_of("open", "closed"), "locked": BOOLEAN, "draft": BOOLEAN,
    "user": USER, "labels": array_of(LABEL), "head": obj(ref=STRING, sha=STRING), "base": obj(ref=STRING, sha=STRING),
    "merge_commit_sha": derived(lambda r, i: _sha("merge", i)), "author_association": one_of("MEMBER", "CONTRIBUTOR"),
    "html_url": _url("pull"), "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "closed_at": derived(_closed_at),
    "merged_at": derived(lambda r, i: r["updated_at"] if r["state"] == "closed" and i % 2 else None),
}
COMMIT = {
    "sha": derived(lambda r, i: _sha("commit", i)), "node_id": derived(lambda r, i: f"C_kw{r['sha'][:10]}"),
    "html_url": derived(lambda r, i: f"https://github.com/{OWNER}/{REPO}/commit/{r['sha']}"),
    "author": USER, "committer": USER,
    "commit": obj(message=STRING, author=SIGNATURE, committer=SIGNATURE, comment_count=INTEGER),
    "parents": derived(lambda r, i: [{"sha": _sha("commit", i - 1)}] if i else []),
}
RELEASE = {
    "id": INTEGER, "node_id": derived(lambda r, i: f"RE_kw{r['id']}"), "tag_name": derived(lambda r, i: f"v0.{i}.0"),
    "target_commitish": one_of("main"), "name": derived(lambda r, i: f"Release 0.{i}"), "body": STRING,
    "draft": BOOLEAN, "prerelease": BOOLEAN, "author": USER,
    "html_url": derived(lambda r, i: f"https://github.com/{OWNER}/{REPO}/releases/tag/{r['tag_name']}"),
    "created_at": TIMESTAMP, "published_at": derived(lambda r, i: None if r["draft"] else r["created_at"]),
}
REPOSITORY = {
    "id": INTEGER, "node_id": derived(lambda r, i: f"R_kg{r['id']}"),
    "name": derived(lambda r, i: REPO if i == 0 else f"project-{i:03d}"),
    "full_name": derived(lambda r, i: f"{ORG}/{r['name']}"), "private": BOOLEAN,
    "owner": derived(lambda r, i: {"login": ORG, "id": 4000, "type": "Organization"}),
    "html_url": derived(lambda r, i: f"https://github.com/{r['full_name']}"), "description": STRING, "fork": BOOLEAN,
    "language": maybe(one_of("Python", "Go", "Rust")), "default_branch": one_of("main"),
    "stargazers_count": INTEGER, "forks_count": INTEGER, "open_issues_count": INTEGER, "archived": BOOLEAN,
    "topics": array_of(STRING), "visibility": derived(lambda r, i: "private" if r["private"] else "public"),
    "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "pushed_at": TIMESTAMP,
}
_BY = {"created": "created_at", "updated": "updated_at"}


class GithubSandbox(DeclaredSandbox):
    name = "github"
    auth = BearerAuth("github-token", schemes=("bearer", "token"))
    error_body = {"message": "{message}", "documentation_url": "https://docs.github.com/rest"}
    validation_status = 422
    path_values = {"owner": OWNER, "repo": REPO, "org": ORG}
    tables = (
        Table("issues", "/repos/{owner}/{repo}/issues", ISSUE, "id", cursor="updated_at", rows=260, ties=120,
              filters=(STATE, Filter("since", "updated_at", ">=")), paging=PAGES, writes=("create", "update"),
              sort=Sort({**_BY, "comments": "comments"}, "created", default_direction="desc"),
              item_key="number", required=("title",)),
        Table("pull_requests", "/repos/{owner}/{repo}/pulls", PULL, "id", cursor="updated_at", rows=150,
              filters=(STATE,), paging=PAGES,
              sort=Sort({**_BY, "popularity": "id", "long-running": "id"}, "created",
                        default_direction={"created": "desc", "*": "asc"})),
        Table("commits", "/repos/{owner}/{repo}/commits", COMMIT, "sha", cursor="commit.committer.date", rows=230,
              filters=(Filter("since", "commit.committer.date", ">="), Filter("until", "commit.committer.date", "<=")),
              descending=True, paging=PAGES, append_only=True),
        Table("releases", "/repos/{owner}/{repo}/releases", RELEASE, "id", rows=120, order_by="created_at",
              descending=True, paging=PAGES),
        Table("repositories", "/orgs/{org}/repos", REPOSITORY, "id", cursor="updated_at", rows=130, paging=PAGES,
              sort=Sort({**_BY, "pushed": "pushed_at", "full_name": "full_name"}, "created",
                        default_direction={"full_name": "asc", "*": "desc"})),
    )

    def records_for(self, table: Table, request: Request) -> list[dict]:
        records = super().records_for(table, request)
        if table.name != "issues":
            return records
        # GitHub lists pull requests among issues, marked by a ``pull_request`` key.
        return records + [{**p, "id": p["id"] + 10**7, "state_reason": None, "comments": 0,
                           "assignees": [], "milestone": None,
                           "pull_request": {"url": p["html_url"], "merged_at": p["merged_at"]}}
                          for p in self.rows["pull_requests"].values()]

    def on_write(self, table: Table, record: dict, body: dict, created: bool) -> None:
        state = "open" if created else body.get("state")
        if state in ("open", "closed"):
            closed = state == "closed"
            record.update(state=state, closed_at=record["updated_at"] if closed else None,
                          state_reason=body.get("state_reason", "completed") if closed else
                          (None if created else "reopened"))

    def rate_limit(self, times: int = 1, retry_after: float | None = 0.1, status: int = 403,
                   message: str = "You have exceeded a secondary rate limit.") -> None:
        """The next ``times`` requests answer GitHub's secondary rate limit (403 + Retry-After)."""
        super().rate_limit(times, retry_after, status, message)

    def primary_rate_limit(self, times: int = 1) -> None:
        """The next ``times`` requests answer the primary limit: 403, ``X-RateLimit-Remaining: 0``."""
        self.inject(Fault(status=403, body={"message": "API rate limit exceeded for user ID 1."}), times=times)

    def fault_response(self, fault: Fault, endpoint: str) -> Response:
        response = super().fault_response(fault, endpoint)
        if fault.status == 403 and "API rate limit exceeded" in str(fault.body):
            response.headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(self.now().timestamp()))})
        return response
