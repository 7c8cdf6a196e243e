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
from sources.interface.options import normalized

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
    example = f"'[\"{(session.tables() or ['table'])[0]}\"]'"
    if tables is None:
        raise OptionError(f"Option {TABLE_NAME_LIST!r} is required for the metadata table: a JSON list of table names, e.g. {example}.")
    if not tables or not all(isinstance(t, str) for t in tables):
        raise OptionError(
            f"Option {TABLE_NAME_LIST!r} must be a non-empty JSON list of table names (strings), e.g. {example}; "
            f"got {options.get(TABLE_NAME_LIST.lower())!r:.100}."
        )
    configs = parse_json(options, TABLE_CONFIGS, dict, default={})
    bad = [name for name, value in configs.items() if not isinstance(value, dict)]
    if bad:
        raise OptionError(
            f"Option {TABLE_CONFIGS!r} must map each table name to a JSON object of options, e.g. "
            f"'{{\"{bad[0]}\": {{\"page_size\": \"100\"}}}}'; the value for {bad[0]!r} is a "
            f"{type(configs[bad[0]]).__name__}."
        )
    known = set(session.tables())
    rows = []
    connector = session.connector
    for table in tables:
        if table not in known:
            raise UnknownTableError(table, known)
        table_options = {**session.table_options, **normalized({k: str(v) for k, v in (configs.get(table) or {}).items()})}
        meta = validate_metadata(table, connector.read_table_metadata(table, table_options))
        rows.append({"tableName": table, **meta})
    yield ArrowConverter(schema, table_name="_community_table_metadata").convert(rows)
