"""A source's schema changes, applied to real Delta tables through the pipeline's writer:
added columns and struct fields, widened types, incompatible changes (one line naming table,
column, types and the fix), removed columns (kept, null), ``schema_changes: fail``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql.types import (
    BooleanType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from harness.pipeline.apply import IS_DELETE, TableWriter
from harness.pipeline.delta_target import DeltaTarget
from harness.pipeline.schema_changes import SchemaChangeError
from harness.pipeline.spec import TablePlan

pytestmark = pytest.mark.spark

HINT = "`lakeflow pipeline run shop.yaml --full-refresh t`"


def _writer(tmp_path, name: str) -> TableWriter:
    plan = TablePlan("t", name, "cdc", 1, ["id"], "seq")
    return TableWriter(plan, DeltaTarget(path=str(tmp_path / name)), f"test:{name}")


def _schema(*fields) -> StructType:
    return StructType([StructField("id", LongType()), StructField("seq", LongType()), *fields])


def _land(spark, writer, schema, rows, batch, policy="evolve"):
    """Prepare for ``schema`` (as a run does with the increment's schema) and apply ``rows``."""
    changes = writer.prepare(spark, schema, policy, HINT)
    df = spark.createDataFrame([(*r, False) for r in rows], StructType([*schema.fields, StructField(IS_DELETE, BooleanType())]))
    writer.apply_batch(df, batch)
    return changes


def _rows(spark, writer):
    return sorted(tuple(r) for r in writer.target.read(spark).collect())


WIDENINGS = [  # (column, old type, new type, a value only the new type holds)
    ("i", IntegerType(), LongType(), 2**40),
    ("f", FloatType(), DoubleType(), 1.0000000001),
    ("d", DecimalType(10, 2), DecimalType(14, 2), Decimal("123456789012.25")),
]


def test_widening_changes_the_column_types_in_place(spark, tmp_path):
    # int -> long, float -> double and decimal precision up, on one table (one Delta commit each step)
    w = _writer(tmp_path, "widen")
    old = _schema(*(StructField(c, o) for c, o, _, _ in WIDENINGS))
    new = _schema(*(StructField(c, n) for c, _, n, _ in WIDENINGS))
    _land(spark, w, old, [(1, 1, None, None, None)], 0)
    changes = _land(spark, w, new, [(2, 2, *(v for *_, v in WIDENINGS))], 1)
    assert sorted(changes.describe()) == sorted(f"widened {c} {o.simpleString()} -> {n.simpleString()}"
                                                for c, o, n, _ in WIDENINGS)
    assert [w.target.schema(spark)[c].dataType for c, *_ in WIDENINGS] == [n for _, _, n, _ in WIDENINGS]
    assert _rows(spark, w) == [(1, 1, None, None, None), (2, 2, *(v for *_, v in WIDENINGS))]
    # Narrower values after the widening are written as the table's types; nothing to change.
    assert _land(spark, w, old, [(3, 3, None, None, None)], 2).describe() == []


@pytest.mark.parametrize("old, new", [
    (LongType(), StringType()),
    (StructType([StructField("a", StringType())]), StringType()),
    (DecimalType(18, 2), DecimalType(18, 4)),   # more scale, fewer integral digits: not a widening
], ids=["number-string", "struct-scalar", "decimal-scale"])
def test_an_incompatible_change_fails_with_table_column_types_and_fix(spark, tmp_path, old, new):
    w = _writer(tmp_path, f"incompatible_{new.typeName()}_{old.typeName()}")
    _land(spark, w, _schema(StructField("v", old)), [(1, 1, None)], 0)
    with pytest.raises(SchemaChangeError) as err:
        w.prepare(spark, _schema(StructField("v", new)), "evolve", HINT)
    message = str(err.value)
    assert "\n" not in message
    assert (f"table {w.plan.destination}: column v changed type from {old.simpleString()} to {new.simpleString()}" in message
            and HINT in message), message
    assert w.target.schema(spark)["v"].dataType == old  # the table is left as it was


def test_new_columns_and_struct_fields_are_added(spark, tmp_path):
    w = _writer(tmp_path, "grow")
    address = StructType([StructField("city", StringType())])
    _land(spark, w, _schema(StructField("address", address)), [(1, 1, ("Oslo",))], 0)
    grown = StructType([StructField("city", StringType()), StructField("zip", StringType())])
    changes = _land(spark, w, _schema(StructField("address", grown), StructField("tier", StringType())),
                    [(2, 2, ("Bergen", "5003"), "gold")], 1)
    assert sorted(changes.describe()) == ["added address.zip string", "added tier string"]
    rows = {r.id: r for r in w.target.read(spark).collect()}
    assert (rows[1].address.city, rows[1].address.zip, rows[1].tier) == ("Oslo", None, None)
    assert (rows[2].address.city, rows[2].address.zip, rows[2].tier) == ("Bergen", "5003", "gold")


def test_a_removed_column_stays_and_is_null_from_then_on(spark, tmp_path):
    w = _writer(tmp_path, "shrink")
    _land(spark, w, _schema(StructField("v", StringType()), StructField("gone", StringType())), [(1, 1, "a", "x")], 0)
    changes = _land(spark, w, _schema(StructField("v", StringType())), [(2, 2, "b")], 1)
    assert changes.describe() == ["removed gone"]
    assert "gone" in w.target.schema(spark).names
    assert _rows(spark, w) == [(1, 1, "a", "x"), (2, 2, "b", None)]


def test_schema_changes_fail_makes_any_change_an_error(spark, tmp_path):
    w = _writer(tmp_path, "strict")
    _land(spark, w, _schema(StructField("v", IntegerType())), [(1, 1, 5)], 0, policy="fail")
    _land(spark, w, _schema(StructField("v", IntegerType())), [(2, 2, 6)], 1, policy="fail")  # no change: fine
    for changed, what in [(_schema(StructField("v", IntegerType()), StructField("new", StringType())), "added new string"),
                          (_schema(StructField("v", LongType())), "widened v int -> bigint"),
                          (_schema(), "removed v")]:
        with pytest.raises(SchemaChangeError) as err:
            w.prepare(spark, changed, "fail", HINT)
        assert what in str(err.value) and "schema_changes: fail" in str(err.value) and HINT in str(err.value)
    assert w.target.schema(spark).simpleString() == "struct<id:bigint,seq:bigint,v:int>"
