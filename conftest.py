"""Shared fixtures: one local[2] Spark session for the whole test run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    from harness.spark import local_session

    session = local_session("lakeflow-tests")
    yield session
    session.stop()
