"""Shared fixtures: one local[2] Delta-enabled Spark session for the whole test run, with
its metastore and warehouse in a temporary Lakeflow home."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def lakeflow_home(tmp_path_factory):
    return tmp_path_factory.mktemp("lakeflow-home")


@pytest.fixture(scope="session")
def spark(lakeflow_home):
    from harness.spark import local_session

    session = local_session("lakeflow-tests", home=lakeflow_home, log_file=lakeflow_home / "spark.log")
    yield session
    session.stop()
