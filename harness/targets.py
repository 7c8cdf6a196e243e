"""Where Spark runs: ``local`` (a classic local session), ``connect`` (a Spark Connect
server, ``sc://host:port``) or ``databricks`` (Databricks Connect).

The test suite and ``lakeflow test`` pick the target from the environment:
``LAKEFLOW_TEST_TARGET`` (default ``local``) and, for ``connect``, ``LAKEFLOW_TEST_REMOTE``.
"""

from __future__ import annotations

import os
from pathlib import Path

TARGETS = ("local", "connect", "databricks")
TARGET_ENV = "LAKEFLOW_TEST_TARGET"
REMOTE_ENV = "LAKEFLOW_TEST_REMOTE"


class TargetUnavailable(RuntimeError):
    """A target that cannot be reached here; the message names what is missing."""


def session_for(target: str, home: str | os.PathLike | None = None, remote: str | None = None,
                log_file: str | os.PathLike | None = None):
    """A Spark session on ``target``."""
    if target == "local":
        from harness.spark import local_session

        return local_session("lakeflow-tests", home=home, log_file=log_file)
    if target == "connect":
        if not remote:
            raise TargetUnavailable("target 'connect' needs the server's sc:// URL "
                                    f"({REMOTE_ENV}, or `lakeflow test --target connect`, which starts one)")
        from harness.spark import connect_session

        return connect_session(remote)
    if target == "databricks":
        from harness.databricks.session import databricks_session

        return databricks_session()
    raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")


def session_for_tests(home: Path):
    """The session of this test run (see the module docstring)."""
    target = os.environ.get(TARGET_ENV, "local")
    return session_for(target, home=home, remote=os.environ.get(REMOTE_ENV),
                       log_file=Path(home) / "spark.log")
