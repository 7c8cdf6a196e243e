"""GitHub-specific behaviour the conformance suite does not pin down: pull requests left out
of ``issues``, rate-limit classification (403 + Retry-After retried, plain 403 fatal), the
micro-batch cap and a replay's end offset."""

import pytest

from sources.github.sandbox import ORG, OWNER, REPO, GithubSandbox
from sources.toolkit.sandbox.server import Fault
from sources.github import GithubLakeflowConnect
from sources.http import HttpError
from sources.interface import ConnectorError, ReadLimits

REPO_OPTS = {"owner": OWNER, "repo": REPO}


@pytest.fixture(scope="module")
def sandbox():
    with GithubSandbox() as server:
        yield server


def connector(sandbox, **extra):
    return GithubLakeflowConnect({**sandbox.connection_options(), "retry_base_delay": "0.01", **extra})


def read_loop(conn, table, opts, limits=ReadLimits(), start=None):
    records, offset = [], start
    while True:
        batch, end = conn.read_table(table, offset, opts, limits=limits)
        batch = list(batch)
        records += batch
        if end == offset:
            return records, end
        offset = end


def test_issues_exclude_pull_requests(sandbox):
    records, _ = read_loop(connector(sandbox), "issues", REPO_OPTS)
    assert records and not any("pull_request" in r for r in records)
    assert {r["id"] for r in records} == {r["id"] for r in sandbox.truth("issues").records.values()}


def test_secondary_rate_limit_is_retried(sandbox):
    sandbox.rate_limit(times=2, retry_after=0.05)
    records, _ = connector(sandbox).read_table("releases", None, REPO_OPTS)
    assert len(list(records)) == 120


def test_primary_rate_limit_without_retry_after_is_retried(sandbox):
    sandbox.primary_rate_limit(times=2)
    records, _ = connector(sandbox).read_table("releases", None, REPO_OPTS)
    assert len(list(records)) == 120


def test_plain_403_fails_at_once(sandbox):
    sandbox.inject(Fault(status=403, body={"message": "Resource not accessible by personal access token"}))
    sandbox.reset_counts()
    with pytest.raises(HttpError) as err:
        list(connector(sandbox).read_table("releases", None, REPO_OPTS)[0])
    assert err.value.status == 403 and sum(sandbox.request_counts.values()) == 1


def test_max_records_caps_each_call_and_loses_nothing(sandbox):
    conn = connector(sandbox)
    full, _ = read_loop(conn, "issues", REPO_OPTS)
    capped, _ = read_loop(conn, "issues", REPO_OPTS, limits=ReadLimits(max_records=7))
    assert [r["id"] for r in capped] == [r["id"] for r in full]
    first, _ = conn.read_table("issues", None, REPO_OPTS, limits=ReadLimits(max_records=7))
    assert len(list(first)) == 7


def test_replay_stops_at_end_offset(sandbox):
    conn = connector(sandbox)
    # End inside the run of 120 issues sharing one updated_at.
    batch, end = conn.read_table("issues", None, REPO_OPTS, limits=ReadLimits(max_records=200))
    expected = [r["id"] for r in batch]
    replayed, final = read_loop(conn, "issues", REPO_OPTS, limits=ReadLimits(max_records=30, end_offset=end))
    assert [r["id"] for r in replayed] == expected and final == end
    rest, _ = read_loop(conn, "issues", REPO_OPTS, start=end)
    assert len(rest) == 60 and not {r["id"] for r in rest} & set(expected)


def test_repositories_and_missing_options(sandbox):
    records, offset = read_loop(connector(sandbox), "repositories", {"org": ORG})
    assert len(records) == 130 and offset["cursor"] == records[-1]["updated_at"]
    with pytest.raises(ConnectorError, match="owner, repo"):
        connector(sandbox).read_table("commits", None, {})
