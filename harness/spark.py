"""Spark targets: a local session, a Spark Connect session, or Databricks.

``local_session()`` is what tests and ``lakeflow demo`` use: ``local[2]``, UI off, few
shuffle partitions, UTC session time zone. The project root is put on ``PYTHONPATH`` so that
Spark's Python workers import the same connector code as the driver.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.streaming.stopTimeout": "30s",
}


def worker_environment() -> None:
    """Make the project importable by Spark's Python workers, with the driver's Python."""
    paths = [str(PROJECT_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def local_session(app_name: str = "lakeflow", master: str = "local[2]", extra_conf: dict | None = None):
    """A classic local ``SparkSession`` (reused if one is already active)."""
    worker_environment()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**_BASE_CONF, **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def connect_session(remote: str = "local[2]", extra_conf: dict | None = None):
    """A Spark Connect session. ``remote="local[2]"`` starts an in-process Connect server;
    ``"sc://host:port"`` connects to a running one (its Python workers must be able to
    import this package: install it there, or ship it with ``spark.addArtifacts``)."""
    worker_environment()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(remote).appName("lakeflow-connect")
    for key, value in {**_BASE_CONF, **(extra_conf or {})}.items():
        if remote.startswith("local") or not key.startswith("spark.driver"):
            builder = builder.config(key, value)
    return builder.getOrCreate()
