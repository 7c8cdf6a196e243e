"""Jira's search as users narrow it: the ``jql`` table option filters the issues and their
changelog (compared with the sandbox's own issues), and a query Jira refuses fails with Jira's
message instead of reading nothing."""

from __future__ import annotations

import pytest

from sources.http import HttpError
from sources.jira import JiraLakeflowConnect
from sources.jira.sandbox import JiraSandbox


@pytest.fixture(scope="module")
def sandbox():
    with JiraSandbox() as server:
        yield server


def test_the_jql_option_reads_only_the_issues_it_names_and_their_changes(sandbox):
    connector = JiraLakeflowConnect(sandbox.connection_options())
    truth = sandbox.truth("issues").records.values()
    eng = {r["id"] for r in truth if r["fields"]["project"]["key"] == "ENG"}
    assert 0 < len(eng) < len(truth)
    issues, _ = connector.read_table("issues", {}, {"jql": "project = ENG"})
    assert {r["id"] for r in issues} == eng
    changes, _ = connector.read_table("issue_changelog", {}, {"jql": "project = ENG"})
    changes = list(changes)
    expected = {r["id"] for r in sandbox.truth("issue_changelog").records.values() if r["issue_id"] in eng}
    assert {r["id"] for r in changes} == expected and expected


def test_a_query_jira_refuses_fails_with_its_message(sandbox):
    connector = JiraLakeflowConnect(sandbox.connection_options())
    with pytest.raises(HttpError, match="Error in the JQL Query"):
        list(connector.read_table("issues", {}, {"jql": "statusCategory ~ nope"})[0])
