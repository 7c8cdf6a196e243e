"""Shared fixtures: one Spark session for the whole test run.

By default a local[2] Delta-enabled session with its metastore and warehouse in a temporary
Lakeflow home. ``lakeflow test <source> --target connect|databricks`` runs the same tests on
another target by setting ``LAKEFLOW_TEST_TARGET`` (and ``LAKEFLOW_TEST_REMOTE``, the
``sc://`` URL of a Spark Connect server); see :mod:`harness.targets`.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def lakeflow_home(tmp_path_factory):
    return tmp_path_factory.mktemp("lakeflow-home")


@pytest.fixture(scope="session")
def spark(lakeflow_home):
    from harness.targets import TargetUnavailable, session_for_tests

    try:
        session = session_for_tests(lakeflow_home)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    yield session
    session.stop()
