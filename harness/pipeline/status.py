"""``lakeflow pipeline status`` and ``lakeflow pipeline history``: the event log, read back.

* status — per destination table, its last run: when, outcome, rows, and the lag (how long
  ago its last successful run finished); tables of the spec that never ran say so.
* history — runs newest first, each with its tables' lines (``--table`` keeps one table,
  ``--limit`` the newest N runs); ``--json`` prints the table events as JSON lines.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from harness.pipeline.events import last_per_table, parse_time, runs


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "-"
    s = max(0, int((now - then).total_seconds()))
    if s < 60:
        return f"{s}s ago"
    if s < 3600:
        return f"{s // 60}m {s % 60}s ago"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m ago"
    return f"{s // 86400}d {s % 86400 // 3600}h ago"


def _columns(rows: list[list[str]], headers: list[str], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _changes(event: dict) -> str:
    return f"+{event.get('inserted') or 0:,} ~{event.get('updated') or 0:,} -{event.get('deleted') or 0:,}"


def format_status(events: list[dict], tables: list[str], now: datetime | None = None) -> str:
    """One line per table of the spec (in its order), then tables the log knows that the
    spec no longer lists."""
    now = now or datetime.now(timezone.utc)
    known = last_per_table(events)
    rows = []
    for table in [*tables, *(t for t in known if t not in tables)]:
        entry = known.get(table)
        if entry is None:
            rows.append([table, "never run", "-", "-", "-", "-", "-"])
            continue
        last, success = entry["last"], entry["success"]
        outcome = last.get("status", "?") + (" (full refresh)" if last.get("full_refresh") else "")
        if last.get("warnings"):
            outcome += " (warning)"
        rows.append([
            table, outcome, (last.get("finished") or "-").replace("T", " ")[:19], f"{last.get('rows_read') or 0:,}",
            _changes(last), _age(parse_time(success.get("finished")) if success else None, now),
            (last.get("error") or (last.get("warnings") or [""])[0] or "")[:120],
        ])
    return _columns(rows, ["table", "last run", "finished (UTC)", "read", "changes", "last success", "note"], {3})


def format_history(events: list[dict], table: str | None = None, limit: int | None = None) -> str:
    chosen = [run for run in runs(events) if table is None or any(t["table"] == table for t in run.tables)]
    chosen = list(reversed(chosen))[:limit] if limit else list(reversed(chosen))
    if not chosen:
        return "no runs recorded" + (f" for table {table!r}" if table else "")
    lines = []
    for run in chosen:
        started = (run.started or {}).get("time", "?")
        seconds = (run.finished or {}).get("seconds")
        took = f" in {seconds:.1f}s" if isinstance(seconds, (int, float)) else ""
        refresh = (run.started or {}).get("full_refresh") or []
        lines.append(f"run {run.run_id}: {run.status}{took}, started {started}"
                     + (f", full refresh of {', '.join(refresh)}" if refresh else ""))
        for event in run.tables:
            if table is not None and event["table"] != table:
                continue
            note = event.get("error") or "; ".join([*event.get("schema_changes", []), *event.get("warnings", [])])
            lines.append(f"  {event['table']:<24} {event.get('status', '?'):<7} read {event.get('rows_read') or 0:>8,} "
                         f"{_changes(event):<22} {event.get('requests') if event.get('requests') is not None else '-'!s:>6} "
                         f"requests {event.get('seconds', 0):>7.1f}s" + (f"  {note}" if note else ""))
    return "\n".join(lines)


def history_json(events: list[dict], table: str | None = None, limit: int | None = None) -> str:
    """The table events of the newest ``limit`` runs, one JSON object per line, newest run first."""
    chosen = list(reversed(runs(events)))
    if table is not None:
        chosen = [r for r in chosen if any(t["table"] == table for t in r.tables)]
    chosen = chosen[:limit] if limit else chosen
    return "\n".join(json.dumps(e, sort_keys=True) for run in chosen for e in run.tables
                     if table is None or e["table"] == table)
