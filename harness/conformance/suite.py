"""``LakeflowConnectTests``: the conformance suite every connector runs.

A connector's test file is a few lines::

    from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
    from sources.example.sandbox import ExampleSandbox
    from sources.example import ExampleLakeflowConnect
    from sources.example.example_test_utils import ExampleTestUtils

    class TestExampleConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
        source_name = "example"
        connector_class = ExampleLakeflowConnect
        test_utils_class = ExampleTestUtils
        sandbox_class = ExampleSandbox
        live_required_options = ("access_token",)

Live mode: with credentials in the environment or ``sources/<name>/configs/dev_config.json``
(see :mod:`harness.conformance.config`), the suite runs against the real API; otherwise it
starts ``sandbox_class`` on 127.0.0.1 and runs against it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from typing import ClassVar

import pytest
from pyspark.sql.types import ArrayType, MapType, StructType

from datasource import register
from datasource.arrow_convert import ArrowConverter
from datasource.columns import field_at
from sources.interface.contract import offset_key, validate_metadata
from harness.conformance.config import MODE_ENV, dev_config_path, env_names, live_options
from harness.conformance.reading import LoopRead, key_of, poll, read_all
from harness.conformance.truth_checks import CHANGES, CheckSkipped, TruthChecks, compare_keys
from harness.spark import await_termination
from sources.interface.write_back import LakeflowConnectWriteTestUtils
from sources.interface import INGESTION_TYPES, LakeflowConnect, SupportsPartition, SupportsPartitionedStream

MISSING_TABLE = "__lakeflow_no_such_table__"


def _duplicate_fields(schema: StructType, prefix: str = "") -> list[str]:
    seen, dupes = set(), []
    for field in schema.fields:
        path = f"{prefix}{field.name}"
        if field.name in seen:
            dupes.append(path)
        seen.add(field.name)
        inner = field.dataType
        while isinstance(inner, (ArrayType, MapType)):
            inner = inner.elementType if isinstance(inner, ArrayType) else inner.valueType
        if isinstance(inner, StructType):
            dupes.extend(_duplicate_fields(inner, path + "."))
    return dupes


class _Invalidating:
    """The write-back utilities, each call but a ``list_*`` one clearing the suite's cached full
    reads first: a write may change any table (on Stripe, a customer write adds events)."""

    def __init__(self, utils: LakeflowConnectWriteTestUtils, invalidate) -> None:
        self._utils, self._invalidate = utils, invalidate

    def __getattr__(self, name: str):
        attribute = getattr(self._utils, name)
        if not callable(attribute) or name.startswith("list_"):
            return attribute

        def call(*args, **kwargs):
            self._invalidate()
            try:
                return attribute(*args, **kwargs)
            finally:
                self._invalidate()
        return call


class LakeflowConnectTests:
    """Subclass and set the class attributes; pytest collects the ``test_*`` methods."""

    #: The source's name: format ``lakeflow_<source_name>``, credentials ``LAKEFLOW_<NAME>_*``.
    source_name: ClassVar[str]
    connector_class: ClassVar[type[LakeflowConnect]]
    #: Write-back utilities (optional): enables the write/read-back and restart tests.
    test_utils_class: ClassVar[type[LakeflowConnectWriteTestUtils] | None] = None
    #: The sandbox started when there are no live credentials.
    sandbox_class: ClassVar[type | None] = None
    sandbox_kwargs: ClassVar[dict] = {}
    #: Options that must all be present for live mode (from env or dev_config.json).
    live_required_options: ClassVar[tuple[str, ...]] = ()
    live_optional_options: ClassVar[tuple[str, ...]] = ("base_url",)
    #: Extra table options per table (e.g. a namespace), merged over the connection options.
    table_options: ClassVar[dict[str, dict[str, str]]] = {}
    #: Tables the suite reads (default: all of list_tables()).
    tables_under_test: ClassVar[list[str] | None] = None
    #: Columns allowed to be null in every record of the test data, per table.
    allow_unpopulated: ClassVar[dict[str, list[str]]] = {}
    #: How long write-back tests wait for written rows to become readable.
    write_visibility_deadline: ClassVar[float] = 30.0
    #: Records the boundary check creates on one cursor value (more than a page).
    boundary_burst: ClassVar[int] = 250
    #: Tables the (slower) incremental truth checks run on (default: every table); the
    #: others are skipped with this reason.
    truth_incremental_tables: ClassVar[list[str] | None] = None
    rows_to_write: ClassVar[int] = 3

    # -- set-up --------------------------------------------------------------------------
    @classmethod
    def setup_class(cls) -> None:
        mode = os.environ.get(MODE_ENV, "auto")
        cls.live = None if mode == "sandbox" else live_options(
            cls.source_name, cls.live_required_options, cls.live_optional_options)
        if mode == "live" and cls.live is None:
            pytest.fail(f"--live: no credentials for {cls.source_name}: set "
                        f"{env_names(cls.source_name, cls.live_required_options)} or write "
                        f"{dev_config_path(cls.source_name)}", pytrace=False)
        cls.sandbox = None
        if cls.live is not None:
            cls.options = dict(cls.live)
            cls.mode = "live"
        else:
            if cls.sandbox_class is None:
                pytest.skip(
                    f"No credentials for {cls.source_name} (set {env_names(cls.source_name, cls.live_required_options)} "
                    "or dev_config.json) and no sandbox."
                )
            cls.sandbox = cls.sandbox_class(**cls.sandbox_kwargs).start()
            cls.options = dict(cls.sandbox.connection_options())
            cls.mode = "sandbox"
        cls.connector = cls.connector_class(dict(cls.options))
        cls._full_reads: dict[str, tuple[int, LoopRead]] = {}
        cls._extra_sandboxes: list = []
        utils = cls.test_utils_class(dict(cls.options)) if cls.test_utils_class else None
        cls._utils = None if utils is None else _Invalidating(utils, cls._full_reads.clear)

    @classmethod
    def teardown_class(cls) -> None:
        if getattr(cls, "_utils", None) is not None:
            cls._utils.cleanup()
        if getattr(cls, "sandbox", None) is not None:
            cls.sandbox.stop()
        for sandbox in getattr(cls, "_extra_sandboxes", []):
            sandbox.stop()

    # -- helpers -------------------------------------------------------------------------
    def fresh_connector(self) -> LakeflowConnect:
        return self.connector_class(dict(self.options))

    def opts(self, table: str) -> dict[str, str]:
        return {**self.options, **self.table_options.get(table, {})}

    def tables(self) -> list[str]:
        return list(self.tables_under_test or self.connector.list_tables())

    def metadata(self, table: str) -> dict:
        return validate_metadata(table, self.connector.read_table_metadata(table, self.opts(table)))

    def full_read(self, table: str) -> LoopRead:
        """The table read whole, cached until the source changes: a write through the
        utilities (any table) or, in sandbox mode, any write request the sandbox answered."""
        writes = 0 if self.sandbox is None else sum(
            n for endpoint, n in self.sandbox.request_counts.items() if not endpoint.startswith(("GET ", "HEAD ")))
        cached = self._full_reads.get(table)
        if cached is None or cached[0] != writes:
            self._full_reads[table] = cached = (writes, read_all(self.connector.read_table, table, self.opts(table)))
        return cached[1]

    def incremental_tables(self) -> list[str]:
        return [t for t in self.tables() if self.metadata(t)["ingestion_type"] != "snapshot"]

    # -- the truth: reads compared with what the sandbox holds, one test case per table ------
    def pytest_generate_tests(self, metafunc):
        if "truth_table" in metafunc.fixturenames:
            tables = type(self).collection_tables()
            metafunc.parametrize("truth_table", tables, ids=tables)

    @classmethod
    def collection_tables(cls) -> list[str]:
        """The tables to parametrise over, known at collection time."""
        if cls.tables_under_test:
            return list(cls.tables_under_test)
        if cls.sandbox_class is None:
            return []
        with cls.sandbox_class(**cls.sandbox_kwargs) as sandbox:
            return list(cls.connector_class(sandbox.connection_options()).list_tables())

    def _truth_checks(self, table: str, fresh_sandbox: bool = False) -> TruthChecks:
        if self.mode == "live":
            pytest.skip(f"{table}: live mode has no truth to compare with (the sandbox run checks it)")
        if table not in self.sandbox.truth_tables():
            pytest.skip(f"{table}: {type(self.sandbox).__name__} exposes no truth for this table")
        sandbox = self.sandbox
        if fresh_sandbox:  # checks that change the source get a sandbox of their own
            sandbox = self.sandbox_class(**self.sandbox_kwargs).start()
            self._extra_sandboxes.append(sandbox)
        options = {**dict(sandbox.connection_options()), **self.table_options.get(table, {})}
        return TruthChecks(lambda: self.connector_class(dict(options)), sandbox, table, options,
                           settle_seconds=self.write_visibility_deadline)

    def test_truth_full_read(self, truth_table):
        """A full read through the connector's offset loop holds exactly the source's keys and
        values; the delete flow exactly its deleted keys."""
        checks = self._truth_checks(truth_table)
        problems = checks.full_read()
        if checks.meta["ingestion_type"] == "cdc_with_deletes":
            problems += checks.deletes()
        assert not problems, "\n".join(problems)

    def test_truth_incremental(self, truth_table):
        """Creates, updates and deletes (also while a read is paging), and a burst of records
        on one cursor value: read on from saved offsets, the latest state equals the source."""
        checks = self._incremental_checks(truth_table)
        problems = checks.incremental(CHANGES)
        problems += checks.incremental({"create": 2, "update": 2}, during_read=True)
        problems += checks.boundary_burst(self.boundary_burst)
        assert not problems, "\n".join(problems)

    def _incremental_checks(self, table: str) -> TruthChecks:
        """Checks on a sandbox of the table's own, for tests that change the source."""
        if self.truth_incremental_tables is not None and table not in self.truth_incremental_tables:
            pytest.skip(f"{table}: not in {type(self).__name__}.truth_incremental_tables "
                        f"({', '.join(self.truth_incremental_tables)}), to bound the suite's time")
        checks = self._truth_checks(table, fresh_sandbox=True)
        if checks.meta["ingestion_type"] == "snapshot":
            pytest.skip(f"{table}: a snapshot table is re-read whole; no incremental read to check")
        return checks

    @staticmethod
    def _run_check(check, *args) -> None:
        try:
            problems = check(*args)
        except CheckSkipped as skipped:
            pytest.skip(str(skipped))
        assert not problems, "\n".join(problems)

    def test_truth_same_cursor_value(self, truth_table):
        """After a read, records created (more than a page) and updated at the cursor value of
        the newest record read, in the same second where the cursor has second resolution, are
        all read on from the saved offset; a sandbox that cannot make them says why (a skip)."""
        self._run_check(self._incremental_checks(truth_table).same_cursor_value, self.boundary_burst)

    def test_truth_deletes_after_read(self, truth_table):
        """A cdc_with_deletes table: records deleted after a read are reported by the delete
        flow read on from its offset; a sandbox that cannot delete is a named skip."""
        self._run_check(self._incremental_checks(truth_table).deletes_after_read)

    def test_truth_micro_batches_and_replays(self, truth_table):
        """Read with a small maxRecordsPerBatch (ReadLimits.max_records), every key once; each
        micro-batch replayed to its end offset (ReadLimits.end_offset) returns its keys again."""
        self._run_check(self._truth_checks(truth_table).micro_batches)

    @pytest.mark.spark
    def test_truth_stream_after_changes(self, spark, truth_table):
        """An availableNow stream, then creates, updates and deletes, then a second run: the
        stream's keys less the delete flow's equal the source's live keys, and the delete
        flow's keys its deleted keys."""
        checks = self._incremental_checks(truth_table)
        keys, with_deletes = checks.keys, checks.meta["ingestion_type"] == "cdc_with_deletes"
        workdir = tempfile.mkdtemp(prefix=f"lakeflow-truth-{truth_table}-")

        def run(flow: str, **extra: str) -> set:
            reader = spark.readStream.format(self._format(spark)).option("tableName", truth_table).options(**checks.options, **extra)
            query = (reader.load().writeStream.format("parquet").option("path", f"{workdir}/{flow}")
                     .option("checkpointLocation", f"{workdir}/{flow}-checkpoint").trigger(availableNow=True).start())
            if not await_termination(query, timeout=300):
                query.stop()
                raise AssertionError(f"{truth_table}: the {flow} stream did not finish within 300 s")
            if query.exception() is not None:
                raise AssertionError(f"{truth_table}: the {flow} stream failed: {query.exception()}")
            rows = spark.read.parquet(f"{workdir}/{flow}").select(*keys).collect()
            return {key_of(r.asDict(recursive=True), keys) for r in rows}

        def state() -> list[str]:
            changed = run("changes")
            deleted = run("deletes", isDeleteFlow="true") if with_deletes else set()
            truth = checks.truth()
            problems = compare_keys(truth_table, list(changed - deleted), set(truth.records),
                                    "after restarting from its checkpoint", "the stream")
            if with_deletes:
                problems += compare_keys(truth_table, list(deleted), set(truth.deleted),
                                         "reading from the start", "the delete-flow stream")
            return problems

        try:
            first = state()
            assert not first, "\n".join(first)
            for change, n in CHANGES.items():
                try:
                    checks.sandbox.scenario(truth_table, change, n)
                except NotImplementedError:
                    pass
            problems = state()
            deadline = time.monotonic() + self.write_visibility_deadline
            while problems and time.monotonic() < deadline:  # a search index may lag the writes
                time.sleep(1.0)
                problems = state()
            assert not problems, "\n".join(problems)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    @pytest.mark.spark
    def test_truth_spark_read(self, spark, truth_table):
        """``spark.read`` returns exactly the source's keys, each once."""
        checks = self._truth_checks(truth_table)
        if not checks.keys:
            pytest.skip(f"{truth_table}: no primary key to compare by")
        rows = self._reader(spark, truth_table).load().select(*checks.keys).collect()
        problems = compare_keys(truth_table, [key_of(r.asDict(recursive=True), checks.keys) for r in rows],
                                set(checks.truth().records), None, "spark.read")
        assert not problems, "\n".join(problems)

    # -- live mode -----------------------------------------------------------------------------
    def test_live_api(self):
        """In live mode, the real API answers with the given credentials; otherwise this test
        is skipped with the reason (every other test has run against the sandbox)."""
        if self.mode != "live":
            names = env_names(self.source_name, self.live_required_options)
            pytest.skip(
                f"live mode not run: no credentials for {self.source_name} ({names or 'no live options declared'}, "
                f"or {dev_config_path(self.source_name)}); the suite ran against the sandbox"
            )
        table = self.tables()[0]
        records, _ = self.connector.read_table(table, None, self.opts(table))
        assert isinstance(list(records), list)

    # -- list_tables and unknown tables ----------------------------------------------------
    def test_list_tables(self):
        tables = self.connector.list_tables()
        assert isinstance(tables, list) and tables, "list_tables() must return a non-empty list"
        assert all(isinstance(t, str) and t for t in tables), "table names must be non-empty strings"
        dupes = sorted({t for t in tables if tables.count(t) > 1})
        assert not dupes, f"list_tables() has duplicates: {dupes}"

    def test_unknown_table_raises_everywhere(self):
        calls = {
            "get_table_schema": lambda: self.connector.get_table_schema(MISSING_TABLE, {}),
            "read_table_metadata": lambda: self.connector.read_table_metadata(MISSING_TABLE, {}),
            "read_table": lambda: list(self.connector.read_table(MISSING_TABLE, None, {})[0]),
            "read_table_deletes": lambda: list(self.connector.read_table_deletes(MISSING_TABLE, None, {})[0]),
        }
        silent = []
        for name, call in calls.items():
            try:
                call()
            except Exception:
                continue
            silent.append(name)
        assert not silent, f"these methods accepted unknown table {MISSING_TABLE!r} without error: {silent}"

    # -- schemas and metadata --------------------------------------------------------------
    def test_schemas(self):
        for table in self.tables():
            schema = self.connector.get_table_schema(table, self.opts(table))
            assert isinstance(schema, StructType), f"{table}: schema is {type(schema).__name__}, not StructType"
            assert schema.fields, f"{table}: schema has no fields"
            again = self.fresh_connector().get_table_schema(table, self.opts(table))
            assert schema == again, f"{table}: schema differs between two calls"
            assert not _duplicate_fields(schema), f"{table}: duplicate fields {_duplicate_fields(schema)}"
            ArrowConverter(schema, table)  # every type is one the runtime converts

    def test_metadata(self):
        for table in self.tables():
            meta = self.connector.read_table_metadata(table, self.opts(table))
            checked = validate_metadata(table, meta)
            assert checked["ingestion_type"] in INGESTION_TYPES
            schema = self.connector.get_table_schema(table, self.opts(table))
            missing = [k for k in checked["primary_keys"] if k not in schema.fieldNames()]
            assert not missing, f"{table}: primary keys {missing} are not top-level columns of the schema"
            cursor = checked["cursor_field"]
            if checked["ingestion_type"] != "snapshot":
                assert cursor, f"{table}: {checked['ingestion_type']} needs a cursor_field"
            if cursor:
                assert field_at(schema, cursor) is not None, (
                    f"{table}: cursor field {cursor!r} is not a column (or a dotted path through struct fields) of the schema")
            if checked["ingestion_type"] == "cdc_with_deletes":
                assert type(self.connector).read_table_deletes is not LakeflowConnect.read_table_deletes, (
                    f"{table} is cdc_with_deletes but the connector does not implement read_table_deletes"
                )

    # -- reading through the connector -----------------------------------------------------
    def test_read_table_converges_and_converts(self):
        for table in self.tables():
            result = self.full_read(table)
            meta = self.metadata(table)
            schema = self.connector.get_table_schema(table, self.opts(table))
            converted = ArrowConverter(schema, table, meta["primary_keys"]).convert(result.records)
            assert converted.num_rows == len(result.records)
            keys = meta["primary_keys"]
            if keys:
                seen = [key_of(r, keys) for r in result.records]
                nulls = [k for k in seen if "null" in k]
                assert not nulls, f"{table}: {len(nulls)} records have a null primary key"
                assert len(set(seen)) == len(seen), f"{table}: primary keys repeat within one full read"

    def test_read_from_final_offset_returns_nothing_new(self):
        for table in self.incremental_tables():
            final = self.full_read(table).final_offset
            records, end = self.fresh_connector().read_table(table, final, self.opts(table))
            assert list(records) == [], f"{table}: reading from the final offset {offset_key(final)} returned records"
            assert offset_key(end) == offset_key(final), f"{table}: the final offset moved on an idle re-read"

    def test_every_column_populated(self):
        for table in self.tables():
            records = self.full_read(table).records
            if not records:
                pytest.fail(f"{table}: the test data has no records; the suite cannot check it")
            schema = self.connector.get_table_schema(table, self.opts(table))
            allowed = set(self.allow_unpopulated.get(table, []))
            empty = [
                f.name for f in schema.fields
                if f.name not in allowed and all(r.get(f.name) in (None, "", [], {}) for r in records)
            ]
            assert not empty, f"{table}: columns never populated in the test data: {empty}"

    def test_read_table_deletes_protocol(self):
        for table in self.tables():
            meta = self.metadata(table)
            if meta["ingestion_type"] != "cdc_with_deletes":
                continue
            result = read_all(self.connector.read_table_deletes, table, self.opts(table))
            for record in result.records:
                for field in [*meta["primary_keys"], meta["cursor_field"]]:
                    assert record.get(field) not in (None, ""), f"{table}: a deleted record lacks {field}: {record}"

    # -- partitions --------------------------------------------------------------------------
    def test_partitions(self):
        if not isinstance(self.connector, SupportsPartition):
            pytest.skip("connector does not implement SupportsPartition")
        for table in self.tables():
            if isinstance(self.connector, SupportsPartitionedStream) and not self.connector.is_partitioned(table):
                continue
            parts = list(self.connector.get_partitions(table, self.opts(table)))
            assert parts == list(self.fresh_connector().get_partitions(table, self.opts(table))), (
                f"{table}: partition descriptors differ between two calls"
            )
            for part in parts:
                assert isinstance(part, dict), f"{table}: descriptor {part!r} is not a dict"
                assert json.loads(json.dumps(part)) == part, f"{table}: descriptor {part!r} is not JSON-stable"
            keys = self.metadata(table)["primary_keys"]
            from_parts = [key_of(r, keys) for p in parts for r in self.connector.read_partition(table, p, self.opts(table))]
            from_loop = [key_of(r, keys) for r in self.full_read(table).records]
            assert len(from_parts) == len(set(from_parts)), f"{table}: partitions overlap"
            assert set(from_parts) == set(from_loop), (
                f"{table}: partitions read {len(set(from_parts))} keys, the offset loop {len(set(from_loop))}"
            )

    def test_partitioned_stream_offsets(self):
        if not isinstance(self.connector, SupportsPartitionedStream):
            pytest.skip("connector does not implement SupportsPartitionedStream")
        for table in self.tables():
            if not self.connector.is_partitioned(table):
                continue
            opts = self.opts(table)
            latest = self.connector.latest_offset(table, opts, {})
            assert isinstance(latest, dict) and json.loads(json.dumps(latest)) == latest
            assert list(self.connector.get_partitions(table, opts, latest, latest)) == [], (
                f"{table}: equal start and end offsets must give no partitions"
            )
            again = self.connector.latest_offset(table, opts, latest)
            assert offset_key(again) == offset_key(latest), f"{table}: latest_offset does not converge when idle"
            keys = self.metadata(table)["primary_keys"]
            streamed = [
                key_of(r, keys)
                for p in self.connector.get_partitions(table, opts, {}, latest)
                for r in self.connector.read_partition(table, p, opts)
            ]
            assert len(streamed) == len(set(streamed)), f"{table}: stream partitions overlap"
            assert set(streamed) == {key_of(r, keys) for r in self.full_read(table).records}

    # -- through real Spark ------------------------------------------------------------------
    def _format(self, spark) -> str:
        return register(spark, self.connector_class, name=f"lakeflow_{self.source_name}")

    def _reader(self, spark, table: str, stream: bool = False):
        reader = spark.readStream if stream else spark.read
        return reader.format(self._format(spark)).option("tableName", table).options(**self.opts(table))

    def _spark_keys(self, df, keys: list[str]) -> list[tuple]:
        return [key_of(row.asDict(recursive=True), keys) for row in df.select(*keys).collect()]

    @pytest.mark.spark
    def test_spark_read_matches_connector(self, spark):
        for table in self.tables():
            keys = self.metadata(table)["primary_keys"]
            df = self._reader(spark, table).load()
            expected = self.full_read(table).records
            if not keys:
                assert df.count() == len(expected), f"{table}: spark.read count differs from the connector's"
                continue
            got = self._spark_keys(df, keys)
            assert len(got) == len(expected), f"{table}: spark.read returned {len(got)} rows, the connector {len(expected)}"
            assert set(got) == {key_of(r, keys) for r in expected}, f"{table}: spark.read keys differ"

    def _run_available_now(self, spark, table: str, sink: str, checkpoint: str) -> None:
        query = (
            self._reader(spark, table, stream=True).load()
            .writeStream.format("parquet").option("path", sink).option("checkpointLocation", checkpoint)
            .trigger(availableNow=True).start()
        )
        if not await_termination(query, timeout=300):
            query.stop()
            raise AssertionError(f"{table}: the availableNow stream did not finish within 300 s")
        if query.exception() is not None:
            raise AssertionError(f"{table}: streaming query failed: {query.exception()}")

    @pytest.mark.spark
    def test_spark_stream_available_now_and_restart(self, spark):
        utils = self._utils
        for table in self.incremental_tables():
            keys = self.metadata(table)["primary_keys"]
            workdir = tempfile.mkdtemp(prefix=f"lakeflow-{table}-")
            sink, checkpoint = f"{workdir}/sink", f"{workdir}/checkpoint"
            try:
                self._run_available_now(spark, table, sink, checkpoint)
                first = self._spark_keys(spark.read.parquet(sink), keys)
                expected = {key_of(r, keys) for r in self.full_read(table).records}
                assert set(first) == expected, f"{table}: the availableNow stream read {len(set(first))} keys, the connector {len(expected)}"
                assert len(first) == len(set(first)), f"{table}: the first stream run duplicated records"

                self._run_available_now(spark, table, sink, checkpoint)  # idle run
                idle = self._spark_keys(spark.read.parquet(sink), keys)
                assert len(idle) == len(first), f"{table}: an idle restart added {len(idle) - len(first)} rows"

                if utils is None or table not in utils.list_insertable_tables():
                    continue
                ok, rows, _ = utils.generate_rows_and_write(table, self.rows_to_write)
                assert ok, f"{table}: write-back failed"
                new_keys = {key_of(r, keys) for r in rows}

                def grown():
                    self._run_available_now(spark, table, sink, checkpoint)
                    now = self._spark_keys(spark.read.parquet(sink), keys)
                    return now if new_keys <= set(now) else None

                after = poll(grown, self.write_visibility_deadline, what=f"{table}: written rows in the stream")
                assert set(after) - set(first) == new_keys - set(first), (
                    f"{table}: the restarted stream added keys other than the rows written"
                )
                assert len(after) - len(first) == len(new_keys), (
                    f"{table}: the restarted stream added {len(after) - len(first)} rows for {len(new_keys)} written"
                )
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
