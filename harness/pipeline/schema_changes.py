"""What changed between a destination table's schema and the source's, and what to do.

* A new column or a new field inside a struct (also inside an array of structs): added.
* A type Delta can widen in place (byte/short/int → a wider integer, float → double, a
  decimal with more integral digits and at least the same scale): widened with Delta's type
  widening (``delta.enableTypeWidening``).
* A narrower type than the table's (the table was widened before): written as the table's
  type, nothing to do.
* Any other type change (a number becoming a string, a struct becoming a scalar…): the table
  fails with one line naming the table, column, old and new type and the fix
  (``--full-refresh``); the pipeline's other tables go on.
* A column the source no longer sends: kept in the table, null from then on, and reported.

``schema_changes: fail`` on a table makes any of these changes an error instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql.types import (
    ArrayType,
    ByteType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StructType,
)

_INTEGERS = (ByteType, ShortType, IntegerType, LongType)

Path = tuple[str, ...]


class SchemaChangeError(ValueError):
    """A source schema change the table cannot take; the message names the fix."""


def widens(old: DataType, new: DataType) -> bool:
    """Whether Delta's type widening turns ``old`` into ``new`` in place."""
    if isinstance(old, _INTEGERS) and isinstance(new, _INTEGERS):
        return _INTEGERS.index(type(new)) > _INTEGERS.index(type(old))
    if isinstance(old, FloatType) and isinstance(new, DoubleType):
        return True
    if isinstance(old, DecimalType) and isinstance(new, DecimalType):
        return (new.scale >= old.scale and new.precision - new.scale >= old.precision - old.scale
                and (new.precision, new.scale) != (old.precision, old.scale))
    return False


@dataclass
class SchemaDiff:
    added: list[tuple[Path, DataType]] = field(default_factory=list)
    widened: list[tuple[Path, DataType, DataType]] = field(default_factory=list)
    incompatible: list[tuple[Path, DataType, DataType]] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.widened or self.incompatible or self.removed)

    def describe(self) -> list[str]:
        """One entry per change, for the event log."""
        text = [f"added {'.'.join(p)} {t.simpleString()}" for p, t in self.added]
        text += [f"widened {'.'.join(p)} {o.simpleString()} -> {n.simpleString()}" for p, o, n in self.widened]
        text += [f"incompatible {'.'.join(p)} {o.simpleString()} -> {n.simpleString()}" for p, o, n in self.incompatible]
        text += [f"removed {'.'.join(p)}" for p in self.removed]
        return text


def diff(table: StructType, source: StructType, ignore: tuple[str, ...] = (), prefix: Path = ()) -> SchemaDiff:
    """Compare the table's schema with the source's (top-level names in ``ignore``, the
    pipeline's own columns, are left out)."""
    out = SchemaDiff()
    have = {f.name.lower(): f for f in table.fields if f.name not in ignore}
    seen = set()
    for wanted in source.fields:
        if wanted.name in ignore:
            continue
        mine = have.get(wanted.name.lower())
        path = (*prefix, wanted.name)
        if mine is None:
            out.added.append((path, wanted.dataType))
            continue
        seen.add(wanted.name.lower())
        _compare(mine.dataType, wanted.dataType, (*prefix, mine.name), out)
    out.removed.extend((*prefix, f.name) for key, f in have.items() if key not in seen)
    return out


def _compare(old: DataType, new: DataType, path: Path, out: SchemaDiff) -> None:
    if old == new:
        return
    if isinstance(old, StructType) and isinstance(new, StructType):
        inner = diff(old, new, prefix=path)
        for name in ("added", "widened", "incompatible", "removed"):
            getattr(out, name).extend(getattr(inner, name))
        return
    if isinstance(old, ArrayType) and isinstance(new, ArrayType):
        if isinstance(old.elementType, StructType) and isinstance(new.elementType, StructType):
            inner = diff(old.elementType, new.elementType, prefix=(*path, "element"))
            for name in ("added", "widened", "incompatible", "removed"):
                getattr(out, name).extend(getattr(inner, name))
            return
        if old.elementType == new.elementType:
            return
    if isinstance(old, MapType) and isinstance(new, MapType) and old.simpleString() == new.simpleString():
        return
    if old.simpleString() == new.simpleString():
        return  # nullability only
    if widens(old, new):
        out.widened.append((path, old, new))
    elif widens(new, old):
        return  # the table is already wider: written as the table's type
    else:
        out.incompatible.append((path, old, new))


def check(diff_: SchemaDiff, table: str, policy: str, rebuild_hint: str) -> None:
    """Raise :class:`SchemaChangeError` for what ``policy`` (``evolve`` | ``fail``) does not
    allow; the message names the table, the column(s), the types and the fix."""
    if diff_.incompatible:
        path, old, new = diff_.incompatible[0]
        more = f" (and {len(diff_.incompatible) - 1} more)" if len(diff_.incompatible) > 1 else ""
        raise SchemaChangeError(
            f"table {table}: column {'.'.join(path)} changed type from {old.simpleString()} to {new.simpleString()} "
            f"in the source{more}, which Delta cannot widen in place; rebuild the table with {rebuild_hint}")
    if policy == "fail" and diff_.changed:
        raise SchemaChangeError(
            f"table {table}: the source's schema changed ({'; '.join(diff_.describe())}) and the table has "
            f"schema_changes: fail; set schema_changes: evolve, or rebuild it with {rebuild_hint}")


def target_type(table: StructType, source: StructType) -> StructType:
    """The schema the table has once the diff is applied: every table column (removed ones
    included), widened types, and the added columns and fields, in the table's order."""
    by_name = {f.name.lower(): f for f in source.fields}
    fields = []
    for f in table.fields:
        wanted = by_name.pop(f.name.lower(), None)
        fields.append(f if wanted is None else f.__class__(f.name, _merged(f.dataType, wanted.dataType), True, f.metadata))
    fields.extend(by_name.values())
    return StructType(fields)


def _merged(old: DataType, new: DataType) -> DataType:
    if isinstance(old, StructType) and isinstance(new, StructType):
        return target_type(old, new)
    if isinstance(old, ArrayType) and isinstance(new, ArrayType) and isinstance(old.elementType, StructType) \
            and isinstance(new.elementType, StructType):
        return ArrayType(target_type(old.elementType, new.elementType), old.containsNull or new.containsNull)
    if widens(old, new):
        return new
    return old
