"""Build the PySpark ``DataSource`` class for one connector class."""

from __future__ import annotations

from pyspark.sql.datasource import DataSource
from pyspark.sql.types import StructType

from datasource.connector_session import ConnectorSession
from datasource.increments import with_offset_column
from datasource.metadata_table import METADATA_SCHEMA
from datasource.options import METADATA_TABLE, RedactedOptions
from datasource.readers import (
    LakeflowBatchReader,
    LakeflowPartitionedStreamReader,
    LakeflowSimpleStreamReader,
    not_partitioned,
)
from sources.interface import LakeflowConnect


class LakeflowDataSource(DataSource):
    """A Python Data Source over a ``LakeflowConnect`` connector.

    Subclassed per connector by :func:`data_source_for`, which sets ``connector_cls`` and
    ``format_name``. Options: ``tableName`` (required), ``isDeleteFlow``,
    ``maxRecordsPerBatch``, ``lakeflowStartOffset`` (an incremental batch read, see
    :mod:`datasource.increments`); all others go to the connector.
    """

    connector_cls: type[LakeflowConnect]
    format_name: str = "lakeflow_connect"

    @classmethod
    def name(cls) -> str:
        return cls.format_name

    def __init__(self, options):
        super().__init__(options)
        self.session = ConnectorSession(self.connector_cls, dict(options))
        # Spark keeps the options on the object; their repr must not show secrets.
        self.options = RedactedOptions(options)
        self._primary_keys: list[str] | None = None

    def _keys(self) -> list[str]:
        if self._primary_keys is None:
            self._primary_keys = (
                [] if self.session.table == METADATA_TABLE else self.session.metadata()["primary_keys"]
            )
        return self._primary_keys

    def schema(self) -> StructType:
        if self.session.table == METADATA_TABLE:
            return METADATA_SCHEMA
        if self.session.read_options.start_offset is not None:
            return with_offset_column(self.session.schema())
        return self.session.schema()

    def reader(self, schema: StructType):
        return LakeflowBatchReader(self.session, schema, self._keys())

    def streamReader(self, schema: StructType):
        if self.session.table == METADATA_TABLE or not self.session.partitioned_stream():
            raise not_partitioned()
        return LakeflowPartitionedStreamReader(self.session, schema, self._keys())

    def simpleStreamReader(self, schema: StructType):
        return LakeflowSimpleStreamReader(self.session, schema, self._keys())


def data_source_for(connector_cls: type[LakeflowConnect], format_name: str) -> type[LakeflowDataSource]:
    """A ``LakeflowDataSource`` subclass bound to ``connector_cls`` under ``format_name``."""
    return type(
        f"{connector_cls.__name__}DataSource",
        (LakeflowDataSource,),
        {"connector_cls": connector_cls, "format_name": format_name, "__module__": __name__},
    )
