"""The README's spark.read snippet works as written in a plain Python process: no
PYSPARK_PYTHON, no PYTHONPATH, a `python3` on PATH that lacks the package."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from sources.example.sandbox import ExampleSandbox

pytestmark = pytest.mark.spark

SNIPPET = """
from pyspark.sql import SparkSession
from datasource import register

spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
register(spark, "example")
df = (spark.read.format("lakeflow_example")
      .option("base_url", "{base_url}").option("access_token", "{token}")
      .option("tableName", "customers").load())
print("ROWS", df.count())
"""


def test_spark_read_in_a_plain_process(tmp_path):
    with ExampleSandbox() as sandbox:
        script = tmp_path / "snippet.py"
        script.write_text(textwrap.dedent(SNIPPET.format(base_url=sandbox.url, token=sandbox.token)))
        env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYTHONPATH")}
        out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        assert f"ROWS {len(sandbox.records('customers'))}" in out.stdout
