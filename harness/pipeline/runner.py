"""``lakeflow pipeline run``: every table of a spec lands in Delta, incrementally.

Each destination table is read with the runtime (``spark.readStream.format("lakeflow_<source>")``,
``trigger(availableNow=True)``, one checkpoint per destination table) and every micro-batch
is applied inside ``foreachBatch`` by :class:`~harness.pipeline.apply.TableWriter` with
Delta's idempotent-write ids (the batch id), so a batch replayed after a crash is applied
once. ``cdc_with_deletes`` tables read the delete flow in the same query (a union of the two
flows, rows marked by :data:`~harness.pipeline.apply.IS_DELETE`), so a change and a delete of
one key are ordered by the sequence column in one place. Snapshot tables are read whole with
``spark.read`` and replace the table in one commit.

State lives under ``<home>/pipelines/<pipeline>/<table>/`` (``checkpoint/``, ``tombstones/``).
Tables run on a bounded pool of threads (``max_concurrent``); a failed table is reported
and the others finish.

On a Spark Connect session the same runner works: the micro-batch function
(:class:`BatchApplier`) is pickled to the server and runs in its Python workers, the writer
speaks SQL to Delta, and state paths are the server's. Per-batch figures cannot travel back
from the server, so a table's totals come from its Delta history (the commits the run made)
and the stream's progress (rows read).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from datasource.metrics import METRICS_DIR, total_requests
from harness.pipeline.apply import IS_DELETE, BatchOutcome, TableWriter
from harness.pipeline.checkpoint import clear_unfinished_first_batch
from harness.pipeline.delta_target import DeltaTarget
from harness.pipeline.progress import PlainProgress, TableProgress
from harness.pipeline.spec import PipelineSpec, TablePlan
from harness.spark import await_termination

log = logging.getLogger("lakeflow.pipeline")

_ERROR_LINE = re.compile(r"\b(\w*(?:Error|Exception)): (.+)")
_PREFERRED = ("ConnectorError", "UnknownTableError", "OptionError", "ConversionError", "HttpError")


def is_remote(spark) -> bool:
    """Whether ``spark`` is a Spark Connect session."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


class BatchApplier:
    """The ``foreachBatch`` function of one table: applies each micro-batch with its writer
    and, on a classic session, reports the outcome. Picklable without ``report`` (a Spark
    Connect server runs it in its own Python)."""

    def __init__(self, writer: TableWriter, report=None):
        self.writer = writer
        self.report = report

    def __call__(self, batch, batch_id: int) -> None:
        outcome = self.writer.apply_batch(batch, batch_id)
        if self.report is not None and outcome.rows_read:
            self.report(outcome)


def summarize_error(exc: BaseException) -> str:
    """One line for a failure: the connector's own error when Spark wrapped it."""
    from sources.http.redact import redact_text

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

    @property
    def ok(self) -> bool:
        return not self.failed


class PipelineRunner:
    """Runs a resolved spec on a Spark session.

    Args:
        spec: the validated spec.
        plans: :func:`~harness.pipeline.spec.resolve`'s result.
        spark: a Delta-enabled session (:func:`harness.spark.local_session`).
        connection: the connector's connection options.
        home: the Lakeflow home (state, and path destinations relative to it).
        max_concurrent: tables read at once.
        progress: a display from :func:`~harness.pipeline.progress.progress_for`.
        log_path: shown in failure lines.
    """

    def __init__(self, spec: PipelineSpec, plans: list[TablePlan], spark, connection: dict[str, str], home: Path,
                 *, max_concurrent: int = 4, progress=None, log_path: Path | None = None):
        self.spec = spec
        self.plans = plans
        self.spark = spark
        self.connection = dict(connection)
        self.home = Path(home)
        self.max_concurrent = max(1, max_concurrent)
        self.log_path = log_path
        self.tables = [TableProgress(p.destination, p.source_table, p.kind) for p in plans]
        self.progress = progress or PlainProgress()
        self._lock = threading.Lock()
        self._one_remote_stream = threading.Lock()
        self._queries: list = []
        self._stopping = False

    # -- locations -----------------------------------------------------------------------
    def state_dir(self, plan: TablePlan) -> Path:
        return self.home / "pipelines" / self.spec.name / plan.destination

    def target(self, plan: TablePlan) -> DeltaTarget:
        dest = self.spec.destination
        if dest.path is not None:
            root = Path(dest.path)
            root = root if root.is_absolute() else (Path.cwd() / root)
            return DeltaTarget(path=str(root.resolve() / plan.destination))
        return DeltaTarget(name=f"{dest.schema_}.{plan.destination}")

    def writer(self, plan: TablePlan) -> TableWriter:
        tombstones = None
        if plan.with_deletes and plan.scd_type == 1:
            tombstones = DeltaTarget(path=str(self.state_dir(plan) / "tombstones"))
        return TableWriter(plan, self.target(plan), f"lakeflow:{self.spec.name}:{plan.destination}", tombstones)

    # -- running -------------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.monotonic()
        self.snapshot_time = datetime.now(timezone.utc).replace(tzinfo=None)
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
        return RunResult(self.tables, self.log_path, time.monotonic() - started, failed)

    def stop(self) -> None:
        """Stop every running stream (Ctrl-C); checkpoints keep what was committed."""
        self._stopping = True
        for query in list(self._queries):
            try:
                query.stop()
            except Exception:  # stopping is best effort
                pass

    def _event(self, table: TableProgress, what: str) -> None:
        self.progress.event(table, what)

    def _run_table(self, plan: TablePlan, table: TableProgress) -> None:
        if self._stopping:
            return
        table.status, table.started = "running", time.monotonic()
        shutil.rmtree(self._metrics_dir(plan), ignore_errors=True)
        self._event(table, "start")
        try:
            if plan.ingestion_type == "snapshot":
                self._run_snapshot(plan, table)
            else:
                self._run_stream(plan, table)
            self._count_requests(plan, table)
            table.status = "done"
            table.finished = time.monotonic()
            self._event(table, "done")
        except Exception as exc:
            table.status, table.finished = "failed", time.monotonic()
            table.error = summarize_error(exc)
            log.error("table %s failed", plan.destination, exc_info=exc)
            self._event(table, "failed")

    def _format(self, plan: TablePlan, spark=None) -> str:
        """A format name of the source's own for this destination table. Spark keeps one
        Python function (with a mutable environment map) per registered format; tables
        running concurrently on one format were seen to corrupt each other's task
        serialization (java.io.OptionalDataException), so each table registers its own."""
        from datasource import register

        with self._lock:
            return register(spark or self.spark, self.spec.source, name=f"lakeflow_{self.spec.source}__{plan.destination}")

    def _read_options(self, plan: TablePlan, **extra: str) -> dict[str, str]:
        return {**self.connection, **plan.options, "tableName": plan.source_table,
                METRICS_DIR: str(self._metrics_dir(plan)), **extra}

    def _metrics_dir(self, plan: TablePlan) -> Path:
        return self.state_dir(plan) / "requests"

    def _count_requests(self, plan: TablePlan, table: TableProgress) -> None:
        table.requests = total_requests(self._metrics_dir(plan))

    def _run_snapshot(self, plan: TablePlan, table: TableProgress) -> None:
        spark = self.spark
        df = spark.read.format(self._format(plan)).options(**self._read_options(plan)).load()
        writer = self.writer(plan)
        writer.prepare(spark, df.schema)
        outcome = writer.apply_snapshot(df, self.snapshot_time)
        table.batches = 1
        table.totals.add(outcome)
        self._count_requests(plan, table)
        self._event(table, "batch")

    def _run_stream(self, plan: TablePlan, table: TableProgress) -> None:
        if not is_remote(self.spark):
            # Spark runs each query on a clone of the session: its foreachBatch confs are its own.
            self._stream_on(self.spark, plan, table)
            return
        # A Spark Connect server runs every query's foreachBatch on the session that started
        # it. Delta's idempotent-write confs are session confs, so tables streaming at once
        # from one session would overwrite each other's (seen in CI:
        # DELTA_INVALID_IDEMPOTENT_WRITES_OPTIONS; worse, a commit under another table's
        # version could later be skipped as a replay). Each table gets its own server session;
        # a client that cannot clone sessions streams one table at a time.
        clone = getattr(self.spark, "cloneSession", None)
        if clone is None:
            with self._one_remote_stream:
                self._stream_on(self.spark, plan, table)
            return
        spark = clone()
        try:
            self._stream_on(spark, plan, table)
        finally:
            with contextlib.suppress(Exception):  # best effort: the server expires idle sessions too
                spark.client.release_session()
                spark.client.close()

    def _stream_on(self, spark, plan: TablePlan, table: TableProgress) -> None:
        from pyspark.sql import functions as F

        fmt = self._format(plan, spark)
        changes = spark.readStream.format(fmt).options(**self._read_options(plan)).load()
        source_schema = changes.schema
        if plan.ingestion_type != "append":
            changes = changes.withColumn(IS_DELETE, F.lit(False))
        if plan.with_deletes:
            deletes = spark.readStream.format(fmt).options(**self._read_options(plan, isDeleteFlow="true")).load()
            changes = changes.unionByName(deletes.withColumn(IS_DELETE, F.lit(True)))
        writer = self.writer(plan)
        t0 = time.monotonic()
        writer.prepare(spark, source_schema)
        table.setup_seconds = time.monotonic() - t0
        log.info("table %s: destination ready in %.1fs", plan.destination, table.setup_seconds)

        def report(outcome: BatchOutcome) -> None:
            with self._lock:
                table.batches += 1
                table.totals.add(outcome)
            self._count_requests(plan, table)
            self._event(table, "batch")

        remote = is_remote(spark)
        version_before = writer.version
        checkpoint = self.state_dir(plan) / "checkpoint"
        clear_unfinished_first_batch(checkpoint)
        query = (
            changes.writeStream.queryName(f"lakeflow_{self.spec.name}_{plan.destination}")
            .option("checkpointLocation", str(checkpoint))
            .trigger(availableNow=True)
            .foreachBatch(BatchApplier(writer, None if remote else report))
            .start()
        )
        self._queries.append(query)
        try:
            await_termination(query)
        finally:
            self._queries.remove(query)
        progress = query.recentProgress  # one call: over Spark Connect it is a request to the server
        if remote:
            batches = [p for p in progress if (p.numInputRows or 0) > 0]
            outcome = writer.outcome_since(spark, version_before)
            outcome.rows_read = sum(p.numInputRows for p in batches)
            table.batches = len(batches)
            table.totals.add(outcome)
        # A simple stream reads the source while Spark plans the micro-batch (latestOffset /
        # getBatch); count that as reading, beside the batch's own materialization.
        for entry in progress:
            log.info("table %s: batch %s durations %s", plan.destination, entry.batchId, entry.durationMs)
        planning_ms = sum((p.durationMs or {}).get(k, 0) for p in progress for k in ("latestOffset", "getBatch"))
        table.totals.read_seconds += planning_ms / 1000
