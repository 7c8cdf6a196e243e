"""The virtual metadata table ``_community_table_metadata``.

``spark.read.format(fmt).option("tableName", "_community_table_metadata")
.option("tableNameList", '["contacts", "deals"]').load()`` returns one row per table: its
primary keys, cursor field and ingestion type. Pipelines use it to decide how to land each
table. ``tableConfigs`` (JSON: table → options) adds per-table options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pyarrow as pa
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from datasource.arrow_convert import ArrowConverter
from sources.interface.contract import validate_metadata
from datasource.options import TABLE_CONFIGS, TABLE_NAME_LIST, OptionError, parse_json
from sources.interface import UnknownTableError

if TYPE_CHECKING:
    from datasource.connector_session import ConnectorSession

METADATA_SCHEMA = StructType(
    [
        StructField("tableName", StringType(), False),
        StructField("primary_keys", ArrayType(StringType(), False), True),
        StructField("cursor_field", StringType(), True),
        StructField("ingestion_type", StringType(), False),
    ]
)


def read_metadata_table(session: "ConnectorSession", schema: StructType) -> Iterator[pa.RecordBatch]:
    options = session.raw_options
    tables = parse_json(options, TABLE_NAME_LIST, list)
    if not tables or not all(isinstance(t, str) for t in tables):
        raise OptionError(
            f"Option {TABLE_NAME_LIST!r} is required for the metadata table: a JSON list of table names, "
            f"e.g. '[\"{(session.tables() or ['table'])[0]}\"]'."
        )
    configs = parse_json(options, TABLE_CONFIGS, dict, default={})
    known = set(session.tables())
    rows = []
    connector = session.connector
    for table in tables:
        if table not in known:
            raise UnknownTableError(table, known)
        table_options = {**session.table_options, **{str(k).lower(): str(v) for k, v in (configs.get(table) or {}).items()}}
        meta = validate_metadata(table, connector.read_table_metadata(table, table_options))
        rows.append({"tableName": table, **meta})
    yield ArrowConverter(schema, table_name="_community_table_metadata").convert(rows)
