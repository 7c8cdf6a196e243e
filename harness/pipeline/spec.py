"""The pipeline spec: what lands where (``configs/pipelines/*.yaml``), validated with pydantic.

.. code-block:: yaml

    name: hubspot_demo              # names the pipeline's state (checkpoints) and write ids
    source: hubspot                 # a folder under sources/
    connection: hubspot             # locally: LAKEFLOW_HUBSPOT_* variables / dev_config.json;
                                    # on Databricks: a Unity Catalog connection name
    destination:
      catalog: main                 # used on Databricks; locally tables go to spark_catalog
      schema: hubspot_demo          # or  path: ./lakeflow-data/tables  (path-based tables)
    options: {}                     # table options given to every table
    tables:                         # omit to land every table the source lists, SCD 1
      - source_table: contacts
      - source_table: deals
        destination_table: deals_history
        scd_type: 2
        primary_keys: [id]          # override the connector's
        sequence_by: updatedAt      # override the cursor field
        options: {maxRecordsPerBatch: "1000"}
        schema_changes: evolve      # or fail (default evolve: add columns, widen types)
        include_columns: [id, updatedAt, properties.dealname]   # or exclude_columns: [...]

:func:`load_spec` checks the file's shape (unknown keys, types) and :func:`resolve` checks it
against the source (unknown tables, SCD 2 on an append table, cdc without primary keys) —
both before any Spark work, each error naming the key or table and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from datasource.columns import field_at

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SpecError(ValueError):
    """A pipeline spec that cannot run; the message names the key or table and the fix."""


def _options_dict(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping of option names to values")
    out = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            raise ValueError(f"option {key!r} must be a scalar (string, number or boolean)")
        out[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(_Strict):
    """Where tables land: a schema (``catalog`` is used on Databricks) or a folder."""

    catalog: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    path: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> "Destination":
        if (self.schema_ is None) == (self.path is None):
            raise ValueError("give exactly one of 'schema' (tables in the metastore) or 'path' (a folder of Delta tables)")
        if self.path is not None and self.catalog is not None:
            raise ValueError("'catalog' goes with 'schema', not with 'path'")
        for name in ("catalog", "schema_"):
            value = getattr(self, name)
            if value is not None and not _IDENTIFIER.fullmatch(value):
                raise ValueError(f"{name.rstrip('_')} {value!r} is not a valid identifier (letters, digits, _)")
        return self


class TableSpec(_Strict):
    """One destination table fed from one source table."""

    source_table: str
    destination_table: str | None = None
    scd_type: Literal[1, 2] = 1
    primary_keys: list[str] | None = None
    sequence_by: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    schema_changes: Literal["evolve", "fail"] = "evolve"
    include_columns: list[str] | None = None
    exclude_columns: list[str] | None = None

    _options = field_validator("options", mode="before")(_options_dict)

    @field_validator("include_columns", "exclude_columns")
    @classmethod
    def _columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not str(v).strip() for v in value)):
            raise ValueError("must list column names (dotted paths reach into structs: properties.email)")
        return value

    @field_validator("destination_table")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid table name (letters, digits, _)")
        return value

    @field_validator("primary_keys")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("must name at least one column (or be omitted to use the connector's)")
        return value

    @property
    def destination(self) -> str:
        return self.destination_table or re.sub(r"[^A-Za-z0-9_]", "_", self.source_table)


class PipelineSpec(_Strict):
    """A whole pipeline file."""

    name: str
    source: str
    connection: str | None = None
    destination: Destination
    options: dict[str, str] = Field(default_factory=dict)
    tables: list[TableSpec] | None = None

    _options = field_validator("options", mode="before")(_options_dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid pipeline name (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _unique_destinations(self) -> "PipelineSpec":
        seen: dict[str, int] = {}
        for i, table in enumerate(self.tables or []):
            name = table.destination.lower()
            if name in seen:
                raise ValueError(
                    f"tables[{i}] and tables[{seen[name]}] both land in {table.destination!r}: give one of them "
                    "another destination_table"
                )
            seen[name] = i
        return self


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out.replace("schema_", "schema")


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = _location(err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key (check its spelling; see harness/pipeline/spec.py for the keys)")
        elif err["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def parse_spec(data: Any, origin: str = "spec") -> PipelineSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: a pipeline spec is a mapping with name, source, destination and tables")
    try:
        return PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"{origin}: {_describe(exc)}") from None


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and validate a YAML spec; a :class:`SpecError` names the bad key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read pipeline spec {str(path)!r}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    return parse_spec(data, str(path))


# ---------------------------------------------------------------------------- resolution
@dataclass(frozen=True)
class TablePlan:
    """One destination table, resolved against the source."""

    source_table: str
    destination: str
    ingestion_type: str
    scd_type: int
    primary_keys: list[str]
    sequence_by: str | None
    options: dict[str, str] = field(default_factory=dict)
    schema_changes: str = "evolve"
    include_columns: list[str] | None = None
    exclude_columns: list[str] | None = None
    #: The connector's cursor field (protected from column selection like keys).
    cursor_field: str | None = None

    @property
    def with_deletes(self) -> bool:
        return self.ingestion_type == "cdc_with_deletes"

    @property
    def kind(self) -> str:
        """``snapshot``, ``append``, ``cdc`` (SCD 1) or ``scd2``… as shown to users."""
        if self.ingestion_type == "append":
            return "append"
        base = "snapshot" if self.ingestion_type == "snapshot" else "cdc"
        return f"{base} scd{self.scd_type}" + (" +deletes" if self.with_deletes else "")


def resolve(spec: PipelineSpec, connector, schema_of=None) -> list[TablePlan]:
    """Check ``spec`` against ``connector`` (a ``LakeflowConnect`` instance) and return one
    plan per destination table. Every problem is collected and raised as one
    :class:`SpecError`. ``schema_of(table, options)`` (default: the connector's) checks that
    overridden key and sequence columns exist."""
    from sources.interface import INGESTION_TYPES

    available = list(connector.list_tables())
    tables = spec.tables if spec.tables is not None else [TableSpec(source_table=t) for t in available]
    problems: list[str] = []
    plans: list[TablePlan] = []
    schema_of = schema_of or connector.get_table_schema
    for i, table in enumerate(tables):
        where = f"tables[{i}] ({table.source_table!r})"
        if table.source_table not in available:
            problems.append(f"{where}: source {spec.source!r} has no table {table.source_table!r}; its tables: {', '.join(available)}")
            continue
        options = {**spec.options, **table.options}
        meta = connector.read_table_metadata(table.source_table, dict(options)) or {}
        ingestion = meta.get("ingestion_type")
        if ingestion not in INGESTION_TYPES:
            problems.append(f"{where}: the connector gives ingestion type {ingestion!r}, not one of {', '.join(INGESTION_TYPES)}")
            continue
        keys = list(table.primary_keys or meta.get("primary_keys") or [])
        sequence = table.sequence_by or meta.get("cursor_field")
        if table.scd_type == 2 and ingestion == "append":
            problems.append(f"{where}: scd_type 2 needs changes by primary key, but {table.source_table!r} is an append table; use scd_type 1 (or omit it)")
        if ingestion in ("cdc", "cdc_with_deletes") and not keys:
            problems.append(f"{where}: ingestion type {ingestion!r} needs a primary key; set primary_keys")
        if ingestion in ("cdc", "cdc_with_deletes") and not sequence:
            problems.append(f"{where}: ingestion type {ingestion!r} needs a sequence column; set sequence_by")
        if ingestion == "snapshot" and table.scd_type == 2 and not keys:
            problems.append(f"{where}: scd_type 2 on a snapshot table needs a primary key; set primary_keys")
        if table.primary_keys or table.sequence_by or table.include_columns or table.exclude_columns:
            schema = schema_of(table.source_table, dict(options))
            columns = {f.name for f in schema.fields}
            for column in table.primary_keys or []:
                if column not in columns:
                    problems.append(f"{where}: primary key {column!r} is not a top-level column of the table's schema "
                                    f"({', '.join(sorted(columns))})")
            if table.sequence_by and field_at(schema, table.sequence_by) is None:
                problems.append(f"{where}: sequence_by {table.sequence_by!r} is not a column (or a dotted path through "
                                f"struct fields) of the table's schema ({', '.join(sorted(columns))})")
            problems.extend(f"{where}: {p}" for p in _selection_problems(
                table, schema, keys, sequence, meta.get("cursor_field")))
        plans.append(TablePlan(
            source_table=table.source_table, destination=table.destination, ingestion_type=ingestion,
            scd_type=table.scd_type if ingestion != "append" else 1, primary_keys=keys,
            sequence_by=sequence if ingestion != "snapshot" else None, options=options,
            schema_changes=table.schema_changes, include_columns=table.include_columns,
            exclude_columns=table.exclude_columns, cursor_field=meta.get("cursor_field"),
        ))
    if problems:
        raise SpecError(f"pipeline {spec.name!r}: " + "; ".join(problems))
    return plans


def _covers(selector: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """Whether selecting ``selector`` selects (a part of) ``path``, or all of it."""
    n = min(len(selector), len(path))
    return [p.lower() for p in selector[:n]] == [p.lower() for p in path[:n]]


def _selection_problems(table: TableSpec, schema, keys: list[str], sequence: str | None, cursor: str | None) -> list[str]:
    """Column selection checked: every path names a column, and no primary key, sequence
    column or cursor is left out."""
    from datasource.columns import check_paths

    problems = []
    if table.include_columns:
        problems += check_paths(schema, table.include_columns, "include_columns")
    if table.exclude_columns:
        problems += check_paths(schema, table.exclude_columns, "exclude_columns")
    protected = [(k, "primary key") for k in keys]
    protected += [(c, what) for c, what in ((sequence, "sequence column"), (cursor, "cursor")) if c]
    seen: set[str] = set()
    for column, what in protected:
        if column in seen:
            continue
        seen.add(column)
        path = tuple(column.split("."))
        if table.exclude_columns and any(len(e) <= len(path) and _covers(e, path)
                                         for e in (tuple(x.split(".")) for x in table.exclude_columns)):
            problems.append(f"exclude_columns leaves out the {what} {column!r}; a table needs it (remove it from exclude_columns)")
        if table.include_columns and not any(len(i) <= len(path) and _covers(i, path)
                                             for i in (tuple(x.split(".")) for x in table.include_columns)):
            problems.append(f"include_columns leaves out the {what} {column!r}; a table needs it (add it to include_columns)")
    return problems

