"""Spark options: which ones the runtime reads, how they are validated, how they are shown.

Every option except the runtime's own (``tableName``, ``isDeleteFlow``, …) reaches the
connector, both as a connection option (constructor) and as a table option. Options whose
name contains token, secret, password or key are never shown: :func:`safe_repr` masks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sources.http.redact import redact_mapping
from sources.interface.options import normalized, raw_option

TABLE_NAME = "tableName"
IS_DELETE_FLOW = "isDeleteFlow"
TABLE_NAME_LIST = "tableNameList"
TABLE_CONFIGS = "tableConfigs"
MAX_RECORDS_PER_BATCH = "maxRecordsPerBatch"
#: Set by the pipeline runner: where readers report their request counts.
METRICS_DIR = "lakeflowMetricsDir"
#: Set by the pipeline runner: a batch read from this offset (JSON), with the end offset in
#: the result (see :mod:`datasource.increments`).
START_OFFSET = "lakeflowStartOffset"
#: The virtual table listing primary keys, cursor field and ingestion type per table.
METADATA_TABLE = "_community_table_metadata"
#: Options set by Databricks when it injects a Unity Catalog connection; not for connectors.
_PLATFORM_OPTIONS = ("databricks.connection", "path")

RUNTIME_OPTIONS = (TABLE_NAME, IS_DELETE_FLOW, TABLE_NAME_LIST, TABLE_CONFIGS, MAX_RECORDS_PER_BATCH, METRICS_DIR,
                   START_OFFSET)


class OptionError(ValueError):
    """A missing or malformed option; the message names it and the fix."""


def safe_repr(options: Mapping[str, Any]) -> str:
    return repr(redact_mapping(dict(options)))


class RedactedOptions(dict):
    """Options whose ``repr``/``str`` (logs, errors, plans) masks secret values."""

    def __repr__(self) -> str:
        return safe_repr(self)

    __str__ = __repr__


def _lookup(options: Mapping[str, str], name: str) -> Any:
    """An option by the name users type, whether or not Spark lower-cased the key."""
    return raw_option(options, name)


def parse_bool(options: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = _lookup(options, name)
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise OptionError(f"Option {name!r} must be 'true' or 'false', got {raw!r}.")


def parse_positive_int(options: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = _lookup(options, name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise OptionError(f"Option {name!r} must be a whole number, got {raw!r}.") from None
    if value <= 0:
        raise OptionError(f"Option {name!r} must be greater than 0, got {raw!r}.")
    return value


def parse_json(options: Mapping[str, str], name: str, expected: type, default: Any = None) -> Any:
    raw = _lookup(options, name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OptionError(f"Option {name!r} must be JSON ({expected.__name__}): {exc.msg} at position {exc.pos}.") from None
    if not isinstance(value, expected):
        raise OptionError(f"Option {name!r} must be a JSON {expected.__name__}, got {type(value).__name__}.")
    return value


def connector_options_of(options: Mapping[str, str]) -> dict[str, str]:
    """The options a connector receives: everything but the runtime's and the platform's own."""
    reserved = set(normalized({name: None for name in (*RUNTIME_OPTIONS, *_PLATFORM_OPTIONS)}))
    return {k: v for k, v in normalized(options).items() if k not in reserved}


@dataclass(frozen=True)
class ReadOptions:
    """The options of one read, split into what the runtime uses and what the connector gets."""

    table_name: str
    is_delete_flow: bool
    max_records_per_batch: int | None
    connector_options: dict[str, str]
    metrics_dir: str | None = None
    #: An incremental read's start (``lakeflowStartOffset``); ``None`` for a whole-table read.
    start_offset: dict | None = None

    @classmethod
    def parse(
        cls, options: Mapping[str, str], supported_tables: Callable[[dict[str, str]], list[str]] | None = None
    ) -> "ReadOptions":
        """Parse a read's options. ``supported_tables(connector_options)`` is asked only to
        list the tables in the error for a missing ``tableName``."""
        # Spark hands Python data sources their options with lower-cased keys; do the same
        # for options given as a plain dict so both paths behave alike.
        options = normalized(options)
        connector_options = connector_options_of(options)
        table = _lookup(options, TABLE_NAME)
        if table is None or str(table).strip() == "":
            listing = ""
            if supported_tables is not None:
                try:
                    listing = f" Supported tables: {', '.join(supported_tables(connector_options))}."
                except Exception as exc:  # listing is a courtesy; the missing option is the error
                    listing = f" (Listing the tables failed too: {type(exc).__name__}.)"
            raise OptionError(f"Option 'tableName' is required: .option('tableName', '<table>').{listing}")
        return cls(
            table_name=str(table),
            is_delete_flow=parse_bool(options, IS_DELETE_FLOW),
            max_records_per_batch=parse_positive_int(options, MAX_RECORDS_PER_BATCH),
            connector_options=connector_options,
            metrics_dir=_lookup(options, METRICS_DIR) or None,
            start_offset=parse_json(options, START_OFFSET, dict),
        )

    def __repr__(self) -> str:
        return (
            f"ReadOptions(table_name={self.table_name!r}, is_delete_flow={self.is_delete_flow}, "
            f"connector_options={safe_repr(self.connector_options)})"
        )
