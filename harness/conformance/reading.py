"""Reading a table through the connector's own offset loop, with the contract checked."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from datasource.connector_session import offset_key


class OffsetContractError(AssertionError):
    """The connector broke the offset contract (the message says how)."""


@dataclass
class LoopRead:
    records: list[dict] = field(default_factory=list)
    offsets: list[Any] = field(default_factory=list)
    calls: int = 0

    @property
    def final_offset(self) -> Any:
        return self.offsets[-1] if self.offsets else None


def read_all(
    read_fn: Callable[[str, Any, dict], tuple[Any, Any]],
    table: str,
    table_options: dict,
    start: Any = None,
    max_calls: int = 10_000,
) -> LoopRead:
    """Call ``read_fn`` from ``start`` until the offset stops advancing, checking on the way
    that records are dicts, offsets are JSON dicts, and the offset advanced whenever records
    came back."""
    result = LoopRead()
    current = start
    for _ in range(max_calls):
        records, end = read_fn(table, current, table_options)
        records = list(records)
        result.calls += 1
        for record in records:
            if not isinstance(record, dict):
                raise OffsetContractError(f"{table}: a record is a {type(record).__name__}, not a dict")
        if end is not None:
            if not isinstance(end, dict):
                raise OffsetContractError(f"{table}: offset {end!r} is not a dict")
            try:
                json.loads(json.dumps(end))
            except (TypeError, ValueError) as exc:
                raise OffsetContractError(f"{table}: offset {end!r} is not JSON: {exc}") from None
        result.records.extend(records)
        result.offsets.append(end)
        same = end is None or offset_key(end) == offset_key(current)
        if same and records and end is not None:
            raise OffsetContractError(
                f"{table}: {len(records)} records returned with an end offset equal to the start {offset_key(current)}"
            )
        if same:
            return result
        current = end
    raise OffsetContractError(f"{table}: the offset was still advancing after {max_calls} calls (no convergence)")


def poll(check: Callable[[], Any], deadline_seconds: float, interval: float = 0.25, what: str = "condition") -> Any:
    """Call ``check`` until it returns a truthy value or the deadline passes (then fail),
    waiting ``interval`` seconds between tries, doubling up to 5 s. Never a fixed sleep."""
    end = time.monotonic() + deadline_seconds
    last = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {deadline_seconds:.0f}s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 2, 5.0)


def get_path(record: Any, path: str) -> Any:
    """``get_path({"properties": {"email": "a"}}, "properties.email") == "a"``."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def key_of(record: dict, primary_keys: list[str]) -> tuple:
    return tuple(json.dumps(get_path(record, k), sort_keys=True, default=str) for k in primary_keys)
