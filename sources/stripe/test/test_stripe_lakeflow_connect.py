"""The stripe connector under the whole conformance and write-back suite (the sandbox unless
LAKEFLOW_STRIPE_API_KEY is set; use a test-mode key)."""

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.stripe import StripeLakeflowConnect
from sources.stripe.sandbox import StripeSandbox
from sources.stripe.stripe_test_utils import StripeTestUtils


class TestStripeConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "stripe"
    connector_class = StripeLakeflowConnect
    test_utils_class = StripeTestUtils
    sandbox_class = StripeSandbox
    live_required_options = ("api_key",)
    allow_unpopulated = {"events": []}
