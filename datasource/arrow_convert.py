"""Convert raw JSON-like records into ``pyarrow.RecordBatch``es for a Spark schema.

A converter is compiled once per schema (:class:`ArrowConverter`) and then turns lists of
records into Arrow batches column by column: it gathers each leaf column into a Python list
and lets Arrow's C++ casts do the work (``"1234.56"`` → decimal, ISO strings → timestamps),
falling back to an exact per-value path only for columns whose values need it (zone-less
timestamps, epoch milliseconds, ``"12.0"`` for a long…). The per-value path is also the one
that pinpoints a bad value for the error message.

The per-value path defines the rules. A vectorized cast is kept only when cheap checks (a
regex or a character / length check on the strings, a finiteness or range check on the
result) show that it accepts only what the per-value path accepts, with the same result;
otherwise the whole column is converted value by value. So a value converts the same way —
or fails the same way, with the same message — whatever else is in its batch.

Rules (the same in both paths):

* numbers may arrive as strings; they convert to long / double / decimal without
  truncation — ``"1.5"`` is not a long, ``"0.125"`` does not fit ``decimal(10,2)``;
* number strings use plain ASCII decimal notation, surrounding whitespace ignored:
  integers ``[+-]digits`` (or an integral ``"12.0"``); doubles and decimals also
  ``"1.5"``, ``".5"``, ``"1.5e3"``. Underscores (``"1_000"``), hex (``"0x1F"``), other
  scripts' digits, ``"NaN"`` and ``"Infinity"`` are rejected;
* doubles (and floats) must be finite: NaN and ±Infinity are rejected whether they come as
  strings or as Python floats (``json``'s non-standard ``NaN``/``Infinity`` tokens), and so
  is a value that would overflow to infinity (``"1e400"``). Tiny values round to the
  nearest double, as any double does (``"1e-400"`` is 0.0);
* decimals are exact at any precision up to the column's: a value with more decimal places
  than the scale, or more integral digits than ``precision - scale``, is an error;
* booleans accept ``true``/``false`` and the strings ``"true"``/``"false"`` (any case),
  nothing else;
* timestamps accept ISO-8601 with or without zone (no zone means UTC; the date must be a
  real calendar day) and epoch milliseconds (number or digit string); they are stored as UTC;
* dates accept ``YYYY-MM-DD`` (a real calendar day: ``"2024-02-30"`` is an error), an ISO
  datetime (its UTC date) or epoch milliseconds;
* epoch milliseconds must be at least 100_000_000_000 in absolute value (1973-03-03T09:46:40Z
  onwards, or before 1966-10-31T14:13:20Z): a smaller integer is rejected as ambiguous, since
  it is more likely epoch *seconds* (``1704067200``) or a ``yyyymmdd`` date (``20240105``)
  than a moment around 1970;
* a timestamp field whose metadata holds ``{EPOCH_UNIT: "seconds"}`` (the toolkit's
  ``EPOCH_SECONDS`` in ``struct(...)``) reads numbers and digit strings as epoch *seconds*
  (Stripe's ``created: 1704067200``), ISO-8601 text as usual;
* dates and timestamps must lie in 0001-01-01 .. 9999-12-31 (UTC), the range Spark and
  Python share;
* a missing key, ``None``, or ``""`` for a non-string column is null;
* structs, arrays and maps nest to any depth; an absent struct is null, not ``{}``;
* a value that does not fit its column raises :class:`ConversionError`, naming the table,
  the column path, the record's primary key and the value (cut short).
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from sources.interface.field_metadata import EPOCH_UNIT

__all__ = ["ArrowConverter", "ConversionError"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_DATE = date(1970, 1, 1)
# ASCII digits only: Python's \d, int(), float() and Decimal() also take other scripts' digits.
_INT_PATTERN = r"^[+-]?[0-9]+$"
_INT_RE = re.compile(_INT_PATTERN)
_INTEGRAL_FLOAT_RE = re.compile(r"^[+-]?[0-9]+\.0*$")
_DECIMAL_RE = re.compile(r"^[+-]?[0-9]*\.[0-9]+$")
_NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_FRACTION_RE = re.compile(r"^(.*T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]+)(.*)$")
#: A zone written without its colon (Jira's ``+0000``), which Python 3.10 does not parse.
_COMPACT_ZONE_RE = re.compile(r"(T[0-9:.]+[+-][0-9]{2})([0-9]{2})$")
_VALUE_PREVIEW = 80

# Epoch milliseconds below this (in absolute value) are ambiguous: epoch seconds, yyyymmdd...
_MIN_EPOCH_MILLIS = 100_000_000_000
# The range Spark and Python share: 0001-01-01T00:00:00 .. 9999-12-31T23:59:59.999999 UTC.
_MIN_MICROS = -62_135_596_800_000_000
_MAX_MICROS = 253_402_300_799_999_999
_MIN_MILLIS = _MIN_MICROS // 1000
_MAX_MILLIS = _MAX_MICROS // 1000
_MIN_DAYS = (date.min - _EPOCH_DATE).days
_MAX_DAYS = (date.max - _EPOCH_DATE).days
_OUT_OF_RANGE = "is outside the supported range 0001-01-01 .. 9999-12-31 (UTC)"
_AMBIGUOUS_EPOCH = (
    "is ambiguous: expected epoch milliseconds (absolute value >= 100000000000, i.e. from "
    "1973-03-03); it looks like epoch seconds or a yyyymmdd date"
)


class ConversionError(ValueError):
    """A value that does not fit its column. Carries where it was found."""

    def __init__(self, reason: str, value: Any, path: str = "", row: int | None = None):
        self.reason = reason
        self.value = value
        self.path = path
        self.row = row
        self.table: str | None = None
        self.primary_key: dict | None = None
        super().__init__(self._message())

    def _message(self) -> str:
        shown = repr(self.value)
        if len(shown) > _VALUE_PREVIEW:
            shown = shown[: _VALUE_PREVIEW - 3] + "..."
        where = f"table {self.table!r}, " if self.table else ""
        key = f", primary key {self.primary_key}" if self.primary_key else ""
        return f"Cannot convert {where}column {self.path!r}{key}: value {shown} {self.reason}"

    def locate(self, table: str | None, primary_key: dict | None) -> "ConversionError":
        self.table = table
        self.primary_key = primary_key
        self.args = (self._message(),)
        return self


# --------------------------------------------------------------------------------------
# Per-value converters: exact, used when the vectorized cast cannot take a column whole.
# Each returns the Arrow-ready Python value or raises ConversionError (without location).
# --------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _to_int(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ConversionError("is a boolean, not an integer", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConversionError("is not a finite number", value)
        if value.is_integer():
            return int(value)
        raise ConversionError("has a fraction; an integer column would truncate it", value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ConversionError("is not a finite number", value)
        if value == value.to_integral_value():
            return int(value)
        raise ConversionError("has a fraction; an integer column would truncate it", value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.match(text):
            return int(text)
        if _INTEGRAL_FLOAT_RE.match(text):
            return int(text.split(".")[0])
        if _DECIMAL_RE.match(text):
            raise ConversionError("has a fraction; an integer column would truncate it", value)
        raise ConversionError("is not an integer (plain decimal digits)", value)
    raise ConversionError(f"is a {type(value).__name__}, not an integer", value)


def _bounded_int(bits: int, type_name: str) -> Callable[[Any], int | None]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def convert(value: Any) -> int | None:
        number = _to_int(value)
        if number is not None and not low <= number <= high:
            raise ConversionError(f"does not fit {type_name} ({low}..{high})", value)
        return number

    return convert


def _float_converter(single: bool) -> Callable[[Any], float | None]:
    """Finite doubles (``single``: finite 32-bit floats) from numbers or number strings."""
    kind = "float" if single else "double"

    def convert(value: Any) -> float | None:
        if _blank(value):
            return None
        if isinstance(value, bool):
            raise ConversionError("is a boolean, not a number", value)
        if isinstance(value, float) and not math.isfinite(value) or isinstance(value, Decimal) and not value.is_finite():
            raise ConversionError("is not a finite number (NaN and Infinity are not accepted)", value)
        if isinstance(value, (int, float, Decimal)):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
        elif isinstance(value, str):
            text = value.strip()
            if not _NUMBER_RE.match(text):
                raise ConversionError("is not a number (plain decimal or scientific notation)", value)
            number = float(text)
        else:
            raise ConversionError(f"is a {type(value).__name__}, not a number", value)
        if not math.isfinite(number):
            raise ConversionError(f"is too large for a {kind} (it would become infinity)", value)
        if single:
            try:
                struct.pack("<f", number)
            except OverflowError:
                raise ConversionError("is too large for a float (it would become infinity)", value) from None
        return number

    return convert


def _decimal_converter(precision: int, scale: int) -> Callable[[Any], Decimal | None]:
    quantum = Decimal(1).scaleb(-scale)
    max_integral_digits = precision - scale
    # A local context wide enough for any value that fits (the default one has 28 digits):
    # quantize() must never round or fail on a valid decimal(38, s).
    context = Context(prec=precision + 2)
    kind = f"decimal({precision},{scale})"

    def convert(value: Any) -> Decimal | None:
        if _blank(value):
            return None
        if isinstance(value, bool):
            raise ConversionError("is a boolean, not a decimal", value)
        if isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, (int, Decimal)):
            number = Decimal(value)
        elif isinstance(value, str):
            text = value.strip()
            if not _NUMBER_RE.match(text):
                raise ConversionError("is not a decimal number (plain decimal or scientific notation)", value)
            number = Decimal(text)
        else:
            raise ConversionError(f"is a {type(value).__name__}, not a decimal", value)
        if not number.is_finite():
            raise ConversionError("is not a finite decimal", value)
        if number and number.adjusted() >= max_integral_digits:
            raise ConversionError(f"is too large for {kind}", value)
        try:
            scaled = number.quantize(quantum, context=context)
        except InvalidOperation:  # not expected after the checks above; never a bare error
            raise ConversionError(f"does not fit {kind}", value) from None
        if scaled != number:
            raise ConversionError(f"has more than {scale} decimal places ({kind})", value)
        return scaled

    return convert


_BOOLEANS = {"true": True, "false": False}


def _to_bool(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        found = _BOOLEANS.get(value.strip().lower())
        if found is not None:
            return found
    raise ConversionError("is not a boolean (true/false)", value)


def _parse_iso(text: str) -> datetime:
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 rejects fractions that are not 3 or 6 digits: pad or cut to 6.
    match = _ISO_FRACTION_RE.match(text)
    if match:
        text = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    return datetime.fromisoformat(_COMPACT_ZONE_RE.sub(r"\1:\2", text))


def _parse_iso_value(value: str, reason: str) -> datetime:
    try:
        return _parse_iso(value)
    except ValueError as exc:
        detail = str(exc)
        # Name calendar and range errors ("day is out of range for month", "year 0 is out
        # of range"); a malformed string needs no more than the reason.
        if "isoformat" not in detail:
            reason = f"{reason} ({detail})"
        raise ConversionError(reason, value) from None


def _epoch_millis(value: Any) -> int | None:
    """Epoch milliseconds when ``value`` is a whole number or a digit string, else None.
    Raises when it is one but ambiguous (|value| < 1e11) or out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        millis = value
    elif isinstance(value, float) and value.is_integer():
        millis = int(value)
    elif isinstance(value, str) and _INT_RE.match(value.strip()):
        millis = int(value.strip())
    else:
        return None
    if abs(millis) < _MIN_EPOCH_MILLIS:
        raise ConversionError(_AMBIGUOUS_EPOCH, value)
    if not _MIN_MILLIS <= millis <= _MAX_MILLIS:
        raise ConversionError(_OUT_OF_RANGE, value)
    return millis


def _datetime_micros(moment: datetime, value: Any) -> int:
    """Microseconds since the epoch (UTC; no zone means UTC), within the supported range."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH  # a timedelta: no overflow even when the UTC moment is year 0 or 10000
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not _MIN_MICROS <= micros <= _MAX_MICROS:
        raise ConversionError(_OUT_OF_RANGE, value)
    return micros


def _to_timestamp_micros(value: Any) -> int | None:
    """Microseconds since the epoch (UTC) for a timestamp column."""
    if _blank(value):
        return None
    millis = _epoch_millis(value)
    if millis is not None:
        return millis * 1000
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = _parse_iso_value(value, "is not an ISO-8601 timestamp or epoch milliseconds")
    else:
        raise ConversionError(f"is a {type(value).__name__}, not a timestamp", value)
    return _datetime_micros(moment, value)


def _to_ntz_micros(value: Any) -> int | None:
    """Wall-clock microseconds for a TIMESTAMP_NTZ column (a zone, if given, is dropped
    after converting to UTC — the same number as for a TIMESTAMP column)."""
    return _to_timestamp_micros(value)


def _to_date(value: Any) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return _EPOCH_DATE + timedelta(days=_datetime_micros(value, value) // 86_400_000_000)
    if isinstance(value, date):
        return value
    millis = _epoch_millis(value)
    if millis is not None:
        return _EPOCH_DATE + timedelta(days=millis // 86_400_000)
    if isinstance(value, str):
        text = value.strip()
        if _DATE_RE.match(text):
            year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
            if year == 0:
                raise ConversionError(_OUT_OF_RANGE, value)
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise ConversionError(f"is not a valid calendar date ({exc})", value) from None
        moment = _parse_iso_value(value, "is not a date (YYYY-MM-DD), ISO datetime or epoch milliseconds")
        return _EPOCH_DATE + timedelta(days=_datetime_micros(moment, value) // 86_400_000_000)
    raise ConversionError(f"is a {type(value).__name__}, not a date", value)


def _to_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _to_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise ConversionError("is not base64", value) from None
    raise ConversionError(f"is a {type(value).__name__}, not binary", value)


# --------------------------------------------------------------------------------------
# Column compilers: DataType -> function(list of raw values) -> pa.Array
# --------------------------------------------------------------------------------------

ColumnFn = Callable[[list], pa.Array]


def _per_value(fn: Callable[[Any], Any], arrow_type: pa.DataType, path: str, nullable: bool) -> ColumnFn:
    def convert(values: list) -> pa.Array:
        out = []
        append = out.append
        for row, value in enumerate(values):
            if value is _ABSENT_PARENT:
                append(None)
                continue
            try:
                converted = fn(value)
            except ConversionError as exc:
                exc.path, exc.row = path, row
                raise exc.locate(None, None)
            if converted is None and not nullable:
                raise ConversionError("is null in a non-nullable column", value, path, row).locate(None, None)
            append(converted)
        return pa.array(out, type=arrow_type)

    return convert


class _AbsentParent:
    """Marks a child value whose parent struct is null (not a missing child key)."""

    def __repr__(self):
        return "<absent parent>"


_ABSENT_PARENT = _AbsentParent()


def _nulls_for_blank(values: list) -> list:
    return [None if (v is None or v == "" or v is _ABSENT_PARENT) else v for v in values]


def _native_first(
    arrow_type: pa.DataType,
    exact: ColumnFn,
    accepts: Callable[[list], bool],
    check: Callable[[pa.Array], Any] | None = None,
) -> ColumnFn:
    """Values that are already native numbers of the column's kind go to Arrow directly;
    anything else takes the exact per-value path. (``accepts`` must exclude values Arrow
    would coerce lossily, e.g. floats for an integer column; ``check`` may reject the
    Arrow result, e.g. a NaN in a double column, sending the column to the exact path.)"""

    def convert(values: list) -> pa.Array:
        cleaned = _nulls_for_blank(values)
        if accepts(cleaned):
            try:
                arr = pa.array(cleaned, type=arrow_type)
                if check is not None:
                    check(arr)
                return arr
            except _ARROW_ERRORS:
                pass
        return exact(cleaned)

    return convert


def _all_str(values: list) -> bool:
    return all(v is None or type(v) is str for v in values)


def _all_plain_int(values: list) -> bool:
    return all(v is None or type(v) is int for v in values)


def _all_plain_number(values: list) -> bool:
    return all(v is None or type(v) in (int, float) for v in values)


_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)
_TRUE_FALSE = pa.array(["true", "false"])


def _all_true(mask: pa.Array) -> bool:
    """Every non-null entry is true (an empty or all-null mask counts as true)."""
    return pc.all(mask, min_count=0).as_py() is not False


def _require(ok: bool, what: str) -> None:
    """Send a vectorized conversion to the exact per-value path (which names the value)."""
    if not ok:
        raise pa.ArrowInvalid(what)


def _require_finite(arr: pa.Array) -> None:
    _require(_all_true(pc.is_finite(arr)), "NaN, infinity or overflow")


def _require_between(arr: pa.Array, low: int, high: int) -> None:
    """``arr`` (integers, or timestamps/dates as their integer storage) within [low, high]."""
    bounds = pc.min_max(arr)
    smallest, largest = bounds["min"].as_py(), bounds["max"].as_py()
    _require(smallest is None or (low <= smallest and largest <= high), "out of range")


def _blank_to_null(arr: pa.Array) -> pa.Array:
    if arr.null_count == len(arr):
        return arr
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _from_strings(column: ColumnFn, vectorized: Callable[[pa.Array], pa.Array]) -> ColumnFn:
    """Give ``column`` a second entry point, ``column.from_strings(string_array)``: one
    vectorized conversion of an Arrow string array, falling back to the exact per-value
    path (which also names a bad value) when the cast does not take the column whole."""

    def from_strings(arr: pa.Array) -> pa.Array:
        try:
            return vectorized(_blank_to_null(arr))
        except _ARROW_ERRORS:
            return column(arr.to_pylist())

    column.from_strings = from_strings
    return column


def _bools_from_strings(arr: pa.Array) -> pa.Array:
    lowered = pc.utf8_lower(arr)
    valid = pc.or_kleene(pc.is_null(lowered), pc.is_in(lowered, value_set=_TRUE_FALSE))
    _require(_all_true(valid), "not true/false")
    return pc.equal(lowered, "true")


# Vectorized conversions of string arrays. Each accepts a subset of what the per-value path
# accepts, with the same result, and raises (→ per-value path) on anything else:


def _ints_from_strings(arrow_type: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    def convert(arr: pa.Array) -> pa.Array:
        # Arrow's integer parser also takes hex ("0x1F"): only plain digits go to it.
        _require(_all_true(pc.match_substring_regex(arr, _INT_PATTERN)), "not plain digits")
        return pc.cast(arr, arrow_type)  # fails on overflow

    return convert


def _floats_from_strings(arrow_type: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    def convert(arr: pa.Array) -> pa.Array:
        # Arrow's parser takes the same notation as _NUMBER_RE (it rejects "1_000", "0x1p3",
        # spaces) plus "nan"/"inf"/"infinity", which the finiteness check sends back, as it
        # does a value that overflowed to infinity ("1e400").
        result = pc.cast(arr, arrow_type)
        _require_finite(result)
        return result

    return convert


def _decimals_from_strings(arrow_type: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    # Arrow's string → decimal cast (pyarrow 26) is wrong, silently, for values that do not
    # fit: it wraps around when rescaling overflows 128 bits ("3.4e38", or "61.3" for
    # decimal(38,38), give arbitrary numbers) and drops digits past the 38th decimal place
    # ("1e-41" gives 0 for decimal(10,2)). Its notation is _NUMBER_RE's. So it only gets
    # strings that (1) have no exponent, (2) have at most 38 decimal places and (3) are below
    # 10**(precision - scale) in magnitude — then rescaling stays below 10**38 < 2**127 and
    # Arrow's own checks (too many places, too many digits) are exact. Anything else takes
    # the exact per-value path. (A regex with the same effect costs 1.5x the cast itself.)
    max_integral_digits = arrow_type.precision - arrow_type.scale
    bound = 10.0 ** max_integral_digits

    def convert(arr: pa.Array) -> pa.Array:
        data = arr.buffers()[2]
        if data is not None and data.size:
            # (1) every byte of the string data is one of + , - . / 0-9 (no "e", no spaces)
            chars = pc.min_max(pa.Array.from_buffers(pa.uint8(), data.size, [None, data]))
            _require(chars["min"].as_py() >= 0x2B and chars["max"].as_py() <= 0x39, "not plain notation")
        longest = pc.max(pc.binary_length(arr)).as_py() or 0
        # (2) ≤ 39 characters: at most 38 after the point
        _require(longest <= 39, "too long")
        # (3) a string of n characters is below 10**n; longer ones are checked as doubles
        # (with the factor 1.7 between 10**38 and 2**127 to spare for rounding)
        if longest > max_integral_digits:
            magnitude = pc.abs(pc.cast(arr, pa.float64()))
            _require(_all_true(pc.less(magnitude, bound)), "too large")
        return pc.cast(arr, arrow_type)

    return convert


def _timestamps_from_strings(arrow_type: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    def convert(arr: pa.Array) -> pa.Array:
        # Arrow's ISO-8601 parser checks the calendar ("2024-02-30T00:00:00Z" fails) and
        # requires a zone for a zoned type, but takes year 0000: range-check the result.
        result = pc.cast(arr, arrow_type)
        _require_between(result.cast(pa.int64()), _MIN_MICROS, _MAX_MICROS)
        return result

    return convert


def _dates_from_strings(arr: pa.Array) -> pa.Array:
    # The string → date32 cast takes exactly YYYY-MM-DD and checks the calendar
    # ("2024-02-30" fails; pc.strptime would roll it over to 03-01); year 0000 is range-checked.
    result = pc.cast(arr, pa.date32())
    _require_between(result.cast(pa.int32()), _MIN_DAYS, _MAX_DAYS)
    return result


def _to_epoch_seconds_micros(value: Any) -> int | None:
    """Microseconds for a timestamp column whose numbers are epoch seconds."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ConversionError("is a bool, not a timestamp", value)
    if isinstance(value, (int, float)) or (isinstance(value, str) and _INT_RE.match(value.strip())):
        seconds = int(value.strip()) if isinstance(value, str) else value
        if not _MIN_MILLIS <= seconds * 1000 <= _MAX_MILLIS:
            raise ConversionError(_OUT_OF_RANGE, value)
        return int(round(seconds * 1_000_000))
    return _to_timestamp_micros(value)


def _field_fn(field: StructField, arrow_type: pa.DataType, path: str) -> ColumnFn:
    if isinstance(field.dataType, TimestampType) and (field.metadata or {}).get(EPOCH_UNIT) == "seconds":
        exact = _per_value(_to_epoch_seconds_micros, pa.int64(), path, field.nullable)
        return lambda values: exact(_nulls_for_blank(values)).cast(arrow_type)
    return _compile(field.dataType, arrow_type, path, field.nullable)


def _compile(data_type: DataType, arrow_type: pa.DataType, path: str, nullable: bool) -> ColumnFn:
    column = _compile_column(data_type, arrow_type, path, nullable)
    if not nullable or getattr(column, "from_strings", None) is not None:
        return column
    if isinstance(data_type, StringType):
        column.from_strings = lambda arr: arr
    elif isinstance(data_type, (LongType, IntegerType, ShortType, ByteType)):
        _from_strings(column, _ints_from_strings(arrow_type))
    elif isinstance(data_type, (DoubleType, FloatType)):
        _from_strings(column, _floats_from_strings(arrow_type))
    elif isinstance(data_type, DecimalType):
        _from_strings(column, _decimals_from_strings(arrow_type))
    elif isinstance(data_type, TimestampType):
        _from_strings(column, _timestamps_from_strings(arrow_type))
    elif isinstance(data_type, BooleanType):
        _from_strings(column, _bools_from_strings)
    elif isinstance(data_type, DateType):
        _from_strings(column, _dates_from_strings)
    else:
        return column
    return _strings_first(column)


def _strings_first(column: ColumnFn) -> ColumnFn:
    """Columns of strings (the common case for stringly-typed APIs) go straight to the
    vectorized path: Arrow checks they are all strings in C, no Python pass over them."""
    from_strings = column.from_strings

    def convert(values: list) -> pa.Array:
        try:
            arr = pa.array(values, type=pa.string())
        except _ARROW_ERRORS:
            return column(values)
        return from_strings(arr)

    convert.from_strings = from_strings
    return convert


def _compile_column(data_type: DataType, arrow_type: pa.DataType, path: str, nullable: bool) -> ColumnFn:
    if isinstance(data_type, StringType):
        def strings(values: list) -> pa.Array:
            if _all_str(values):
                return pa.array(values, type=pa.string())
            return _per_value(_to_str, arrow_type, path, nullable)(values)
        return strings if nullable else _per_value(_to_str, arrow_type, path, nullable)

    if isinstance(data_type, (LongType, IntegerType, ShortType, ByteType)):
        exact = _per_value(_bounded_int(arrow_type.bit_width, data_type.simpleString()), arrow_type, path, nullable)
        if not nullable:
            return exact

        return _native_first(arrow_type, exact, _all_plain_int)

    if isinstance(data_type, (DoubleType, FloatType)):
        exact = _per_value(_float_converter(isinstance(data_type, FloatType)), arrow_type, path, nullable)
        if not nullable:
            return exact

        return _native_first(arrow_type, exact, _all_plain_number, _require_finite)

    if isinstance(data_type, DecimalType):
        exact = _per_value(_decimal_converter(data_type.precision, data_type.scale), arrow_type, path, nullable)
        return exact  # strings take the vectorized cast (see _strings_first)

    if isinstance(data_type, BooleanType):
        exact = _per_value(_to_bool, arrow_type, path, nullable)

        def booleans(values: list) -> pa.Array:
            if all(v is None or v is True or v is False for v in values):
                return pa.array(values, type=pa.bool_())
            return exact(values)
        return booleans if nullable else exact

    if isinstance(data_type, TimestampType):
        exact = _per_value(_to_timestamp_micros, pa.int64(), path, nullable)

        # All-string columns take the vectorized cast (see _strings_first).
        def timestamps(values: list) -> pa.Array:
            cleaned = _nulls_for_blank(values)
            if nullable and _all_plain_int(cleaned):  # epoch milliseconds
                try:
                    millis = pa.array(cleaned, type=pa.int64())
                    _require_between(millis, _MIN_MILLIS, _MAX_MILLIS)  # also keeps * 1000 from wrapping
                    _require(_all_true(pc.greater_equal(pc.abs(millis), _MIN_EPOCH_MILLIS)), "ambiguous")
                    return pc.multiply(millis, 1000).cast(arrow_type)
                except _ARROW_ERRORS:
                    pass
            return exact(cleaned).cast(arrow_type)
        return timestamps

    if isinstance(data_type, TimestampNTZType):
        exact = _per_value(_to_ntz_micros, pa.int64(), path, nullable)
        return lambda values: exact(values).cast(arrow_type)

    if isinstance(data_type, DateType):
        # All-string columns take the vectorized parse (see _strings_first).
        return _per_value(_to_date, arrow_type, path, nullable)

    if isinstance(data_type, BinaryType):
        return _per_value(_to_bytes, arrow_type, path, nullable)

    if isinstance(data_type, StructType):
        return _compile_struct(data_type, arrow_type, path, nullable)

    if isinstance(data_type, ArrayType):
        return _compile_array(data_type, arrow_type, path, nullable)

    if isinstance(data_type, MapType):
        return _compile_map(data_type, arrow_type, path, nullable)

    raise TypeError(f"Column {path!r}: Spark type {data_type.simpleString()} is not supported by the converter")


def _null_mask(values: list, path: str, nullable: bool, kind: type, kind_name: str) -> list[bool]:
    mask = []
    for row, value in enumerate(values):
        if value is None or value is _ABSENT_PARENT:
            if not nullable and value is None:
                raise ConversionError("is null in a non-nullable column", value, path, row).locate(None, None)
            mask.append(True)
        elif isinstance(value, kind):
            mask.append(False)
        else:
            raise ConversionError(f"is a {type(value).__name__}, not {kind_name}", value, path, row).locate(None, None)
    return mask


def _compile_struct(data_type: StructType, arrow_type: pa.StructType, path: str, nullable: bool) -> ColumnFn:
    names = data_type.fieldNames()
    fields = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
    children = [
        _field_fn(f, fields[i].type, f"{path}.{f.name}" if path else f.name)
        for i, f in enumerate(data_type.fields)
    ]

    def convert(values: list) -> pa.Array:
        mask = _null_mask(values, path, nullable, dict, "an object")
        absent = _ABSENT_PARENT
        child_arrays = []
        for name, child in zip(names, children):
            column = [absent if is_null else value.get(name) for value, is_null in zip(values, mask)]
            child_arrays.append(child(column))
        return pa.StructArray.from_arrays(
            child_arrays, fields=fields, mask=pa.array(mask, type=pa.bool_()) if any(mask) else None
        )

    if not nullable or not all(getattr(child, "from_strings", None) for child in children):
        return convert

    # Fast path for objects whose values are all strings (HubSpot's ``properties``): Arrow
    # parses the dicts in C++ into a struct of strings, then each child converts vectorized.
    raw_type = pa.struct([pa.field(name, pa.string()) for name in names])

    def convert_strings(values: list) -> pa.Array:
        try:
            raw = pa.array(values, type=raw_type)
        except _ARROW_ERRORS:
            return convert(values)
        child_arrays = [child.from_strings(raw.field(i)) for i, child in enumerate(children)]
        return pa.StructArray.from_arrays(child_arrays, fields=fields, mask=raw.is_null() if raw.null_count else None)

    return convert_strings


def _offsets(sizes: Iterable[int]) -> pa.Array:
    offsets = [0]
    total = 0
    for size in sizes:
        total += size
        offsets.append(total)
    return pa.array(offsets, type=pa.int32())


def _compile_array(data_type: ArrayType, arrow_type: pa.ListType, path: str, nullable: bool) -> ColumnFn:
    element = _compile(data_type.elementType, arrow_type.value_type, f"{path}[]", data_type.containsNull)

    def convert(values: list) -> pa.Array:
        mask = _null_mask(values, path, nullable, (list, tuple), "a list")
        flat: list = []
        sizes = []
        for value, is_null in zip(values, mask):
            if is_null:
                sizes.append(0)
            else:
                flat.extend(value)
                sizes.append(len(value))
        return pa.ListArray.from_arrays(
            _offsets(sizes), element(flat), type=arrow_type,
            mask=pa.array(mask, type=pa.bool_()) if any(mask) else None,
        )

    return convert


def _compile_map(data_type: MapType, arrow_type: pa.MapType, path: str, nullable: bool) -> ColumnFn:
    keys_fn = _compile(data_type.keyType, arrow_type.key_type, f"{path}.key", False)
    items_fn = _compile(data_type.valueType, arrow_type.item_type, f"{path}.value", data_type.valueContainsNull)

    def convert(values: list) -> pa.Array:
        mask = _null_mask(values, path, nullable, dict, "an object")
        keys: list = []
        items: list = []
        sizes = []
        for value, is_null in zip(values, mask):
            if is_null:
                sizes.append(0)
            else:
                keys.extend(value.keys())
                items.extend(value.values())
                sizes.append(len(value))
        return pa.MapArray.from_arrays(
            _offsets(sizes), keys_fn(keys), items_fn(items), type=arrow_type,
            mask=pa.array(mask, type=pa.bool_()) if any(mask) else None,
        )

    return convert


# --------------------------------------------------------------------------------------


class ArrowConverter:
    """Compiled once per schema; turns records into Arrow batches matching Spark exactly.

    >>> from pyspark.sql.types import StructType, StructField, LongType, DecimalType
    >>> conv = ArrowConverter(StructType([StructField("id", LongType()),
    ...                                   StructField("amount", DecimalType(10, 2))]),
    ...                       table_name="deals", primary_keys=["id"])
    >>> conv.convert([{"id": "1", "amount": "12.50"}]).to_pylist()
    [{'id': 1, 'amount': Decimal('12.50')}]

    Keys of a record that are not in the schema are ignored; schema fields missing from a
    record are null.
    """

    def __init__(
        self,
        schema: StructType,
        table_name: str | None = None,
        primary_keys: Sequence[str] = (),
        batch_size: int = 8192,
    ):
        self.schema = schema
        self.table_name = table_name
        self.primary_keys = list(primary_keys)
        self.batch_size = batch_size
        self.arrow_schema = to_arrow_schema(schema, timezone="UTC")
        self._names = schema.fieldNames()
        self._columns = [
            _field_fn(field, self.arrow_schema.field(i).type, field.name)
            for i, field in enumerate(schema.fields)
        ]

    def convert(self, records: Sequence[dict]) -> pa.RecordBatch:
        """One batch holding every record of ``records`` (a list of dicts)."""
        arrays = []
        for name, column in zip(self._names, self._columns):
            values = [record.get(name) for record in records]
            try:
                arrays.append(column(values))
            except ConversionError as exc:
                raise exc.locate(self.table_name, self._key_of(records, exc.row)) from None
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)

    def batches(self, records: Iterable[dict]) -> Iterator[pa.RecordBatch]:
        """Convert a stream of records in batches of ``batch_size`` (empty input, no batch)."""
        chunk: list[dict] = []
        for record in records:
            if not isinstance(record, dict):
                raise ConversionError(
                    f"is a {type(record).__name__}; connectors must yield dict records", record, "<record>"
                ).locate(self.table_name, None)
            chunk.append(record)
            if len(chunk) >= self.batch_size:
                yield self.convert(chunk)
                chunk = []
        if chunk:
            yield self.convert(chunk)

    def _key_of(self, records: Sequence[dict], row: int | None) -> dict | None:
        if row is None or not self.primary_keys or row >= len(records):
            return None
        record = records[row]
        return {k: record.get(k) for k in self.primary_keys}
