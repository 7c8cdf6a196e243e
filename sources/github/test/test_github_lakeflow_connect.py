"""The github connector under the whole conformance and write-back suite (the sandbox unless
LAKEFLOW_GITHUB_ACCESS_TOKEN is set; live runs take the repository and organisation from
LAKEFLOW_GITHUB_OWNER, LAKEFLOW_GITHUB_REPO and LAKEFLOW_GITHUB_ORG)."""

import os

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.github.sandbox import ORG, OWNER, REPO, GithubSandbox
from sources.github import GithubLakeflowConnect
from sources.github.github_test_utils import GithubTestUtils

_REPO = {"owner": os.environ.get("LAKEFLOW_GITHUB_OWNER", OWNER), "repo": os.environ.get("LAKEFLOW_GITHUB_REPO", REPO)}


class TestGithubConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "github"
    connector_class = GithubLakeflowConnect
    test_utils_class = GithubTestUtils
    sandbox_class = GithubSandbox
    live_required_options = ("access_token",)
    live_optional_options = ("base_url", "owner", "repo", "org")
    table_options = {**{t: dict(_REPO) for t in ("issues", "pull_requests", "commits", "releases")},
                     "repositories": {"org": os.environ.get("LAKEFLOW_GITHUB_ORG", ORG)}}
