"""Operating a pipeline over months: run history and status, per-table full refresh (and a
hand-deleted checkpoint), column selection, one run per home, the silent-success warning.
Every check compares with the sandbox's contents or with what Delta recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from harness.cli import main
from harness.pipeline.events import EVENTS_FILE, EVENTS_TABLE, read_events
from harness.pipeline.prepare import PreparedRun
from harness.pipeline.runner import PipelineRunner
from harness.pipeline.spec import SpecError
from harness.pipeline.state import Checkpoint
from sources.example.sandbox import ExampleSandbox

pytestmark = pytest.mark.spark

TABLES = """
tables:
  - source_table: customers
  - source_table: orders
  - source_table: events
  - source_table: products
"""


def _spec(home, name: str, body: str = TABLES):
    path = home / f"{name}.yaml"
    path.write_text(f"name: {name}\nsource: example\ndestination:\n  schema: {name}\n" + textwrap.dedent(body))
    return path


def _runner(spark, spec, sandbox, home, **kwargs) -> PipelineRunner:
    prepared = PreparedRun(str(spec), {}, sandbox)
    return PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, home, spec_path=str(spec), **kwargs)


def _run(spark, spec, sandbox, home, **kwargs):
    result = _runner(spark, spec, sandbox, home, **kwargs).run()
    return result, {t.destination: t for t in result.tables}


def _ids(spark, table: str, key: str) -> list:
    return sorted(r[0] for r in spark.table(table).select(key).collect())


def _truth_ids(sandbox, table: str, key: str) -> list:
    return sorted(r[key] for r in sandbox.records(table))


@pytest.fixture(scope="module")
def operated(spark, tmp_path_factory):
    """Two runs of four example tables with changes between them."""
    home = tmp_path_factory.mktemp("operate-home")
    sandbox = ExampleSandbox(event_count=300).start()
    spec = _spec(home, "ops")
    first, _ = _run(spark, spec, sandbox, home)
    assert first.ok
    customers = _truth_ids(sandbox, "customers", "customer_id")
    orders = _truth_ids(sandbox, "orders", "order_id")
    sandbox.update_records("customers", customers[:6])
    sandbox.add_records("customers", 4)
    sandbox.delete_records("orders", orders[-2:])
    sandbox.add_records("events", 25)
    second, tables = _run(spark, spec, sandbox, home)
    assert second.ok, [(t.destination, t.error) for t in second.failed]
    yield {"home": home, "sandbox": sandbox, "spec": spec, "runs": [first, second], "second": tables}
    sandbox.stop()


# ---------------------------------------------------------------------- history and status
def test_event_log_records_each_table_of_each_run(operated):
    home, sandbox = operated["home"], operated["sandbox"]
    events = list(read_events(home / "pipelines" / "ops" / EVENTS_FILE))
    run_ids = [r.run_id for r in operated["runs"]]
    assert [e["run_id"] for e in events if e["event"] == "run_started"] == run_ids
    assert [e["status"] for e in events if e["event"] == "run_finished"] == ["done", "done"]
    second = {e["table"]: e for e in events if e["event"] == "table" and e["run_id"] == run_ids[1]}
    assert set(second) == {"customers", "orders", "events", "products"}
    assert second["customers"]["rows_read"] == 10 and second["customers"]["updated"] == 6
    assert second["customers"]["inserted"] == 4
    assert second["orders"]["deleted"] == 2 and second["events"]["inserted"] == 25
    assert second["products"]["rows_read"] == len(sandbox.records("products"))
    first = {e["table"]: e for e in events if e["event"] == "table" and e["run_id"] == run_ids[0]}
    # The offsets before the second run are those the first ended with, and the cursor moved on.
    assert second["customers"]["offsets_before"] == first["customers"]["offsets_after"]
    assert second["customers"]["offsets_after"] != second["customers"]["offsets_before"]
    assert first["events"]["requests"] > 0 and all(e["status"] == "done" and e["error"] is None for e in second.values())
    text = (home / "pipelines" / "ops" / EVENTS_FILE).read_text()
    assert sandbox.token not in text


def test_event_log_has_a_delta_copy_beside_the_tables(spark, operated):
    rows = spark.table(f"ops.{EVENTS_TABLE}").collect()
    assert len(rows) == 8  # four tables, two runs
    by = {(r.run_id, r.table): r for r in rows}
    last = operated["runs"][1].run_id
    assert by[(last, "customers")].updated == 6 and by[(last, "orders")].deleted == 2


def test_status_shows_the_last_run_of_each_table(operated, capsys):
    home, spec = operated["home"], operated["spec"]
    assert main(["pipeline", "status", str(spec), "--home", str(home)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    for table in ("customers", "orders", "events", "products"):
        assert table in lines and "done" in lines[table], out
    assert "10" in lines["customers"].split() and "25" in lines["events"].split(), out


def test_history_lists_runs_and_filters(operated, capsys):
    home, spec = operated["home"], operated["spec"]
    first, second = (r.run_id for r in operated["runs"])
    assert main(["pipeline", "history", str(spec), "--home", str(home), "--json", "--table", "orders"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((r["run_id"], r["table"]) for r in rows) == sorted([(first, "orders"), (second, "orders")])
    assert {r["run_id"]: r["deleted"] for r in rows}[second] == 2
    assert main(["pipeline", "history", str(spec), "--home", str(home), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert second in out and first not in out
    assert main(["pipeline", "history", str(spec), "--home", str(home), "--limit", "0"]) != 0
    assert "--limit 0" in capsys.readouterr().err


def test_status_of_a_pipeline_that_never_ran(tmp_path, capsys):
    spec = _spec(tmp_path, "never")
    assert main(["pipeline", "status", str(spec), "--home", str(tmp_path)]) == 0
    assert "no runs recorded" in capsys.readouterr().out


# ---------------------------------------------------------------------- full refresh
def test_full_refresh_rebuilds_one_table_in_one_commit(spark, operated):
    from delta.tables import DeltaTable

    home, sandbox, spec = operated["home"], operated["sandbox"], operated["spec"]
    versions = {t: DeltaTable.forName(spark, f"ops.{t}").history(1).collect()[0].version
                for t in ("customers", "orders", "events")}
    result, tables = _run(spark, spec, sandbox, home, full_refresh=["events"])
    assert result.ok
    after = DeltaTable.forName(spark, "ops.events").history().collect()
    new = [h for h in after if h.version > versions["events"]]
    assert len(new) == 1 and new[0].operation in ("CREATE OR REPLACE TABLE AS SELECT", "WRITE", "REPLACE TABLE AS SELECT"), \
        [(h.version, h.operation) for h in new]
    # Readers never saw an empty or partial table: the version before and the refresh's own
    # (the only new one) both hold every event.
    for version in (versions["events"], new[0].version):
        assert spark.read.option("versionAsOf", version).table("ops.events").count() == len(sandbox.records("events"))
    assert _ids(spark, "ops.events", "event_id") == _truth_ids(sandbox, "events", "event_id")
    assert tables["events"].totals.rows_read == len(sandbox.records("events"))
    for other in ("customers", "orders"):  # untouched: no commit
        assert DeltaTable.forName(spark, f"ops.{other}").history(1).collect()[0].version == versions[other]
    # Afterwards the refreshed table goes on incrementally from its new offsets.
    sandbox.add_records("events", 3)
    result, tables = _run(spark, spec, sandbox, home)
    assert result.ok and tables["events"].totals.rows_read == 3
    assert _ids(spark, "ops.events", "event_id") == _truth_ids(sandbox, "events", "event_id")


def test_a_hand_deleted_checkpoint_fails_the_table_with_the_fix(spark, operated):
    home, sandbox, spec = operated["home"], operated["sandbox"], operated["spec"]
    runner = _runner(spark, spec, sandbox, home)
    plan = next(p for p in runner.plans if p.destination == "events")
    before = spark.table("ops.events").count()
    Checkpoint(runner.state_dir(plan)).path.unlink()
    result = runner.run()
    (failed,) = result.failed
    assert failed.destination == "events" and "\n" not in failed.error
    assert "checkpoint" in failed.error and f"--full-refresh events" in failed.error, failed.error
    assert spark.table("ops.events").count() == before  # nothing appended twice
    assert {t.destination: t.status for t in result.tables}["customers"] == "done"
    result, _ = _run(spark, spec, sandbox, home, full_refresh=["events"])
    assert result.ok
    assert _ids(spark, "ops.events", "event_id") == _truth_ids(sandbox, "events", "event_id")


def test_a_checkpoint_whose_table_is_gone_fails_the_table_with_the_fix(spark, operated):
    """The mirror case: the checkpoint has committed batches, the table is gone (dropped, or
    a run with --remote on another server's home). Reading on from the checkpoint would land
    only later changes on an empty table (seen: a run that landed nothing and said done)."""
    home, sandbox, spec = operated["home"], operated["sandbox"], operated["spec"]
    spark.sql("DROP TABLE ops.customers")
    result = _runner(spark, spec, sandbox, home).run()
    (failed,) = result.failed
    assert failed.destination == "customers" and "\n" not in failed.error
    assert "committed batch" in failed.error and "does not exist" in failed.error, failed.error
    assert "--full-refresh customers" in failed.error, failed.error
    result, _ = _run(spark, spec, sandbox, home, full_refresh=["customers"])
    assert result.ok
    assert _ids(spark, "ops.customers", "customer_id") == _truth_ids(sandbox, "customers", "customer_id")


def test_full_refresh_of_a_table_with_deletes_resets_its_tombstones(spark, operated):
    home, sandbox, spec = operated["home"], operated["sandbox"], operated["spec"]
    result, tables = _run(spark, spec, sandbox, home, full_refresh=["orders", "customers"])
    assert result.ok
    assert _ids(spark, "ops.orders", "order_id") == _truth_ids(sandbox, "orders", "order_id")
    assert _ids(spark, "ops.customers", "customer_id") == _truth_ids(sandbox, "customers", "customer_id")
    assert tables["orders"].full_refresh and not tables["events"].full_refresh
    orders = sorted(_truth_ids(sandbox, "orders", "order_id"))
    sandbox.delete_records("orders", orders[:1])
    result, tables = _run(spark, spec, sandbox, home)
    assert result.ok and tables["orders"].totals.deleted == 1
    assert _ids(spark, "ops.orders", "order_id") == _truth_ids(sandbox, "orders", "order_id")


def test_cli_full_refresh_flags_are_checked(operated, capsys):
    spec = operated["spec"]
    assert main(["pipeline", "run", str(spec), "--sandbox", "--full-refresh", "nope", "--home",
                 str(operated["home"] / "other")]) != 0
    err = capsys.readouterr().err
    assert "--full-refresh nope" in err and "customers" in err
    assert main(["pipeline", "run", str(spec), "--sandbox", "--full-refresh", "orders", "--full-refresh-all"]) != 0
    assert "give one of them" in capsys.readouterr().err


# ---------------------------------------------------------------------- silent success
def test_a_run_that_reads_nothing_into_an_emptied_table_is_flagged(spark, operated, tmp_path):
    sandbox = operated["sandbox"]
    spec = _spec(tmp_path, "quiet", "tables:\n  - source_table: customers\n")
    assert _run(spark, spec, sandbox, tmp_path)[0].ok
    spark.sql("DELETE FROM quiet.customers")  # someone emptied the table; the offsets stay past the data
    result, tables = _run(spark, spec, sandbox, tmp_path)
    assert result.ok and tables["customers"].totals.rows_read == 0
    (warning,) = tables["customers"].warnings
    assert "silent success" in warning and "--full-refresh customers" in warning
    events = list(read_events(tmp_path / "pipelines" / "quiet" / EVENTS_FILE))
    assert events[-2]["warnings"] == [warning]


# ---------------------------------------------------------------------- column selection
def test_include_and_exclude_columns_with_dotted_paths(spark, operated, tmp_path):
    sandbox = operated["sandbox"]
    spec = _spec(tmp_path, "picked", """
        tables:
          - source_table: customers
            include_columns: [customer_id, tier, updated_at, address.city]
          - source_table: orders
            exclude_columns: [metadata, items.unit_price]
    """)
    assert _run(spark, spec, sandbox, tmp_path)[0].ok
    customers = spark.table("picked.customers")
    assert customers.schema.simpleString() == \
        "struct<customer_id:bigint,tier:string,address:struct<city:string>,updated_at:timestamp>"  # source order
    truth = {r["customer_id"]: r for r in sandbox.records("customers")}
    rows = customers.collect()
    assert {r.customer_id for r in rows} == set(truth)
    def city(address):
        return None if address is None else (address["city"] if isinstance(address, dict) else address.city)

    assert all(city(r.address) == city(truth[r.customer_id]["address"]) and r.tier == truth[r.customer_id]["tier"]
               for r in rows)
    orders = spark.table("picked.orders")
    assert "metadata" not in orders.columns
    assert orders.schema["items"].dataType.elementType.simpleString() == "struct<sku:string,quantity:bigint>"
    assert _ids(spark, "picked.orders", "order_id") == _truth_ids(sandbox, "orders", "order_id")


@pytest.mark.parametrize("selection, message", [
    ("exclude_columns: [customer_id]", "exclude_columns leaves out the primary key 'customer_id'"),
    ("exclude_columns: [updated_at]", "exclude_columns leaves out the sequence column 'updated_at'"),
    ("include_columns: [customer_id, tier]", "include_columns leaves out the sequence column 'updated_at'"),
    ("include_columns: [customer_id, updated_at, address.planet]", "address.planet"),
])
def test_selection_that_drops_a_key_or_names_nothing_is_an_error(operated, tmp_path, selection, message):
    spec = _spec(tmp_path, "bad_pick", f"tables:\n  - source_table: customers\n    {selection}\n")
    with pytest.raises(SpecError) as err:
        PreparedRun(str(spec), {}, operated["sandbox"])
    assert message in str(err.value) and "customers" in str(err.value)


def test_selection_is_rendered_into_the_databricks_file(operated, tmp_path):
    from harness.pipeline.render import render_databricks

    spec = _spec(tmp_path, "rendered", """
        tables:
          - source_table: customers
            include_columns: [customer_id, updated_at, address.city]
          - source_table: orders
            exclude_columns: [metadata]
    """)
    prepared = PreparedRun(str(spec), {}, operated["sandbox"])
    paths = render_databricks(prepared.spec, prepared.plans, tmp_path / "out", origin=str(spec))
    text = "\n".join(p.read_text() for p in paths if p.suffix == ".py")
    assert "'include': ['customer_id', 'updated_at', 'address.city']" in text and "'exclude': ['metadata']" in text, text


# ---------------------------------------------------------------------- one run per home
def test_a_second_run_on_a_home_in_use_fails_naming_the_holder(operated, tmp_path, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from harness.pipeline.lock import home_lock
            with home_lock(Path({str(tmp_path)!r}), "lakeflow pipeline run other.yaml"):
                print("held", flush=True)
                time.sleep(120)
        """)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert holder.stdout.readline().strip() == "held"
        code = main(["pipeline", "run", str(operated["spec"]), "--sandbox", "--home", str(tmp_path)])
        err = capsys.readouterr().err
        assert code != 0
        assert str(holder.pid) in err and "lakeflow pipeline run other.yaml" in err, err
        assert not (tmp_path / "pipelines" / "ops").exists()  # nothing was started
    finally:
        holder.kill()
        holder.wait()


def test_a_metastore_whose_creation_was_killed_is_cleared_unless_in_use(tmp_path):
    """A run killed while Derby created the home's metastore leaves metastore_db/ without
    service.properties, which Derby refuses ever after (seen in the crash test: every later run
    failed with HiveException). The next session clears it — unless a live process holds
    Derby's lock on it (a creation in progress)."""
    from harness.spark import clear_unfinished_metastore

    metastore = tmp_path / "metastore"
    database = metastore / "metastore_db"
    (database / "seg0").mkdir(parents=True)
    (database / "dbex.lck").write_bytes(b"")  # the file a running Derby keeps locked (seen with lockf)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, sys, time
        f = open({str(database / 'dbex.lck')!r}, "a")
        fcntl.lockf(f, fcntl.LOCK_EX)
        print("locked", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert clear_unfinished_metastore(metastore) is False and database.is_dir()  # in use: left alone
    finally:
        holder.communicate("", timeout=30)
    assert clear_unfinished_metastore(metastore) is True and not database.exists()
    complete = metastore / "metastore_db"
    complete.mkdir()
    (complete / "service.properties").write_text("derby")
    assert clear_unfinished_metastore(metastore) is False and (complete / "service.properties").exists()
