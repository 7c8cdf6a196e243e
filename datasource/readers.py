"""Spark readers: batch (``spark.read``), simple streaming and partitioned streaming.

All three read through a :class:`~datasource.connector_session.ConnectorSession` and yield
``pyarrow.RecordBatch``es built by the schema's compiled converter.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Iterator

import pyarrow as pa
from pyspark.errors import PySparkNotImplementedError
from pyspark.sql.datasource import (
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
    SimpleDataSourceStreamReader,
)
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from datasource.arrow_convert import ArrowConverter
from datasource.connector_session import ConnectorSession
from datasource.increments import OffsetMarking, offset_text
from sources.interface.contract import offset_key
from datasource.metadata_table import read_metadata_table
from datasource.metrics import metered, metered_iter
from datasource.options import METADATA_TABLE
from sources.interface import ConnectorError

log = logging.getLogger("lakeflow.datasource")

#: Records one simple-stream micro-batch gathers at most (``maxRecordsPerBatch`` overrides).
DEFAULT_MAX_RECORDS_PER_MICROBATCH = 100_000


class LakeflowPartition(InputPartition):
    """A partition: ``kind`` is ``"table"`` (offset loop), ``"descriptor"`` (a connector
    partition, as JSON) or ``"metadata"``."""

    def __init__(self, kind: str, descriptor: str | None = None):
        super().__init__(descriptor)
        self.kind = kind
        self.descriptor = descriptor

    def __repr__(self) -> str:
        return f"LakeflowPartition({self.kind}, {self.descriptor})"


def descriptor_partitions(session: ConnectorSession, descriptors: Any, method: str) -> list[LakeflowPartition]:
    if descriptors is None:
        raise ConnectorError(f"{method}({session.table!r}) returned None; return a list of partition dicts")
    partitions = []
    for descriptor in descriptors:
        if not isinstance(descriptor, dict):
            raise ConnectorError(f"{method}({session.table!r}) returned a {type(descriptor).__name__} descriptor; descriptors must be dicts")
        try:
            text = json.dumps(descriptor, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"{method}({session.table!r}) returned a descriptor that is not JSON-serialisable: {exc}") from None
        partitions.append(LakeflowPartition("descriptor", text))
    return partitions


def read_descriptor(session: ConnectorSession, converter: ArrowConverter, descriptor: str) -> Iterator[pa.RecordBatch]:
    connector = session.connector
    records = session.guard(
        lambda: connector.read_partition(session.table, json.loads(descriptor), session.table_options),
        "read_partition",
    )
    yield from converter.batches(session.guarded_iter(records, "read_partition"))


class LakeflowBatchReader(DataSourceReader):
    """``spark.read``: the whole table, through partitions when the connector offers them,
    else by calling ``read_table`` from the start until its offset stops advancing.

    With ``lakeflowStartOffset`` (the pipeline's incremental reads, :mod:`datasource.increments`)
    it reads only what follows that offset, as one stream micro-batch would, and appends a
    marker row holding the end offset it reached."""

    def __init__(self, session: ConnectorSession, schema: StructType, primary_keys: list[str]):
        self.session = session
        self.schema = schema
        self.primary_keys = primary_keys

    @property
    def start_offset(self) -> dict | None:
        return self.session.read_options.start_offset

    @property
    def max_records(self) -> int:
        return self.session.read_options.max_records_per_batch or DEFAULT_MAX_RECORDS_PER_MICROBATCH

    def partitions(self):
        session = self.session
        if session.table == METADATA_TABLE:
            return [LakeflowPartition("metadata")]
        if self.start_offset is not None:
            return self._increment_partitions()
        if session.partitioned_batch():
            with metered(session.read_options.metrics_dir):
                descriptors = session.guard(
                    lambda: session.connector.get_partitions(session.table, session.table_options), "get_partitions"
                )
            partitions = descriptor_partitions(session, descriptors, "get_partitions")
            log.info("table %s: %d partitions", session.table, len(partitions))
            return partitions or [LakeflowPartition("empty")]
        return [LakeflowPartition("table")]

    def _increment_partitions(self) -> list[LakeflowPartition]:
        """One offset loop from the start offset; for a partitioned stream table, the
        partitions up to ``latest_offset`` and one that only carries that end offset."""
        session, start = self.session, self.start_offset
        if not session.partitioned_stream():
            return [LakeflowPartition("increment")]
        with metered(session.read_options.metrics_dir):
            end = session.latest_offset(start, self.max_records)
            descriptors = [] if offset_key(start) == offset_key(end) else session.guard(
                lambda: session.connector.get_partitions(session.table, session.table_options, start, end),
                "get_partitions")
        return [*descriptor_partitions(session, descriptors, "get_partitions"), LakeflowPartition("end", offset_text(end))]

    def read(self, partition: LakeflowPartition) -> Iterator[pa.RecordBatch]:
        return metered_iter(self.session.read_options.metrics_dir, self._read(partition))

    def _read(self, partition: LakeflowPartition) -> Iterator[pa.RecordBatch]:
        session = self.session
        if partition.kind == "metadata":
            yield from read_metadata_table(session, self.schema)
            return
        if partition.kind == "empty":
            return
        if self.start_offset is not None:
            yield from self._read_increment(partition)
            return
        converter = session.converter(self.schema, self.primary_keys)
        if partition.kind == "descriptor":
            yield from read_descriptor(session, converter, partition.descriptor)
            return
        records = session.records()
        yield from converter.batches(records)
        log.info("table %s: read in %d calls", session.table, records.pages)

    def _read_increment(self, partition: LakeflowPartition) -> Iterator[pa.RecordBatch]:
        session = self.session
        converter = session.converter(session.schema(), self.primary_keys)
        marking = OffsetMarking(converter.arrow_schema)
        if partition.kind == "end":
            yield marking.marker(json.loads(partition.descriptor))
            return
        if partition.kind == "descriptor":
            for batch in read_descriptor(session, converter, partition.descriptor):
                yield marking.data(batch)
            return
        records = session.records(self.start_offset, streamed=True, max_records=self.max_records)
        count = 0
        for batch in converter.batches(records):
            count += batch.num_rows
            yield marking.data(batch)
        log.info("table %s: %d records from %s up to %s in %d calls", session.table, count,
                 offset_key(self.start_offset), offset_key(records.end), records.pages)
        yield marking.marker(records.end)


class LakeflowSimpleStreamReader(SimpleDataSourceStreamReader, SupportsTriggerAvailableNow):
    """``spark.readStream`` for connectors read with ``read_table`` (or deletes).

    Each micro-batch calls ``read_table`` from the committed offset until the offset stops
    advancing or ``maxRecordsPerBatch`` records (default 100,000) are gathered. Under
    ``trigger(availableNow=True)`` Spark repeats micro-batches until the connector reports
    no new data.
    """

    def __init__(self, session: ConnectorSession, schema: StructType, primary_keys: list[str]):
        self.session = session
        self.schema = schema
        self.primary_keys = primary_keys
        self.max_records = session.read_options.max_records_per_batch or DEFAULT_MAX_RECORDS_PER_MICROBATCH
        self._converter: ArrowConverter | None = None

    @property
    def converter(self) -> ArrowConverter:
        if self._converter is None:
            self._converter = self.session.converter(self.schema, self.primary_keys)
        return self._converter

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_converter"] = None
        return state

    def initialOffset(self) -> dict:
        return {}

    def prepareForTriggerAvailableNow(self) -> None:
        # Every read() stops where the connector reports no more data, so availableNow needs
        # no extra bookkeeping here.
        pass

    def _pages(self, start: Any, **kwargs) -> tuple[list[pa.RecordBatch], Any]:
        """Convert the records of one offset loop from ``start``; return them and the last offset."""
        with metered(self.session.read_options.metrics_dir):
            records = self.session.records(start, streamed=True, **kwargs)
            batches = list(self.converter.batches(records))
        return batches, records.end

    def read(self, start: dict):
        batches, current = self._pages(start, max_records=self.max_records)
        log.info("table %s: micro-batch of %d records up to %s", self.session.table,
                 sum(b.num_rows for b in batches), offset_key(current))
        return iter(batches), current

    def readBetweenOffsets(self, start: dict, end: dict):
        """Replay (after a restart) of the checkpointed range ``(start, end]``.

        A connector with ``SupportsReadLimits`` gets ``end`` as ``limits.end_offset`` and
        returns nothing past it, so the replay delivers the range once even when records in
        it changed since (those are read again by the next micro-batch, with their new
        cursor). Any other connector is read until it lands on ``end`` or returns the
        micro-batch cap, whichever comes first, so a shifted page boundary cannot turn the
        replay into a read of the rest of the table."""
        bounded = self.session.supports_read_limits()
        batches, reached = self._pages(start, until=end, max_records=None if bounded else self.max_records)
        if offset_key(reached) != offset_key(end):
            if bounded:
                log.info("table %s: replay from %s ended at %s, before the checkpointed %s: records of the range "
                         "changed since it was read and are read again by the next micro-batch",
                         self.session.table, offset_key(start), offset_key(reached), offset_key(end))
            else:
                log.warning("table %s: replay from %s ended at %s instead of the checkpointed %s (the source changed "
                            "inside the range); the connector does not implement SupportsReadLimits, so its last page "
                            "may repeat records the next micro-batch reads again",
                            self.session.table, offset_key(start), offset_key(reached), offset_key(end))
        return iter(batches)

    def commit(self, end: dict) -> None:
        pass


class LakeflowPartitionedStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """``spark.readStream`` for connectors with ``SupportsPartitionedStream``.

    Admission control: ``maxRecordsPerBatch`` makes the default read limit
    ``ReadMaxRows(n)``; the limit reaches the connector's ``latest_offset`` as
    ``limits=ReadLimits(max_records=n)`` when it declares ``SupportsReadLimits``. Under ``trigger(availableNow=True)`` the target offset
    is fixed when the query starts; without a row limit each run reads up to it.
    """

    def __init__(self, session: ConnectorSession, schema: StructType, primary_keys: list[str]):
        self.session = session
        self.schema = schema
        self.primary_keys = primary_keys
        self._target: dict | None = None

    def initialOffset(self) -> dict:
        return {}

    def getDefaultReadLimit(self) -> ReadLimit:
        cap = self.session.read_options.max_records_per_batch
        return ReadMaxRows(cap) if cap else ReadAllAvailable()

    def _latest(self, start: dict, cap: int | None) -> dict:
        with metered(self.session.read_options.metrics_dir):
            return self.session.latest_offset(start, cap)

    def prepareForTriggerAvailableNow(self) -> None:
        self._target = self._latest({}, None)

    def latestOffset(self, start: dict = None, limit: ReadLimit = None) -> dict:
        start = start if start is not None else {}
        cap = limit.max_rows if isinstance(limit, ReadMaxRows) else None
        if self._target is not None and cap is None:
            return self._target
        return self._latest(start, cap)

    def partitions(self, start: dict, end: dict):
        session = self.session
        if offset_key(start) == offset_key(end):
            return []
        with metered(session.read_options.metrics_dir):
            descriptors = session.guard(
                lambda: session.connector.get_partitions(session.table, session.table_options, start, end), "get_partitions"
            )
        return descriptor_partitions(session, descriptors, "get_partitions")

    def read(self, partition: LakeflowPartition) -> Iterator[pa.RecordBatch]:
        converter = self.session.converter(self.schema, self.primary_keys)
        yield from metered_iter(self.session.read_options.metrics_dir,
                                read_descriptor(self.session, converter, partition.descriptor))

    def commit(self, end: dict) -> None:
        pass


def not_partitioned() -> PySparkNotImplementedError:
    """Raised by ``streamReader`` so that Spark falls back to ``simpleStreamReader``."""
    return PySparkNotImplementedError(errorClass="NOT_IMPLEMENTED", messageParameters={"feature": "streamReader"})
