"""Cursors and offsets of incremental reads: instants, keyset positions, inclusive
``since`` filters and read-cycle windows.

* :func:`parse_instant` turns what APIs send for a moment (ISO-8601 strings, epoch
  seconds or milliseconds) into an aware UTC ``datetime``, so cursors compare as moments,
  not as text (``"2024-01-05T10:00:00Z"`` and ``"2024-01-05T11:00:00+01:00"`` are equal).
* :class:`KeysetOffset` is the ``{"cursor": ..., "id": ...}`` offset of a keyset read.
* :class:`InclusiveCursor` is the offset of an API whose ``since`` filter includes its
  bound (GitHub's ``since=<updated_at>``): it skips the records already read at the bound.
* :class:`Window` / :class:`Windows` fix the upper bound of a read cycle, so a cycle ends
  even under a constant stream of writes.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import total_ordering
from typing import Any, Callable, Iterable, Mapping

from sources.interface.errors import ConnectorError

#: Whole numbers at least this large (in absolute value) are epoch *milliseconds*; smaller
#: ones are epoch *seconds*. The same threshold as ``datasource/arrow_convert.py``: 1e11 ms
#: is 1973-03-03T09:46:40Z, while 1e11 s is the year 5138, so no real cursor is ambiguous.
EPOCH_MILLIS_FROM = 100_000_000_000

_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
_FRACTION = re.compile(r"^(.*T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]+)(.*)$")
#: A zone written without its colon (Jira's ``+0000``), which Python 3.10 does not parse.
_COMPACT_ZONE = re.compile(r"(T[0-9:.]+[+-][0-9]{2})([0-9]{2})$")


class CursorError(ConnectorError, ValueError):
    """A cursor or offset that cannot be read; the message names the value (and table)."""


def parse_instant(value: Any) -> datetime:
    """The moment ``value`` stands for, as an aware UTC ``datetime``.

    Accepted: ISO-8601 strings with a zone (``Z`` or ``+01:00``) or without one (then UTC),
    a date alone (its midnight, UTC); ``datetime`` objects (naive ones are UTC); epoch
    numbers or digit strings — milliseconds when ``abs(value) >= 1e11``, else seconds
    (fractions allowed). Anything else raises :class:`CursorError`.

    >>> parse_instant("2024-01-05T10:00:00Z") == parse_instant("2024-01-05T11:00:00+01:00")
    True
    >>> parse_instant(1704448800) == parse_instant(1704448800000) == parse_instant("2024-01-05T10:00:00")
    True
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, bool) or value is None:
        raise CursorError(f"{value!r} is not an instant (expected ISO-8601 text or epoch seconds/milliseconds)")
    elif isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value.strip())):
        text = value.strip() if isinstance(value, str) else None
        number = value if text is None else (float(text) if "." in text else int(text))
        seconds = number / 1000 if abs(number) >= EPOCH_MILLIS_FROM else number
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise CursorError(f"{value!r} is an epoch number outside the supported range") from None
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        match = _FRACTION.match(text)  # more than 6 fractional digits: keep microseconds
        if match:
            text = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
        text = _COMPACT_ZONE.sub(r"\1:\2", text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise CursorError(
                f"{value!r} is not an instant: expected ISO-8601 (2024-01-05T10:00:00Z, with or without a zone) "
                "or epoch seconds/milliseconds") from None
    else:
        raise CursorError(f"{value!r} ({type(value).__name__}) is not an instant")
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def cursor_key(value: Any) -> Any:
    """How cursors compare: numbers (an id, a version) as numbers, anything else as the
    instant :func:`parse_instant` reads."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, parse_instant(value))


def same_cursor(a: Any, b: Any) -> bool:
    return cursor_key(a) == cursor_key(b)


@total_ordering
@dataclass(frozen=True)
class KeysetOffset:
    """The position ``(cursor, id)`` of the last record a keyset read returned; the
    offset ``{"cursor": <cursor as the API sent it>, "id": <id>}``. Positions order by
    cursor (as moments, or numbers) then id.

    >>> KeysetOffset.parse({"cursor": "2024-01-05T10:00:00Z", "id": 7}, "orders") < KeysetOffset("2024-01-05T11:00:00+00:00", 1)
    True
    """

    cursor: Any
    id: Any

    @classmethod
    def parse(cls, offset: Any, table: str) -> "KeysetOffset | None":
        """The position of an offset this connector returned; ``None`` for the start
        (``None`` or ``{}``). Anything else raises :class:`CursorError` naming the table."""
        if offset is None or offset == {}:
            return None
        if not isinstance(offset, Mapping) or offset.get("cursor") is None or offset.get("id") is None:
            raise CursorError(f"Invalid offset for table {table!r}: {offset!r}. Expected "
                              '{"cursor": ..., "id": ...} as returned by this connector.')
        position = cls(offset["cursor"], offset["id"])
        try:
            position._key()
        except CursorError as exc:
            raise CursorError(f"Invalid offset for table {table!r}: {offset!r}: the cursor {exc}. Expected "
                              '{"cursor": ..., "id": ...} as returned by this connector.') from None
        return position

    @classmethod
    def of(cls, record: Mapping[str, Any], cursor_field: str, id_field: str) -> "KeysetOffset":
        """The position of a record (``CursorError`` if it lacks either field)."""
        cursor, rid = record.get(cursor_field), record.get(id_field)
        if cursor is None or rid is None:
            raise CursorError(f"a record has no {cursor_field!r}/{id_field!r}: cannot take its position")
        return cls(cursor, rid)

    def to_offset(self) -> dict:
        return {"cursor": self.cursor, "id": self.id}

    def _key(self) -> tuple:
        return (cursor_key(self.cursor), self.id)

    def __lt__(self, other: "KeysetOffset") -> bool:
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeysetOffset) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass
class InclusiveCursor:
    """The offset of a read through an *inclusive* ``since`` filter (``since=<cursor>``
    returns records whose cursor is at or after it, ascending): the highest cursor read,
    and the ids already read *at* that cursor, which the next read skips. Records sharing
    one cursor value across page or read boundaries are therefore neither lost (the bound
    is not moved past them) nor read twice.

    Offset: ``{"cursor": <highest cursor>, "seen_at_cursor": [ids read at it]}``; the list
    holds only the ids of the newest cursor value, so it stays as small as the largest
    burst of records sharing one value. Send :attr:`since` as the API's filter, then pass
    each page through :meth:`take`::

        state = InclusiveCursor.parse(start_offset, "issues")
        for page in client.paginate("/issues", pager, params={"since": state.since, ...}):
            records += state.take(page, "updated_at", "id")
        return records, state.to_offset()

    A connector that returns one page per call must read on while a page holds only
    records it has seen (a burst larger than a page), or the offset would not move.
    """

    cursor: Any = None
    seen_at_cursor: list = field(default_factory=list)

    @classmethod
    def parse(cls, offset: Any, table: str) -> "InclusiveCursor":
        if offset is None or offset == {}:
            return cls()
        seen = offset.get("seen_at_cursor", []) if isinstance(offset, Mapping) else None
        if not isinstance(offset, Mapping) or offset.get("cursor") is None or not isinstance(seen, list):
            raise CursorError(f"Invalid offset for table {table!r}: {offset!r}. Expected "
                              '{"cursor": ..., "seen_at_cursor": [ids...]} as returned by this connector.')
        try:
            cursor_key(offset["cursor"])
        except CursorError as exc:
            raise CursorError(f"Invalid offset for table {table!r}: {offset!r}: the cursor {exc}. Expected "
                              '{"cursor": ..., "seen_at_cursor": [ids...]} as returned by this connector.') from None
        return cls(offset["cursor"], list(seen))

    @property
    def since(self) -> Any:
        """The value for the API's ``since`` filter (``None``: read from the start)."""
        return self.cursor

    def take(self, records: Iterable[Mapping[str, Any]], cursor_field: str, id_field: str) -> list:
        """The records not read before, in order; the state moves past them."""
        fresh = []
        bound = None if self.cursor is None else cursor_key(self.cursor)
        seen = set(self.seen_at_cursor)
        for record in records:
            value, rid = record.get(cursor_field), record.get(id_field)
            if value is None or rid is None:
                raise CursorError(f"a record has no {cursor_field!r}/{id_field!r}: cannot track the cursor")
            key = cursor_key(value)
            if bound is not None and (key < bound or (key == bound and rid in seen)):
                continue  # before the bound, or read at the bound already
            if bound is None or key > bound:
                bound, seen = key, set()
                self.cursor, self.seen_at_cursor = value, []
            seen.add(rid)
            self.seen_at_cursor.append(rid)
            fresh.append(record)
        return fresh

    def to_offset(self) -> dict:
        """The offset to return: ``{}`` while nothing was read (an empty table), so the
        offset is a JSON dict like every other and the next read starts from the beginning."""
        if self.cursor is None:
            return {}
        return {"cursor": self.cursor, "seen_at_cursor": list(self.seen_at_cursor)}

    def read(self, records: Iterable[Any], cursor_of: Callable[[Any], Any], id_of: Callable[[Any], Any],
             table: str, limits: Any = None) -> tuple[list, dict]:
        """One call of an offset loop over ``records`` (everything the listing returned from
        :attr:`since`, in any order): the records not read before, oldest first (by cursor,
        then id), at most ``limits.max_records`` of them and nothing past a replay's
        ``limits.end_offset`` (a :class:`~sources.interface.ReadLimits`); and the offset to
        return, its ids sorted so that ties listed in another order give the same offset."""
        end_offset = None if limits is None else limits.end_offset
        end = None if end_offset is None else InclusiveCursor.parse(end_offset, table)
        cap = None if limits is None else limits.max_records
        out: list = []
        for record in sorted(records, key=lambda r: (cursor_key(cursor_of(r)), id_of(r))):
            value, rid = cursor_of(record), id_of(record)
            if end is not None and (cursor_key(value) > cursor_key(end.cursor) or (
                    cursor_key(value) == cursor_key(end.cursor) and rid not in end.seen_at_cursor)):
                continue  # past a replay's end
            if cap and len(out) >= cap:
                break
            out += [w["r"] for w in self.take([{"c": value, "k": rid, "r": record}], "c", "k")]
        else:
            if end is not None:  # everything up to the replay's end was returned
                return out, dict(end_offset)
        offset = self.to_offset()
        return out, offset and {**offset, "seen_at_cursor": sorted(offset["seen_at_cursor"])}


@dataclass(frozen=True)
class Window:
    """One read cycle's range of cursors: ``lower`` (exclusive, ``None``: the start) to
    ``upper`` (inclusive, ``None``: unbounded), ``upper`` fixed when the cycle began."""

    upper: Any = None
    lower: Any = None

    def includes(self, cursor: Any) -> bool:
        key = cursor_key(cursor)
        return ((self.lower is None or key > cursor_key(self.lower))
                and (self.upper is None or key <= cursor_key(self.upper)))

    def after(self, cursor: Any) -> bool:
        """Whether ``cursor`` lies past the window's upper bound (a later cycle's record)."""
        return self.upper is not None and cursor_key(cursor) > cursor_key(self.upper)


class Windows:
    """Per-table read cycles. :meth:`open` starts a cycle with the upper bound
    ``fetch_upper()`` answers (say, the API's current maximum cursor; ``None`` when the
    table is empty) and keeps it until :meth:`close` (call it when a read returns nothing)
    or until a read starts past it. Records written during a cycle are read by the next
    one. Thread-safe; pickles without its cycles (as a connector on an executor must)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uppers: dict[str, Any] = {}

    def open(self, table: str, fetch_upper: Callable[[], Any], since: Any = None) -> Window | None:
        """The current cycle's window of ``table`` (``lower`` = ``since``); ``None`` when
        ``fetch_upper`` finds nothing to read."""
        with self._lock:
            upper = self._uppers.get(table)
        if upper is None or (since is not None and cursor_key(since) > cursor_key(upper)):
            upper = fetch_upper()
            if upper is None:
                self.close(table)
                return None
            with self._lock:
                self._uppers[table] = upper
        return Window(upper=upper, lower=since)

    def close(self, table: str) -> None:
        with self._lock:
            self._uppers.pop(table, None)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
