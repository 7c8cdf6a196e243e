"""The pipeline lands each ingestion type with its semantics; checked against the sandbox's
contents (the truth), not against another reading of the connector."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

from harness.pipeline.prepare import PreparedRun
from harness.pipeline.apply import END_AT, IS_DELETE, START_AT, TableWriter
from harness.pipeline.delta_target import DeltaTarget
from harness.pipeline.runner import PipelineRunner
from harness.pipeline.spec import TablePlan
from sources.example.sandbox import ExampleSandbox, parse_instant

pytestmark = pytest.mark.spark


def _ms(text: str) -> int:
    return int(parse_instant(text).timestamp() * 1000)


def _spec(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nsource: example\ndestination:\n  schema: {name}\n" + textwrap.dedent(body))
    return path


def _run(spark, spec_path, sandbox, home):
    prepared = PreparedRun(str(spec_path), {}, sandbox)
    runner = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, home)
    result = runner.run()
    assert result.ok, [(t.destination, t.error) for t in result.failed]
    return {t.destination: t for t in result.tables}


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    """Every example table landed, the sandbox changed, landed again."""
    home = tmp_path_factory.mktemp("pipeline-home")
    sandbox = ExampleSandbox(event_count=800).start()
    spec = _spec(home, "semantics", """
        tables:
          - source_table: products
          - source_table: products
            destination_table: products_history
            scd_type: 2
          - source_table: customers
          - source_table: orders
          - source_table: orders
            destination_table: orders_history
            scd_type: 2
          - source_table: events
    """)
    first = _run(spark, spec, sandbox, home)
    before = {r["order_id"]: r for r in sandbox.records("orders")}
    customers = [r["customer_id"] for r in sandbox.records("customers")]
    orders = sorted(before)
    products = sorted(r["product_id"] for r in sandbox.records("products"))
    sandbox.add_records("customers", 7)
    sandbox.update_records("customers", customers[:5])
    sandbox.update_records("orders", orders[:4])
    sandbox.delete_records("orders", orders[-3:])
    sandbox.add_records("events", 40)
    sandbox.delete_records("products", products[:2])
    second = _run(spark, spec, sandbox, home)
    third = _run(spark, spec, sandbox, home)
    yield {"sandbox": sandbox, "first": first, "second": second, "third": third, "home": home, "spec": spec,
           "updated_orders": orders[:4], "deleted_orders": orders[-3:], "removed_products": products[:2]}
    sandbox.stop()


def _table(spark, name):
    return spark.table(f"semantics.{name}")


def test_cdc_scd1_equals_the_sandbox(spark, landed):
    truth = {r["customer_id"]: r for r in landed["sandbox"].records("customers")}
    rows = _table(spark, "customers").select("customer_id", "tier", F.unix_millis("updated_at").alias("ms")).collect()
    assert len(rows) == len({r.customer_id for r in rows}), "duplicate customer_id in the SCD 1 table"
    assert {r.customer_id for r in rows} == set(truth)
    wrong = [r.customer_id for r in rows if (r.tier, r.ms) != (truth[r.customer_id]["tier"], _ms(truth[r.customer_id]["updated_at"]))]
    assert not wrong, f"customers whose tier/updated_at differ from the sandbox: {wrong[:5]}"


def test_cdc_with_deletes_scd1_drops_deleted_rows(spark, landed):
    sandbox = landed["sandbox"]
    truth = {r["order_id"]: r for r in sandbox.records("orders")}
    rows = _table(spark, "orders").select("order_id", "status", F.unix_millis("updated_at").alias("ms")).collect()
    ids = [r.order_id for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(truth), f"missing {sorted(set(truth) - set(ids))[:5]}, extra {sorted(set(ids) - set(truth))[:5]}"
    assert not set(ids) & {t["order_id"] for t in sandbox.tombstones("orders")}
    assert all((r.status, r.ms) == (truth[r.order_id]["status"], _ms(truth[r.order_id]["updated_at"])) for r in rows)
    assert landed["second"]["orders"].totals.deleted == 3
    assert landed["second"]["orders"].totals.updated == 4


def test_cdc_scd2_keeps_history_and_closes_deleted(spark, landed):
    truth = {r["order_id"]: r for r in landed["sandbox"].records("orders")}
    rows = _table(spark, "orders_history").select(
        "order_id", "status", F.unix_millis(START_AT).alias("start"), F.unix_millis(END_AT).alias("end")).collect()
    versions = {}
    for r in rows:
        versions.setdefault(r.order_id, []).append(r)
    dup = [k for k, vs in versions.items() if len(vs) != len({v.start for v in vs})]
    assert not dup, f"duplicate versions for orders {dup[:5]}"
    current = {k: [v for v in vs if v.end is None] for k, vs in versions.items()}
    assert {k for k, vs in current.items() if vs} == set(truth)
    assert all(len(vs) <= 1 for vs in current.values())
    for k in truth:
        (open_version,) = current[k]
        assert (open_version.status, open_version.start) == (truth[k]["status"], _ms(truth[k]["updated_at"]))
    for k in landed["updated_orders"]:
        closed = sorted((v for v in versions[k] if v.end is not None), key=lambda v: v.start)
        assert len(closed) == 1 and closed[0].end == current[k][0].start, f"order {k}: {versions[k]}"
    for k in landed["deleted_orders"]:
        assert versions[k] and all(v.end is not None for v in versions[k]), f"deleted order {k} still open"


def test_snapshot_replaces_the_table(spark, landed):
    truth = {r["product_id"]: r for r in landed["sandbox"].records("products")}
    rows = _table(spark, "products").select("product_id", "name").collect()
    assert sorted(r.product_id for r in rows) == sorted(truth)
    assert all(r.name == truth[r.product_id]["name"] for r in rows)
    assert landed["second"]["products"].totals.deleted == 2
    history = _table(spark, "products_history").select("product_id", END_AT).collect()
    closed = {r.product_id for r in history if r[END_AT] is not None}
    assert closed == set(landed["removed_products"])
    assert len(history) == len(truth) + 2


def test_append_lands_each_record_once(spark, landed):
    truth = [r["event_id"] for r in landed["sandbox"].records("events")]
    ids = [r.event_id for r in _table(spark, "events").select("event_id").collect()]
    assert len(ids) == len(set(ids)), "an event landed twice"
    assert sorted(ids) == sorted(truth)


def test_rerun_of_a_complete_pipeline_changes_nothing(spark, landed):
    third = landed["third"]
    changed = {name: (t.totals.inserted, t.totals.updated, t.totals.deleted) for name, t in third.items()
               if name not in ("products", "products_history") and (t.totals.inserted or t.totals.updated or t.totals.deleted)}
    assert not changed, f"an idle rerun changed tables: {changed}"
    assert third["products"].totals.updated == third["products"].totals.inserted == third["products"].totals.deleted == 0
    versions = {name: spark.sql(f"DESCRIBE HISTORY semantics.{name}").count() for name in ("orders", "customers", "events")}
    _run(spark, landed["spec"], landed["sandbox"], landed["home"])
    assert versions == {name: spark.sql(f"DESCRIBE HISTORY semantics.{name}").count() for name in versions}


# ---------------------------------------------------------------------- the writer itself
SCHEMA = StructType([StructField("id", LongType()), StructField("seq", LongType()), StructField("v", StringType())])


def _writer(tmp_path, scd: int, deletes: bool, name: str) -> TableWriter:
    plan = TablePlan("t", name, "cdc_with_deletes" if deletes else "cdc", scd, ["id"], "seq")
    tombstones = DeltaTarget(path=str(tmp_path / f"{name}_tombstones")) if deletes and scd == 1 else None
    return TableWriter(plan, DeltaTarget(path=str(tmp_path / name)), f"test:{name}", tombstones)


def _batch(spark, rows, deletes=()):
    df = spark.createDataFrame([(i, s, v, False) for i, s, v in rows] + [(i, s, None, True) for i, s in deletes],
                               StructType([*SCHEMA.fields, StructField(IS_DELETE, BooleanType())]))
    return df


def _state(spark, writer):
    return sorted(tuple(r) for r in writer.target.read(spark).collect())


def test_scd1_late_change_never_overwrites_a_newer_one(spark, tmp_path):
    w = _writer(tmp_path, 1, True, "late")
    w.prepare(spark, SCHEMA)
    w.apply_batch(_batch(spark, [(1, 10, "new"), (2, 5, "b")]), 0)
    w.apply_batch(_batch(spark, [(1, 7, "older")], deletes=[(2, 9)]), 1)
    assert _state(spark, w) == [(1, 10, "new")]
    w.apply_batch(_batch(spark, [(2, 8, "resurrected?")]), 2)   # older than the delete
    assert _state(spark, w) == [(1, 10, "new")]
    w.apply_batch(_batch(spark, [(2, 12, "restored")]), 3)      # newer than the delete
    assert _state(spark, w) == [(1, 10, "new"), (2, 12, "restored")]


def test_replayed_batch_is_applied_once(spark, tmp_path):
    w = _writer(tmp_path, 1, False, "replay")
    w.prepare(spark, SCHEMA)
    w.apply_batch(_batch(spark, [(1, 1, "a")]), 0)
    w.apply_batch(_batch(spark, [(1, 2, "b")]), 1)
    # A crash after batch 1's commit: Spark replays batch 1, possibly with other data.
    assert w.apply_batch(_batch(spark, [(1, 3, "replayed")]), 1).updated == 0
    assert _state(spark, w) == [(1, 2, "b")]


def test_scd2_replayed_change_adds_no_version(spark, tmp_path):
    w = _writer(tmp_path, 2, True, "hist")
    w.prepare(spark, SCHEMA)
    w.apply_batch(_batch(spark, [(1, 1, "a"), (2, 1, "x")]), 0)
    w.apply_batch(_batch(spark, [(1, 3, "c")], deletes=[(2, 4)]), 1)
    # A late change between two stored versions splits the history.
    w.apply_batch(_batch(spark, [(1, 2, "b")]), 2)
    # The same changes again under a new batch id (a connector that re-delivers).
    w.apply_batch(_batch(spark, [(1, 3, "c"), (1, 2, "b")], deletes=[(2, 4)]), 3)
    assert _state(spark, w) == [(1, 1, "a", 1, 2), (1, 2, "b", 2, 3), (1, 3, "c", 3, None), (2, 1, "x", 1, 4)]


def test_schema_growth_adds_columns(spark, tmp_path):
    w = _writer(tmp_path, 1, False, "grow")
    w.prepare(spark, SCHEMA)
    w.apply_batch(_batch(spark, [(1, 1, "a")]), 0)
    grown = _batch(spark, [(2, 2, "b")]).withColumn("extra", F.lit("e"))
    w.apply_batch(grown, 1)
    assert _state(spark, w) == [(1, 1, "a", None), (2, 2, "b", "e")]


# ---------------------------------------------------------------------- the command line
def test_cli_rejects_a_bad_option_before_spark(tmp_path):
    spec = _spec(tmp_path, "cli_opts", "tables:\n  - source_table: customers\n")
    out = subprocess.run([sys.executable, "-m", "harness.cli", "pipeline", "run", str(spec), "--option", "page_size"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "--option 'page_size': expected KEY=VALUE" in out.stderr
    assert "lakeflow-data" not in out.stdout  # nothing started


def test_cli_version():
    out = subprocess.run([sys.executable, "-m", "harness.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("lakeflow ")


def test_requests_per_table_match_what_the_sandbox_served(spark, tmp_path):
    with ExampleSandbox(event_count=300) as sandbox:
        spec = _spec(tmp_path, "reqs", "tables:\n  - source_table: customers\n  - source_table: products\n")
        prepared = PreparedRun(str(spec), {}, sandbox)
        sandbox.reset_counts()
        result = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, tmp_path, max_concurrent=1).run()
        assert result.ok
        served = sum(sandbox.request_counts.values())
        assert served > 0
        assert sum(t.requests for t in result.tables) == served, (
            {t.destination: t.requests for t in result.tables}, dict(sandbox.request_counts))


def test_a_failed_table_is_one_line_and_the_others_finish(spark, tmp_path):
    with ExampleSandbox(event_count=100) as sandbox:
        spec = _spec(tmp_path, "partial", """
            tables:
              - source_table: customers
                options: {page_size: "100000"}
              - source_table: products
        """)
        prepared = PreparedRun(str(spec), {}, sandbox)
        result = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, tmp_path).run()
    assert not result.ok
    (failed,) = result.failed
    assert failed.destination == "customers"
    assert "\n" not in failed.error and "page_size" in failed.error, failed.error
    assert {t.destination: t.status for t in result.tables} == {"customers": "failed", "products": "done"}


def test_a_batch_left_pending_by_a_kill_is_taken_from_delta_or_read_again(spark, tmp_path):
    """A kill between a batch's Delta commit and its checkpoint leaves ``pending`` set: the
    next run takes the offsets from the Delta commit's label when the batch landed, and reads
    the batch again when it did not. Either way every customer lands once."""
    from harness.pipeline.state import Checkpoint

    with ExampleSandbox(event_count=50) as sandbox:
        spec = _spec(tmp_path, "pending", "options: {maxRecordsPerBatch: '120'}\ntables:\n  - source_table: customers\n")
        prepared = PreparedRun(str(spec), {}, sandbox)
        runner = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, tmp_path)
        assert runner.run().ok
        checkpoint = Checkpoint(runner.state_dir(prepared.plans[0]))
        landed = checkpoint.load()
        assert landed.batch >= 2 and landed.pending is None
        # 1. The last batch landed, the checkpoint did not hear of it: it still says batch N-1.
        label = runner.target(prepared.plans[0]).last_labelled(spark, landed.writeId).label
        assert label["batch"] == landed.batch and label["offsets"] == landed.offsets
        checkpoint.save(landed.committed(landed.batch - 1, {"changes": {}}).with_pending(landed.batch))
        sandbox.add_records("customers", 3)
        second = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, tmp_path).run()
        assert second.ok and second.tables[0].totals.rows_read == 3, second.tables[0].totals
        # 2. A batch that never landed: pending past Delta's last batch, offsets back at the start.
        state = checkpoint.load()
        checkpoint.save(state.committed(state.batch, {"changes": {}}).with_pending(state.batch + 1))
        third = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, tmp_path).run()
        assert third.ok
        assert third.tables[0].totals.rows_read == len(sandbox.records("customers"))
        expected = sorted(r["customer_id"] for r in sandbox.records("customers"))
    ids = [r["customer_id"] for r in spark.table("pending.customers").collect()]
    assert sorted(ids) == expected
