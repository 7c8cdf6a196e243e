"""``GithubSandbox``: the parts of GitHub's REST API v3 the github connector reads (see
sources/github/github_api_doc.md), as a real HTTP server on 127.0.0.1.

* Bearer auth (``Authorization: Bearer <token>``; ``token <t>`` is accepted too, as GitHub does).
* ``GET /repos/{owner}/{repo}/issues`` (issues *and* pull requests, the latter marked by a
  ``pull_request`` key; ``state``, ``since`` inclusive on ``updated_at``, ``sort``,
  ``direction``), ``/pulls`` (``state``, ``sort``, ``direction``; no ``since``), ``/commits``
  (``since``/``until`` on the committer date, newest first), ``/releases`` (newest first),
  ``GET /orgs/{org}/repos`` (``type``, ``sort``, ``direction``).
* Paging by ``page``/``per_page`` (default 30, at most 100) with a ``Link`` header
  (``next``, ``last``, ``first``, ``prev``), as GitHub sends.
* ``POST /repos/{owner}/{repo}/issues`` and ``PATCH /repos/{owner}/{repo}/issues/{number}``.
* Deterministic seeded data filling every column; 120 issues share one ``updated_at``.
* Timestamps have whole seconds (as GitHub's); writes get a clock that moves at least one
  second per write, so a write never shares a second with an earlier one by accident.
* ``rate_limit(times)``: the next requests answer 403 with ``Retry-After`` (secondary limit);
  ``primary_rate_limit(times)``: 403 with ``X-RateLimit-Remaining: 0`` (primary limit).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from sources.toolkit.sandbox.server import Fault, Request, Response, SandboxError, SandboxServer, route
from sources.toolkit.sandbox.truth import TableTruth

UTC = timezone.utc
OWNER, REPO, ORG = "lakeflow-dev", "sandbox-repo", "lakeflow-dev"
TIE = "2024-03-01T12:00:00Z"
KEYS = {"issues": "id", "pull_requests": "id", "commits": "sha", "releases": "id", "repositories": "id"}
CURSORS = {"issues": "updated_at", "pull_requests": "updated_at", "commits": "commit.committer.date",
           "releases": None, "repositories": "updated_at"}
_WORDS = ["flaky", "crash", "docs", "cache", "parser", "timeout", "unicode", "login", "export", "memory"]
_LABELS = [{"id": 100 + i, "name": n, "color": c} for i, (n, c) in enumerate(
    [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("question", "d876e3"), ("good first issue", "7057ff")])]
_PEOPLE = [{"login": n, "id": 5000 + i, "type": "User"} for i, n in enumerate(["octo", "mona", "hubot", "lisa"])]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _get(record: dict, path: str):
    for part in path.split("."):
        record = record[part]
    return record


class GithubSandbox(SandboxServer):
    name = "github"

    def __init__(self, token: str = "github-token", seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.token = token
        self.rng = random.Random(seed)
        self.rows: dict[str, dict] = {t: {} for t in KEYS}
        self._last = datetime(2025, 1, 1, tzinfo=UTC)
        self._ids = 1000
        self._number = 0
        with self.lock:
            self._seed()

    def connection_options(self) -> dict[str, str]:
        return {"base_url": self.url, "access_token": self.token}

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or value.strip() != self.token:
            return Response.json({"message": "Bad credentials",
                                  "documentation_url": "https://docs.github.com/rest"}, status=401)
        return None

    def rate_limit(self, times: int = 1, retry_after: float = 0.1) -> None:
        """The next ``times`` requests answer GitHub's secondary rate limit (403 + Retry-After)."""
        self.inject(Fault(status=403, retry_after=retry_after,
                          body={"message": "You have exceeded a secondary rate limit."}), times=times)

    def primary_rate_limit(self, times: int = 1) -> None:
        """The next ``times`` requests answer the primary limit: 403, ``X-RateLimit-Remaining: 0``."""
        self.inject(Fault(status=403, body={"message": "API rate limit exceeded for user ID 1."}), times=times)

    def fault_response(self, fault: Fault, endpoint: str) -> Response:
        response = super().fault_response(fault, endpoint)
        if fault.status == 403 and "API rate limit exceeded" in str(fault.body):
            response.headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(self._last.timestamp()))})
        return response

    # ---------------------------------------------------------------- data
    def _now(self) -> datetime:
        now = datetime.now(UTC).replace(microsecond=0)
        self._last = max(now, self._last + timedelta(seconds=1))
        return self._last

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _issue(self, at: datetime, title: str | None = None, body: str | None = None) -> dict:
        self._number += 1
        rng, n, iid = self.rng, self._number, self._id()
        closed = rng.random() < 0.4
        return {"id": iid, "node_id": f"I_kw{iid}", "number": n, "title": title or f"Fix {rng.choice(_WORDS)} #{n}",
                "body": body or f"Steps to reproduce {n}.", "state": "closed" if closed else "open",
                "state_reason": "completed" if closed else None, "locked": n % 11 == 0, "comments": rng.randint(0, 9),
                "user": copy.deepcopy(rng.choice(_PEOPLE)), "labels": copy.deepcopy(rng.sample(_LABELS, rng.randint(0, 2))),
                "assignees": copy.deepcopy(rng.sample(_PEOPLE, rng.randint(0, 2))),
                "milestone": {"id": 77, "number": 1, "title": "v1.0"} if n % 3 == 0 else None,
                "author_association": rng.choice(["OWNER", "MEMBER", "CONTRIBUTOR", "NONE"]),
                "html_url": f"https://github.com/{OWNER}/{REPO}/issues/{n}", "created_at": _iso(at),
                "updated_at": _iso(at), "closed_at": _iso(at) if closed else None}

    def _pull(self, at: datetime) -> dict:
        self._number += 1
        rng, n, pid = self.rng, self._number, self._id()
        state = rng.choice(["open", "closed", "merged"])
        sha = hashlib.sha1(f"pr{n}".encode()).hexdigest()
        return {"id": pid, "node_id": f"PR_kw{pid}", "number": n, "title": f"Improve {rng.choice(_WORDS)} ({n})",
                "body": f"Closes #{max(1, n - 5)}.", "state": "open" if state == "open" else "closed",
                "locked": False, "draft": n % 5 == 0, "user": copy.deepcopy(rng.choice(_PEOPLE)),
                "labels": copy.deepcopy(rng.sample(_LABELS, rng.randint(0, 2))),
                "head": {"ref": f"feature-{n}", "sha": sha}, "base": {"ref": "main", "sha": sha[::-1]},
                "merge_commit_sha": sha[:20] + sha[20:][::-1], "author_association": "MEMBER",
                "html_url": f"https://github.com/{OWNER}/{REPO}/pull/{n}", "created_at": _iso(at),
                "updated_at": _iso(at), "closed_at": None if state == "open" else _iso(at),
                "merged_at": _iso(at) if state == "merged" else None}

    def _commit(self, at: datetime, parent: str | None) -> dict:
        sha = hashlib.sha1(f"commit{self._id()}".encode()).hexdigest()
        who = self.rng.choice(_PEOPLE)
        sig = {"name": who["login"].title(), "email": f"{who['login']}@example.com", "date": _iso(at)}
        return {"sha": sha, "node_id": f"C_kw{sha[:10]}", "html_url": f"https://github.com/{OWNER}/{REPO}/commit/{sha}",
                "author": copy.deepcopy(who), "committer": copy.deepcopy(who),
                "commit": {"message": f"{self.rng.choice(_WORDS)}: tidy up", "author": dict(sig),
                           "committer": dict(sig), "comment_count": self.rng.randint(0, 3)},
                "parents": [{"sha": parent}] if parent else []}

    def _repo(self, at: datetime, i: int) -> dict:
        rid, name = self._id(), REPO if i == 0 else f"project-{i:03d}"
        return {"id": rid, "node_id": f"R_kg{rid}", "name": name, "full_name": f"{ORG}/{name}", "private": i % 4 == 0,
                "owner": {"login": ORG, "id": 4000, "type": "Organization"},
                "html_url": f"https://github.com/{ORG}/{name}", "description": f"The {name} project",
                "fork": i % 9 == 0, "language": self.rng.choice(["Python", "Go", "Rust", None]),
                "default_branch": "main", "stargazers_count": self.rng.randint(0, 900),
                "forks_count": self.rng.randint(0, 50), "open_issues_count": self.rng.randint(0, 30),
                "archived": i % 13 == 0, "topics": self.rng.sample(_WORDS, 2),
                "visibility": "private" if i % 4 == 0 else "public", "created_at": _iso(at - timedelta(days=30)),
                "updated_at": _iso(at), "pushed_at": _iso(at + timedelta(hours=1))}

    def _seed(self) -> None:
        base = datetime(2024, 1, 1, tzinfo=UTC)
        for i in range(260):
            issue = self._issue(base + timedelta(hours=3 * i))
            if i % 2 == 1 and i < 240:
                issue["updated_at"] = TIE  # 120 issues share one updated_at (a burst across pages)
            self.rows["issues"][issue["id"]] = issue
        for i in range(150):
            pull = self._pull(base + timedelta(hours=5 * i, minutes=7))
            self.rows["pull_requests"][pull["id"]] = pull
        parent = None
        for i in range(230):
            commit = self._commit(base + timedelta(hours=2 * i, seconds=13 * (i % 3)), parent)
            self.rows["commits"][commit["sha"]], parent = commit, commit["sha"]
        for i in range(120):
            at, rid = base + timedelta(days=2 * i), self._id()
            self.rows["releases"][rid] = {
                "id": rid, "node_id": f"RE_kw{rid}", "tag_name": f"v0.{i}.0", "target_commitish": "main",
                "name": f"Release 0.{i}", "body": f"Changes in 0.{i}", "draft": i % 10 == 9, "prerelease": i % 7 == 0,
                "author": copy.deepcopy(self.rng.choice(_PEOPLE)),
                "html_url": f"https://github.com/{OWNER}/{REPO}/releases/tag/v0.{i}.0",
                "created_at": _iso(at), "published_at": None if i % 10 == 9 else _iso(at + timedelta(hours=1))}
        for i in range(130):
            repo = self._repo(base + timedelta(days=i, minutes=i), i)
            self.rows["repositories"][repo["id"]] = repo

    # ---------------------------------------------------------------- truth and scenarios
    def truth_tables(self) -> list[str]:
        return list(KEYS)

    def truth(self, table: str) -> TableTruth:
        with self.lock:
            return TableTruth.of(table, [KEYS[table]], CURSORS[table], copy.deepcopy(list(self.rows[table].values())))

    def _create(self, table: str, at: datetime) -> dict:
        if table == "issues":
            record = self._issue(at)
        elif table == "pull_requests":
            record = self._pull(at)
        elif table == "commits":
            latest = max(self.rows["commits"].values(), key=lambda c: c["commit"]["committer"]["date"])
            record = self._commit(at, latest["sha"])
        elif table == "repositories":
            record = self._repo(at - timedelta(hours=1), len(self.rows["repositories"]))
            record["updated_at"] = _iso(at)
        else:
            raise NotImplementedError(f"no create scenario for {table!r}")
        self.rows[table][record[KEYS[table]]] = record
        return record

    def scenario(self, table: str, change: str, n: int) -> list:
        with self.lock:
            if change == "create":
                return [copy.deepcopy(self._create(table, self._now())) for _ in range(n)]
            if change == "burst":
                at = self._now()
                return [copy.deepcopy(self._create(table, at)) for _ in range(n)]
            if change == "update" and table in ("issues", "pull_requests", "repositories"):
                touched = []
                for record in self.rng.sample(sorted(self.rows[table].values(), key=lambda r: r["id"]), n):
                    record["updated_at"] = _iso(self._now())
                    record["title" if table != "repositories" else "description"] = f"Edited {record['updated_at']}"
                    touched.append(copy.deepcopy(record))
                return touched
        raise NotImplementedError(f"GitHub has no {change!r} scenario for {table!r} here")

    # ---------------------------------------------------------------- routes
    def _repo_or_404(self, owner: str, repo: str) -> None:
        if (owner, repo) != (OWNER, REPO):
            raise SandboxError(Response.json({"message": "Not Found"}, status=404))

    def _page(self, request: Request, records: list) -> Response:
        try:
            per_page = min(100, max(1, int(request.arg("per_page") or 30)))
            page = max(1, int(request.arg("page") or 1))
        except ValueError:
            raise SandboxError(Response.json({"message": "Invalid page"}, status=422)) from None
        last = max(1, -(-len(records) // per_page))
        args = {k: v[-1] for k, v in request.query.items()}
        links = {"first": 1, "prev": page - 1, "next": page + 1, "last": last}
        header = ", ".join(f'<{self.url}{request.path}?{urlencode({**args, "page": p})}>; rel="{rel}"'
                           for rel, p in links.items() if 1 <= p <= last and (rel not in ("first", "last") or page != p))
        chunk = records[(page - 1) * per_page: page * per_page]
        return Response.json(chunk, headers={"Link": header} if header else {})

    def _since(self, request: Request, field: str, records: list) -> list:
        since = request.arg("since")
        if since:
            try:
                bound = _instant(since)
            except ValueError:
                raise SandboxError(Response.json({"message": f"Invalid since {since!r}"}, status=422)) from None
            records = [r for r in records if _instant(_get(r, field)) >= bound]
        return records

    @staticmethod
    def _order(request: Request, records: list, fields: dict, default: str) -> list:
        sort = request.arg("sort") or default
        if sort not in fields:
            raise SandboxError(Response.json({"message": f"Invalid sort {sort!r}"}, status=422))
        default_dir = "asc" if sort == "full_name" else "desc"
        reverse = (request.arg("direction") or default_dir) == "desc"
        return sorted(records, key=lambda r: (r[fields[sort]], r["id"]), reverse=reverse)

    @staticmethod
    def _state(request: Request, records: list) -> list:
        state = request.arg("state") or "open"
        return records if state == "all" else [r for r in records if r["state"] == state]

    @route("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues")
    def list_issues(self, request: Request, owner: str, repo: str) -> Response:
        self._repo_or_404(owner, repo)
        with self.lock:
            prs = [{**copy.deepcopy(p), "id": p["id"] + 10**7, "state_reason": None, "comments": 0, "assignees": [],
                    "milestone": None, "pull_request": {"url": p["html_url"], "merged_at": p["merged_at"]}}
                   for p in self.rows["pull_requests"].values()]
            records = self._state(request, [*copy.deepcopy(list(self.rows["issues"].values())), *prs])
        records = self._since(request, "updated_at", records)
        return self._page(request, self._order(request, records, {"created": "created_at", "updated": "updated_at",
                                                                   "comments": "comments"}, "created"))

    @route("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls")
    def list_pulls(self, request: Request, owner: str, repo: str) -> Response:
        self._repo_or_404(owner, repo)
        with self.lock:
            records = self._state(request, copy.deepcopy(list(self.rows["pull_requests"].values())))
        sort = request.arg("sort") or "created"
        if sort != "created" and not request.arg("direction"):
            request.query["direction"] = ["asc"]  # GitHub: desc only for created (or no sort)
        return self._page(request, self._order(request, records, {"created": "created_at", "updated": "updated_at",
                                                                  "popularity": "id", "long-running": "id"}, "created"))

    @route("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/commits")
    def list_commits(self, request: Request, owner: str, repo: str) -> Response:
        self._repo_or_404(owner, repo)
        with self.lock:
            records = self._since(request, "commit.committer.date", copy.deepcopy(list(self.rows["commits"].values())))
        until = request.arg("until")
        if until:
            records = [r for r in records if _instant(r["commit"]["committer"]["date"]) <= _instant(until)]
        records.sort(key=lambda r: (r["commit"]["committer"]["date"], r["sha"]), reverse=True)
        return self._page(request, records)

    @route("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases")
    def list_releases(self, request: Request, owner: str, repo: str) -> Response:
        self._repo_or_404(owner, repo)
        with self.lock:
            records = sorted(copy.deepcopy(list(self.rows["releases"].values())),
                             key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return self._page(request, records)

    @route("GET", r"/orgs/(?P<org>[^/]+)/repos")
    def list_org_repos(self, request: Request, org: str) -> Response:
        if org != ORG:
            raise SandboxError(Response.json({"message": "Not Found"}, status=404))
        with self.lock:
            records = copy.deepcopy(list(self.rows["repositories"].values()))
        fields = {"created": "created_at", "updated": "updated_at", "pushed": "pushed_at", "full_name": "full_name"}
        return self._page(request, self._order(request, records, fields, "created"))

    def _body(self, request: Request) -> dict:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SandboxError(Response.json({"message": "Problems parsing JSON"}, status=400))
        return body

    @route("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues")
    def create_issue(self, request: Request, owner: str, repo: str) -> Response:
        self._repo_or_404(owner, repo)
        body = self._body(request)
        if not body.get("title"):
            return Response.json({"message": "Validation Failed", "errors": [{"field": "title"}]}, status=422)
        with self.lock:
            issue = self._issue(self._now(), body["title"], body.get("body"))
            issue.update(state="open", state_reason=None, closed_at=None)
            self.rows["issues"][issue["id"]] = issue
            return Response.json(copy.deepcopy(issue), status=201)

    @route("PATCH", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<number>\d+)")
    def update_issue(self, request: Request, owner: str, repo: str, number: str) -> Response:
        self._repo_or_404(owner, repo)
        body = self._body(request)
        with self.lock:
            issue = next((i for i in self.rows["issues"].values() if i["number"] == int(number)), None)
            if issue is None:
                return Response.json({"message": "Not Found"}, status=404)
            issue.update({k: body[k] for k in ("title", "body") if k in body})
            now = _iso(self._now())
            if body.get("state") in ("open", "closed"):
                closed = body["state"] == "closed"
                issue.update(state=body["state"], closed_at=now if closed else None,
                             state_reason=body.get("state_reason", "completed") if closed else "reopened")
            issue["updated_at"] = now
            return Response.json(copy.deepcopy(issue))
