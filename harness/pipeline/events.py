"""The pipeline's event log: what every run did, per table.

Every ``lakeflow pipeline run`` (and demo run) appends JSON lines to
``<home>/pipelines/<pipeline>/events.jsonl``:

* ``{"event": "run_started", "run_id", "time", "pipeline", "source", "target", "tables",
  "full_refresh"}``
* ``{"event": "table", "run_id", "table", "source_table", "kind", "status"
  (done | failed), "started", "finished", "seconds", "batches", "rows_read", "inserted",
  "updated", "deleted", "requests", "offsets_before", "offsets_after", "schema_changes",
  "warnings", "full_refresh", "error"}`` — one per destination table, when it ends;
* ``{"event": "run_finished", "run_id", "time", "status" (done | failed), "seconds",
  "failed"}``.

Times are UTC ISO-8601. Offsets are the connector's (cursors, never credentials). At the end
of a run the table events are also appended, in one commit, to the Delta table
``<schema>._lakeflow_events`` (path destinations: ``<path>/_lakeflow_events``), so the
history can be queried with SQL next to the data.

``lakeflow pipeline status SPEC`` and ``lakeflow pipeline history SPEC`` read the JSON lines
(no Spark).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

EVENTS_FILE = "events.jsonl"
#: Name of the Delta copy of the log in the destination schema (or folder).
EVENTS_TABLE = "_lakeflow_events"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


class EventLog:
    """Appends events to one pipeline's ``events.jsonl`` (thread-safe; one line per write,
    flushed and synced, so a killed run leaves whole lines)."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / EVENTS_FILE
        self._lock = threading.Lock()

    def append(self, event: dict) -> None:
        line = json.dumps(event, sort_keys=True, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(line)
                out.flush()
                os.fsync(out.fileno())

    def read(self) -> list[dict]:
        return list(read_events(self.path))


def read_events(path: Path) -> Iterator[dict]:
    """Every whole event line of ``path`` (a line cut by a crash is skipped)."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event


@dataclass
class Run:
    """One run as the log tells it."""

    run_id: str
    started: dict | None
    tables: list[dict]
    finished: dict | None

    @property
    def status(self) -> str:
        if self.finished is not None:
            return self.finished.get("status", "?")
        return "incomplete"  # killed, or still running


def runs(events: Iterable[dict]) -> list[Run]:
    """Events grouped by run, oldest first."""
    order: list[str] = []
    by_id: dict[str, Run] = {}
    for event in events:
        run_id = event.get("run_id")
        if not run_id:
            continue
        run = by_id.get(run_id)
        if run is None:
            run = by_id[run_id] = Run(run_id, None, [], None)
            order.append(run_id)
        kind = event.get("event")
        if kind == "run_started":
            run.started = event
        elif kind == "table":
            run.tables.append(event)
        elif kind == "run_finished":
            run.finished = event
    return [by_id[r] for r in order]


def last_per_table(events: Iterable[dict]) -> dict[str, dict]:
    """The newest table event of each destination table, and its newest success."""
    last: dict[str, dict] = {}
    for event in events:
        if event.get("event") != "table":
            continue
        table = event["table"]
        entry = last.setdefault(table, {"last": None, "success": None})
        entry["last"] = event
        if event.get("status") == "done":
            entry["success"] = event
    return last


#: The Delta copy's columns (Spark SQL types), in order.
TABLE_COLUMNS = (
    ("run_id", "string"), ("pipeline", "string"), ("table", "string"), ("source_table", "string"), ("kind", "string"),
    ("status", "string"), ("started", "timestamp"), ("finished", "timestamp"), ("seconds", "double"),
    ("batches", "bigint"), ("rows_read", "bigint"), ("inserted", "bigint"), ("updated", "bigint"),
    ("deleted", "bigint"), ("requests", "bigint"), ("offsets_before", "string"), ("offsets_after", "string"),
    ("schema_changes", "array<string>"), ("warnings", "array<string>"), ("full_refresh", "boolean"),
    ("error", "string"),
)


def table_rows(events: list[dict], pipeline: str) -> list[tuple]:
    """Table events as rows of :data:`TABLE_COLUMNS` (offsets as JSON text)."""
    rows = []
    for e in events:
        rows.append((
            e["run_id"], pipeline, e["table"], e.get("source_table"), e.get("kind"), e.get("status"),
            parse_time(e.get("started")), parse_time(e.get("finished")), float(e.get("seconds") or 0.0),
            e.get("batches"), e.get("rows_read"), e.get("inserted"), e.get("updated"), e.get("deleted"),
            e.get("requests"), json.dumps(e.get("offsets_before"), sort_keys=True),
            json.dumps(e.get("offsets_after"), sort_keys=True), list(e.get("schema_changes") or []),
            list(e.get("warnings") or []), bool(e.get("full_refresh")), e.get("error"),
        ))
    return rows
