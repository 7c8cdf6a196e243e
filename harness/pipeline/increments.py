"""What changed in a source table since the offsets a pipeline committed, as one DataFrame.

An increment is a plain batch read per flow (the change flow, and for ``cdc_with_deletes``
the delete flow) with ``lakeflowStartOffset`` (see :mod:`datasource.increments`): each read
returns at most ``maxRecordsPerBatch`` records following its flow's offset, and the end
offset it reached in a marker row. No stream is started: a table with nothing new costs one
small Spark job that reads and counts every flow.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from datasource.columns import select_columns
from datasource.increments import OFFSET_COLUMN, offset_text
from datasource.options import MAX_RECORDS_PER_BATCH, START_OFFSET
from harness.pipeline.apply import IS_DELETE
from sources.interface import ConnectorError

CHANGES = "changes"
DELETES = "deletes"
#: Records one increment reads per flow unless the table's ``maxRecordsPerBatch`` says.
DEFAULT_BATCH_RECORDS = 100_000


@dataclass
class Increment:
    """One read of every flow: the records (``IS_DELETE`` marks the delete flow's), the end
    offset of each flow, and the flows that stopped at the cap (there may be more)."""

    data: DataFrame
    rows: int
    ends: dict
    more: set = field(default_factory=set)
    schema: StructType | None = None
    #: Seconds the read took (API calls and conversion, into Spark's cache).
    seconds: float = 0.0
    _cached: list = field(default_factory=list)

    def release(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()


class IncrementReader:
    """Reads increments of one destination table.

    Args:
        spark: the table's session.
        fmt: the registered format name.
        options: the read's options (connection, table, runtime), without the flow's.
        ingestion_type: ``append`` has no delete marker; ``cdc_with_deletes`` has two flows.
        include, exclude: the table's column selection.
        cap: records per flow per increment.
    """

    def __init__(self, spark, fmt: str, options: dict[str, str], ingestion_type: str,
                 include=None, exclude=None, cap: int = DEFAULT_BATCH_RECORDS):
        self.spark = spark
        self.fmt = fmt
        self.options = options
        self.ingestion_type = ingestion_type
        self.include, self.exclude = include, exclude
        self.cap = cap
        self.flows = [CHANGES, DELETES] if ingestion_type == "cdc_with_deletes" else [CHANGES]

    def read(self, offsets: dict, flows: list[str] | None = None) -> Increment:
        """Read ``flows`` (default: all) from ``offsets``; a flow not read keeps its offset.
        Every flow is read and counted by one Spark job."""
        ends, more, cached, rows = dict(offsets), set(), [], 0
        started = time.perf_counter()
        try:
            loaded = []
            for flow in flows or self.flows:
                df = self._load(flow, offsets.get(flow) or {}).persist()
                cached.append(df)
                loaded.append((flow, df))
            counts = [df.agg(F.count(F.when(F.col(OFFSET_COLUMN).isNull(), 1)).alias("rows"),
                             F.count(OFFSET_COLUMN).alias("markers"),
                             F.max(OFFSET_COLUMN).alias("end")).withColumn("flow", F.lit(flow))
                      for flow, df in loaded]
            by_flow = {row["flow"]: row for row in reduce(DataFrame.unionByName, counts).collect()}
            parts, schema = [], None
            for flow, df in loaded:
                stats = by_flow[flow]
                if stats["markers"] != 1:
                    raise ConnectorError(f"the incremental read of {self.options.get('tableName')!r} ({flow}) returned "
                                         f"{stats['markers']} end offsets instead of one")
                ends[flow] = json.loads(stats["end"])
                if stats["rows"] >= self.cap:
                    more.add(flow)
                rows += stats["rows"]
                data = df.where(F.col(OFFSET_COLUMN).isNull()).drop(OFFSET_COLUMN)
                data = select_columns(data, self.include, self.exclude)
                schema = schema or data.schema
                if self.ingestion_type != "append":
                    data = data.withColumn(IS_DELETE, F.lit(flow == DELETES))
                parts.append(data)
        except BaseException:
            for df in cached:
                df.unpersist()
            raise
        return Increment(reduce(DataFrame.unionByName, parts), rows, ends, more, schema,
                         time.perf_counter() - started, cached)

    def _load(self, flow: str, start: dict) -> DataFrame:
        extra = {START_OFFSET: offset_text(start), MAX_RECORDS_PER_BATCH: str(self.cap)}
        if flow == DELETES:
            extra["isDeleteFlow"] = "true"
        return self.spark.read.format(self.fmt).options(**{**self.options, **extra}).load()
