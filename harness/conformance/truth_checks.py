"""Checks of a connector's reads against the truth its sandbox holds (no Spark).

Each check returns a list of problems (empty: passed); each problem says what was lost or
duplicated: the table, how many keys, the first few keys, and the offset the read started
from. The conformance suite runs them per table, and ``tests/test_suite_catches_bugs.py``
runs them against deliberately broken connectors to prove they catch real bugs.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from datasource.arrow_convert import ArrowConverter
from harness.conformance.reading import get_path, key_of, read_all
from sources.interface import SupportsReadLimits
from sources.interface.contract import connector_reader, iterate_offsets, offset_key, read_to_end, validate_metadata
from sources.toolkit import cursors
from sources.toolkit.cursors import CursorError
from sources.toolkit.sandbox.truth import TableTruth

FIRST = 5


class CheckSkipped(Exception):
    """A check that cannot run on this table (the sandbox cannot make the change it needs, or
    the connector lacks the capability); the message names the table and why."""


def same_cursor(a: Any, b: Any) -> bool:
    """Cursor values equal as values (the toolkit's :func:`~sources.toolkit.cursors.same_cursor`:
    the same instant in any notation, the same number), else — not instants or numbers — as text."""
    try:
        return cursors.same_cursor(a, b)
    except CursorError:
        return str(a) == str(b)


def _first(keys) -> str:
    shown = sorted(keys)[:FIRST]
    return ", ".join("/".join(k) for k in shown) + (" ..." if len(keys) > FIRST else "")


def compare_keys(table: str, read_keys: list[tuple], expected: set, start: Any, what: str) -> list[str]:
    """Keys read (:func:`key_of` of each record) vs keys expected: lost, extra and
    duplicated ones, named."""
    got = Counter(read_keys)
    problems = []
    lost = expected - set(got)
    extra = set(got) - expected
    dup = {k for k, n in got.items() if n > 1}
    origin = start if isinstance(start, str) else f"reading from offset {offset_key(start)}"
    if lost:
        problems.append(f"{table}: {what} lost {len(lost)} of {len(expected)} keys {origin} (first: {_first(lost)})")
    if extra:
        problems.append(f"{table}: {what} returned {len(extra)} keys the source does not hold {origin} (first: {_first(extra)})")
    if dup:
        problems.append(f"{table}: {what} returned {len(dup)} keys more than once {origin} (first: {_first(dup)})")
    return problems


def compare_values(table: str, records: list[dict], truth: TableTruth, schema, keys: list[str],
                   origin: str = "") -> list[str]:
    """Every value read equals the truth's, both converted under the table's schema (the
    runtime's own rules), for the fields the truth's records carry."""
    fields = [f.name for f in schema.fields if any(f.name in r for r in list(truth.records.values())[:50])]
    if not fields or not records:
        return []
    converter = ArrowConverter(schema, table, keys)

    def rows(items: list[dict]) -> dict:
        table_ = converter.convert(items).select(fields).to_pylist()
        return {key_of(item, keys): row for item, row in zip(items, table_)}

    mine = rows([r for r in records if key_of(r, keys) in truth.records])
    theirs = rows([truth.records[k] for k in mine])
    wrong = sorted(k for k in mine if mine[k] != theirs[k])
    if not wrong:
        return []
    k = wrong[0]
    diff = [f for f in fields if mine[k].get(f) != theirs[k].get(f)]
    return [f"{table}: {len(wrong)} records differ from the source's values{origin} (first: key {'/'.join(k)}, "
            f"fields {diff}: read {[mine[k].get(f) for f in diff]!r:.200} vs source {[theirs[k].get(f) for f in diff]!r:.200})"]


def _carries(truth: TableTruth, cursor: str | None) -> bool:
    """Whether the source's records hold the cursor field (a connector may stamp it itself,
    as the Stripe connector's ``updated``; then versions are compared by their values)."""
    return bool(cursor) and any(get_path(r, cursor) is not None for r in truth.records.values())


class TruthChecks:
    """The checks for one table of one connector against one sandbox."""

    def __init__(self, connector_factory, sandbox, table: str, options: dict[str, str], settle_seconds: float = 0.0):
        self.new_connector = connector_factory
        #: How long changes may take to become readable (a search index's lag).
        self.settle_seconds = settle_seconds
        self.sandbox = sandbox
        self.table = table
        self.options = options
        connector = connector_factory()
        self.meta = validate_metadata(table, connector.read_table_metadata(table, dict(options)))
        self.schema = connector.get_table_schema(table, dict(options))
        self.keys = self.meta["primary_keys"]

    def truth(self) -> TableTruth:
        return self.sandbox.truth(self.table)

    def _keys(self, records: list[dict]) -> list[tuple]:
        return [key_of(r, self.keys) for r in records]

    def _read(self, start=None, deletes: bool = False):
        connector = self.new_connector()
        fn = connector.read_table_deletes if deletes else connector.read_table
        return read_all(fn, self.table, dict(self.options), start=start)

    def full_read(self) -> list[str]:
        """A full read holds exactly the truth's keys, with its values."""
        truth = self.truth()
        result = self._read()
        if not self.keys:
            n = len(result.records)
            return [] if n == len(truth.records) else [f"{self.table}: a full read returned {n} records, the source holds {len(truth.records)}"]
        problems = compare_keys(self.table, self._keys(result.records), set(truth.records), None, "a full read")
        return problems or compare_values(self.table, result.records, truth, self.schema, self.keys)

    def deletes(self) -> list[str]:
        """The delete flow from the start reports exactly the truth's deleted keys."""
        truth = self.truth()
        result = self._read(deletes=True)
        return compare_keys(self.table, self._keys(result.records), set(truth.deleted), None, "the delete flow")

    def incremental(self, changes: dict[str, int], during_read: bool = False) -> list[str]:
        """Read to the end, change the source, read on from the saved offsets: the latest
        record per key equals the truth, and deleted keys are gone. With ``during_read`` the
        changes land while the second read is paging (after its first request)."""
        first = self._read()
        state = {key_of(r, self.keys): r for r in first.records}
        with_deletes = self.meta["ingestion_type"] == "cdc_with_deletes"
        deletes_offset = self._read(deletes=True).final_offset if with_deletes else None

        def apply():
            for change, n in changes.items():
                try:
                    self.sandbox.scenario(self.table, change, n)
                except NotImplementedError:
                    pass

        offset = first.final_offset
        if during_read:
            self.sandbox.after_requests(1, apply)
        else:
            apply()
        deadline = time.monotonic() + self.settle_seconds
        wait = 0.25
        reads = 0
        while True:
            # Read on from where the last read stopped (a stream's next run); a source whose
            # search indexes writes late gets until the deadline to show them.
            result = self._read(start=offset)
            offset = result.final_offset
            for record in result.records:
                state[key_of(record, self.keys)] = record
            if with_deletes:
                gone = self._read(start=deletes_offset, deletes=True)
                deletes_offset = gone.final_offset
                for record in gone.records:
                    state.pop(key_of(record, self.keys), None)
            reads += 1
            if during_read and reads == 1:
                continue  # the changes landed during this read: the next run is theirs
            problems = self._state_problems(state, first.final_offset)
            if not problems or time.monotonic() >= deadline:
                return problems
            time.sleep(wait)
            wait = min(wait * 2, 2.0)

    def _state_problems(self, state: dict, start: Any) -> list[str]:
        truth = self.truth()
        problems = compare_keys(self.table, list(state), set(truth.records),
                                start, "the latest state after changes")
        cursor = self.meta["cursor_field"]
        if cursor and not _carries(truth, cursor):
            # The API's records carry no such field (the connector stamps it, as Stripe's
            # customers): compare the latest state's values with the source's instead.
            held = [r for k, r in state.items() if k in truth.records]
            return problems + compare_values(self.table, held, truth, self.schema, self.keys,
                                             f" after an incremental read from offset {offset_key(start)}")
        stale = sorted(k for k, r in state.items() if k in truth.records and cursor and
                       not same_cursor(get_path(r, cursor), get_path(truth.records[k], cursor)))
        if stale:
            problems.append(f"{self.table}: {len(stale)} keys hold an older version than the source's after an "
                            f"incremental read from offset {offset_key(start)} (first: {_first(stale)})")
        return problems

    def boundary_burst(self, n: int) -> list[str]:
        """``n`` records sharing one cursor value (pages end inside the run) are all read."""
        start = self._read().final_offset
        before = set(self.truth().records)
        try:
            self.sandbox.scenario(self.table, "burst", n)
        except NotImplementedError:
            return []
        expected = set(self.truth().records) - before
        seen, reached = self._read_on(start, expected)
        lost = expected - set(seen)
        if lost:
            return [f"{self.table}: records sharing one cursor value were lost: {len(lost)} of {len(expected)} keys "
                    f"reading from offset {offset_key(reached)} (first: {_first(lost)}) — an exclusive cursor at a page "
                    "boundary inside a run of equal values?"]
        return []

    def _read_on(self, start: Any, expected: set, deletes: bool = False) -> tuple[dict, Any]:
        """Read on from ``start`` (again until ``settle_seconds`` pass) until every key of
        ``expected`` was seen; the latest record per key seen, and the final offset."""
        seen: dict = {}
        deadline = time.monotonic() + self.settle_seconds
        while True:
            result = self._read(start=start, deletes=deletes)
            seen.update((key_of(r, self.keys), r) for r in result.records)
            start = result.final_offset if result.offsets else start
            if expected <= set(seen) or time.monotonic() >= deadline:
                return seen, start
            time.sleep(0.5)

    def same_cursor_value(self, n: int) -> list[str]:
        """After a read, ``n`` records created (more than a page, so the tie spans a page
        boundary) and three updated *at the cursor value of the newest record read* — the same
        second, where the cursor has second resolution — are all read on from the saved
        offset, in their latest version. Catches a ``>`` filter where ``>=`` is needed. The
        newest record is a fresh write (a ``create``, where the sandbox can), as a real tie
        is: writes landing in the same tick as one a read has just returned."""
        try:
            self.sandbox.scenario(self.table, "create", 1)
        except NotImplementedError:
            pass
        start = self._read().final_offset
        cursor = self.meta["cursor_field"]
        before = {k: get_path(r, cursor) for k, r in self.truth().records.items()}
        newest = self.truth().newest()
        try:
            self.sandbox.scenario(self.table, "tie", n)
        except NotImplementedError as exc:
            raise CheckSkipped(f"{self.table}: {type(self.sandbox).__name__} cannot create records at the cursor value "
                               f"of the newest record ({exc}); the same-cursor-value check did not run") from None
        try:
            self.sandbox.scenario(self.table, "tie_update", 3)
        except NotImplementedError:
            pass  # a table whose records never change: the created ones are the check
        truth = self.truth()
        expected = {k for k, r in truth.records.items()
                    if k not in before or not same_cursor(get_path(r, cursor), before[k])}
        seen, _ = self._read_on(start, expected)
        lost = expected - set(seen)
        if _carries(truth, cursor):
            stale = sorted(k for k in expected & set(seen)
                           if not same_cursor(get_path(seen[k], cursor), get_path(truth.records[k], cursor)))
        else:  # the connector stamps its cursor: the versions read must hold the source's values
            stale = [k for k in expected & set(seen)
                     if compare_values(self.table, [seen[k]], truth, self.schema, self.keys)]
        where = f"at the cursor value of the last record read ({newest})"
        problems = []
        if lost:
            problems.append(f"{self.table}: records written {where} were lost: {len(lost)} of {len(expected)} keys "
                            f"reading on from offset {offset_key(start)} (first: {_first(lost)}) — an exclusive bound "
                            "(`>`, `gt`, a cursor plus one tick) where an inclusive one is needed?")
        if stale:
            problems.append(f"{self.table}: {len(stale)} records updated {where} hold an older version reading on from "
                            f"offset {offset_key(start)} (first: {_first(stale)})")
        return problems

    def deletes_after_read(self, n: int = 3) -> list[str]:
        """A ``cdc_with_deletes`` table: after both flows were read, ``n`` records deleted in
        the source are reported by the delete flow read on from its saved offset."""
        if self.meta["ingestion_type"] != "cdc_with_deletes":
            raise CheckSkipped(f"{self.table}: {self.meta['ingestion_type']}, not cdc_with_deletes: no delete flow to check")
        start = self._read(deletes=True).final_offset
        before = set(self.truth().deleted)
        try:
            self.sandbox.scenario(self.table, "delete", n)
        except NotImplementedError as exc:
            raise CheckSkipped(f"{self.table} is cdc_with_deletes, but {type(self.sandbox).__name__} cannot delete its "
                               f"records ({exc}): its delete flow is unchecked") from None
        expected = set(self.truth().deleted) - before
        if not expected:
            return [f"{self.table}: the sandbox's delete scenario deleted nothing; the delete flow is unchecked"]
        seen, _ = self._read_on(start, expected, deletes=True)
        lost = expected - set(seen)
        return [f"{self.table}: the delete flow lost {len(lost)} of {len(expected)} deletes reading on from offset "
                f"{offset_key(start)} (first: {_first(lost)})"] if lost else []

    def micro_batches(self, batches: int = 17) -> list[str]:
        """Read as a stream with a small ``maxRecordsPerBatch`` reads it (about ``batches``
        micro-batches, bounded by ``ReadLimits.max_records``): every key of the source once.
        Then each micro-batch replayed from its start to its end offset (a restart's
        ``ReadLimits.end_offset``) returns exactly its keys and ends on its end offset."""
        connector = self.new_connector()
        if not isinstance(connector, SupportsReadLimits):
            raise CheckSkipped(f"{self.table}: {type(connector).__name__} does not declare SupportsReadLimits, so "
                               "the runtime does not bound its calls; no micro-batch or replay bound to check")
        if self.meta["ingestion_type"] == "snapshot":
            raise CheckSkipped(f"{self.table}: a snapshot table is read whole, never in micro-batches")
        truth = self.truth()
        size = max(7, len(truth.records) // batches)
        read = connector_reader(connector, self.table, dict(self.options))
        done: list[tuple[Any, Any, list[tuple]]] = []
        offset: Any = None
        while len(done) <= 10 * batches + len(truth.records):
            pages = list(iterate_offsets(read, self.table, offset, max_records=size))
            end = pages[-1].end
            records = [r for p in pages for r in p.records]
            if offset_key(end) == offset_key(offset):
                break
            done.append((offset, end, self._keys(records)))
            offset = end
        else:
            return [f"{self.table}: reading in micro-batches of {size} records did not end after {len(done)} batches"]
        problems = compare_keys(self.table, [k for *_, keys in done for k in keys], set(truth.records),
                                f"in micro-batches of {size} records", f"a stream with maxRecordsPerBatch={size}")
        for start, end, keys in done:
            records, reached = read_to_end(connector_reader(self.new_connector(), self.table, dict(self.options)),
                                           self.table, start, until=end)
            if offset_key(reached) != offset_key(end):
                problems.append(f"{self.table}: a replay from {offset_key(start)} to {offset_key(end)} ended at "
                                f"{offset_key(reached)}: a replay must stop on its end offset")
            replayed = self._keys(records)
            if sorted(replayed) != sorted(keys):
                lost, extra = set(keys) - set(replayed), set(replayed) - set(keys)
                problems.append(f"{self.table}: a replay from {offset_key(start)} to {offset_key(end)} returned "
                                f"{len(replayed)} records for the batch's {len(keys)} (lost: {_first(lost) or 'none'}; "
                                f"past its end: {_first(extra) or 'none'})")
            if problems:
                break
        return problems


#: The changes an incremental check makes (what the sandbox supports of them).
CHANGES = {"create": 3, "update": 3, "delete": 3}


def run_all(checks: TruthChecks, burst: int = 250) -> list[str]:
    """Every check that applies to the table; a connector error counts as a problem."""
    problems: list[str] = []
    incremental = checks.meta["ingestion_type"] != "snapshot"
    steps = [checks.full_read]
    if checks.meta["ingestion_type"] == "cdc_with_deletes":
        steps.append(checks.deletes)
    if incremental:
        steps += [lambda: checks.incremental(CHANGES), lambda: checks.incremental({"create": 2, "update": 2}, during_read=True),
                  lambda: checks.boundary_burst(burst), lambda: checks.same_cursor_value(burst),
                  checks.deletes_after_read, checks.micro_batches]
    for step in steps:
        try:
            problems += step()
        except CheckSkipped:
            continue
        except Exception as exc:  # a broken contract or a failing read is a finding, not a crash
            problems.append(f"{checks.table}: {type(exc).__name__}: {exc}")
    return problems
