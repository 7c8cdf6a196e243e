"""Small in-process connectors for testing the runtime (not the code under test).

Their data is a pure function of their options, so Spark's Python workers (other
processes) see the same data as the test process. ``rows`` sets the table size.
"""

from __future__ import annotations

from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType, TimestampType

from sources.interface import (
    LakeflowConnect,
    ReadLimits,
    SupportsPartition,
    SupportsPartitionedStream,
    SupportsReadLimits,
    UnknownTableError,
)

SCHEMA = StructType([
    StructField("id", LongType()),
    StructField("amount", DecimalType(18, 2)),
    StructField("updated_at", TimestampType()),
    StructField("note", StringType()),
])

META = {
    "items": {"primary_keys": ["id"], "cursor_field": "id", "ingestion_type": "append"},
    "changes": {"primary_keys": ["id"], "cursor_field": "id", "ingestion_type": "cdc_with_deletes"},
    "snap": {"primary_keys": ["id"], "cursor_field": None, "ingestion_type": "snapshot"},
}


def record(i: int) -> dict:
    return {"id": str(i), "amount": f"{i}.25", "updated_at": 1_700_000_000_000 + i, "note": None if i % 3 else f"n{i}"}


class PagedLakeflowConnect(LakeflowConnect):
    """Pages of ``page`` records; offsets ``{"id": last}``."""

    def __init__(self, options):
        super().__init__(options)
        self.rows = int(options.get("rows", "250"))
        self.page = int(options.get("page", "100"))

    def list_tables(self):
        return list(META)

    def _check(self, table):
        if table not in META:
            raise UnknownTableError(table, META)

    def get_table_schema(self, table_name, table_options):
        self._check(table_name)
        return SCHEMA

    def read_table_metadata(self, table_name, table_options):
        self._check(table_name)
        return dict(META[table_name])

    def _page(self, ids, start_offset):
        after = int((start_offset or {}).get("id", 0))
        chosen = [i for i in ids if i > after][: self.page]
        if not chosen:
            return iter([]), (start_offset if start_offset else {"id": 0})
        return iter(record(i) for i in chosen), {"id": chosen[-1]}

    def read_table(self, table_name, start_offset, table_options):
        self._check(table_name)
        if table_name == "snap":
            return iter(record(i) for i in range(1, self.rows + 1)), None
        return self._page(range(1, self.rows + 1), start_offset)

    def read_table_deletes(self, table_name, start_offset, table_options):
        self._check(table_name)
        records, offset = self._page(range(10, self.rows + 1, 10), start_offset)
        return (({"id": r["id"], "updated_at": r["updated_at"]} for r in records), offset)


class StuckLakeflowConnect(PagedLakeflowConnect):
    """Returns records without advancing its offset: a broken connector."""

    def read_table(self, table_name, start_offset, table_options):
        self._check(table_name)
        return iter([record(1)]), (start_offset or {})


class LeakyLakeflowConnect(PagedLakeflowConnect):
    """Fails with its own token in the message: the runtime must not show it."""

    def read_table(self, table_name, start_offset, table_options):
        raise RuntimeError(f"upstream said: bad credentials {self.options.get('access_token')}")


class BadValueLakeflowConnect(PagedLakeflowConnect):
    def read_table(self, table_name, start_offset, table_options):
        records, offset = super().read_table(table_name, start_offset, table_options)
        return ({**r, "amount": "0.125"} if r["id"] == "7" else r for r in records), offset


class PartitionedLakeflowConnect(PagedLakeflowConnect, SupportsPartitionedStream, SupportsReadLimits):
    """``items`` in partitions of ``page`` ids; streams through partitions too."""

    def is_partitioned(self, table_name):
        return table_name == "items"

    def read_table(self, table_name, start_offset, table_options, *, limits=ReadLimits()):
        return super().read_table(table_name, start_offset, table_options)

    def read_table_deletes(self, table_name, start_offset, table_options, *, limits=ReadLimits()):
        return super().read_table_deletes(table_name, start_offset, table_options)

    def latest_offset(self, table_name, table_options, start_offset=None, *, limits=ReadLimits()):
        self._check(table_name)
        start = int((start_offset or {}).get("id", 0))
        cap = limits.max_records
        end = self.rows if cap is None else min(self.rows, start + int(cap))
        return {"id": end}

    def get_partitions(self, table_name, table_options, start_offset=None, end_offset=None):
        self._check(table_name)
        lo = int((start_offset or {}).get("id", 0))
        hi = int(end_offset["id"]) if end_offset else self.rows
        return [{"lo": a, "hi": min(a + self.page, hi)} for a in range(lo, hi, self.page)]

    def read_partition(self, table_name, partition, table_options):
        return (record(i) for i in range(partition["lo"] + 1, partition["hi"] + 1))


class BrokenPartitionsLakeflowConnect(PagedLakeflowConnect, SupportsPartition):
    def get_partitions(self, table_name, table_options):
        raise RuntimeError("planning failed: the stats endpoint is down")

    def read_partition(self, table_name, partition, table_options):
        return iter([])


class CyclingLakeflowConnect(PagedLakeflowConnect):
    """Offsets that come back (1, 2, 1, 2, ...): a read that would never end."""

    def read_table(self, table_name, start_offset, table_options):
        self._check(table_name)
        n = int((start_offset or {}).get("n", 0))
        return iter([]), {"n": 1 if n == 2 else n + 1}


class RestlessLakeflowConnect(PagedLakeflowConnect):
    """An offset that moves forever without records."""

    def read_table(self, table_name, start_offset, table_options):
        self._check(table_name)
        return iter([]), {"n": int((start_offset or {}).get("n", 0)) + 1}


class LazyLeakyLakeflowConnect(PagedLakeflowConnect):
    """Fails while its records are iterated, with its own token in the message."""

    def read_table(self, table_name, start_offset, table_options):
        token = self.options.get("access_token")

        def records():
            yield {"id": "1", "amount": "1.00", "updated_at": 1_700_000_000_000, "note": None}
            raise RuntimeError(f"page 2 failed: token={token}")

        return records(), {"id": 1}
