"""Column selection: keep or drop columns of a table, dotted paths reaching into structs.

``include`` keeps only the named columns (``properties.email`` keeps that field of the
``properties`` struct and nothing else of it; ``properties`` keeps the whole struct), so
columns the source adds later are not selected. ``exclude`` drops the named columns and
fields and keeps everything else, new columns included. Both may be given: the included
columns less the excluded ones. Used by ``lakeflow pipeline run`` and by the Spark
Declarative Pipelines file ``lakeflow pipeline render`` writes, so both select alike.

>>> selected_schema(schema, include=["id", "properties.email"])          # doctest: +SKIP
>>> select_columns(df, exclude=["properties.notes"])                     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Iterable, Sequence

from pyspark.sql.types import ArrayType, StructField, StructType


class ColumnSelectionError(ValueError):
    """A path that names no column, or a selection that leaves nothing."""


def _split(paths: Iterable[str] | None) -> list[tuple[str, ...]] | None:
    if paths is None:
        return None
    return [tuple(p.strip() for p in str(path).split(".")) for path in paths]


def _struct_of(data_type) -> StructType | None:
    if isinstance(data_type, StructType):
        return data_type
    if isinstance(data_type, ArrayType) and isinstance(data_type.elementType, StructType):
        return data_type.elementType
    return None


def _with_struct(data_type, struct: StructType):
    if isinstance(data_type, StructType):
        return struct
    return ArrayType(struct, data_type.containsNull)


def _field(schema: StructType, name: str) -> StructField | None:
    for f in schema.fields:
        if f.name == name:
            return f
    lowered = [f for f in schema.fields if f.name.lower() == name.lower()]
    return lowered[0] if len(lowered) == 1 else None


def field_at(schema: StructType, path: str) -> StructField | None:
    """The field a dotted ``path`` names through struct fields (``commit.committer.date``),
    exact names first; ``None`` when a step is missing or not a struct (arrays are not
    entered: a path through one names no single value)."""
    current: StructType | None = schema
    found: StructField | None = None
    for part in path.split("."):
        found = _field(current, part) if isinstance(current, StructType) else None
        if found is None:
            return None
        current = found.dataType if isinstance(found.dataType, StructType) else None
    return found


def check_paths(schema: StructType, paths: Sequence[str], option: str) -> list[str]:
    """The paths of ``paths`` that name no column or struct field of ``schema``."""
    bad = []
    for path, parts in zip(paths, _split(paths) or []):
        current: StructType | None = schema
        for part in parts:
            found = _field(current, part) if current is not None else None
            if found is None:
                bad.append(f"{option}: {path!r} is not a column of the table")
                break
            current = _struct_of(found.dataType)
    return bad


def _include(schema: StructType, paths: list[tuple[str, ...]]) -> StructType:
    fields = []
    for f in schema.fields:
        mine = [p for p in paths if p and p[0].lower() == f.name.lower()]
        if not mine:
            continue
        if any(len(p) == 1 for p in mine) or _struct_of(f.dataType) is None:
            fields.append(f)
            continue
        inner = _include(_struct_of(f.dataType), [p[1:] for p in mine])
        fields.append(StructField(f.name, _with_struct(f.dataType, inner), f.nullable, f.metadata))
    return StructType(fields)


def _exclude(schema: StructType, paths: list[tuple[str, ...]]) -> StructType:
    fields = []
    for f in schema.fields:
        mine = [p for p in paths if p and p[0].lower() == f.name.lower()]
        if any(len(p) == 1 for p in mine):
            continue
        if mine and _struct_of(f.dataType) is not None:
            inner = _exclude(_struct_of(f.dataType), [p[1:] for p in mine])
            f = StructField(f.name, _with_struct(f.dataType, inner), f.nullable, f.metadata)
        fields.append(f)
    return StructType(fields)


def selected_schema(schema: StructType, include: Sequence[str] | None = None,
                    exclude: Sequence[str] | None = None) -> StructType:
    """``schema`` with only the selected columns and fields (paths that name nothing are
    ignored here; :func:`check_paths` reports them)."""
    out = schema
    if include is not None:
        out = _include(out, _split(include))
    if exclude:
        out = _exclude(out, _split(exclude))
    return out


def project(df, schema: StructType, *, fill_missing: bool = False):
    """``df`` reshaped to ``schema``: columns and nested struct fields (arrays of structs
    included) taken by name, in ``schema``'s order. A field ``df`` lacks is an error, or,
    with ``fill_missing``, a typed null."""
    from pyspark.sql import functions as F

    def shaped(column, have, want):
        want_struct, have_struct = _struct_of(want), _struct_of(have)
        if want_struct is None or have_struct is None or have == want:
            return column if have == want or want_struct is None else column.cast(want)
        if isinstance(want, ArrayType):
            if not isinstance(have, ArrayType):
                return column.cast(want)
            return F.transform(column, lambda x: _struct(x, have_struct, want_struct))
        return F.when(column.isNull(), F.lit(None).cast(want)).otherwise(_struct(column, have_struct, want_struct))

    def _struct(column, have: StructType, want: StructType):
        parts = []
        for f in want.fields:
            mine = _field(have, f.name)
            if mine is None:
                if not fill_missing:
                    raise ColumnSelectionError(f"column {f.name!r} is not in the data")
                parts.append(F.lit(None).cast(f.dataType).alias(f.name))
            else:
                parts.append(shaped(column.getField(mine.name), mine.dataType, f.dataType).alias(f.name))
        return F.struct(*parts)

    columns = []
    for f in schema.fields:
        mine = _field(df.schema, f.name)
        if mine is None:
            if not fill_missing:
                raise ColumnSelectionError(f"column {f.name!r} is not in the data")
            columns.append(F.lit(None).cast(f.dataType).alias(f.name))
        else:
            columns.append(shaped(F.col(f"`{mine.name}`"), mine.dataType, f.dataType).alias(f.name))
    return df.select(*columns)


def select_columns(df, include: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
                   keep: Sequence[str] = ()):
    """``df`` with only the selected columns (see the module docstring); the top-level
    columns in ``keep`` (system columns such as a delete marker) always stay."""
    if include is None and not exclude:
        return df
    wanted = selected_schema(df.schema, None if include is None else [*include, *keep], exclude)
    return project(df, wanted)
