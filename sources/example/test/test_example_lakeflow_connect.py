"""The example connector under the whole conformance and write-back suite.

Runs against ``ExampleSandbox`` on 127.0.0.1 unless ``LAKEFLOW_EXAMPLE_ACCESS_TOKEN`` and
``LAKEFLOW_EXAMPLE_BASE_URL`` (or ``sources/example/configs/dev_config.json``) point at a
running example API.
"""

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.example.sandbox import ExampleSandbox
from sources.example import ExampleLakeflowConnect
from sources.example.example_test_utils import ExampleTestUtils


class TestExampleConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "example"
    connector_class = ExampleLakeflowConnect
    test_utils_class = ExampleTestUtils
    sandbox_class = ExampleSandbox
    sandbox_kwargs = {"seed": 7}
    live_required_options = ("access_token", "base_url")
    live_optional_options = ()
    write_visibility_deadline = 15.0
