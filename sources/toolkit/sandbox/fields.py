"""Fields of a declared sandbox table, and the deterministic seed data that fills them.

A field is declared by its type; nested objects and arrays nest::

    fields = {
        "id": INTEGER,
        "title": STRING,
        "state": one_of("open", "closed"),
        "labels": array_of(obj(id=INTEGER, name=STRING)),
        "closed_at": maybe(TIMESTAMP),                  # None in some rows
        "html_url": derived(lambda r, i: f"https://x.example/{r['id']}"),
        "updated_at": TIMESTAMP,
    }

:func:`generate` fills every column of row ``i`` from a seeded ``random.Random``: the same
seed gives the same rows, every declared field (nested ones included) holds a value in most
rows, and a ``maybe`` field is ``None`` in every fourth row. Timestamps are ISO-8601 UTC with
whole seconds (``2024-01-01T03:00:00Z``), increasing with ``i``; dates likewise; ``EPOCH_SECONDS`` fields hold the same moments as whole epoch seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

UTC = timezone.utc
#: The first seeded row's timestamps; row ``i`` is ``i`` hours later (plus a few minutes).
SEED_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_WORDS = ("amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor", "iris", "juniper",
          "kelp", "lumen", "meadow", "nectar", "onyx", "prairie")


@dataclass(frozen=True)
class Field:
    """What a column holds: ``type`` is one of ``string``, ``integer``, ``number``,
    ``boolean``, ``timestamp``, ``date``, ``object`` (with ``fields``) or ``array`` (with
    ``items``)."""

    type: str
    nullable: bool = False
    fields: dict[str, "Field"] = field(default_factory=dict)
    items: "Field | None" = None
    choices: tuple = ()
    #: ``value(record, i)``: computed from the rest of the (root) record after generation.
    value: Callable[[dict, int], Any] | None = None
    #: A timestamp's text form (``strftime``, UTC), when it is not ``2024-01-01T03:00:00Z``.
    time_format: str | None = None


STRING, INTEGER, NUMBER, BOOLEAN = Field("string"), Field("integer"), Field("number"), Field("boolean")
TIMESTAMP, DATE = Field("timestamp"), Field("date")
#: A timestamp sent as whole epoch seconds (Stripe's ``created: 1704067200``).
EPOCH_SECONDS = Field("epoch_seconds")


def timestamp_as(time_format: str) -> Field:
    """A timestamp written in the API's own form, a ``strftime`` format of the UTC moment
    (Jira's ``2024-01-01T03:00:00.000+0000`` is ``"%Y-%m-%dT%H:%M:%S.000+0000"``)."""
    return Field("timestamp", time_format=time_format)


_TYPES = {"string", "integer", "number", "boolean", "timestamp", "epoch_seconds", "date", "object", "array"}


def obj(**fields: Field) -> Field:
    """A nested object of these fields."""
    return Field("object", fields=dict(fields))


def array_of(items: Field) -> Field:
    """A list of one to three ``items``."""
    return Field("array", items=items)


def one_of(*choices: Any) -> Field:
    """One of ``choices`` (its type follows the first choice)."""
    kinds = {bool: "boolean", int: "integer", float: "number"}
    return Field(kinds.get(type(choices[0]), "string"), choices=tuple(choices))


def maybe(spec: Field) -> Field:
    """``spec``, or ``None`` in every fourth row."""
    return replace(spec, nullable=True)


def derived(value: Callable[[dict, int], Any]) -> Field:
    """A value computed from the rest of the record (``value(record, i)``, ``i`` the row's
    number), after every other field is generated."""
    return Field("string", value=value)


def check_fields(fields: dict[str, Field], where: str) -> None:
    """Fail early, naming the field, on a type the generator does not know."""
    for name, spec in fields.items():
        if spec.type not in _TYPES:
            raise ValueError(f"{where}.{name}: unknown field type {spec.type!r} (one of {', '.join(sorted(_TYPES))})")
        if spec.type == "object":
            check_fields(spec.fields, f"{where}.{name}")
        if spec.type == "array" and spec.items is None:
            raise ValueError(f"{where}.{name}: an array needs items=")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(spec: Field, moment: datetime) -> Any:
    """``moment`` as a field of this type holds it: ISO-8601 text (or the field's
    ``time_format``), or epoch seconds."""
    if spec.type == "epoch_seconds":
        return int(moment.timestamp())
    return moment.astimezone(UTC).strftime(spec.time_format) if spec.time_format else iso(moment)


def _value(name: str, spec: Field, i: int, rng: random.Random, at: datetime | None) -> Any:
    if spec.nullable and i % 4 == 3:
        return None
    if spec.choices:
        return rng.choice(spec.choices)
    kind = spec.type
    if kind == "object":
        return {k: _value(k, s, i, rng, at) for k, s in spec.fields.items()}
    if kind == "array":
        return [_value(name, replace(spec.items, nullable=False), i, rng, at) for _ in range(rng.randint(1, 3))]
    if kind == "string":
        return f"{name}-{rng.choice(_WORDS)}-{i}"
    if kind == "integer":
        return rng.randint(0, 100_000)
    if kind == "number":
        return round(rng.uniform(0, 10_000), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    moment = at if at is not None else SEED_EPOCH + timedelta(hours=i, minutes=rng.randint(0, 59))
    return moment.date().isoformat() if kind == "date" else stamp(spec, moment)


def generate(fields: dict[str, Field], i: int, rng: random.Random, at: datetime | None = None) -> dict:
    """Row ``i``: every field filled (``at``, when given, is every timestamp's value: a record
    written now). Derived fields are left for :func:`derive`."""
    return {name: (None if spec.value else _value(name, spec, i, rng, at)) for name, spec in fields.items()}


def derive(fields: dict[str, Field], record: dict, i: int, root: dict | None = None) -> None:
    """Compute the derived fields of ``record`` (nested ones included), in declaration order."""
    root = record if root is None else root
    for name, spec in fields.items():
        if spec.value is not None:
            record[name] = spec.value(root, i)
        elif spec.type == "object" and isinstance(record.get(name), dict):
            derive(spec.fields, record[name], i, root)


def get_path(record: dict, path: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"`` (``None`` where a level is missing)."""
    for part in path.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


def set_path(record: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    record[last] = value
