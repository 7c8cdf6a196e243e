"""The converter: exact, typed, nested, with errors that say where."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from datasource.arrow_convert import ArrowConverter, ConversionError


def convert(data_type, values, nullable=True):
    schema = StructType([StructField("id", LongType()), StructField("v", data_type, nullable)])
    conv = ArrowConverter(schema, table_name="t", primary_keys=["id"])
    records = [{"id": i, "v": v} if v is not _MISSING else {"id": i} for i, v in enumerate(values)]
    return conv.convert(records).column("v").to_pylist()


_MISSING = object()


def test_longs_from_numbers_and_strings_without_truncation():
    assert convert(LongType(), [1, "2", "-3", "12.0", 4.0, None, "", _MISSING]) == [1, 2, -3, 12, 4, None, None, None]
    assert convert(LongType(), ["9007199254740993"]) == [9007199254740993]  # beyond float precision
    with pytest.raises(ConversionError, match="fraction"):
        convert(LongType(), ["1.5"])
    with pytest.raises(ConversionError, match="boolean"):
        convert(LongType(), [True])
    with pytest.raises(ConversionError):
        convert(IntegerType(), ["3000000000"])  # does not fit int32


def test_doubles():
    assert convert(DoubleType(), ["1.5", 2, 2.25, "", None, "1e3"]) == [1.5, 2.0, 2.25, None, None, 1000.0]
    with pytest.raises(ConversionError, match="not a number"):
        convert(DoubleType(), ["abc", 1])


def test_decimals_are_exact():
    got = convert(DecimalType(38, 18), ["1234.5678", "0.000000000000000001", 12, 0.1, "", "-5"])
    assert got == [Decimal("1234.5678"), Decimal("0.000000000000000001"), Decimal(12), Decimal("0.1"), None, Decimal(-5)]
    with pytest.raises(ConversionError, match="decimal places"):
        convert(DecimalType(10, 2), ["0.125"])
    with pytest.raises(ConversionError, match="decimal places"):
        convert(DecimalType(10, 2), [0.125, "1.00"])  # mixed types take the exact path too
    with pytest.raises(ConversionError, match="too large"):
        convert(DecimalType(5, 2), [Decimal("12345.5")])


def test_booleans_accept_true_false_only():
    assert convert(BooleanType(), [True, False, "true", "false", "TRUE", None, ""]) == [True, False, True, False, True, None, None]
    for bad in ("yes", "1", 1, "t"):
        with pytest.raises(ConversionError, match="not a boolean"):
            convert(BooleanType(), [bad])


def test_timestamps_iso_with_and_without_zone_and_epoch_millis_are_utc():
    got = convert(
        TimestampType(),
        ["2024-03-05T10:11:12.345Z", "2024-03-05T12:11:12.345+02:00", "2024-03-05T10:11:12.345", 1709633472345, "1709633472345", None, ""],
    )
    expected = datetime(2024, 3, 5, 10, 11, 12, 345000, tzinfo=timezone.utc)
    assert got[:5] == [expected] * 5
    assert got[5:] == [None, None]
    # the all-zoned-strings fast path and the per-value path agree
    assert convert(TimestampType(), ["2024-03-05T12:11:12.345+02:00"]) == [expected]
    assert convert(TimestampType(), [1709633472345]) == [expected]
    with pytest.raises(ConversionError, match="ISO-8601"):
        convert(TimestampType(), ["yesterday"])


def test_dates():
    got = convert(DateType(), ["2024-03-05", "2024-03-05T23:30:00-02:00", 1709596800000, None, ""])
    assert got == [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 5), None, None]
    with pytest.raises(ConversionError):
        convert(DateType(), ["05/03/2024"])


def test_strings_keep_empty_and_stringify_scalars():
    assert convert(StringType(), ["a", "", None, 12, True, {"b": 1}]) == ["a", "", None, "12", "true", '{"b":1}']


def test_nested_struct_array_map():
    inner = StructType([StructField("sku", StringType()), StructField("qty", LongType()), StructField("price", DecimalType(10, 2))])
    schema = StructType([
        StructField("id", LongType()),
        StructField("props", StructType([StructField("amount", DecimalType(38, 18)), StructField("closed", BooleanType()),
                                         StructField("when", TimestampType())])),
        StructField("items", ArrayType(inner)),
        StructField("tags", ArrayType(StringType())),
        StructField("meta", MapType(StringType(), StringType())),
    ])
    records = [
        {"id": 1, "props": {"amount": "1.5", "closed": "true", "when": "2024-01-01T00:00:00Z"},
         "items": [{"sku": "a", "qty": "2", "price": "3.10"}], "tags": ["x", "y"], "meta": {"k": "v"}},
        {"id": 2, "props": None, "items": None, "tags": [], "meta": None},
        {"id": 3},
    ]
    batch = ArrowConverter(schema, "orders", ["id"]).convert(records)
    rows = batch.to_pylist()
    assert rows[0]["props"] == {"amount": Decimal("1.5"), "closed": True, "when": datetime(2024, 1, 1, tzinfo=timezone.utc)}
    assert rows[0]["items"] == [{"sku": "a", "qty": 2, "price": Decimal("3.10")}]
    assert rows[0]["meta"] == [("k", "v")]
    assert rows[1]["props"] is None and rows[1]["items"] is None and rows[1]["tags"] == [] and rows[1]["meta"] is None
    assert rows[2] == {"id": 3, "props": None, "items": None, "tags": None, "meta": None}


def test_batch_schema_equals_spark_arrow_schema():
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = StructType([StructField("id", LongType()), StructField("m", MapType(StringType(), LongType())),
                         StructField("a", ArrayType(StructType([StructField("x", LongType(), False)])))])
    batch = ArrowConverter(schema).convert([{"id": 1, "m": {"a": "1"}, "a": [{"x": 1}]}])
    assert batch.schema.equals(to_arrow_schema(schema, timezone="UTC"))


def test_error_names_table_column_key_and_cuts_the_value():
    schema = StructType([StructField("id", StringType()), StructField("props", StructType([StructField("amount", LongType())]))])
    conv = ArrowConverter(schema, table_name="deals", primary_keys=["id"])
    long_value = "9" * 50 + ".5" + "x" * 200
    with pytest.raises(ConversionError) as info:
        conv.convert([{"id": "1", "props": {"amount": "1"}}, {"id": "42", "props": {"amount": long_value}}])
    message = str(info.value)
    assert "'deals'" in message and "'props.amount'" in message and "{'id': '42'}" in message
    assert len(message) < 300 and "..." in message


def test_non_nullable_null_is_an_error():
    with pytest.raises(ConversionError, match="non-nullable"):
        convert(LongType(), [None], nullable=False)


def test_batches_split_and_reject_non_dicts():
    conv = ArrowConverter(StructType([StructField("id", LongType())]), table_name="t", batch_size=3)
    batches = list(conv.batches({"id": i} for i in range(7)))
    assert [b.num_rows for b in batches] == [3, 3, 1]
    assert list(conv.batches(iter([]))) == []
    with pytest.raises(ConversionError, match="dict records"):
        list(conv.batches([("a",)]))
    assert isinstance(batches[0], pa.RecordBatch)


def _props_converter():
    props = StructType([
        StructField("amount", DecimalType(38, 18)), StructField("closed", BooleanType()),
        StructField("closedate", TimestampType()), StructField("birthday", DateType()),
        StructField("count", LongType()), StructField("name", StringType()),
    ])
    schema = StructType([StructField("id", StringType()), StructField("properties", props)])
    return ArrowConverter(schema, table_name="deals", primary_keys=["id"])


def test_string_valued_objects_take_the_fast_path_with_the_same_results():
    conv = _props_converter()
    records = [
        {"id": "1", "properties": {"amount": "1234.5678", "closed": "true", "closedate": "2024-03-05T10:11:12.345Z",
                                   "birthday": "1990-01-02", "count": "12", "name": "", "extra": "ignored"}},
        {"id": "2", "properties": {"amount": "", "closed": "FALSE", "closedate": "", "birthday": "", "count": "", "name": None}},
        {"id": "3", "properties": None},
        {"id": "4", "properties": {}},
    ]
    rows = conv.convert(records).to_pylist()
    assert rows[0]["properties"] == {
        "amount": Decimal("1234.5678"), "closed": True,
        "closedate": datetime(2024, 3, 5, 10, 11, 12, 345000, tzinfo=timezone.utc),
        "birthday": date(1990, 1, 2), "count": 12, "name": "",
    }
    assert rows[1]["properties"] == {"amount": None, "closed": False, "closedate": None, "birthday": None, "count": None, "name": None}
    assert rows[2]["properties"] is None
    assert rows[3]["properties"] == dict.fromkeys(["amount", "closed", "closedate", "birthday", "count", "name"])


def test_fast_path_falls_back_for_mixed_encodings_and_reports_bad_values():
    conv = _props_converter()
    # zone-less timestamps and epoch millis as strings are not Arrow casts: the exact path takes them
    rows = conv.convert([{"id": "1", "properties": {"closedate": "2024-03-05T10:11:12"}},
                         {"id": "2", "properties": {"closedate": "1709633472345"}}]).to_pylist()
    assert rows[0]["properties"]["closedate"] == datetime(2024, 3, 5, 10, 11, 12, tzinfo=timezone.utc)
    assert rows[1]["properties"]["closedate"].year == 2024
    with pytest.raises(ConversionError) as info:
        conv.convert([{"id": "1", "properties": {"closed": "true"}}, {"id": "9", "properties": {"closed": "yes"}}])
    assert "'properties.closed'" in str(info.value) and "{'id': '9'}" in str(info.value)
    with pytest.raises(ConversionError, match="fraction"):
        conv.convert([{"id": "5", "properties": {"count": "2.5"}}])
    with pytest.raises(ConversionError, match="not an object"):
        conv.convert([{"id": "6", "properties": "oops"}])
