"""Per-table progress of a pipeline run: a live table on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from harness.pipeline.apply import BatchOutcome


@dataclass
class TableProgress:
    destination: str
    source_table: str
    kind: str
    status: str = "waiting"  # waiting | running | done | failed
    batches: int = 0
    totals: BatchOutcome = field(default_factory=BatchOutcome)
    requests: int | None = None
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    #: Seconds spent creating or evolving the destination before reading.
    setup_seconds: float = 0.0
    started_at: str | None = None
    full_refresh: bool = False
    offsets_before: dict | None = None
    offsets_after: dict | None = None
    schema_changes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def event(self, run_id: str) -> dict:
        """This table's entry in the event log (:mod:`harness.pipeline.events`)."""
        from harness.pipeline.events import now

        t = self.totals
        return {
            "event": "table", "run_id": run_id, "table": self.destination, "source_table": self.source_table,
            "kind": self.kind, "status": self.status, "started": self.started_at, "finished": now(),
            "seconds": round(self.elapsed, 3), "batches": self.batches, "rows_read": t.rows_read,
            "inserted": t.inserted, "updated": t.updated, "deleted": t.deleted, "requests": self.requests,
            "offsets_before": self.offsets_before, "offsets_after": self.offsets_after,
            "schema_changes": list(self.schema_changes), "warnings": list(self.warnings),
            "full_refresh": self.full_refresh, "error": self.error,
        }

    def row(self) -> list[str]:
        t = self.totals
        return [
            self.destination, self.kind, self.status, str(self.batches), f"{t.rows_read:,}", f"{t.inserted:,}",
            f"{t.updated:,}", f"{t.deleted:,}", "-" if self.requests is None else f"{self.requests:,}",
            f"{self.elapsed:.1f}s",
        ]


HEADERS = ["table", "kind", "status", "batches", "read", "inserted", "updated", "deleted", "requests", "elapsed"]


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    right = {3, 4, 5, 6, 7, 8, 9}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(HEADERS), *(line(r) for r in rows)])


class PlainProgress:
    """One line per event, for logs and CI."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def event(self, table: TableProgress, what: str) -> None:
        t = table.totals
        if what == "batch":
            text = (f"  {table.destination}: batch {table.batches}: read {t.rows_read:,}, +{t.inserted:,} "
                    f"~{t.updated:,} -{t.deleted:,} ({table.elapsed:.1f}s)")
        elif what == "start":
            text = f"  {table.destination}: started ({table.kind}, from {table.source_table})"
        elif what == "done":
            requests = "" if table.requests is None else f", {table.requests:,} requests"
            text = (f"  {table.destination}: done in {table.elapsed:.1f}s: {table.batches} batch(es), read {t.rows_read:,}, "
                    f"inserted {t.inserted:,}, updated {t.updated:,}, deleted {t.deleted:,}{requests}")
            text += "".join(f"\n  {table.destination}: schema change: {c}" for c in table.schema_changes)
            text += "".join(f"\n  {table.destination}: WARNING: {w}" for w in table.warnings)
        else:
            text = f"  {table.destination}: FAILED: {table.error}"
        with self.lock:
            print(text, file=self.stream, flush=True)


class LiveProgress:
    """A table redrawn in place (rich) while tables run."""

    def __init__(self, tables: list[TableProgress]):
        from rich.console import Console
        from rich.live import Live

        self.tables = tables
        self.console = Console()
        self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=True)

    def _render(self):
        from rich.table import Table

        grid = Table(box=None, pad_edge=False)
        for i, h in enumerate(HEADERS):
            grid.add_column(h, justify="right" if i >= 3 else "left")
        style = {"done": "green", "failed": "red", "running": "cyan", "waiting": "dim"}
        for t in self.tables:
            grid.add_row(*t.row(), style=style.get(t.status))
        return grid

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc):
        self.live.update(self._render())
        self.live.__exit__(*exc)

    def event(self, table: TableProgress, what: str) -> None:
        self.live.update(self._render())


def progress_for(tables: list[TableProgress], live: bool | None = None):
    """A live display on a terminal, plain lines otherwise (or as ``live`` says)."""
    if live is None:
        live = sys.stdout.isatty()
    return LiveProgress(tables) if live else PlainProgress()
