"""Spark schemas for the shapes APIs return, written as briefly as the API doc's tables.

>>> user = struct(login=STRING, id=LONG)
>>> schema = struct(id=LONG, title=STRING, user=user, labels=array_of(struct(name=STRING)), created_at=TIMESTAMP)
>>> schema.simpleString()
'struct<id:bigint,title:string,user:struct<login:string,id:bigint>,labels:array<struct<name:string>>,created_at:timestamp>'

``EPOCH_SECONDS`` is a timestamp sent as epoch seconds (``created=EPOCH_SECONDS``). Every
field is nullable (APIs omit fields); integers are ``LongType`` and nested objects stay
structs, as the interface's schema rules ask.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
    DateType,
)

from sources.interface.field_metadata import EPOCH_UNIT

STRING, LONG, BOOLEAN, DOUBLE, TIMESTAMP, DATE = StringType(), LongType(), BooleanType(), DoubleType(), TimestampType(), DateType()


def money(precision: int = 18, scale: int = 2) -> DecimalType:
    """An exact decimal (amounts arrive as strings or numbers; never through a double)."""
    return DecimalType(precision, scale)


class _EpochSeconds:
    """A timestamp the API sends as epoch *seconds* (``created: 1704067200``): in
    :func:`struct` a ``timestamp`` field whose metadata tells the runtime the unit, so the
    connector returns records raw and the column holds the moment."""

    def __repr__(self) -> str:
        return "EPOCH_SECONDS"


EPOCH_SECONDS = _EpochSeconds()


def struct(**fields: DataType | _EpochSeconds) -> StructType:
    """A struct of nullable fields, in the order given (``EPOCH_SECONDS``: a timestamp sent
    as epoch seconds)."""
    return StructType([
        StructField(name, TimestampType(), True, {EPOCH_UNIT: "seconds"}) if kind is EPOCH_SECONDS
        else StructField(name, kind, True)
        for name, kind in fields.items()
    ])


def array_of(element: DataType) -> ArrayType:
    return ArrayType(element, True)
