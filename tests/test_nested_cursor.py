"""A cursor inside a struct (``meta.seq``, as GitHub's ``commit.committer.date``) works as
the pipeline's sequence column: SCD 1 with deletes keeps the latest version per key and no
late change resurrects a deleted key; SCD 2 history is typed and ordered by it. Primary keys
are top-level columns: a nested one is refused by the contract."""

from __future__ import annotations

import pytest
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

from datasource.columns import field_at
from harness.pipeline.apply import END_AT, IS_DELETE, START_AT, TableWriter
from harness.pipeline.delta_target import DeltaTarget
from harness.pipeline.spec import TablePlan
from sources.interface import ConnectorError
from sources.interface.contract import validate_metadata

SCHEMA = StructType([StructField("id", LongType()), StructField("name", StringType()),
                     StructField("meta", StructType([StructField("seq", LongType()), StructField("by", StringType())]))])


def _batch(spark, rows):
    """rows: (id, name, seq, is_delete)"""
    data = [(i, name, {"seq": seq, "by": "x"}, deleted) for i, name, seq, deleted in rows]
    return spark.createDataFrame(data, StructType([*SCHEMA.fields, StructField(IS_DELETE, BooleanType())]))


def test_field_at_follows_structs_only():
    assert field_at(SCHEMA, "meta.seq").dataType == LongType()
    assert field_at(SCHEMA, "meta.nope") is None and field_at(SCHEMA, "name.seq") is None


def test_primary_keys_must_be_top_level():
    with pytest.raises(ConnectorError, match="top-level"):
        validate_metadata("t", {"primary_keys": ["meta.by"], "cursor_field": "meta.seq", "ingestion_type": "cdc"})
    assert validate_metadata("t", {"primary_keys": ["id"], "cursor_field": "meta.seq", "ingestion_type": "cdc"})


@pytest.mark.spark
def test_a_nested_sequence_orders_scd1_with_deletes_and_scd2(spark, tmp_path):
    plan = TablePlan("t", "t", "cdc_with_deletes", 1, ["id"], "meta.seq")
    writer = TableWriter(plan, DeltaTarget(path=str(tmp_path / "t")), "test:t",
                         tombstones=DeltaTarget(path=str(tmp_path / "t_tombstones")))
    batches = [
        [(1, "a", 10, False), (1, "a2", 12, False), (2, "b", 10, False), (3, "c", 10, False)],
        [(1, "stale", 11, False), (2, None, 20, True), (3, "c2", 15, False)],
        [(2, "late", 19, False), (3, "c3", 16, False)],  # 2's change is older than its delete
    ]
    for n, rows in enumerate(batches, 1):
        writer.prepare(spark, SCHEMA)
        writer.apply_batch(_batch(spark, rows), n)
    got = sorted((r["id"], r["name"], r["meta"]["seq"]) for r in writer.target.read(spark).collect())
    assert got == [(1, "a2", 12), (3, "c3", 16)]

    history = TableWriter(TablePlan("t", "h", "cdc", 2, ["id"], "meta.seq"), DeltaTarget(path=str(tmp_path / "h")), "test:h")
    for n, rows in enumerate([[(1, "a", 10, False), (1, "b", 12, False)], [(1, "c", 15, False)]], 1):
        history.prepare(spark, SCHEMA)
        history.apply_batch(_batch(spark, rows), n)
    table = history.target.read(spark)
    assert table.schema[START_AT].dataType == LongType()
    versions = sorted((r["name"], r[START_AT], r[END_AT]) for r in table.collect())
    assert versions == [("a", 10, 12), ("b", 12, 15), ("c", 15, None)]
