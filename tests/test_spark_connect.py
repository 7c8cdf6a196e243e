"""The runtime through Spark Connect (``SparkSession.builder.remote``)."""

import json
import os
import subprocess
import sys

import pytest

from harness.spark import PROJECT_ROOT

pytestmark = pytest.mark.spark


def test_read_through_spark_connect():
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.spark_connect_check"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"Spark Connect run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    assert "connect" in result["connect"]
    assert result["items"] == 123 and result["sum"] == 123 * 124 // 2
