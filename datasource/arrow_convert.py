"""Convert raw JSON-like records into ``pyarrow.RecordBatch``es for a Spark schema.

A converter is compiled once per schema (:class:`ArrowConverter`) and then turns lists of
records into Arrow batches column by column: it gathers each leaf column into a Python list
and lets Arrow's C++ casts do the work (``"1234.56"`` → decimal, ISO strings → timestamps),
falling back to an exact per-value path only for columns whose values need it (zone-less
timestamps, epoch milliseconds, ``"12.0"`` for a long…). The per-value path is also the one
that pinpoints a bad value for the error message.

Rules (the same in both paths):

* numbers may arrive as strings; they convert to long / double / decimal without
  truncation — ``"1.5"`` is not a long, ``"0.125"`` does not fit ``decimal(10,2)``;
* booleans accept ``true``/``false`` and the strings ``"true"``/``"false"`` (any case),
  nothing else;
* timestamps accept ISO-8601 with or without zone (no zone means UTC) and epoch
  milliseconds (number or digit string); they are stored as UTC;
* dates accept ``YYYY-MM-DD``, an ISO datetime (its UTC date) or epoch milliseconds;
* a missing key, ``None``, or ``""`` for a non-string column is null;
* structs, arrays and maps nest to any depth; an absent struct is null, not ``{}``;
* a value that does not fit its column raises :class:`ConversionError`, naming the table,
  the column path, the record's primary key and the value (cut short).
"""

from __future__ import annotations

import base64
import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
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
    StructType,
    TimestampNTZType,
    TimestampType,
)

__all__ = ["ArrowConverter", "ConversionError"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_DATE = date(1970, 1, 1)
_INT_RE = re.compile(r"^[+-]?\d+$")
_INTEGRAL_FLOAT_RE = re.compile(r"^[+-]?\d+\.0*$")
_DECIMAL_RE = re.compile(r"^[+-]?\d*\.\d+$")
_VALUE_PREVIEW = 80


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
        if value.is_integer():
            return int(value)
        raise ConversionError("has a fraction; an integer column would truncate it", value)
    if isinstance(value, Decimal):
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
        raise ConversionError("is not an integer", value)
    raise ConversionError(f"is a {type(value).__name__}, not an integer", value)


def _bounded_int(bits: int, type_name: str) -> Callable[[Any], int | None]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def convert(value: Any) -> int | None:
        number = _to_int(value)
        if number is not None and not low <= number <= high:
            raise ConversionError(f"does not fit {type_name} ({low}..{high})", value)
        return number

    return convert


def _to_float(value: Any) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ConversionError("is a boolean, not a number", value)
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ConversionError("is not a number", value) from None
    raise ConversionError(f"is a {type(value).__name__}, not a number", value)


def _decimal_converter(precision: int, scale: int) -> Callable[[Any], Decimal | None]:
    quantum = Decimal(1).scaleb(-scale)
    max_integral_digits = precision - scale

    def convert(value: Any) -> Decimal | None:
        if _blank(value):
            return None
        if isinstance(value, bool):
            raise ConversionError("is a boolean, not a decimal", value)
        try:
            if isinstance(value, float):
                number = Decimal(repr(value))
            elif isinstance(value, (int, Decimal)):
                number = Decimal(value)
            elif isinstance(value, str):
                number = Decimal(value.strip())
            else:
                raise ConversionError(f"is a {type(value).__name__}, not a decimal", value)
        except InvalidOperation:
            raise ConversionError("is not a decimal number", value) from None
        if not number.is_finite():
            raise ConversionError("is not a finite decimal", value)
        scaled = number.quantize(quantum)
        if scaled != number:
            raise ConversionError(f"has more than {scale} decimal places (decimal({precision},{scale}))", value)
        if len(scaled.as_tuple().digits) - scale > max_integral_digits and scaled != 0:
            raise ConversionError(f"is too large for decimal({precision},{scale})", value)
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
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if match:
        text = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    return datetime.fromisoformat(text)


def _epoch_millis(value: Any) -> int | None:
    """Epoch milliseconds when ``value`` is a number or a digit string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    return None


def _to_timestamp_micros(value: Any, keep_zone: bool = True) -> int | None:
    """Microseconds since the epoch (UTC) for a timestamp column."""
    if _blank(value):
        return None
    millis = _epoch_millis(value)
    if millis is not None:
        return millis * 1000
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = _parse_iso(value)
        except ValueError:
            raise ConversionError("is not an ISO-8601 timestamp or epoch milliseconds", value) from None
    else:
        raise ConversionError(f"is a {type(value).__name__}, not a timestamp", value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    elif not keep_zone:
        moment = moment.astimezone(timezone.utc)
    delta = moment - _EPOCH if moment.tzinfo else moment.replace(tzinfo=timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _to_ntz_micros(value: Any) -> int | None:
    """Wall-clock microseconds for a TIMESTAMP_NTZ column (a zone, if given, is dropped
    after converting to UTC)."""
    return _to_timestamp_micros(value, keep_zone=False)


def _to_date(value: Any) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(timezone.utc)).date()
    if isinstance(value, date):
        return value
    millis = _epoch_millis(value)
    if millis is not None:
        return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).date()
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            moment = _parse_iso(text)
        except ValueError:
            raise ConversionError("is not a date (YYYY-MM-DD), ISO datetime or epoch milliseconds", value) from None
        return (moment if moment.tzinfo is None else moment.astimezone(timezone.utc)).date()
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


def _native_first(arrow_type: pa.DataType, exact: ColumnFn, accepts: Callable[[list], bool]) -> ColumnFn:
    """Values that are already native numbers of the column's kind go to Arrow directly;
    anything else takes the exact per-value path. (``accepts`` must exclude values Arrow
    would coerce lossily, e.g. floats for an integer column.)"""

    def convert(values: list) -> pa.Array:
        cleaned = _nulls_for_blank(values)
        if accepts(cleaned):
            try:
                return pa.array(cleaned, type=arrow_type)
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
    if not pc.all(valid).as_py():
        raise pa.ArrowInvalid("not true/false")
    return pc.equal(lowered, "true")


def _dates_from_strings(arr: pa.Array) -> pa.Array:
    return pc.cast(pc.strptime(arr, format="%Y-%m-%d", unit="s"), pa.date32())


def _compile(data_type: DataType, arrow_type: pa.DataType, path: str, nullable: bool) -> ColumnFn:
    column = _compile_column(data_type, arrow_type, path, nullable)
    if not nullable or getattr(column, "from_strings", None) is not None:
        return column
    if isinstance(data_type, StringType):
        column.from_strings = lambda arr: arr
    elif isinstance(data_type, (LongType, IntegerType, ShortType, ByteType, DoubleType, FloatType, DecimalType, TimestampType)):
        _from_strings(column, lambda arr: pc.cast(arr, arrow_type))
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
        exact = _per_value(_to_float, arrow_type, path, nullable)
        if not nullable:
            return exact

        return _native_first(arrow_type, exact, _all_plain_number)

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
                return pc.multiply(pa.array(cleaned, type=pa.int64()), 1000).cast(arrow_type)
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
        _compile(f.dataType, fields[i].type, f"{path}.{f.name}" if path else f.name, f.nullable)
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
            _compile(field.dataType, self.arrow_schema.field(i).type, field.name, field.nullable)
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
