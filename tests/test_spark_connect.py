"""The Spark Connect target: a local Connect server on a free port (``lakeflow spark-connect``),
the runtime read through ``sc://``, and a source's conformance suite run on that target
(``lakeflow test <source> --target connect``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from harness import connect_server
from harness.spark import PROJECT_ROOT

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("connect-home")
    state = connect_server.start(home)
    yield state
    connect_server.stop(home)


def _lakeflow(*args: str, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_the_server_listens_on_a_free_port_and_reports_its_state(server):
    assert server.url == f"sc://127.0.0.1:{server.port}" and server.port != 15002
    assert connect_server.status(server.home) == server
    out = _lakeflow("spark-connect", "status", "--home", server.home)
    assert out.returncode == 0 and server.url in out.stdout
    # a second start for the same home returns the running server; a busy port is refused
    assert connect_server.start(server.home) == server
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(connect_server.ConnectServerError, match=r"port \d+ is in use"):
            connect_server.start(PROJECT_ROOT / "build" / "unused-home", port=busy.getsockname()[1])


def test_read_through_spark_connect(server):
    proc = subprocess.run([sys.executable, "-m", "tests.spark_connect_check", server.url], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"Spark Connect run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    assert "connect" in result["connect"]
    assert result["items"] == 123 and result["sum"] == 123 * 124 // 2


def test_the_conformance_suite_runs_on_the_connect_target(server):
    """`lakeflow test example --target connect`: the suite's Spark checks (spark.read equal
    to the truth, availableNow streams, restarts) through sc://, against the sandbox."""
    out = _lakeflow("test", "example", "--target", "connect", "--remote", server.url, "-k", "spark or stream")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"target connect at {server.url}, sandbox" in out.stdout
    summary = out.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, summary


def test_stop_leaves_no_server(tmp_path):
    state = connect_server.start(tmp_path)
    out = _lakeflow("spark-connect", "stop", "--home", str(tmp_path))
    assert out.returncode == 0 and f"stopped the server on {state.url}" in out.stdout
    assert connect_server.status(tmp_path) is None
    assert _lakeflow("spark-connect", "status", "--home", str(tmp_path)).returncode == 1
