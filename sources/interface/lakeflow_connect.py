"""``LakeflowConnect``: the contract between one source API and the Spark runtime.

The method names, arguments and return shapes are those of the widely used community
``LakeflowConnect`` interface, so a connector written for it runs here after changing its
import line only. A connector knows one API and nothing about Spark beyond
``pyspark.sql.types``; the runtime (:mod:`datasource`) does partitioning, offsets and
type conversion.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

from pyspark.sql.types import StructType

#: The values ``read_table_metadata(...)["ingestion_type"]`` may take.
INGESTION_TYPES = ("snapshot", "cdc", "cdc_with_deletes", "append")


class LakeflowConnect(ABC):
    """Base class of every connector.

    Contract shared by every method that takes a ``table_name``: a name that
    :meth:`list_tables` does not return raises an explicit error
    (:class:`sources.interface.UnknownTableError` is the one to use), never an empty
    result.

    ``options`` are the connection options (credentials, base URL, …) as strings. The
    runtime passes every Spark option but ``tableName`` both here and as
    ``table_options``.
    """

    def __init__(self, options: dict[str, str]) -> None:
        """Keep the connection options; do no network I/O here.

        Args:
            options: connection parameters such as tokens and base URLs, all strings.
        """
        self.options = options

    @abstractmethod
    def list_tables(self) -> list[str]:
        """Return the names of every table this connector can read.

        The list may be static or discovered from the API (custom objects, say). It must
        be non-empty and hold no duplicates.
        """

    @abstractmethod
    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> StructType:
        """Return the Spark schema of ``table_name``.

        Rules the conformance suite checks:

        * a ``StructType``, the same on every call for the same source state, no duplicate
          field names;
        * nested objects stay nested: a ``StructType`` field, not flattened columns, and a
          ``StructType`` rather than a ``MapType`` wherever the keys are known;
        * integers are ``LongType`` rather than ``IntegerType`` (APIs grow their ids);
        * every primary key named by :meth:`read_table_metadata` is a top-level field of this
          schema; the cursor field is a top-level field or a dotted path through struct
          fields (``commit.committer.date``), never through an array.

        Args:
            table_name: one of :meth:`list_tables`.
            table_options: options needed to describe the table (a namespace, a list of
                properties); filters do not belong here.
        """

    @abstractmethod
    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        """Return how the table is ingested.

        Returns:
            A dict with:

            * ``primary_keys``: list of top-level column names identifying a record;
            * ``cursor_field``: the column (or dotted path into structs) whose value moves
              forward when a record changes
              (needed by ``cdc``, ``cdc_with_deletes`` and ``append``);
            * ``ingestion_type``: one of ``snapshot`` (re-read whole every time), ``cdc``
              (upserts by primary key), ``cdc_with_deletes`` (upserts plus
              :meth:`read_table_deletes`), ``append`` (new rows only).

            ``cdc`` and ``cdc_with_deletes`` require non-empty ``primary_keys`` and a
            ``cursor_field``.
        """

    @abstractmethod
    def read_table(
        self, table_name: str, start_offset: dict, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        """Read one batch of records that follow ``start_offset``.

        The runtime calls this repeatedly, passing the offset it returned last as the next
        ``start_offset``, and stops when the returned offset equals ``start_offset``.
        ``start_offset`` is ``None`` (or ``{}``) on the very first read of a table; later
        runs resume from a checkpointed offset.

        Offset contract (checked by the conformance suite and in Spark streaming):

        * the offset is a JSON-serialisable dict (or ``None`` for a table that can only be
          read whole in one call);
        * it **advances whenever records were returned**: a batch with records and an end
          offset equal to its start is an error, because it can never be checkpointed;
        * it never skips a record: reading from it returns everything changed after it;
        * reading again from the same ``start_offset`` returns the same records while the
          source is unchanged (Spark replays batches after a restart).

        Returns:
            ``(records, offset)``: ``records`` iterates raw JSON-like dicts exactly as the
            API sent them. Do **not** convert them to the schema (numbers may stay strings);
            the runtime converts. An absent nested object is ``None``, not ``{}``.
        """

    def read_table_deletes(
        self, table_name: str, start_offset: dict, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        """Read records deleted from ``table_name`` after ``start_offset``.

        Required for tables whose ingestion type is ``cdc_with_deletes``; same offset
        protocol as :meth:`read_table`. Each record carries at least the primary keys and the
        cursor field; other fields may be ``None``.

        The default raises ``NotImplementedError``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement read_table_deletes(); it is required "
            "for tables whose ingestion_type is 'cdc_with_deletes'."
        )
