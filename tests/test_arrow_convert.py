"""The converter: exact, typed, nested, with errors that say where."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
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

# -- one strict path: the same value converts (or fails) the same way whatever its batch -------
#
# A column of strings (or of plain ints / floats) is first tried whole by an Arrow cast; a
# batch with one suspicious value must fall back to the exact per-value path, which names it.
# Each check runs the value alone, among many valid values (the vectorized attempt) and, for
# valid values, next to a value of another Python type (the per-value path from the start).

_N = 300


def assert_rejected(data_type, bad, good, match):
    """``bad`` fails alone and among ``_N`` valid ``good`` values, naming column, key and value."""
    for values, row in (([bad], 0), ([good] * _N + [bad] + [good] * 3, _N)):
        where = "alone" if row == 0 else f"among {_N} valid values"
        try:
            got = convert(data_type, values)
        except ConversionError as exc:
            message = str(exc)
        else:
            pytest.fail(f"{bad!r} ({where}) was accepted as {got[row]!r}")
        assert re.search(match, message), (where, message)
        assert "table 't'" in message and "column 'v'" in message, message
        assert f"primary key {{'id': {row}}}" in message, message
        assert f"value {repr(bad)[:40]}" in message, message


def assert_converts(data_type, value, expected, good, other=None):
    """``value`` gives ``expected`` alone, among ``_N`` valid values, and next to ``other`` (a
    value of another Python type, which sends the column to the per-value path)."""
    assert convert(data_type, [value]) == [expected], value
    assert convert(data_type, [good] * _N + [value])[-1] == expected, value
    if other is not None:
        assert convert(data_type, [value, other])[0] == expected, value


def test_dates_must_be_calendar_days_in_every_batch():
    # pc.strptime rolled these over to the next valid day in all-string batches
    for bad in ("2024-02-30", "2023-02-29", "2024-04-31", "2024-13-01", "2024-06-00"):
        assert_rejected(DateType(), bad, "2024-01-15", "not a valid calendar date")
    ms = 1704067200000
    assert_converts(DateType(), "2024-02-29", date(2024, 2, 29), "2024-01-15", other=ms)
    assert_converts(DateType(), "0001-01-01", date(1, 1, 1), "2024-01-15", other=ms)
    assert_converts(DateType(), "9999-12-31", date(9999, 12, 31), "2024-01-15", other=ms)
    assert_converts(DateType(), " 2024-02-29 ", date(2024, 2, 29), "2024-01-15", other=ms)


def test_epoch_millis_below_1e11_are_rejected_as_ambiguous():
    ambiguous = "looks like epoch seconds or a yyyymmdd date"
    assert_rejected(DateType(), 20240105, 1709596800000, ambiguous)          # was 1970-01-01
    assert_rejected(DateType(), "20240105", "2024-01-15", ambiguous)
    assert_rejected(TimestampType(), 1704067200, 1709633472345, ambiguous)   # was 1970-01-20
    assert_rejected(TimestampType(), "1704067200", "2024-03-05T10:11:12Z", ambiguous)
    assert_rejected(TimestampType(), 1704067200.0, 1709633472345.0, ambiguous)
    for bad in (0, -1, 99_999_999_999, -99_999_999_999):
        assert_rejected(TimestampType(), bad, 1709633472345, ambiguous)
    assert_rejected(TimestampNTZType(), 1704067200, 1709633472345, ambiguous)


def test_epoch_millis_from_1e11_up_convert_exactly():
    ts, utc = TimestampType(), timezone.utc
    jan1 = datetime(2024, 1, 1, tzinfo=utc)
    assert_converts(ts, 1704067200000, jan1, 1709633472345, other="2024-03-05T10:11:12Z")
    assert_converts(ts, "1704067200000", jan1, "2024-03-05T10:11:12Z")
    assert_converts(ts, 1704067200000.0, jan1, 1709633472345.0)
    assert_converts(ts, 100_000_000_000, datetime(1973, 3, 3, 9, 46, 40, tzinfo=utc), 1709633472345)
    assert_converts(ts, -100_000_000_000, datetime(1966, 10, 31, 14, 13, 20, tzinfo=utc), 1709633472345)
    assert convert(TimestampNTZType(), [1704067200000]) == [datetime(2024, 1, 1)]
    assert_converts(DateType(), 1704067200000, date(2024, 1, 1), 1709596800000)
    assert_converts(DateType(), "1704067200000", date(2024, 1, 1), "2024-01-15")
    assert_converts(DateType(), -86_400_000 * 1500 - 1, date(1965, 11, 22), 1709596800000)  # floor, before 1970
    # the boundary itself: 99_999_999_999 is rejected, 100_000_000_000 is not
    with pytest.raises(ConversionError, match="ambiguous"):
        convert(TimestampType(), [1709633472345, 99_999_999_999])


def test_dates_and_timestamps_out_of_range_raise_conversion_error():
    # were a raw OverflowError / ValueError, a wrapped-around number, or year 0 passed to Spark
    out_of_range = "outside the supported range"
    ms, iso = 1709633472345, "2024-03-05T10:11:12Z"
    for data_type, bad, good in [
        (DateType(), "0000-01-01", "2024-01-15"),
        (DateType(), 10**18, 1709596800000),
        (DateType(), "0001-01-01T00:30:00+01:00", "2024-01-15"),   # 0000-12-31 in UTC
        (TimestampType(), 10**18, ms),
        (TimestampType(), -(10**18), ms),
        (TimestampType(), 10**17, ms),                             # * 1000 wrapped around int64
        (TimestampType(), 2**63 - 1, ms),
        (TimestampType(), "9999-12-31T23:00:00-02:00", iso),       # year 10000 in UTC
        (TimestampType(), datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), datetime(2024, 1, 1)),
        (TimestampNTZType(), "0001-01-01T00:00:00+01:00", "2024-03-05T10:11:12"),
        (TimestampNTZType(), 10**18, ms),
    ]:
        assert_rejected(data_type, bad, good, out_of_range)
    for data_type, bad, good in [
        (TimestampType(), "0000-01-01T00:00:00Z", iso),            # Arrow's cast takes year 0
        (TimestampType(), "10000-01-01T00:00:00Z", iso),
        (TimestampNTZType(), "0000-01-01T00:00:00", "2024-03-05T10:11:12"),
        (DateType(), "10000-01-01", "2024-01-15"),
    ]:
        assert_rejected(data_type, bad, good, "year|not a date|ISO-8601")


def test_iso_timestamps_must_be_calendar_days_in_every_batch():
    iso = "2024-03-05T10:11:12Z"
    for bad in ("2024-02-30T00:00:00Z", "2023-02-29T12:00:00+02:00", "2024-04-31T10:11:12.345Z", "2024-02-30T00:00:00"):
        for data_type in (TimestampType(), TimestampNTZType()):
            assert_rejected(data_type, bad, iso, "day is out of range for month")
    utc, ms = timezone.utc, 1709633472345
    assert_converts(TimestampType(), "2024-02-29T23:59:59.999999Z", datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=utc), iso, ms)
    assert_converts(TimestampType(), "2024-03-01T01:00:00+02:00", datetime(2024, 2, 29, 23, tzinfo=utc), iso, ms)
    assert_converts(TimestampType(), "0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=utc), iso, ms)
    assert_converts(TimestampType(), "9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc), iso, ms)


def test_integers_accept_plain_decimal_notation_only():
    for data_type, bad, good, match in [
        (LongType(), "0x1F", "7", "not an integer"),          # Arrow's cast read hex: 31
        (LongType(), "0X1f", "7", "not an integer"),
        (IntegerType(), "0x10", "7", "not an integer"),
        (LongType(), "1_000", "7", "not an integer"),         # int() takes underscores
        (LongType(), "١٢", "7", "not an integer"),            # int() takes other scripts' digits: was 12
        (LongType(), "1e3", "7", "not an integer"),
        (LongType(), "nan", "7", "not an integer"),
        (LongType(), float("nan"), 7.0, "not a finite number"),
        (LongType(), float("inf"), 7.0, "not a finite number"),
        (LongType(), Decimal("Infinity"), Decimal(7), "not a finite number"),   # was a raw OverflowError
        (LongType(), "9223372036854775808", "7", "does not fit bigint"),
    ]:
        assert_rejected(data_type, bad, good, match)
    assert_converts(LongType(), "-42", -42, "7", other=1)
    assert_converts(LongType(), "+42", 42, "7", other=1)
    assert_converts(LongType(), " 42 ", 42, "7", other=1)
    assert_converts(LongType(), "12.0", 12, "7", other=1)
    assert_converts(LongType(), "-9223372036854775808", -9223372036854775808, "7", other=1)
    assert_converts(LongType(), 9007199254740993, 9007199254740993, 7)


def test_doubles_must_be_finite_and_in_plain_or_scientific_notation():
    for data_type, bad, good, match in [
        (DoubleType(), "1e400", "2.5", "too large for a double"),        # was inf
        (DoubleType(), "-1e400", "2.5", "too large for a double"),
        (DoubleType(), 10**400, 2, "too large for a double"),             # was a raw OverflowError
        (DoubleType(), "1_000.5", "2.5", "not a number"),                 # float() takes underscores: was 1000.5
        (DoubleType(), "0x1p3", "2.5", "not a number"),
        (DoubleType(), "١٢", "2.5", "not a number"),
        (DoubleType(), "nan", "2.5", "not a number"),                     # NaN / Infinity are not documented
        (DoubleType(), "NaN", "2.5", "not a number"),
        (DoubleType(), "inf", "2.5", "not a number"),
        (DoubleType(), "-Infinity", "2.5", "not a number"),
        (DoubleType(), float("nan"), 2.5, "not a finite number"),         # json.loads("NaN")
        (DoubleType(), float("inf"), 2.5, "not a finite number"),
        (DoubleType(), Decimal("NaN"), Decimal("2.5"), "not a finite number"),
        (FloatType(), "1e39", "2.5", "too large for a float"),            # was inf
        (FloatType(), 1e39, 2.5, "too large for a float"),
    ]:
        assert_rejected(data_type, bad, good, match)
    assert_converts(DoubleType(), "1.5e3", 1500.0, "2.5", other=1)
    assert_converts(DoubleType(), "-2.5E-3", -0.0025, "2.5", other=1)
    assert_converts(DoubleType(), ".5", 0.5, "2.5", other=1)
    assert_converts(DoubleType(), "-7", -7.0, "2.5", other=1)
    assert_converts(DoubleType(), "1.7976931348623157e308", 1.7976931348623157e308, "2.5", other=1)
    assert_converts(DoubleType(), "1e-400", 0.0, "2.5", other=1)  # rounds to the nearest double, as documented
    assert_converts(DoubleType(), -1.5e300, -1.5e300, 2.5)
    assert_converts(FloatType(), "3.4e38", 3.3999999521443642e38, "2.5", other=1)


def test_decimals_with_more_than_28_significant_digits_convert_exactly():
    dec = DecimalType(38, 18)
    # the per-value path (``other`` is not a string) raised a bare decimal.InvalidOperation
    for text in ("12345678901.123456789012345678", "-12345678901.123456789012345678",
                 "99999999999999999999.999999999999999999", "-0.000000000000000001"):
        assert_converts(dec, text, Decimal(text), "2.5", other=0)
    assert_converts(dec, Decimal("12345678901.123456789012345678"), Decimal("12345678901.123456789012345678"), Decimal(1))
    assert_converts(dec, 12345678901234567890, Decimal("12345678901234567890"), 1)
    assert_converts(dec, "1.5e3", Decimal(1500), "2.5", other=0)
    assert_converts(DecimalType(38, 0), "9" * 38, Decimal("9" * 38), "2", other=0)
    assert_converts(DecimalType(38, 38), "0." + "9" * 38, Decimal("0." + "9" * 38), "0.5", other=0)


def test_decimals_that_do_not_fit_fail_in_every_batch():
    for data_type, bad, match in [
        (DecimalType(38, 18), "123456789012345678901.5", r"too large for decimal\(38,18\)"),  # was InvalidOperation
        (DecimalType(38, 18), "3.4e38", "too large"),                 # Arrow's cast wrapped it around
        (DecimalType(38, 18), 10**30, "too large"),
        (DecimalType(38, 38), "61.3", "too large"),                   # Arrow's cast wrapped it around
        (DecimalType(10, 2), "1e-41", "decimal places"),              # Arrow's cast gave 0.00
        (DecimalType(10, 2), "0." + "0" * 40 + "1", "decimal places"),
        (DecimalType(38, 18), "1e-57", "decimal places"),             # Arrow's cast gave 0
        (DecimalType(38, 18), "12345678901.1234567890123456789", "decimal places"),
        (DecimalType(10, 2), "1_0.5", "not a decimal number"),        # Decimal() takes underscores
        (DecimalType(10, 2), "NaN", "not a decimal number"),
        (DecimalType(10, 2), "Infinity", "not a decimal number"),
        (DecimalType(10, 2), "١٢", "not a decimal number"),
        (DecimalType(10, 2), float("nan"), "not a finite decimal"),
    ]:
        assert_rejected(data_type, bad, "0.5" if isinstance(bad, str) else 0.5, match)


_TRICKY = {
    LongType(): ["1", "+1", " 7", "00012", "-0", "12.0", "1.", ".5", "1e3", "0x1F", "1_000", "١٢", "nan",
                 "9223372036854775807", "9223372036854775808"],
    DoubleType(): ["1", "+1", "1.", ".5", "-.5", "1.5e3", "1E3", "1.e5", " 7", "1e400", "1e-400", "nan", "inf",
                   "Infinity", "0x1p3", "1_000.5", "١٢", "9007199254740993", "."],
    DecimalType(38, 18): ["1", "+1", "1.", ".5", "1.5e3", "1e19", "1e20", "3.4e38", "1e-18", "1e-19", "1e-57",
                          "0." + "0" * 40 + "1", "-0", " 7", "NaN", "1_0", "9" * 20, "9" * 21,
                          "99999999999999999999.999999999999999999", "0" * 30 + "1.5", "+" + "0" * 38 + "1"],
    DecimalType(38, 38): ["0", "0.5", "61.3", "1", ".5", "-0." + "9" * 38, "5e-39"],
    DateType(): ["2024-02-29", "2024-02-30", "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "2024-1-05",
                 "20240105", "1704067200000", " 2024-01-05", "2024-01-05T23:30:00-02:00", "2024-02-30T10:00:00Z"],
    TimestampType(): ["2024-02-29T12:00:00Z", "2024-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
                      "9999-12-31T23:59:59.999999Z", "9999-12-31T23:00:00-02:00", "2024-01-01T23:59:60Z",
                      "2024-01-01T00:00:00.1234567Z", "2024-01-01 00:00:00+0530", "2024-01-01", "1704067200000",
                      "1704067200", "2024-01-01T00:00:00"],
}
_FILLER = {LongType(): "5", DoubleType(): "2.5", DecimalType(38, 18): "2.5", DecimalType(38, 38): "0.5",
           DateType(): "2024-01-01", TimestampType(): "2024-01-01T00:00:00Z"}
_OTHER_TYPE = {LongType(): 0, DoubleType(): 0, DecimalType(38, 18): 0, DecimalType(38, 38): 0,
               DateType(): 1704067200000, TimestampType(): 1704067200000}


@pytest.mark.parametrize("data_type", list(_TRICKY), ids=lambda t: t.simpleString())
def test_a_value_converts_the_same_way_whatever_else_is_in_its_batch(data_type):
    def outcome(values, row):
        try:
            return repr(convert(data_type, values)[row])
        except ConversionError as exc:
            assert exc.row == row
            return "ConversionError"

    for value in _TRICKY[data_type]:
        alone = outcome([value], 0)
        among_valid = outcome([_FILLER[data_type]] * _N + [value], _N)
        per_value = outcome([value, _OTHER_TYPE[data_type]], 0)
        assert alone == among_valid == per_value, (value, alone, among_valid, per_value)


def test_bad_values_in_string_valued_objects_are_named_like_top_level_ones():
    conv = _props_converter()
    good = {"amount": "1234.5678", "closed": "true", "closedate": "2024-03-05T10:11:12.345Z",
            "birthday": "1990-01-02", "count": "12", "name": "x"}
    for field, bad in [("birthday", "2024-02-30"), ("birthday", "20240105"), ("count", "0x1F"),
                       ("amount", "3.4e38"), ("amount", "12345678901.1234567890123456789"),
                       ("closedate", "0000-01-01T00:00:00Z"), ("closedate", "1704067200")]:
        records = [{"id": str(i), "properties": dict(good)} for i in range(_N)]
        records[123]["properties"][field] = bad
        with pytest.raises(ConversionError) as info:
            conv.convert(records)
        message = str(info.value)
        assert f"'properties.{field}'" in message and "{'id': '123'}" in message and repr(bad) in message, message


def test_valid_string_columns_take_the_vectorized_path(monkeypatch):
    """Performance guard (not a bug check): valid data never reaches the per-value converters."""
    import datasource.arrow_convert as ac

    def per_value_used(*args):
        raise AssertionError(f"per-value path used for {args!r}")

    for name in ("_to_int", "_to_bool", "_to_date", "_to_timestamp_micros"):
        monkeypatch.setattr(ac, name, per_value_used)
    monkeypatch.setattr(ac, "_float_converter", lambda single: per_value_used)
    monkeypatch.setattr(ac, "_decimal_converter", lambda precision, scale: per_value_used)
    schema = StructType([
        StructField("id", LongType()), StructField("d", DoubleType()), StructField("amount", DecimalType(38, 18)),
        StructField("small", DecimalType(10, 2)), StructField("b", BooleanType()), StructField("day", DateType()),
        StructField("at", TimestampType()), StructField("ms", TimestampType()),
    ])
    records = [{"id": str(-i), "d": "-1.5e3", "amount": "-12345678901.123456789012345678", "small": "-12345678.9",
                "b": "TRUE", "day": "2024-02-29", "at": "2024-02-29T23:59:59.5+01:00", "ms": 1704067200000}
               for i in range(50)] + [{"id": "", "d": None, "amount": "", "day": None}]
    rows = ArrowConverter(schema, "t", ["id"]).convert(records).to_pylist()
    assert rows[1] == {"id": -1, "d": -1500.0, "amount": Decimal("-12345678901.123456789012345678"),
                       "small": Decimal("-12345678.90"), "b": True, "day": date(2024, 2, 29),
                       "at": datetime(2024, 2, 29, 22, 59, 59, 500000, tzinfo=timezone.utc),
                       "ms": datetime(2024, 1, 1, tzinfo=timezone.utc)}
    assert rows[-1] == dict.fromkeys(rows[-1])


def test_epoch_seconds_fields_read_numbers_as_seconds_and_text_as_iso():
    """A timestamp declared EPOCH_SECONDS (Stripe's ``created: 1704067200``) holds that
    moment, nested too; the same number in a plain timestamp column is refused as ambiguous."""
    from sources.toolkit import EPOCH_SECONDS, LONG, struct

    schema = struct(id=LONG, created=EPOCH_SECONDS, period=struct(start=EPOCH_SECONDS))
    rows = ArrowConverter(schema, "charges").convert([
        {"id": 1, "created": 1704067200, "period": {"start": "1704067260"}},
        {"id": 2, "created": "2024-01-01T00:00:05Z", "period": None},
        {"id": 3, "created": None, "period": {"start": ""}},
    ]).to_pylist()
    moments = [(r["created"], (r["period"] or {}).get("start")) for r in rows]
    utc = timezone.utc
    assert [tuple(m and m.astimezone(utc) for m in pair) for pair in moments] == [
        (datetime(2024, 1, 1, tzinfo=utc), datetime(2024, 1, 1, 0, 1, tzinfo=utc)),
        (datetime(2024, 1, 1, 0, 0, 5, tzinfo=utc), None),
        (None, None),
    ]
    with pytest.raises(ConversionError, match="created"):
        ArrowConverter(schema, "charges").convert([{"id": 1, "created": 10**15}])
    with pytest.raises(ConversionError, match="ambiguous"):
        ArrowConverter(StructType([StructField("created", TimestampType())]), "charges").convert([{"created": 1704067200}])
