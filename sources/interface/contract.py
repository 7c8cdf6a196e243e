"""The offset and metadata contract, and the one offset loop.

Everything that reads a table page by page — the Spark runtime (batch, streaming, replays),
the conformance suite, tests and benchmarks — goes through :func:`iterate_offsets`, so they
all agree on what a connector may return and fail the same way when it breaks the contract:

* an offset is ``None`` (a table read whole in one call) or a JSON-serialisable dict;
* an offset advances whenever records were returned (else those records could never be
  checkpointed);
* a read is over when the offset stops advancing (``end == start``);
* within one read an offset never comes back (a cycle), and a long run of calls that return
  nothing while the offset keeps moving is a connector that never converges — both fail
  naming the table and the offsets instead of hanging.

Offsets are compared by :func:`offset_key` (canonical JSON; ``None`` and ``{}`` both mean
"the start"). Each call is told how far it may read (:class:`ReadLimits`: the records the
micro-batch still wants, a replay's end offset); :func:`connector_reader` passes that on to
connectors that declare :class:`~sources.interface.read_limits.SupportsReadLimits`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from sources.interface.errors import ConnectorError
from sources.interface.lakeflow_connect import INGESTION_TYPES, LakeflowConnect
from sources.interface.read_limits import NO_LIMITS, ReadLimits, SupportsReadLimits

#: ``read(offset, limits) -> (records, end_offset)``: one call of a table's read.
ReadFn = Callable[[Any, ReadLimits], tuple[Iterable, Any]]

#: Calls in a row that return no records while the offset moves before a read is declared
#: non-converging (a connector legitimately skips empty windows, but not forever).
MAX_EMPTY_ADVANCES = 1000


class OffsetContractError(ConnectorError):
    """A connector broke the offset contract; the message names the table and offsets."""


def offset_key(offset: Any) -> str:
    """Canonical JSON of an offset, for equality (``None`` and ``{}`` both mean "start")."""
    if offset in (None, {}):
        return "{}"
    return json.dumps(offset, sort_keys=True, separators=(",", ":"), default=str)


def check_offset(offset: Any, table: str, method: str = "read_table") -> None:
    """Raise :class:`OffsetContractError` unless ``offset`` is ``None`` or a JSON dict."""
    if offset is None:
        return
    if not isinstance(offset, dict):
        raise OffsetContractError(f"{method}({table!r}) returned an offset of type {type(offset).__name__}; offsets must be dicts")
    try:
        json.dumps(offset)
    except (TypeError, ValueError) as exc:
        raise OffsetContractError(f"{method}({table!r}) returned an offset that is not JSON-serialisable: {exc}") from None


def did_not_advance(table: str, start: Any, count: int, method: str = "read_table") -> OffsetContractError:
    return OffsetContractError(
        f"{method}({table!r}) returned {count} record(s) with an end offset equal to its start offset "
        f"{offset_key(start)}. The offset must advance whenever records are returned, or those records can "
        "never be checkpointed (Spark would fail with SIMPLE_STREAM_READER_OFFSET_DID_NOT_ADVANCE, and a batch "
        "read would return them again and again). Fix the connector's offset."
    )


def validate_metadata(table: str, meta: Any) -> dict:
    """``read_table_metadata``'s answer checked and normalised, or a :class:`ConnectorError`."""
    if not isinstance(meta, dict):
        raise ConnectorError(f"read_table_metadata({table!r}) returned {type(meta).__name__}, not a dict")
    ingestion = meta.get("ingestion_type")
    if ingestion not in INGESTION_TYPES:
        raise ConnectorError(
            f"read_table_metadata({table!r}): ingestion_type {ingestion!r} is not one of {', '.join(INGESTION_TYPES)}"
        )
    keys = meta.get("primary_keys") or []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConnectorError(f"read_table_metadata({table!r}): primary_keys must be a list of column names")
    nested = [k for k in keys if "." in k]
    if nested:
        raise ConnectorError(
            f"read_table_metadata({table!r}): primary keys are top-level columns; {nested} are nested paths "
            "(a key inside a struct cannot be merged on): name top-level columns")
    if ingestion in ("cdc", "cdc_with_deletes") and (not keys or not meta.get("cursor_field")):
        raise ConnectorError(
            f"read_table_metadata({table!r}): ingestion_type {ingestion!r} needs primary_keys and a cursor_field"
        )
    return {"primary_keys": keys, "cursor_field": meta.get("cursor_field"), "ingestion_type": ingestion}


def connector_reader(connector: LakeflowConnect, table: str, table_options: dict, deletes: bool = False) -> ReadFn:
    """The ``read(offset, limits)`` of a connector's table (or its delete flow): ``limits``
    reach the connector only if it declares ``SupportsReadLimits``."""
    method = connector.read_table_deletes if deletes else connector.read_table
    if isinstance(connector, SupportsReadLimits):
        return lambda offset, limits: method(table, offset, table_options, limits=limits)
    return lambda offset, limits: method(table, offset, table_options)


@dataclass
class Page:
    """One call of the loop: the records it returned, read from ``start`` up to ``end``."""

    records: list
    start: Any
    end: Any


def iterate_offsets(
    read: ReadFn,
    table: str,
    start: Any = None,
    *,
    method: str = "read_table",
    until: Any = None,
    max_records: int | None = None,
    max_empty_advances: int = MAX_EMPTY_ADVANCES,
) -> Iterator[Page]:
    """The offset loop: call ``read(offset, limits)`` from ``start`` and yield each
    :class:`Page` until the offset stops advancing.

    Args:
        read: ``(offset, limits) -> (records, end_offset)``, e.g. :func:`connector_reader`.
        table, method: named in errors.
        start: the offset to read from (``None``: the beginning).
        until: stop once the offset reaches this one (a replay of a checkpointed range);
            passed to the connector as ``limits.end_offset``.
        max_records: stop after the page that brings the total to this many (a micro-batch);
            the connector is told the remainder as ``limits.max_records``.
        max_empty_advances: fail after this many empty calls in a row that moved the offset.

    Raises:
        OffsetContractError: an offset that is not a JSON dict, records with an offset that
            did not advance, an offset seen before in this read, or no convergence.
    """
    seen = {offset_key(start)}
    target = None if until is None else offset_key(until)
    current, total, empty_run = start, 0, 0
    while True:
        limits = NO_LIMITS if until is None and max_records is None else ReadLimits(
            max_records=None if max_records is None else max_records - total, end_offset=until)
        result = read(current, limits)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise OffsetContractError(f"{method}({table!r}) must return (records, offset), got {type(result).__name__}")
        records, end = result
        records = list(records) if records is not None else []
        check_offset(end, table, method)
        same = end is None or offset_key(end) == offset_key(current)
        if same and records and end is not None:
            raise did_not_advance(table, current, len(records), method)
        yield Page(records, current, end)
        total += len(records)
        if same or (target is not None and offset_key(end) == target):
            return
        key = offset_key(end)
        if key in seen:
            raise OffsetContractError(
                f"{method}({table!r}) returned offset {key} again within one read (from {offset_key(start)}): "
                "the offsets cycle, so the read would never end. Offsets must only move forward."
            )
        seen.add(key)
        empty_run = 0 if records else empty_run + 1
        if empty_run >= max_empty_advances:
            raise OffsetContractError(
                f"{method}({table!r}) returned no records {empty_run} times in a row while its offset kept moving "
                f"(from {offset_key(start)} to {key}): the read does not converge. Return the same offset when "
                "there is nothing more to read."
            )
        if max_records is not None and total >= max_records:
            return
        current = end


def read_to_end(read: ReadFn, table: str, start: Any = None, **kwargs) -> tuple[list, Any]:
    """Every record from ``start`` to where the offset stops, and that final offset."""
    records: list = []
    end = start
    for page in iterate_offsets(read, table, start, **kwargs):
        records.extend(page.records)
        end = page.end
    return records, end
