"""Kept for test utilities written before the base moved to
:mod:`sources.interface.write_back` (sources never import the harness)."""

from sources.interface.write_back import LakeflowConnectWriteTestUtils

__all__ = ["LakeflowConnectWriteTestUtils"]
