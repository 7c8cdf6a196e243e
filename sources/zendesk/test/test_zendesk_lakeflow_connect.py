"""The zendesk connector under the whole conformance and write-back suite (the sandbox unless
LAKEFLOW_ZENDESK_SUBDOMAIN, _EMAIL and _API_TOKEN are set; use a sandbox or trial account)."""

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.zendesk import ZendeskLakeflowConnect
from sources.zendesk.sandbox import ZendeskSandbox
from sources.zendesk.zendesk_test_utils import ZendeskTestUtils


class TestZendeskConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "zendesk"
    connector_class = ZendeskLakeflowConnect
    test_utils_class = ZendeskTestUtils
    sandbox_class = ZendeskSandbox
    live_required_options = ("subdomain", "email", "api_token")
