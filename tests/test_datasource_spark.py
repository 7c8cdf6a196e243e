"""The runtime through real Spark: batch, partitions, streaming, restarts, errors."""

from __future__ import annotations

import json

import pytest

from datasource import register
from tests.toy_connectors import (
    BadValueLakeflowConnect,
    BrokenPartitionsLakeflowConnect,
    LeakyLakeflowConnect,
    PagedLakeflowConnect,
    PartitionedLakeflowConnect,
    StuckLakeflowConnect,
)

pytestmark = pytest.mark.spark


def _read(spark, fmt, table, **options):
    return spark.read.format(fmt).option("tableName", table).options(**options).load()


def _stream_once(spark, fmt, table, sink, checkpoint, **options):
    reader = spark.readStream.format(fmt).option("tableName", table).options(**options)
    query = (reader.load().writeStream.format("parquet").option("path", sink)
             .option("checkpointLocation", checkpoint).trigger(availableNow=True).start())
    try:
        query.awaitTermination(120)
    except Exception as exc:  # StreamingQueryException: keep the message, fail as an assertion
        raise AssertionError(str(exc)) from None
    error = query.exception()
    if error is not None:
        raise AssertionError(str(error))
    return query


def _ids(df):
    return sorted(r["id"] for r in df.select("id").collect())


def test_register_names(spark):
    assert register(spark, PagedLakeflowConnect) == "lakeflow_paged"
    assert register(spark, PagedLakeflowConnect, name="lakeflow_custom") == "lakeflow_custom"
    with pytest.raises(ValueError, match="Unknown source"):
        register(spark, "no_such_source")


def test_batch_reads_every_page_with_exact_types(spark):
    fmt = register(spark, PagedLakeflowConnect)
    df = _read(spark, fmt, "items", rows="250", page="40")
    assert _ids(df) == list(range(1, 251))
    row = df.where("id = 7").collect()[0]
    assert str(row["amount"]) == "7.25"
    assert row["updated_at"].year == 2023
    assert df.schema["amount"].dataType.simpleString() == "decimal(18,2)"


def test_snapshot_with_null_offset_reads_once(spark):
    fmt = register(spark, PagedLakeflowConnect)
    assert _read(spark, fmt, "snap", rows="30").count() == 30


def test_partitioned_batch_one_spark_partition_per_descriptor(spark):
    fmt = register(spark, PartitionedLakeflowConnect)
    df = _read(spark, fmt, "items", rows="450", page="100")
    assert df.rdd.getNumPartitions() == 5
    assert _ids(df) == list(range(1, 451))
    # a table the connector does not partition is read through read_table
    assert _read(spark, fmt, "changes", rows="120", page="50").rdd.getNumPartitions() == 1


def test_partitioning_failure_is_an_error_not_a_fallback(spark):
    fmt = register(spark, BrokenPartitionsLakeflowConnect)
    with pytest.raises(Exception, match="stats endpoint is down"):
        _read(spark, fmt, "items").count()


def test_delete_flow_reads_read_table_deletes(spark):
    fmt = register(spark, PagedLakeflowConnect)
    df = _read(spark, fmt, "changes", rows="100", isDeleteFlow="true")
    assert _ids(df) == list(range(10, 101, 10))


def test_missing_and_unknown_table_errors_list_tables(spark):
    fmt = register(spark, PagedLakeflowConnect)
    with pytest.raises(Exception) as missing:
        spark.read.format(fmt).load().schema
    assert "tableName" in str(missing.value) and "items" in str(missing.value)
    with pytest.raises(Exception) as unknown:
        _read(spark, fmt, "itemz").schema
    assert "Unknown table 'itemz'" in str(unknown.value) and "changes, items, snap" in str(unknown.value)


def test_malformed_options_name_the_option(spark):
    fmt = register(spark, PagedLakeflowConnect)
    with pytest.raises(Exception, match="isDeleteFlow"):
        _read(spark, fmt, "items", isDeleteFlow="yes").schema
    with pytest.raises(Exception, match="maxRecordsPerBatch"):
        _read(spark, fmt, "items", maxRecordsPerBatch="ten").schema
    with pytest.raises(Exception, match="tableNameList"):
        _read(spark, fmt, "_community_table_metadata", tableNameList="[items").collect()


def test_secret_never_in_errors(spark):
    fmt = register(spark, LeakyLakeflowConnect)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "items", access_token="pat-na1-SUPERSECRET").collect()
    assert "SUPERSECRET" not in str(info.value)
    assert "bad credentials ***" in str(info.value)


def test_value_that_does_not_fit_fails_with_table_column_key(spark):
    fmt = register(spark, BadValueLakeflowConnect)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "items", rows="20").collect()
    text = str(info.value)
    assert "'items'" in text and "'amount'" in text and "{'id': '7'}" in text and "0.125" in text


def test_metadata_table(spark):
    fmt = register(spark, PagedLakeflowConnect)
    rows = _read(spark, fmt, "_community_table_metadata", tableNameList=json.dumps(["items", "snap"])).collect()
    got = {r["tableName"]: (r["primary_keys"], r["cursor_field"], r["ingestion_type"]) for r in rows}
    assert got == {"items": (["id"], "id", "append"), "snap": (["id"], None, "snapshot")}


def test_simple_stream_available_now_restart_and_growth(spark, tmp_path):
    fmt = register(spark, PagedLakeflowConnect)
    sink, checkpoint = str(tmp_path / "sink"), str(tmp_path / "ckpt")
    _stream_once(spark, fmt, "items", sink, checkpoint, rows="250", page="40", maxRecordsPerBatch="100")
    assert _ids(spark.read.parquet(sink)) == list(range(1, 251))
    _stream_once(spark, fmt, "items", sink, checkpoint, rows="250", page="40")  # idle: nothing new
    assert spark.read.parquet(sink).count() == 250
    _stream_once(spark, fmt, "items", sink, checkpoint, rows="310", page="40")  # source grew
    assert _ids(spark.read.parquet(sink)) == list(range(1, 311))


def test_stream_of_a_stuck_connector_names_table_and_offset(spark, tmp_path):
    fmt = register(spark, StuckLakeflowConnect)
    with pytest.raises(AssertionError) as info:
        _stream_once(spark, fmt, "items", str(tmp_path / "s"), str(tmp_path / "c"))
    assert "read_table('items')" in str(info.value) and "equal to its start" in str(info.value)


def test_partitioned_stream_with_admission_control(spark, tmp_path):
    fmt = register(spark, PartitionedLakeflowConnect)
    sink, checkpoint = str(tmp_path / "sink"), str(tmp_path / "ckpt")
    query = _stream_once(spark, fmt, "items", sink, checkpoint, rows="500", page="100", maxRecordsPerBatch="200")
    assert _ids(spark.read.parquet(sink)) == list(range(1, 501))
    batches = [p for p in query.recentProgress if p["numInputRows"] > 0]
    assert len(batches) == 3 and max(p["numInputRows"] for p in batches) <= 200
    _stream_once(spark, fmt, "items", sink, checkpoint, rows="650", page="100")
    assert _ids(spark.read.parquet(sink)) == list(range(1, 651))


def test_delete_flow_streams(spark, tmp_path):
    fmt = register(spark, PagedLakeflowConnect)
    sink = str(tmp_path / "sink")
    _stream_once(spark, fmt, "changes", sink, str(tmp_path / "c"), rows="100", isDeleteFlow="true")
    assert _ids(spark.read.parquet(sink)) == list(range(10, 101, 10))


def test_batch_read_fails_like_a_stream_on_a_stuck_offset(spark):
    fmt = register(spark, StuckLakeflowConnect)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "items").collect()
    assert "read_table('items')" in str(info.value) and "equal to its start offset" in str(info.value)


def test_batch_read_fails_on_a_cycling_offset(spark):
    from tests.toy_connectors import CyclingLakeflowConnect

    fmt = register(spark, CyclingLakeflowConnect)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "items").collect()
    assert "again within one read" in str(info.value)


def test_metadata_table_options_name_their_shape(spark):
    fmt = register(spark, PagedLakeflowConnect)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "_community_table_metadata", tableNameList="[1,2]").collect()
    assert "must be a non-empty JSON list of table names (strings)" in str(info.value)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "_community_table_metadata", tableNameList='["items"]', tableConfigs='{"items":"x"}').collect()
    assert "'tableConfigs' must map each table name to a JSON object" in str(info.value)
    assert "the value for 'items' is a str" in str(info.value)


def test_secret_never_in_errors_raised_while_records_are_iterated(spark):
    from tests.toy_connectors import LazyLeakyLakeflowConnect

    fmt = register(spark, LazyLeakyLakeflowConnect)
    with pytest.raises(Exception) as info:
        _read(spark, fmt, "items", access_token="pat-na1-LAZYSECRET").collect()
    assert "LAZYSECRET" not in str(info.value) and "page 2 failed: token=***" in str(info.value)


def test_data_source_options_repr_hides_secrets():
    from datasource import data_source_class

    ds = data_source_class(PagedLakeflowConnect)({"tableName": "items", "access_token": "pat-na1-REPRSECRET"})
    assert "REPRSECRET" not in repr(ds.options) and "REPRSECRET" not in str(ds.options)
    assert ds.options["access_token"] == "pat-na1-REPRSECRET"  # the value itself is intact


def test_replay_after_a_crash_delivers_the_checkpointed_batch_once(spark, tmp_path):
    """Spark wrote a micro-batch's end offset, then died before committing it; records in that
    batch changed before the restart. The replay (readBetweenOffsets) must deliver the
    batch's range once and stop at its end — not read on through the rest of the table —
    and the run must still end with every record at its latest version."""
    from sources.example.sandbox import ExampleSandbox

    with ExampleSandbox(seed=3, event_count=10) as sandbox:
        fmt = register(spark, "example")
        delivered: list[list[tuple]] = []

        def collect(batch, batch_id):
            delivered.append([(r["customer_id"], str(r["updated_at"])) for r in batch.collect()])

        def run():
            reader = (spark.readStream.format(fmt).option("tableName", "customers")
                      .options(**sandbox.connection_options(), page_size="50", maxRecordsPerBatch="100"))
            query = (reader.load().writeStream.option("checkpointLocation", str(tmp_path / "cp"))
                     .trigger(availableNow=True).foreachBatch(collect).start())
            query.awaitTermination(180)
            assert query.exception() is None, query.exception()

        run()
        last = max(int(p.name) for p in (tmp_path / "cp" / "commits").iterdir() if p.name.isdigit())
        replayed_range = delivered[last]
        for name in (str(last), f".{last}.crc"):                   # died before the commit
            (tmp_path / "cp" / "commits" / name).unlink()
        changed = [c for c, _ in replayed_range[5:40]]
        sandbox.update_records("customers", changed)
        delivered.clear()
        run()
    replay = [c for c, _ in delivered[0]]
    assert replay == [c for c, _ in replayed_range if c not in set(changed)], "the replay left its range"
    later = [key for batch in delivered[1:] for key in batch]
    assert sorted(c for c, _ in later) == sorted(changed)
