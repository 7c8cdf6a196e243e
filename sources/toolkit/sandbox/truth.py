"""What a sandbox holds: the truth a connector's reads are compared with.

Every sandbox answers, in process (``sandbox.truth(table)``) and over HTTP on a path no real
API uses (``GET /__truth__/<table>``, no auth, loopback only), with a :class:`TableTruth`:
every live record as the API would return it, keyed by primary key, with its cursor value,
and the keys deleted (with when) that a delete flow should report. Scenario helpers
(creates, updates, deletes, bursts on one timestamp) change it, since it is read from the
sandbox's own store. Live mode has no truth; the suite skips the checks that need one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sources.toolkit.cursors import cursor_key
from sources.toolkit.sandbox.fields import get_path

TRUTH_PATH = "/__truth__/"


def key_text(values: list[Any]) -> tuple[str, ...]:
    """A primary key as comparable text, the same for a record and for a Spark row."""
    return tuple(json.dumps(v, sort_keys=True, default=str) for v in values)


@dataclass
class TableTruth:
    table: str
    primary_keys: list[str]
    cursor_field: str | None
    #: key (see :func:`key_text`) -> the record as the API returns it
    records: dict[tuple[str, ...], dict] = field(default_factory=dict)
    #: key -> when it was deleted, for keys a delete flow reports
    deleted: dict[tuple[str, ...], Any] = field(default_factory=dict)

    @classmethod
    def of(cls, table: str, primary_keys: list[str], cursor_field: str | None, records, deleted=()) -> "TableTruth":
        """From records (dicts holding the key fields at the top level) and (record, when)
        pairs of deleted ones."""
        truth = cls(table, list(primary_keys), cursor_field)
        for record in records:
            truth.records[key_text([record.get(k) for k in primary_keys])] = record
        for record, when in deleted:
            truth.deleted[key_text([record.get(k) for k in primary_keys])] = when
        return truth

    def newest(self) -> Any:
        """The greatest cursor value among the live records (compared as the cursors'
        :func:`~sources.toolkit.cursors.cursor_key`), ``None`` without a cursor or records."""
        values = [v for r in self.records.values() if (v := get_path(r, self.cursor_field or "")) is not None]
        return max(values, key=cursor_key) if self.cursor_field and values else None

    def to_json(self) -> dict:
        return {
            "table": self.table,
            "primary_keys": self.primary_keys,
            "cursor_field": self.cursor_field,
            "records": list(self.records.values()),
            "deleted": [{"key": list(k), "at": when} for k, when in self.deleted.items()],
        }
