"""One read's view of a connector: options, schema, metadata and the offset loop.

Shared by the batch reader and both stream readers so that they agree on how a table is
read, how offsets are compared and how a connector's mistakes are reported.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

from pyspark.sql.types import StructType

from datasource.arrow_convert import ArrowConverter
from datasource.options import ReadOptions, safe_repr
from sources.http.redact import redact_text, secret_values
from sources.interface import (
    ConnectorError,
    LakeflowConnect,
    SupportsPartition,
    SupportsPartitionedStream,
    SupportsReadLimits,
    UnknownTableError,
)
from sources.interface.options import normalized
from sources.interface.contract import Page, ReadLimits, connector_reader, iterate_offsets, validate_metadata

log = logging.getLogger("lakeflow.datasource")


class ConnectorSession:
    """The connector class, the read's options and what is derived from them.

    Picklable: only the class and options travel to executors; the connector instance is
    created lazily where it is used.
    """

    def __init__(self, connector_cls: type[LakeflowConnect], options: dict[str, str]):
        self.connector_cls = connector_cls
        self.raw_options = normalized(options)
        self._connector: LakeflowConnect | None = None
        self._tables: list[str] | None = None
        self._schema: StructType | None = None
        self.read_options = ReadOptions.parse(
            self.raw_options, supported_tables=lambda opts: list(connector_cls(opts).list_tables())
        )

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_connector"] = None
        return state

    def __repr__(self) -> str:
        return f"ConnectorSession({self.connector_cls.__name__}, options={safe_repr(self.raw_options)})"

    # -- the connector -------------------------------------------------------------------
    @property
    def connector(self) -> LakeflowConnect:
        if self._connector is None:
            self._connector = self.connector_cls(dict(self.read_options.connector_options))
        return self._connector

    @property
    def table(self) -> str:
        return self.read_options.table_name

    @property
    def table_options(self) -> dict[str, str]:
        return dict(self.read_options.connector_options)

    def tables(self) -> list[str]:
        if self._tables is None:
            self._tables = list(self.connector.list_tables())
        return self._tables

    def unknown_table(self) -> UnknownTableError:
        return UnknownTableError(self.table, self.tables())

    def guard(self, call: Callable[[], Any], what: str) -> Any:
        """Run a connector call; its failure is re-raised with secrets redacted."""
        try:
            return call()
        except Exception as exc:
            raise self.redacted(exc, what) from None

    def guarded_iter(self, items: Any, what: str) -> Iterator:
        """Iterate a connector's (lazy) records; a failure while iterating is redacted too."""
        iterator = iter(items if items is not None else ())
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                raise self.redacted(exc, what) from None
            yield item

    def redacted(self, exc: Exception, what: str) -> Exception:
        """The exception to raise for a connector failure: an UnknownTableError as is, a
        ConnectorError whose message holds no secret as is, anything else as a
        ConnectorError naming the call, with every secret option value masked. The source is
        never called again to build the message (it may be what failed)."""
        if isinstance(exc, UnknownTableError):
            return exc
        if self._tables is not None and self.table not in self._tables:
            return self.unknown_table()
        text = str(exc)
        clean = redact_text(text, secret_values(self.raw_options))
        if isinstance(exc, ConnectorError) and clean == text:
            return exc
        # A secret in the message, or a raw exception: a new error without the chain, which
        # could carry the secret in its own message.
        return ConnectorError(f"{what} failed for table {self.table!r}: {type(exc).__name__}: {clean}")

    # -- schema and metadata -------------------------------------------------------------
    def schema(self) -> StructType:
        """The connector's schema of the table (asked once per session; kept when pickled)."""
        if self._schema is None:
            schema = self.guard(lambda: self.connector.get_table_schema(self.table, self.table_options), "get_table_schema")
            if not isinstance(schema, StructType):
                raise ConnectorError(f"get_table_schema({self.table!r}) returned {type(schema).__name__}, not a StructType")
            self._schema = schema
        return self._schema

    def metadata(self) -> dict:
        meta = self.guard(lambda: self.connector.read_table_metadata(self.table, self.table_options), "read_table_metadata")
        return validate_metadata(self.table, meta)

    def converter(self, schema: StructType, primary_keys: list[str]) -> ArrowConverter:
        return ArrowConverter(schema, table_name=self.table, primary_keys=primary_keys)

    # -- partitioning ----------------------------------------------------------------------
    def partitioned_batch(self) -> bool:
        """Whether ``spark.read`` of this table goes through ``get_partitions``."""
        connector = self.connector
        if self.read_options.is_delete_flow or not isinstance(connector, SupportsPartition):
            return False
        if isinstance(connector, SupportsPartitionedStream):
            return bool(connector.is_partitioned(self.table))
        return True

    def partitioned_stream(self) -> bool:
        connector = self.connector
        return (
            not self.read_options.is_delete_flow
            and isinstance(connector, SupportsPartitionedStream)
            and bool(connector.is_partitioned(self.table))
        )

    # -- the offset loop -------------------------------------------------------------------
    def supports_read_limits(self) -> bool:
        return isinstance(self.connector, SupportsReadLimits)

    @property
    def method_name(self) -> str:
        return "read_table_deletes" if self.read_options.is_delete_flow else "read_table"

    def read_once(self, start: Any, limits: ReadLimits) -> tuple[Any, Any]:
        """One ``read_table`` (or ``read_table_deletes``) call, guarded, records included;
        the contract is checked by :func:`sources.interface.contract.iterate_offsets`."""
        read = connector_reader(self.connector, self.table, self.table_options, self.read_options.is_delete_flow)
        result = self.guard(lambda: read(start, limits), self.method_name)
        if isinstance(result, tuple) and len(result) == 2:
            return self.guarded_iter(result[0], self.method_name), result[1]
        return result

    def pages(self, start: Any = None, **kwargs) -> Iterator[Page]:
        """The offset loop over this read's table (see :func:`iterate_offsets`)."""
        return iterate_offsets(self.read_once, self.table, start, method=self.method_name, **kwargs)

    def records(self, start: Any = None, *, streamed: bool = False, **kwargs) -> "PagedRecords":
        """The records of :meth:`pages` as one iterable (so that they are converted in full
        batches, not page by page), remembering the offset the loop reached."""
        return PagedRecords(self, start, streamed, kwargs)

    def latest_offset(self, start: dict, max_records: int | None) -> dict:
        """``latest_offset`` of a ``SupportsPartitionedStream`` table, checked, with the cap
        passed as ``limits.max_records`` to connectors that take read limits."""
        connector, options = self.connector, self.table_options
        if self.supports_read_limits():
            call = lambda: connector.latest_offset(self.table, options, start, limits=ReadLimits(max_records=max_records))  # noqa: E731
        else:
            call = lambda: connector.latest_offset(self.table, options, start)  # noqa: E731
        end = self.guard(call, "latest_offset")
        if not isinstance(end, dict):
            raise ConnectorError(f"latest_offset({self.table!r}) returned {type(end).__name__}, not a dict")
        return end


class PagedRecords:
    """Iterates the records of one offset loop; ``end`` is the offset it reached (the start
    until a page came back). With ``streamed``, a page without an offset (``None``) is an
    error: such a table cannot be read from an offset."""

    def __init__(self, session: ConnectorSession, start: Any, streamed: bool, kwargs: dict):
        self.session = session
        self.end = start
        self.pages = 0
        self._streamed = streamed
        self._loop = session.pages(start, **kwargs)

    def __iter__(self) -> Iterator[dict]:
        for page in self._loop:
            if self._streamed and page.end is None:
                raise ConnectorError(
                    f"{self.session.method_name}({self.session.table!r}) returned no offset (None), so it cannot be "
                    "read incrementally: read this table with spark.read, or make the connector return dict offsets."
                )
            self.end = page.end
            self.pages += 1
            yield from page.records
