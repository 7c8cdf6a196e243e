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
from harness.conformance.reading import key_of, read_all
from sources.toolkit.sandbox.truth import TableTruth
from sources.interface.contract import offset_key, validate_metadata

FIRST = 5


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


def compare_values(table: str, records: list[dict], truth: TableTruth, schema, keys: list[str]) -> list[str]:
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
    return [f"{table}: {len(wrong)} records differ from the source's values (first: key {'/'.join(k)}, "
            f"fields {diff}: read {[mine[k].get(f) for f in diff]!r:.200} vs source {[theirs[k].get(f) for f in diff]!r:.200})"]


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
        stale = sorted(k for k, r in state.items() if k in truth.records and cursor and
                       str(r.get(cursor)) != str(truth.records[k].get(cursor)))
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
        seen: set = set()
        deadline = time.monotonic() + self.settle_seconds
        while True:
            result = self._read(start=start)
            seen |= {key_of(r, self.keys) for r in result.records}
            start = result.final_offset
            lost = expected - seen
            if not lost or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if lost:
            return [f"{self.table}: records sharing one cursor value were lost: {len(lost)} of {len(expected)} keys "
                    f"reading from offset {offset_key(start)} (first: {_first(lost)}) — an exclusive cursor at a page "
                    "boundary inside a run of equal values?"]
        return []


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
                  lambda: checks.boundary_burst(burst)]
    for step in steps:
        try:
            problems += step()
        except Exception as exc:  # a broken contract or a failing read is a finding, not a crash
            problems.append(f"{checks.table}: {type(exc).__name__}: {exc}")
    return problems
