"""The incremental read over HubSpot's search API, as pure logic.

HubSpot search returns at most 10,000 results per query (paging past that is a 400), lags
writes by an indexing delay, and many records can share one modification timestamp. The
read below never uses ``after`` (so it can never page past the cap), never loses or
repeats a record, and terminates, whatever the size of a timestamp tie.

A :class:`Position` ``(cursor, id)`` means *every record whose (modified, id) ≤
(cursor, id) has been read*; its "start" form (no offset yet) means every record modified
at or after ``cursor`` is still to be read.

**Checkpoint** (the offset, :class:`Checkpoint`): ``{"cursor", "id", "seen"}``.
``(cursor, id)`` is the *settled* position: everything at or before it was delivered, or
is older than the lookback and so assumed indexed. ``seen`` lists the ``[modified, id]``
of records delivered after it (the recent tail, at most :data:`SEEN_CAP`). A read cycle
fixes its upper bound ``U`` at **the read's start**, so a record visible in search when a
run starts is read by that run. A new cycle walks again from the settled position and
skips what ``seen`` holds: a record HubSpot's search indexed late (modified before the last
run but not visible to it) is delivered by the next run, and nothing is delivered twice.
After a cycle the settled position moves up to ``U − lookback``, so ``seen`` only holds
what changed in the last ``lookback`` seconds. If it would exceed the cap, its oldest
entries are dropped: those records may be delivered again (never lost).

One step from a walking position ``(cursor, id)`` within a read cycle whose window upper
bound is ``U``:

1. **Tie drain**: search ``modified == cursor AND hs_object_id > id`` sorted by id
   ascending, ``limit`` records, no ``after``. Records found → emit them; the position
   becomes ``(cursor, last id)``.
2. Otherwise **window**: search ``cursor < modified <= U`` sorted by modified ascending.
   Empty → caught up. A full page whose last record has modified ``T`` → emit the records
   with modified < T; the position becomes ``(T, 0)`` (records at T are drained by id in
   step 1 next). A partial page → emit all; the position becomes
   ``(last modified, max id at last modified)`` and the window is exhausted.

A record modified during a cycle gets a modification time above ``U`` and is read by the
next cycle; nothing below ``U`` can appear later except through indexing lag, which the
re-walk of the lookback tail covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from sources.interface import ConnectorError

SearchFn = Callable[[list[dict], str, str, int], list[dict]]
"""``search(filters, sort_property, direction, limit) -> results`` (one request, no ``after``)."""

ID_PROPERTY = "hs_object_id"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_ms(value: Any) -> int | None:
    """Epoch milliseconds from an ISO-8601 string, a digit string or a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


@dataclass(frozen=True)
class Position:
    """Where a read stands. ``start=True``: nothing read yet; records with modified ≥ cursor
    are pending. Otherwise (modified, id) ≤ (cursor, last_id) has been emitted."""

    cursor: int
    last_id: int = 0
    start: bool = False

    @classmethod
    def from_offset(cls, offset: Any, table: str, start_ms: int | None) -> "Position":
        floor = start_ms if start_ms is not None else 0
        if offset in (None, {}):
            return cls(floor, 0, True)
        if not isinstance(offset, dict) or "cursor" not in offset or "id" not in offset:
            raise ConnectorError(
                f"Invalid offset for HubSpot table {table!r}: {offset!r}. Expected "
                '{"cursor": <epoch ms>, "id": <record id>} as returned by this connector.')
        try:
            cursor, last_id = int(offset["cursor"]), int(offset["id"])
        except (TypeError, ValueError):
            raise ConnectorError(f"Invalid offset for HubSpot table {table!r}: {offset!r}; cursor and id must be integers.") from None
        if start_ms is not None and cursor < start_ms:
            return cls(start_ms, 0, True)
        return cls(cursor, last_id, False)

    def to_offset(self) -> dict:
        return {"cursor": self.cursor, "id": self.last_id}


#: Most ``seen`` entries an offset carries (about 40 bytes each in the checkpoint).
SEEN_CAP = 2_000
#: Above every HubSpot id: ``(t, MAX_ID)`` settles everything modified at or before ``t``.
MAX_ID = 2**62

Key = tuple[int, int]


@dataclass(frozen=True)
class Checkpoint:
    """The incremental offset: the settled position and the keys delivered after it."""

    settled: Position
    seen: tuple[Key, ...] = ()

    @classmethod
    def from_offset(cls, offset: Any, table: str, start_ms: int | None) -> "Checkpoint":
        settled = Position.from_offset(offset, table, start_ms)
        raw = offset.get("seen") if isinstance(offset, dict) else None
        if raw is None:
            return cls(settled)
        try:
            seen = tuple(sorted((int(m), int(i)) for m, i in raw))
        except (TypeError, ValueError):
            raise ConnectorError(f"Invalid offset for HubSpot table {table!r}: 'seen' must be a list of "
                                 "[modified ms, id] pairs as returned by this connector.") from None
        return cls(settled, seen)

    def walked(self) -> Position:
        """Where the last read stopped: the newest delivered key, else the settled position."""
        if self.seen and (self.settled.start or self.seen[-1] > (self.settled.cursor, self.settled.last_id)):
            return Position(*self.seen[-1])
        return self.settled

    def after(self, delivered: list[Key], walked: Position, settle_to: int) -> "Checkpoint":
        """The checkpoint once ``delivered`` more keys were read up to ``walked``, with
        everything modified at or before ``settle_to`` considered settled."""
        bound = min((walked.cursor, walked.last_id), (settle_to, MAX_ID))
        old = self.settled
        if not old.start and (old.cursor, old.last_id) > bound:
            bound = (old.cursor, old.last_id)
        settled = old if old.start and bound < (old.cursor, 0) else Position(*bound)
        if settled.start:
            keys = {*self.seen, *delivered}
        else:
            keys = {k for k in (*self.seen, *delivered) if k > (settled.cursor, settled.last_id)}
        seen = tuple(sorted(keys)[-SEEN_CAP:])
        return Checkpoint(settled, seen)

    def to_offset(self) -> dict:
        settled = self.settled
        if settled.start:
            if not self.seen:
                return {}
            settled = Position(settled.cursor - 1, MAX_ID)
        offset: dict = {"cursor": settled.cursor, "id": settled.last_id}
        if self.seen:
            offset["seen"] = [list(k) for k in self.seen]
        return offset


@dataclass
class Step:
    records: list[dict]
    position: Position
    exhausted: bool = False   # the window (cursor, U] has been read to its end


def modified_of(record: dict, cursor_property: str) -> int:
    props = record.get("properties") or {}
    ms = to_ms(props.get(cursor_property))
    if ms is None:
        ms = to_ms(record.get("updatedAt"))
    if ms is None:
        raise ConnectorError(
            f"HubSpot search returned record {record.get('id')!r} without {cursor_property} or updatedAt; "
            "cannot place it in the incremental read.")
    return ms


def id_of(record: dict) -> int:
    try:
        return int(str(record.get("id")))
    except ValueError:
        raise ConnectorError(f"HubSpot returned a non-numeric record id {record.get('id')!r}; "
                             "the incremental read needs numeric ids.") from None


def step(search: SearchFn, cursor_property: str, position: Position, upper: int, limit: int) -> Step | None:
    """One step of the read (see the module docstring); ``None`` when caught up."""
    if not position.start:
        drained = search(
            [{"propertyName": cursor_property, "operator": "EQ", "value": str(position.cursor)},
             {"propertyName": ID_PROPERTY, "operator": "GT", "value": str(position.last_id)}],
            ID_PROPERTY, "ASCENDING", limit)
        if drained:
            drained = sorted(drained, key=id_of)
            last = id_of(drained[-1])
            if last <= position.last_id:
                raise ConnectorError(
                    f"HubSpot search returned ids not above {position.last_id} for a tie at {position.cursor}; "
                    "refusing to loop.")
            return Step(drained, Position(position.cursor, last))
    if position.cursor > upper or (not position.start and position.cursor >= upper):
        return None
    lower_op = "GTE" if position.start else "GT"
    page = search(
        [{"propertyName": cursor_property, "operator": lower_op, "value": str(position.cursor)},
         {"propertyName": cursor_property, "operator": "LTE", "value": str(upper)}],
        cursor_property, "ASCENDING", limit)
    if not page:
        return None
    keyed = sorted(((modified_of(r, cursor_property), id_of(r), r) for r in page), key=lambda k: (k[0], k[1]))
    last_modified = keyed[-1][0]
    if last_modified < position.cursor or (not position.start and last_modified <= position.cursor):
        raise ConnectorError(
            f"HubSpot search returned records modified at {last_modified}, not after the offset "
            f"{position.cursor}; refusing to loop.")
    if len(page) >= limit:
        emit = [r for m, _, r in keyed if m < last_modified]
        return Step(emit, Position(last_modified, 0))
    max_id = max(i for m, i, _ in keyed if m == last_modified)
    return Step([r for _, _, r in keyed], Position(last_modified, max_id), exhausted=True)
