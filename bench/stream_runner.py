"""The baseline of ``bench/pipeline.py``: the stream-per-table runner the pipeline used before
its incremental batch reads (until 2026-12), kept here only to be measured against.

Each non-snapshot table is one ``spark.readStream`` (the change flow, unioned with the
delete flow for ``cdc_with_deletes``) with ``trigger(availableNow=True)`` and its own Spark
checkpoint; every micro-batch is applied by the same :class:`TableWriter` in
``foreachBatch``. Snapshot tables are read whole and applied as the pipeline does. Tables
run on a pool of ``max_concurrent`` threads, as the pipeline's do. Not a product: no
progress, no event log, no recovery beyond what Spark's checkpoints give.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pyspark.sql import functions as F

from datasource import register
from harness.pipeline.apply import IS_DELETE, BatchOutcome, TableWriter
from harness.pipeline.delta_target import DeltaTarget
from harness.pipeline.spec import PipelineSpec, TablePlan
from harness.spark import await_termination


@dataclass
class StreamTable:
    destination: str
    seconds: float = 0.0
    totals: BatchOutcome = field(default_factory=BatchOutcome)
    error: str | None = None


class StreamPerTableRunner:
    def __init__(self, spec: PipelineSpec, plans: list[TablePlan], spark, connection: dict, home: Path,
                 max_concurrent: int = 4):
        self.spec, self.plans, self.spark, self.connection = spec, plans, spark, dict(connection)
        self.home, self.max_concurrent = Path(home), max_concurrent

    def _target(self, plan: TablePlan) -> DeltaTarget:
        return DeltaTarget(path=str(Path(self.spec.destination.path) / plan.destination))

    def run(self) -> list[StreamTable]:
        self.snapshot_time = datetime.now(timezone.utc).replace(tzinfo=None)
        tables = [StreamTable(p.destination) for p in self.plans]
        with ThreadPoolExecutor(self.max_concurrent) as pool:
            list(pool.map(self._table, self.plans, tables))
        return tables

    def _table(self, plan: TablePlan, table: StreamTable) -> None:
        started = time.perf_counter()
        try:
            state = self.home / "stream-runner" / self.spec.name / plan.destination
            tombstones = DeltaTarget(path=str(state / "tombstones")) if plan.with_deletes and plan.scd_type == 1 else None
            writer = TableWriter(plan, self._target(plan), f"bench-stream:{self.spec.name}:{plan.destination}", tombstones)
            fmt = register(self.spark, self.spec.source, name=f"bench_stream_{plan.destination}")
            options = {**self.connection, **plan.options, "tableName": plan.source_table}
            if plan.ingestion_type == "snapshot":
                df = self.spark.read.format(fmt).options(**options).load()
                writer.prepare(self.spark, df.schema)
                table.totals.add(writer.apply_snapshot(df, self.snapshot_time))
                return
            changes = self.spark.readStream.format(fmt).options(**options).load()
            writer.prepare(self.spark, changes.schema)
            if plan.ingestion_type != "append":
                changes = changes.withColumn(IS_DELETE, F.lit(False))
            if plan.with_deletes:
                deletes = self.spark.readStream.format(fmt).options(**options, isDeleteFlow="true").load()
                changes = changes.unionByName(deletes.withColumn(IS_DELETE, F.lit(True)))

            def apply(batch, batch_id):
                table.totals.add(writer.apply_batch(batch, batch_id))

            query = (changes.writeStream.option("checkpointLocation", str(state / "checkpoint"))
                     .trigger(availableNow=True).foreachBatch(apply).start())
            await_termination(query)
        except Exception as exc:  # reported by the benchmark
            table.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        finally:
            table.seconds = time.perf_counter() - started
