"""The suite catches known connector bugs: seeded-bug variants of the example connector (its
hand-written sandbox) and of the GitHub and Stripe connectors (declared sandboxes whose cursors
have second resolution) must each fail the truth checks with a message naming the real cause. Prints the
score."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from harness.conformance.truth_checks import TruthChecks, run_all
from sources.example.sandbox import ExampleSandbox
from sources.example import ExampleLakeflowConnect
from sources.github import GithubLakeflowConnect
from sources.github.sandbox import OWNER, REPO, GithubSandbox
from sources.stripe import StripeLakeflowConnect
from sources.stripe.sandbox import StripeSandbox
from sources.toolkit import parse_instant


class ExclusiveCursor(ExampleLakeflowConnect):
    """Filters by ``since_cursor`` alone: records sharing the boundary timestamp are skipped."""

    def _page(self, path, params):
        return super()._page(path, {k: v for k, v in params.items() if k != "since_id"})


class FirstPageOnly(ExampleLakeflowConnect):
    def read_table(self, table_name, start_offset, table_options, **limits):
        if start_offset:
            return iter(()), start_offset
        return super().read_table(table_name, start_offset, table_options, **limits)


class OffsetNotAdvancing(ExampleLakeflowConnect):
    def read_table(self, table_name, start_offset, table_options, **limits):
        records, end = super().read_table(table_name, start_offset, table_options, **limits)
        records = list(records)
        return iter(records), (dict(start_offset) if start_offset and records else end)


class OffsetBackwards(ExampleLakeflowConnect):
    """On its third call returns the offset of its first page: the read goes backwards."""

    def read_table(self, table_name, start_offset, table_options, **limits):
        records, end = super().read_table(table_name, start_offset, table_options, **limits)
        history = self.__dict__.setdefault("_ends", [])
        history.append(end)
        if len(history) == 3:
            return records, history[0]
        return records, end


class DropsNullFields(ExampleLakeflowConnect):
    def read_table(self, table_name, start_offset, table_options, **limits):
        records, end = super().read_table(table_name, start_offset, table_options, **limits)
        return (r for r in records if None not in r.values()), end


class LosesWritesDuringRead(ExampleLakeflowConnect):
    """At the end of a read, jumps its offset to the wall clock ("nothing before now is
    left"): changes written while it paged, with earlier timestamps, are never read."""

    def read_table(self, table_name, start_offset, table_options, **limits):
        records, end = super().read_table(table_name, start_offset, table_options, **limits)
        records = list(records)
        if not records and start_offset and end == start_offset and not self.__dict__.get("_jumped"):
            self._jumped = True
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return iter(()), {"cursor": now, "id": 10**12}
        return iter(records), end


class EmptyDeleteFlow(ExampleLakeflowConnect):
    def read_table_deletes(self, table_name, start_offset, table_options, **limits):
        super().read_table_deletes(table_name, start_offset, table_options, **limits)  # still checks the table
        return iter(()), start_offset or {}


class ExclusiveSince(GithubLakeflowConnect):
    """Asks for what changed after the offset's second (``since`` = its cursor plus one second,
    as Stripe's ``created[gt]`` would): records written in the same second as the last one
    read are never read."""

    def read_table(self, table_name, start_offset, table_options, **limits):
        paginate = self.client.paginate

        def after_the_second(path, paginator, params=None, **kwargs):
            if params and "since" in params:  # the connector sends one second early; this one second late
                later = parse_instant(params["since"]) + timedelta(seconds=2)
                params = {**params, "since": later.strftime("%Y-%m-%dT%H:%M:%SZ")}
            return paginate(path, paginator, params=params, **kwargs)

        self.client.paginate = after_the_second
        try:
            return super().read_table(table_name, start_offset, table_options, **limits)
        finally:
            del self.client.paginate


class CreatedGreaterThan(StripeLakeflowConnect):
    """Reads on with ``created[gt]`` instead of ``created[gte]``: events created in the same
    second as the last one read are lost (the bug the suite once let through)."""

    def _pages(self, table, params):
        if "created[gte]" in params:
            params = {**{k: v for k, v in params.items() if k != "created[gte]"}, "created[gt]": params["created[gte]"]}
        return super()._pages(table, params)


#: variant -> (table, what the failure must say)
SEEDED = {
    CreatedGreaterThan: ("events", r"written at the cursor value of the last record read .* were lost"),
    ExclusiveSince: ("issues", r"written at the cursor value of the last record read .* were lost"),
    ExclusiveCursor: ("customers", r"sharing one cursor value were lost"),
    FirstPageOnly: ("customers", r"a full read lost \d+ of 300 keys"),
    OffsetNotAdvancing: ("customers", r"equal to its start offset"),
    OffsetBackwards: ("customers", r"again within one read"),
    DropsNullFields: ("customers", r"a full read lost \d+ of 300 keys"),
    LosesWritesDuringRead: ("customers", r"(older version than the source's|latest state after changes lost)"),
    EmptyDeleteFlow: ("orders", r"the delete flow lost 20 of 20 keys"),
}


def _problems(variant, table):
    github = issubclass(variant, GithubLakeflowConnect)
    sandbox = (GithubSandbox() if github else StripeSandbox() if issubclass(variant, StripeLakeflowConnect)
               else ExampleSandbox(event_count=200))
    with sandbox:
        options = sandbox.connection_options()
        if github:
            options.update(owner=OWNER, repo=REPO)
        checks = TruthChecks(lambda: variant(dict(options)), sandbox, table, options)
        return run_all(checks)


def test_the_real_connectors_pass():
    for table in ("customers", "orders", "events", "products"):
        assert _problems(ExampleLakeflowConnect, table) == []
    assert _problems(GithubLakeflowConnect, "issues") == []
    assert _problems(StripeLakeflowConnect, "events") == []


def test_suite_catches_every_seeded_bug(capsys):
    caught, missed = [], []
    for variant, (table, cause) in SEEDED.items():
        problems = _problems(variant, table)
        if any(re.search(cause, p) for p in problems):
            caught.append(variant.__name__)
        else:
            missed.append(f"{variant.__name__}: expected /{cause}/, got {problems[:3]}")
    with capsys.disabled():
        print(f"\nsuite catches {len(caught)}/{len(SEEDED)} seeded bugs")
    assert not missed, "missed: " + "; ".join(missed)


def test_cached_full_reads_are_dropped_after_any_write():
    """The suite caches a table's full read; a write to *another* table (as a Stripe customer
    write adds events) or a write request the sandbox answered must drop it."""
    from harness.conformance import LakeflowConnectTests
    from sources.example.example_test_utils import ExampleTestUtils

    class Suite(LakeflowConnectTests):
        source_name = "example"
        connector_class = ExampleLakeflowConnect
        test_utils_class = ExampleTestUtils
        sandbox_class = ExampleSandbox
        sandbox_kwargs = {"event_count": 50}

    Suite.setup_class()
    try:
        suite = Suite()
        events = len(suite.full_read("events").records)
        assert len(suite.full_read("events").records) == events
        suite._utils.generate_rows_and_write("customers", 1)  # the utilities: any table
        suite.sandbox.add_records("events", 2)  # a change the suite cannot see ...
        assert len(suite.full_read("events").records) == events + 2  # ... read, as the cache was dropped
        suite.sandbox.add_records("events", 1)
        assert len(suite.full_read("events").records) == events + 2  # cached: no write since
        ok, rows, _ = ExampleTestUtils(dict(suite.options)).generate_rows_and_write("events", 1)  # past the suite
        assert ok and len(suite.full_read("events").records) == events + 4  # the sandbox answered a write
    finally:
        Suite.teardown_class()
