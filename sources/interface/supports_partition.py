"""Mixins for connectors whose reads can be split across Spark executors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Sequence


class SupportsPartition(ABC):
    """A connector that splits a whole-table (batch) read into independent partitions.

    Use together with :class:`~sources.interface.LakeflowConnect`::

        class MyConnector(LakeflowConnect, SupportsPartition):
            ...

    ``spark.read`` then creates one Spark partition per descriptor returned by
    :meth:`get_partitions`, and each executor calls :meth:`read_partition` with its own
    descriptor. A failure in :meth:`get_partitions` fails the read; there is no silent
    fall-back to a single-partition read.
    """

    @abstractmethod
    def get_partitions(self, table_name: str, table_options: dict[str, str]) -> Sequence[dict]:
        """Return descriptors that together cover the whole table, each exactly once.

        Each descriptor is a dict of JSON primitives (it travels to executors) and must be
        the same on every call for the same source state.
        """

    @abstractmethod
    def read_partition(
        self, table_name: str, partition: dict, table_options: dict[str, str]
    ) -> Iterator[dict]:
        """Return the raw records of one descriptor. Runs on an executor: self-contained,
        no state shared with the driver beyond the connection options."""


class SupportsPartitionedStream(SupportsPartition):
    """A connector whose streaming micro-batches are split into partitions too.

    Spark asks :meth:`latest_offset` for the end of each micro-batch, then
    :meth:`get_partitions` for the descriptors between two offsets, then reads them on
    executors with :meth:`read_partition`. Tables for which :meth:`is_partitioned`
    returns ``False`` are streamed with ``read_table`` instead.
    """

    def is_partitioned(self, table_name: str) -> bool:
        """Whether ``table_name`` is read through partitions (default ``True``)."""
        return True

    @abstractmethod
    def latest_offset(
        self, table_name: str, table_options: dict[str, str], start_offset: dict | None = None
    ) -> dict:
        """Return the offset up to which data is available now.

        ``start_offset`` is ``{}`` on the first call of a new stream, then the last
        committed end offset. The result is a dict of JSON primitives; equal to
        ``start_offset`` when nothing new is available. A connector that also declares
        :class:`~sources.interface.SupportsReadLimits` receives Spark's admission control
        (``maxRecordsPerBatch``) as ``limits=ReadLimits(max_records=n)`` and should not
        advance the offset past ``n`` records.
        """

    @abstractmethod
    def get_partitions(
        self,
        table_name: str,
        table_options: dict[str, str],
        start_offset: dict | None = None,
        end_offset: dict | None = None,
    ) -> Sequence[dict]:
        """Return descriptors covering ``(start_offset, end_offset]``.

        Both offsets ``None`` means a batch read of the whole table. Equal offsets must give
        an empty sequence. Descriptors are dicts of JSON primitives.
        """
