"""The suite's pytest fixtures, as a pytest plugin: one Spark session for the whole test run.

Loaded by this project's ``conftest.py``, by a plugin project's (``lakeflow new-source``
writes ``pytest_plugins = ["harness.testing"]``) and by ``lakeflow test`` (``-p harness.testing``).

By default a local[2] Delta-enabled session with its metastore and warehouse in a temporary
Lakeflow home. ``lakeflow test <source> --target connect|databricks`` runs the same tests on
another target by setting ``LAKEFLOW_TEST_TARGET`` (and ``LAKEFLOW_TEST_REMOTE``, the
``sc://`` URL of a Spark Connect server); see :mod:`harness.spark`.

Every test gets its own ``LAKEFLOW_RATE_LIMIT_DIR`` (the lock files of
:class:`sources.http.SharedRateLimiter`), so no test waits on a budget another test (or an
earlier run on a reused sandbox port) spent.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _rate_limit_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAKEFLOW_RATE_LIMIT_DIR", str(tmp_path_factory.mktemp("rate-limits")))


@pytest.fixture(scope="session")
def lakeflow_home(tmp_path_factory):
    return tmp_path_factory.mktemp("lakeflow-home")


@pytest.fixture(scope="session")
def spark(lakeflow_home):
    from harness.spark import TargetUnavailable, session_for_tests

    try:
        session = session_for_tests(lakeflow_home)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    yield session
    session.stop()
