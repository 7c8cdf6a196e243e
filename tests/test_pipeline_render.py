"""``lakeflow pipeline render``: the SDP file is valid Python with the flows the spec asks for,
and the flows open-source Spark Declarative Pipelines can run (append flows, materialized
views) produce, with ``spark-pipelines run`` on local Spark + Delta, the same tables as
``lakeflow pipeline run`` from the same sandbox data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from deltalake import DeltaTable

from harness.pipeline.prepare import PreparedRun
from harness.pipeline.render import render_databricks
from harness.pipeline.runner import PipelineRunner
from sources.example.sandbox import ExampleSandbox
from harness.spark import DELTA_PACKAGE, PROJECT_ROOT


@pytest.fixture(scope="module")
def sandbox():
    with ExampleSandbox(event_count=600) as sb:
        yield sb


def _prepared(tmp_path: Path, body: str, sandbox) -> PreparedRun:
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent(body))
    return PreparedRun(str(spec), {}, sandbox)


def test_rendered_file_has_every_flow(tmp_path, sandbox):
    prepared = PreparedRun(str(PROJECT_ROOT / "configs" / "pipelines" / "example.yaml"), {}, sandbox)
    source, settings = render_databricks(prepared.spec, prepared.plans, tmp_path, origin="example.yaml")
    text = source.read_text()
    compile(text, str(source), "exec")
    assert "@dp.materialized_view(name='products')" in text
    assert text.count("dp.create_auto_cdc_flow(") == 4
    orders = text[text.index("target='orders',"):text.index("# ---- orders_history")]
    assert "apply_as_deletes='__lakeflow_is_delete'" in orders and "stored_as_scd_type=1" in orders
    history = text[text.index("target='orders_history',"):]
    assert "stored_as_scd_type=2" in history and "sequence_by='updated_at'" in history
    assert "@dp.append_flow(target='events'" in text and "'page_size': '500'" in text
    body = json.loads(settings.read_text())
    assert (body["catalog"], body["schema"], body["libraries"][0]["file"]["path"]) == (
        "main", "example_shop", "example_shop_pipeline.py")
    assert body["configuration"]["spark.databricks.unityCatalog.connectionDfOptionInjection.enabled"] == "true"


@pytest.mark.slow
@pytest.mark.spark
def test_open_source_sdp_matches_pipeline_run(tmp_path, sandbox, spark):
    # What pyspark 4.2's SDP can run on Delta: materialized views and append flows (AutoCDC
    # needs a target with DSv2 row-level operations, which Delta 4.4's table does not offer).
    body = """
        name: oss_check
        source: example
        connection: oss_check
        destination:
          path: {path}
        tables:
          - source_table: products
          - source_table: events
    """
    prepared = _prepared(tmp_path, body.format(path=tmp_path / "ours"), sandbox)
    result = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, tmp_path / "home").run()
    assert result.ok

    sdp = tmp_path / "sdp"
    render_databricks(prepared.spec, prepared.plans, sdp / "src")
    (sdp / "spark-pipeline.yml").write_text(textwrap.dedent(f"""
        name: oss_check
        storage: file://{sdp / 'storage'}
        database: default
        libraries:
          - glob:
              include: src/oss_check_pipeline.py
    """))
    conf = sdp / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text("\n".join(f"{k} {v}" for k, v in {
        "spark.jars.packages": DELTA_PACKAGE,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.sources.default": "delta",
        "spark.sql.warehouse.dir": str(sdp / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={sdp / 'metastore_db'};create=true",
        "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false",
    }.items()) + "\n")
    options = sandbox.connection_options()
    env = {**os.environ, "SPARK_CONF_DIR": str(conf), "PYSPARK_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]),
           "LAKEFLOW_OSS_CHECK_BASE_URL": options["base_url"], "LAKEFLOW_OSS_CHECK_ACCESS_TOKEN": options["access_token"]}
    cli = Path(sys.executable).parent / "spark-pipelines"
    out = subprocess.run([str(cli), "run", "--spec", str(sdp / "spark-pipeline.yml")], cwd=sdp, env=env,
                         capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    # The CLI may exit 1 after a completed run with a Python data source: trust the run's own line.
    assert "Run is COMPLETED" in log, log[-3000:]

    for table, key in (("products", "product_id"), ("events", "event_id")):
        theirs = DeltaTable(str(sdp / "warehouse" / table)).to_pyarrow_table().to_pylist()
        ours = DeltaTable(str(tmp_path / "ours" / table)).to_pyarrow_table().to_pylist()
        assert sorted(theirs, key=lambda r: r[key]) == sorted(ours, key=lambda r: r[key]), table
        assert len(ours) == len(sandbox.records(table))
