"""The jira connector under the whole conformance and write-back suite (the sandbox unless
LAKEFLOW_JIRA_SITE, _EMAIL and _API_TOKEN are set; use a test site)."""

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.jira import JiraLakeflowConnect
from sources.jira.sandbox import JiraSandbox
from sources.jira.jira_test_utils import JiraTestUtils


class TestJiraConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "jira"
    connector_class = JiraLakeflowConnect
    test_utils_class = JiraTestUtils
    sandbox_class = JiraSandbox
    live_required_options = ("site", "email", "api_token")
