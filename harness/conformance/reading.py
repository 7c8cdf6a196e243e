"""Reading a table through the connector's own offset loop, with the contract checked."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sources.toolkit.sandbox.truth import key_text
from sources.interface.contract import OffsetContractError, iterate_offsets  # noqa: F401 (re-exported)


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
) -> LoopRead:
    """Every record of ``table`` through the connector's own offset loop (the contract's
    :func:`~sources.interface.contract.iterate_offsets`, which fails on a broken contract),
    with each call's end offset; records must be dicts. A whole read has no limits, so the
    connector's method is called with its three arguments."""
    result = LoopRead()
    for page in iterate_offsets(lambda offset, _limits: read_fn(table, offset, table_options), table, start):
        for record in page.records:
            if not isinstance(record, dict):
                raise OffsetContractError(f"{table}: a record is a {type(record).__name__}, not a dict")
        result.records.extend(page.records)
        result.offsets.append(page.end)
        result.calls += 1
    return result


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
    """A record's primary key as comparable text, the same as the sandboxes' truth uses."""
    return key_text([get_path(record, k) for k in primary_keys])
