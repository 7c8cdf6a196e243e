"""The conformance suite: subclass these in ``sources/<name>/test/test_<name>_lakeflow_connect.py``."""

from harness.conformance.suite import LakeflowConnectTests
from harness.conformance.write_back_suite import LakeflowConnectWriteBackTests

__all__ = ["LakeflowConnectTests", "LakeflowConnectWriteBackTests"]
