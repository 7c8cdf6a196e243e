"""Incremental batch reads: ``spark.read`` from an offset, with the end offset in the result.

The pipeline reads what changed since its last commit with a plain batch read instead of a
stream (a stream costs seconds of fixed planning and checkpointing per table, even when
nothing changed). It sets the option ``lakeflowStartOffset`` to the offset it committed
last (``{}`` for the beginning); the read then

* reads from that offset, through the same offset loop as a stream's micro-batch
  (:func:`sources.interface.contract.iterate_offsets`; at most ``maxRecordsPerBatch``
  records, default 100,000), or, for a ``SupportsPartitionedStream`` table, through the
  partitions between that offset and ``latest_offset``;
* adds a string column :data:`OFFSET_COLUMN` that is null on every record, plus **one marker
  row** whose data columns are all null and whose :data:`OFFSET_COLUMN` is the JSON end
  offset the read reached.

So the end offset travels with the data, from wherever Spark ran the read (an executor, a
Spark Connect server) back to the caller, who keeps it with the Delta commit of those
records. A read that found nothing still returns its marker row, with the offset it
reached.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from pyspark.sql.types import StringType, StructField, StructType

#: The column holding the end offset in an incremental read's marker row.
OFFSET_COLUMN = "__lakeflow_offset"


def with_offset_column(schema: StructType) -> StructType:
    """``schema`` with the marker column appended (every data field nullable: the marker row
    has no data)."""
    fields = [StructField(f.name, f.dataType, True, f.metadata) for f in schema.fields]
    return StructType([*fields, StructField(OFFSET_COLUMN, StringType(), True)])


def without_offset_column(schema: StructType) -> StructType:
    return StructType([f for f in schema.fields if f.name != OFFSET_COLUMN])


def offset_text(offset: Any) -> str:
    """The JSON an offset travels as (canonical, so equal offsets have equal text)."""
    return json.dumps(offset if offset is not None else {}, sort_keys=True, separators=(",", ":"))


class OffsetMarking:
    """Adds the marker column to a converter's batches, and builds the marker row."""

    def __init__(self, data_schema: pa.Schema):
        self.data_schema = data_schema
        fields = [data_schema.field(i).with_nullable(True) for i in range(len(data_schema))]
        self.schema = pa.schema([*fields, pa.field(OFFSET_COLUMN, pa.string())])

    def data(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = [*batch.columns, pa.nulls(batch.num_rows, pa.string())]
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)

    def marker(self, end: Any) -> pa.RecordBatch:
        columns = [pa.nulls(1, field.type) for field in self.data_schema]
        return pa.RecordBatch.from_arrays([*columns, pa.array([offset_text(end)], pa.string())], schema=self.schema)
