"""``lakeflow pipeline run``: every table of a spec lands in Delta, incrementally.

Each destination table runs on its own Spark session (Delta's idempotent-write ids are
session confs) in a bounded pool of threads (``max_concurrent``):

* **incremental tables** (``cdc``, ``cdc_with_deletes``, ``append``) read what follows the
  offsets they committed last with plain batch reads (:mod:`harness.pipeline.increments`),
  at most ``maxRecordsPerBatch`` records per flow, and apply each increment as one batch
  (:class:`~harness.pipeline.apply.TableWriter`), whose Delta commit carries the offsets it
  reached and is idempotent for the batch number. A table with nothing new costs one small
  read per flow and no write. No stream is started.
* **snapshot tables** are read whole with ``spark.read`` and replace the table in one commit.

State (:mod:`harness.pipeline.state`): ``<state home>/pipelines/<pipeline>/<table>/checkpoint.json``;
tombstones and a full refresh's build live under the *data* home (the Spark server's, for a
run on a remote Spark Connect server). A full refresh (``full_refresh``) builds the table
anew beside the old one from the start of the source and swaps it in with one commit, so
readers never see an empty or partial table. Schema changes follow the table's
``schema_changes`` (:mod:`harness.pipeline.schema_changes`). A failed table is reported in
one line and the others finish. Every run is written to the event log
(:mod:`harness.pipeline.events`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from datasource.columns import select_columns
from datasource.metrics import METRICS_DIR, total_requests
from datasource.options import MAX_RECORDS_PER_BATCH
from harness.pipeline import events as ev
from harness.pipeline.apply import BatchOutcome, TableWriter
from harness.pipeline.delta_target import DeltaTarget, committing
from harness.pipeline.increments import DEFAULT_BATCH_RECORDS, Increment, IncrementReader
from harness.pipeline.progress import PlainProgress, TableProgress
from harness.pipeline.schema_changes import SchemaChangeError
from harness.pipeline.spec import PipelineSpec, TablePlan
from harness.pipeline.state import Checkpoint, StateError, TableState
from sources.interface.contract import offset_key

log = logging.getLogger("lakeflow.pipeline")

_ERROR_LINE = re.compile(r"\b(\w*(?:Error|Exception)): (.+)")
_PREFERRED = ("ConnectorError", "UnknownTableError", "OptionError", "ConversionError", "HttpError", "SchemaChangeError",
              "StateError")


def is_remote(spark) -> bool:
    """Whether ``spark`` is a Spark Connect session."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def summarize_error(exc: BaseException) -> str:
    """One line for a failure: the connector's own error when Spark wrapped it."""
    from sources.http.redact import redact_text

    if isinstance(exc, (SchemaChangeError, StateError)):
        return redact_text(str(exc), [])
    text = str(exc)
    best = None
    for line in text.splitlines():
        match = _ERROR_LINE.search(line)
        if not match:
            continue
        if match.group(1) in _PREFERRED or match.group(1).endswith("ApiError"):
            best = f"{match.group(1)}: {match.group(2)}"
            break
        best = best or f"{match.group(1)}: {match.group(2)}"
    line = best or (text.strip().splitlines() or [type(exc).__name__])[0]
    line = redact_text(line, [])
    return line if len(line) <= 400 else line[:397] + "..."


@dataclass
class RunResult:
    tables: list[TableProgress]
    log_path: Path | None = None
    seconds: float = 0.0
    failed: list[TableProgress] = field(default_factory=list)
    run_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


class PipelineRunner:
    """Runs a resolved spec on a Spark session.

    Args:
        spec: the validated spec.
        plans: :func:`~harness.pipeline.spec.resolve`'s result.
        spark: a Delta-enabled session (:func:`harness.spark.local_session`) or a Spark
            Connect session.
        connection: the connector's connection options.
        home: the Lakeflow home whose filesystem Spark writes (tombstones, a full refresh's
            build, request counts; the server's for a remote Spark Connect server).
        state_home: where checkpoints and the event log live (default ``home``): this
            machine's.
        max_concurrent: tables read at once.
        progress: a display from :func:`~harness.pipeline.progress.progress_for`.
        log_path: shown in failure lines.
        full_refresh: destination tables to rebuild from the start of the source.
        spec_path: the spec's path as the user typed it, for the fixes errors name.
    """

    def __init__(self, spec: PipelineSpec, plans: list[TablePlan], spark, connection: dict[str, str], home: Path,
                 *, state_home: Path | None = None, max_concurrent: int = 4, progress=None,
                 log_path: Path | None = None, full_refresh: Iterable[str] = (), spec_path: str | None = None):
        self.spec = spec
        self.plans = plans
        self.spark = spark
        self.connection = dict(connection)
        self.home = Path(home)
        self.state_home = Path(state_home) if state_home is not None else self.home
        self.max_concurrent = max(1, max_concurrent)
        self.log_path = log_path
        self.full_refresh = set(full_refresh)
        self.spec_path = spec_path or f"<{spec.name} spec>"
        self.tables = [TableProgress(p.destination, p.source_table, p.kind) for p in plans]
        self.progress = progress or PlainProgress()
        self.events = ev.EventLog(self.state_home / "pipelines" / spec.name)
        self._lock = threading.Lock()
        self._one_remote_session = threading.Lock()
        self._stopping = False

    # -- locations -----------------------------------------------------------------------
    def state_dir(self, plan: TablePlan) -> Path:
        """This machine's state of a table (its checkpoint)."""
        return self.state_home / "pipelines" / self.spec.name / plan.destination

    def data_dir(self, plan: TablePlan) -> Path:
        """Spark's side of a table's state (tombstones, a full refresh's build)."""
        return self.home / "pipelines" / self.spec.name / plan.destination

    def target(self, plan: TablePlan) -> DeltaTarget:
        return self._destination(plan.destination)

    def _destination(self, table: str) -> DeltaTarget:
        dest = self.spec.destination
        if dest.path is not None:
            root = Path(dest.path)
            root = root if root.is_absolute() else (Path.cwd() / root)
            return DeltaTarget(path=str(root.resolve() / table))
        return DeltaTarget(name=f"{dest.schema_}.{table}")

    def write_id(self, plan: TablePlan) -> str:
        return f"lakeflow:{self.spec.name}:{plan.destination}"

    def _tombstones(self, plan: TablePlan, state: TableState) -> DeltaTarget | None:
        if not (plan.with_deletes and plan.scd_type == 1):
            return None
        name = "tombstones" if state.generation == 0 else f"tombstones-r{state.generation}"
        return DeltaTarget(path=str(self.data_dir(plan) / name))

    def _staging(self, plan: TablePlan, generation: int) -> DeltaTarget:
        return DeltaTarget(path=str(self.data_dir(plan) / f"refresh-r{generation}"))

    def rebuild_hint(self, plan: TablePlan) -> str:
        return f"`lakeflow pipeline run {self.spec_path} --full-refresh {plan.destination}`"

    # -- running -------------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.monotonic()
        self.run_id = ev.new_run_id()
        self.snapshot_time = datetime.now(timezone.utc).replace(tzinfo=None)
        self.events.append({"event": "run_started", "run_id": self.run_id, "time": ev.now(), "pipeline": self.spec.name,
                            "source": self.spec.source, "target": "connect" if is_remote(self.spark) else "local",
                            "tables": [p.destination for p in self.plans], "full_refresh": sorted(self.full_refresh)})
        with self.progress:
            with ThreadPoolExecutor(max_workers=self.max_concurrent, thread_name_prefix="lakeflow-table") as pool:
                futures = [pool.submit(self._run_table, plan, table) for plan, table in zip(self.plans, self.tables)]
                try:
                    for future in futures:
                        future.result()
                except KeyboardInterrupt:
                    self.stop()
                    raise
        failed = [t for t in self.tables if t.status == "failed"]
        seconds = time.monotonic() - started
        self._copy_events_to_delta()
        self.events.append({"event": "run_finished", "run_id": self.run_id, "time": ev.now(),
                            "status": "failed" if failed else "done", "seconds": round(seconds, 3),
                            "failed": [t.destination for t in failed]})
        return RunResult(self.tables, self.log_path, seconds, failed, self.run_id)

    def stop(self) -> None:
        """Stop starting tables (Ctrl-C); what was committed stays committed."""
        self._stopping = True

    def _event(self, table: TableProgress, what: str) -> None:
        self.progress.event(table, what)

    @contextlib.contextmanager
    def _table_session(self):
        """A session of the table's own: Delta's idempotent-write ids and a commit's label
        are session confs, so tables running at once must not share one. Classic Spark:
        ``newSession()`` (same SparkContext and catalog). Spark Connect: ``cloneSession()``,
        released afterwards; a client without it runs one table at a time."""
        if not is_remote(self.spark):
            yield self.spark.newSession()
            return
        clone = getattr(self.spark, "cloneSession", None)
        if clone is None:
            with self._one_remote_session:
                yield self.spark
            return
        spark = clone()
        try:
            yield spark
        finally:
            with contextlib.suppress(Exception):  # best effort: the server expires idle sessions too
                spark.client.release_session()
                spark.client.close()

    def _run_table(self, plan: TablePlan, table: TableProgress) -> None:
        if self._stopping:
            return
        table.status, table.started = "running", time.monotonic()
        table.started_at = ev.now()
        table.full_refresh = plan.destination in self.full_refresh
        shutil.rmtree(self._metrics_dir(plan), ignore_errors=True)
        self._event(table, "start")
        try:
            with self._table_session() as spark:
                if plan.ingestion_type == "snapshot":
                    self._run_snapshot(spark, plan, table)
                else:
                    self._run_incremental(spark, plan, table)
            self._count_requests(plan, table)
            table.status = "done"
            table.finished = time.monotonic()
            self._event(table, "done")
        except Exception as exc:
            table.status, table.finished = "failed", time.monotonic()
            table.error = summarize_error(exc)
            log.error("table %s failed", plan.destination, exc_info=exc)
            self._event(table, "failed")
        self.events.append(table.event(self.run_id))

    def _format(self, plan: TablePlan, spark) -> str:
        """A format name of the source's own for this destination table. Spark keeps one
        Python function (with a mutable environment map) per registered format; tables
        running concurrently on one format were seen to corrupt each other's task
        serialization (java.io.OptionalDataException), so each table registers its own."""
        from datasource import register

        with self._lock:
            return register(spark, self.spec.source, name=f"lakeflow_{self.spec.source}__{plan.destination}")

    def _read_options(self, plan: TablePlan, **extra: str) -> dict[str, str]:
        return {**self.connection, **plan.options, "tableName": plan.source_table,
                METRICS_DIR: str(self._metrics_dir(plan)), **extra}

    def _metrics_dir(self, plan: TablePlan) -> Path:
        return self.data_dir(plan) / "requests"

    def _count_requests(self, plan: TablePlan, table: TableProgress) -> None:
        table.requests = total_requests(self._metrics_dir(plan))

    def _report(self, plan: TablePlan, table: TableProgress, outcome: BatchOutcome) -> None:
        with self._lock:
            table.batches += 1
            table.totals.add(outcome)
        self._count_requests(plan, table)
        self._event(table, "batch")

    # -- snapshot tables -------------------------------------------------------------------
    def _run_snapshot(self, spark, plan: TablePlan, table: TableProgress) -> None:
        df = spark.read.format(self._format(plan, spark)).options(**self._read_options(plan)).load()
        df = select_columns(df, plan.include_columns, plan.exclude_columns)
        target = self.target(plan)
        writer = TableWriter(plan, target, self.write_id(plan))
        rebuild = plan.destination in self.full_refresh
        before = None
        if not rebuild:
            changes = writer.prepare(spark, df.schema, plan.schema_changes, self.rebuild_hint(plan))
            table.schema_changes = changes.describe()
            before = None if writer._empty else target.read(spark).count()
        outcome = writer.apply_snapshot(df, self.snapshot_time, label={"snapshot": True}, rebuild=rebuild)
        if outcome.rows_read == 0 and before:
            table.warnings.append(f"silent success? the snapshot of {plan.source_table!r} returned no rows, so the "
                                  f"table (which had {before:,}) is now empty")
        self._report(plan, table, outcome)

    # -- incremental tables ----------------------------------------------------------------
    def _batch_records(self, plan: TablePlan) -> int:
        from datasource.options import parse_positive_int

        return parse_positive_int(plan.options, MAX_RECORDS_PER_BATCH) or DEFAULT_BATCH_RECORDS

    def _run_incremental(self, spark, plan: TablePlan, table: TableProgress) -> None:
        target = self.target(plan)
        checkpoint = Checkpoint(self.state_dir(plan))
        state = self._resume(spark, plan, target, checkpoint)
        table.offsets_before = state.offsets
        build = self._staging(plan, state.generation) if state.refresh else target
        writer = TableWriter(plan, build, state.writeId, self._tombstones(plan, state))
        reader = IncrementReader(spark, self._format(plan, spark), self._read_options(plan), plan.ingestion_type,
                                 plan.include_columns, plan.exclude_columns, self._batch_records(plan))
        flows, prepared, schema = None, False, None
        while not self._stopping:
            increment = reader.read(state.offsets, flows)
            try:
                schema = schema or increment.schema
                if increment.rows == 0:
                    if offset_key(increment.ends) != offset_key(state.offsets):
                        state = state.advanced(increment.ends)
                        checkpoint.save(state)
                    break
                if not prepared:
                    changes = writer.prepare(spark, increment.schema, plan.schema_changes, self.rebuild_hint(plan))
                    table.schema_changes = changes.describe()
                    prepared = True
                state = self._commit(plan, table, writer, checkpoint, state, increment)
            finally:
                increment.release()
            if not increment.more:
                break
            flows = sorted(increment.more)
        if state.refresh:
            state = self._swap(spark, plan, target, build, writer, checkpoint, state, schema)
        table.offsets_after = state.offsets
        if table.totals.rows_read == 0:
            self._check_silent_success(spark, plan, table, target)

    def _commit(self, plan: TablePlan, table: TableProgress, writer: TableWriter, checkpoint: Checkpoint,
                state: TableState, increment: Increment) -> TableState:
        batch = state.batch + 1
        checkpoint.save(state.with_pending(batch))
        outcome = writer.apply_batch(increment.data, batch, label={"offsets": increment.ends})
        outcome.read_seconds += increment.seconds
        state = state.committed(batch, increment.ends)
        checkpoint.save(state)
        self._report(plan, table, outcome)
        return state

    def _resume(self, spark, plan: TablePlan, target: DeltaTarget, checkpoint: Checkpoint) -> TableState:
        """The table's state: from its checkpoint, reconciled with Delta after a crash; new
        (and checked against the destination) without one; a new generation on a full
        refresh."""
        base = self.write_id(plan)
        state = checkpoint.load()
        if plan.destination in self.full_refresh:
            generation = (state.generation if state else self._last_generation(spark, target, base)) + 1
            state = TableState(writeId=f"{base}:r{generation}", generation=generation,
                               refresh={"staging": self._staging(plan, generation).path},
                               primaryKeys=list(plan.primary_keys), sequenceBy=plan.sequence_by)
            checkpoint.save(state)
            log.info("table %s: full refresh, generation %d", plan.destination, generation)
            return state
        if state is None:
            return self._new_state(spark, plan, target, checkpoint)
        if state.primaryKeys and (list(state.primaryKeys) != list(plan.primary_keys) or state.sequenceBy != plan.sequence_by):
            raise SchemaChangeError(
                f"table {plan.destination}: built with primary key {state.primaryKeys} and sequence column "
                f"{state.sequenceBy!r}, now {list(plan.primary_keys)} and {plan.sequence_by!r}; rebuild it with "
                f"{self.rebuild_hint(plan)}")
        if state.batch and not state.refresh and target.schema(spark) is None:
            # Batches were committed, but the table they went to is gone (dropped, or this is
            # another home or Spark Connect server): reading on from the checkpoint would land
            # only what changed since, on an empty table.
            raise StateError(
                f"table {plan.destination}: its checkpoint {checkpoint.path} has {state.batch} committed batch(es), "
                f"but the table does not exist (dropped, or another home or Spark Connect server than the one the "
                f"checkpoint was written with); rebuild it with {self.rebuild_hint(plan)}, or remove the checkpoint "
                f"if this is a new destination")
        if state.pending is not None:
            build = self._staging(plan, state.generation) if state.refresh else target
            commit = build.last_labelled(spark, state.writeId)
            batch = (commit.label.get("batch") or 0) if commit else 0
            if commit is not None and batch >= state.pending:
                log.info("table %s: batch %d was committed before the last run stopped", plan.destination, batch)
                state = state.committed(batch, commit.label.get("offsets") or {})
            else:
                log.info("table %s: batch %d was not committed before the last run stopped; reading it again",
                         plan.destination, state.pending)
                state = replace(state, pending=None)
            checkpoint.save(state)
        return state

    def _new_state(self, spark, plan: TablePlan, target: DeltaTarget, checkpoint: Checkpoint) -> TableState:
        if checkpoint.legacy():
            raise StateError(
                f"table {plan.destination}: {checkpoint.directory / 'checkpoint'} is a checkpoint of the earlier "
                f"stream-per-table runner, which this version does not continue; rebuild the table once with "
                f"{self.rebuild_hint(plan)} (or --full-refresh-all)")
        if target.schema(spark) is not None:  # a Delta table has commits once it exists
            ours = next(target.labelled(spark, self.write_id(plan)), None)
            whose = (f"commits written by this pipeline (the last: version {ours.version}, batch "
                     f"{ours.label.get('batch')})" if ours else "rows this pipeline has no record of")
            raise StateError(
                f"table {plan.destination}: its checkpoint {checkpoint.path} is missing, but the Delta table "
                f"{target.display} already has {whose}; reading the source again from the start could land records "
                f"twice. Rebuild the table with {self.rebuild_hint(plan)}, or restore the checkpoint")
        state = TableState(writeId=self.write_id(plan), primaryKeys=list(plan.primary_keys), sequenceBy=plan.sequence_by)
        checkpoint.save(state)  # before the first commit: a table with commits and no checkpoint is then never ours
        return state

    @staticmethod
    def _last_generation(spark, target: DeltaTarget, base: str) -> int:
        for commit in target.labelled(spark, base):
            suffix = str(commit.label.get("writeId", ""))[len(base):]
            return int(suffix[2:]) if suffix.startswith(":r") and suffix[2:].isdigit() else 0
        return 0

    def _swap(self, spark, plan: TablePlan, target: DeltaTarget, staging: DeltaTarget, writer: TableWriter,
              checkpoint: Checkpoint, state: TableState, schema) -> TableState:
        """Replace the destination with the full refresh's build in one commit (readers see
        the old table until it lands), then go on with the new generation."""
        landed = target.last_labelled(spark, state.writeId)
        if landed is None or not landed.label.get("refresh"):
            built = staging.read(spark) if staging.schema(spark) is not None else self._empty_frame(spark, writer, schema)
            with committing(spark, state.writeId, state.batch, {"offsets": state.offsets, "refresh": True}):
                target.overwrite(built, replace_schema=True)
        state = replace(state, refresh=None, pending=None)
        checkpoint.save(state)
        with contextlib.suppress(OSError):  # the build is no longer read; a remote server's stays until cleaned
            shutil.rmtree(staging.path)
        log.info("table %s: full refresh swapped in (generation %d)", plan.destination, state.generation)
        return state

    @staticmethod
    def _empty_frame(spark, writer: TableWriter, schema):
        if schema is None:
            raise StateError(f"table {writer.plan.destination}: the full refresh read no schema from the source")
        return spark.createDataFrame([], writer.target_schema(schema))

    def _check_silent_success(self, spark, plan: TablePlan, table: TableProgress, target: DeltaTarget) -> None:
        """A run that read nothing into a table that holds nothing, from a source that has
        records (a whole-table read finds one), is flagged: its offsets may be past the data."""
        if target.file_count(spark):  # Delta's metadata: the table has rows (it writes no empty files)
            return
        probe = spark.read.format(self._format(plan, spark)).options(**self._read_options(plan)).load()
        if not probe.isEmpty():
            table.warnings.append(
                f"silent success? read 0 rows and {target.display} is empty, yet a whole-table read of "
                f"{plan.source_table!r} finds records; the table's offsets {offset_key(table.offsets_after)} may be past "
                f"its data: rebuild it with {self.rebuild_hint(plan)}")

    # -- the event log's Delta copy ----------------------------------------------------------
    def _copy_events_to_delta(self) -> None:
        """Append this run's table events to ``_lakeflow_events`` beside the tables (one
        commit); a failure here is logged, never the run's."""
        rows = [t.event(self.run_id) for t in self.tables if t.status in ("done", "failed")]
        if not rows:
            return
        try:
            schema = ", ".join(f"`{name}` {kind}" for name, kind in ev.TABLE_COLUMNS)
            df = self.spark.createDataFrame(ev.table_rows(rows, self.spec.name), schema)
            self._destination(ev.EVENTS_TABLE).append(df)
        except Exception as exc:  # the JSON lines are the log of record
            log.warning("could not append the run's events to %s: %s", ev.EVENTS_TABLE, summarize_error(exc))
