"""The table semantics: how one batch of source records changes a Delta table.

* ``append`` — each micro-batch appended once (Delta's ``txnAppId``/``txnVersion``).
* ``cdc`` SCD 1 — MERGE by primary key keeping the latest row per key by the sequence
  column; an older change arriving late never overwrites a newer one. With deletes, the
  delete flow removes the row, and a tombstone (key, sequence) remembers the delete so
  that an older upsert read later cannot bring the row back.
* ``cdc`` SCD 2 — history rows with ``__START_AT`` / ``__END_AT`` (the sequence values
  between which a version was current), as Databricks AutoCDC writes them. A batch's
  changes and the affected keys' stored versions are merged into one ordered history per
  key; a change already stored (same key and sequence) adds nothing, a delete closes the
  open version.
* ``snapshot`` — the new snapshot replaces the table in one commit: SCD 1 by MERGE
  (changed rows updated, new inserted, missing keys deleted; an overwrite when the table
  has no key), SCD 2 by closing changed and vanished versions at the snapshot's time.

Every batch's commits run inside :func:`~harness.pipeline.delta_target.committing`: Delta's
idempotent-write ids (the pipeline's write id and the batch number), so a batch applied again
after a crash is skipped, and a label holding the offsets the batch reached, so the offsets
land in the same commit as the rows. Every Delta read and write goes through
:class:`~harness.pipeline.delta_target.DeltaTarget`; this module keeps the semantics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType, TimestampType

from datasource.columns import field_at, project
from harness.pipeline import crashpoints
from harness.pipeline.delta_target import DeltaTarget, committing, quote, quote_path
from harness.pipeline.schema_changes import SchemaDiff, check, diff, target_type
from harness.pipeline.spec import TablePlan

#: Marks rows of the delete flow in a CDC micro-batch.
IS_DELETE = "__lakeflow_is_delete"
START_AT = "__START_AT"
END_AT = "__END_AT"
_SEQ = "__lakeflow_seq"


@dataclass
class BatchOutcome:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    #: Seconds spent reading the source (API calls and conversion) and writing Delta.
    read_seconds: float = 0.0
    write_seconds: float = 0.0

    def add(self, other: "BatchOutcome") -> None:
        self.rows_read += other.rows_read
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted
        self.read_seconds += other.read_seconds
        self.write_seconds += other.write_seconds


@dataclass(frozen=True)
class _Facts:
    """What one Spark job over a cached batch tells: its rows, its delete-flow rows and
    whether no primary key repeats (then the batch needs no latest-per-key step)."""

    rows: int
    deletes: int = 0
    unique_keys: bool = False


def _col(name: str, alias: str | None = None) -> str:
    return f"{alias}.{quote(name)}" if alias else quote(name)


def _key_match(keys: list[str]) -> str:
    return " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)


def _set(columns: list[str]) -> str:
    """``UPDATE SET`` of ``columns`` from the source row."""
    return ", ".join(f"t.{quote(c)} = s.{quote(c)}" for c in columns)


def _insert(columns: list[str], values: list[str] | None = None) -> str:
    """``INSERT (columns) VALUES (s.columns | values)``."""
    values = values or [f"s.{quote(c)}" for c in columns]
    return f"INSERT ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(values)})"


def _timestamp(value) -> str:
    """A SQL timestamp literal for a naive UTC ``datetime`` (the session time zone is UTC)."""
    return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"


class TableWriter:
    """Applies batches of one :class:`TablePlan` to its :class:`DeltaTarget`.

    Args:
        plan: the resolved table.
        target: the destination table.
        write_id: Delta's idempotent-write application id, unique per destination table
            and generation (``lakeflow:<pipeline>:<table>``, with a suffix after a full
            refresh); every commit is labelled with it.
        tombstones: where SCD 1 deletes are remembered (tables with deletes only).
    """

    def __init__(self, plan: TablePlan, target: DeltaTarget, write_id: str, tombstones: DeltaTarget | None = None):
        self.plan = plan
        self.target = target
        self.write_id = write_id
        self.tombstones = tombstones
        self._table_schema: StructType | None = None
        self._source_schema: StructType | None = None
        self._policy = ("evolve", "a full refresh")
        self._empty = False
        #: Whether the tombstone table holds any delete (known after :meth:`prepare`).
        self._stones = False
        self._batches = 0

    # -- schema --------------------------------------------------------------------------
    def target_schema(self, source_schema: StructType) -> StructType:
        if self.plan.scd_type == 2:
            seq_type = (
                TimestampType() if self.plan.ingestion_type == "snapshot"
                else field_at(source_schema, self.plan.sequence_by).dataType
            )
            return StructType([*source_schema.fields, StructField(START_AT, seq_type), StructField(END_AT, seq_type)])
        return source_schema

    def prepare(self, spark, source_schema: StructType, policy: str = "evolve", rebuild_hint: str = "a full refresh") -> SchemaDiff:
        """Check the source's schema against the table's and apply what the policy allows:
        columns and struct fields added, types widened (a table that does not exist yet is
        created by its first write). Raises :class:`SchemaChangeError` for the rest."""
        self._policy = (policy, rebuild_hint)
        self._source_schema = source_schema
        wanted = self.target_schema(source_schema)
        current = self.target.schema(spark)
        if current is None:
            self._empty, self._table_schema = True, wanted
            changes = SchemaDiff()
        else:
            changes = diff(current, wanted, ignore=(START_AT, END_AT))
            check(changes, self.plan.destination, policy, rebuild_hint)
            self.target.add_columns(spark, changes.added)
            self.target.widen(spark, [(path, new) for path, _, new in changes.widened])
            self._table_schema = target_type(current, wanted)
            self._empty = False
        if self.tombstones is not None:
            if self.tombstones.schema(spark) is None:  # cheaper than asking a missing table's details
                keys = [source_schema[k] for k in self.plan.primary_keys]
                seq = field_at(source_schema, self.plan.sequence_by)
                self.tombstones.create(spark, StructType([*keys, StructField(_SEQ, seq.dataType)]))
                self._stones = False
            else:
                self._stones = bool(self.tombstones.file_count(spark))
        return changes

    def _conformed(self, batch: DataFrame) -> DataFrame:
        """The batch with the table's columns: one the source no longer sends is null."""
        columns = self._table_schema
        if self.plan.scd_type == 2:
            columns = StructType([f for f in columns.fields if f.name not in (START_AT, END_AT)])
        if self.plan.ingestion_type != "append":
            columns = StructType([*columns.fields, StructField(IS_DELETE, BooleanType())])
        return project(batch, columns, fill_missing=True)

    # -- batches -----------------------------------------------------------------------
    def apply_batch(self, batch: DataFrame, batch_id: int, label: dict | None = None) -> BatchOutcome:
        """Apply one batch of changes (``IS_DELETE`` marks delete-flow rows) as Delta commits
        idempotent for ``batch_id`` and labelled with ``label`` (the offsets it reached)."""
        spark = batch.sparkSession
        batch = batch.persist()
        try:
            started = time.perf_counter()
            facts = self._facts(batch)  # reads the source once; the writes below use the cache
            rows = facts.rows
            read_seconds = time.perf_counter() - started
            if rows == 0:
                return BatchOutcome()
            source_schema = StructType([f for f in batch.schema.fields if f.name != IS_DELETE])
            if self._source_schema is None or source_schema != self._source_schema:
                self.prepare(spark, source_schema, *self._policy)  # the source's schema changed within the run
            self._batches += 1
            crashpoints.reach("before_write", self.plan.destination, self._batches)
            if self.plan.ingestion_type != "append" and IS_DELETE not in batch.columns:
                batch = batch.withColumn(IS_DELETE, F.lit(False))  # a change flow without deletes
            batch = self._conformed(batch)
            data_schema = StructType([f for f in batch.schema.fields if f.name != IS_DELETE])
            with committing(spark, self.write_id, batch_id, label):
                crashpoints.reach("during_write", self.plan.destination, self._batches)
                if self.plan.ingestion_type == "append":
                    outcome = self._append(batch, rows)
                elif self.plan.scd_type == 2:
                    outcome = self._scd2(spark, batch, data_schema)
                else:
                    outcome = self._scd1(spark, batch, data_schema, facts)
            crashpoints.reach("after_write", self.plan.destination, self._batches)
            outcome.rows_read = rows
            return _timed(outcome, started, read_seconds)
        finally:
            batch.unpersist()

    def _facts(self, batch: DataFrame) -> _Facts:
        keys = self.plan.primary_keys if self.plan.ingestion_type != "append" and self.plan.scd_type == 1 else []
        aggs = [F.count(F.lit(1)).alias("rows")]
        if IS_DELETE in batch.columns:
            aggs.append(F.count(F.when(F.col(IS_DELETE), 1)).alias("deletes"))
        if keys:
            aggs.append(F.count_distinct(*[F.col(k) for k in keys]).alias("keys"))
        row = batch.agg(*aggs).first().asDict()
        return _Facts(row["rows"], row.get("deletes") or 0, bool(keys) and row["keys"] == row["rows"])

    def _write(self, df: DataFrame, rows: int | None = None) -> BatchOutcome:
        """A plain append (the table's first batch, an append table's batches); what it
        inserted comes from the commit it made (none when Delta skipped it as applied), or
        is ``rows`` when the table did not exist (no commit of it can have been applied)."""
        spark = df.sparkSession
        new = self._empty
        before = None if new else self.target.last_commit(spark)
        self.target.append(df)
        self._empty = False
        if new and rows is not None:
            return BatchOutcome(inserted=rows)
        after = self.target.last_commit(spark)
        if after is None or (before is not None and after.version <= before.version):
            return BatchOutcome()
        return BatchOutcome(inserted=after.inserted)

    def _append(self, batch: DataFrame, rows: int) -> BatchOutcome:
        return self._write(batch.drop(IS_DELETE), rows)

    def _merge(self, spark, source: DataFrame, on: str, clauses: list[str]) -> BatchOutcome:
        written = self.target.merge(spark, source, on, clauses)
        if written is None:
            return BatchOutcome()
        return BatchOutcome(inserted=written.inserted, updated=written.updated, deleted=written.deleted)

    def _latest_per_key(self, batch: DataFrame) -> DataFrame:
        keys, seq = self.plan.primary_keys, self.plan.sequence_by
        window = Window.partitionBy(*[F.col(k) for k in keys]).orderBy(F.col(seq).desc_nulls_last(), F.col(IS_DELETE).desc())
        return batch.withColumn("__rn", F.row_number().over(window)).where("__rn = 1").drop("__rn")

    def _scd1(self, spark, batch: DataFrame, data_schema: StructType, facts: _Facts) -> BatchOutcome:
        keys, seq = self.plan.primary_keys, self.plan.sequence_by
        latest = batch if facts.unique_keys else self._latest_per_key(batch)
        # With no stored tombstone, a batch of distinct keys keeps every upsert.
        known = facts.rows - facts.deletes if facts.unique_keys and not self._stones else None
        if self.tombstones is not None and (facts.deletes or self._stones):
            latest = self._drop_deleted_later(spark, latest, facts.deletes)
        columns = [f.name for f in data_schema.fields]
        if self._empty:
            return self._write(latest.where(~F.col(IS_DELETE)).select(*columns), known)
        at = quote_path(seq.split("."))  # the sequence may be a path into a struct
        newer = f"(t.{at} IS NULL OR s.{at} >= t.{at})"
        return self._merge(spark, latest, _key_match(keys), [
            f"WHEN MATCHED AND s.{IS_DELETE} AND {newer} THEN DELETE",
            f"WHEN MATCHED AND NOT s.{IS_DELETE} AND {newer} THEN UPDATE SET {_set(columns)}",
            f"WHEN NOT MATCHED AND NOT s.{IS_DELETE} THEN {_insert(columns)}",
        ])

    def _drop_deleted_later(self, spark, latest: DataFrame, deletes: int) -> DataFrame:
        """Record this batch's ``deletes`` as tombstones (appended: a key's latest delete is
        its highest sequence), and drop upserts older than a stored tombstone of their key
        (a late change must not resurrect a deleted row)."""
        keys, seq = self.plan.primary_keys, self.plan.sequence_by
        if deletes:
            self.tombstones.append(latest.where(F.col(IS_DELETE)).select(*[F.col(k) for k in keys], F.col(seq).alias(_SEQ)))
            self._stones = True
        stones = self.tombstones.read(spark).groupBy(*keys).agg(F.max(_SEQ).alias(_SEQ)).alias("d")
        joined = latest.alias("s").join(stones, on=[F.col(f"s.{k}") == F.col(f"d.{k}") for k in keys], how="left")
        keep = F.col(f"d.{_SEQ}").isNull() | F.col(f"s.{IS_DELETE}") | (F.col(f"s.{seq}") > F.col(f"d.{_SEQ}"))
        return joined.where(keep).select("s.*")

    def _scd2(self, spark, batch: DataFrame, data_schema: StructType) -> BatchOutcome:
        keys, seq = self.plan.primary_keys, self.plan.sequence_by
        columns = [f.name for f in data_schema.fields]
        changes = batch.withColumn(_SEQ, F.col(seq)).dropDuplicates([*keys, _SEQ, IS_DELETE])
        if self._empty:
            versions = self._versions(changes.select(*columns, _SEQ, IS_DELETE), keys, columns)
            outcome = self._write(versions)
            outcome.deleted = changes.where(F.col(IS_DELETE)).count() if outcome.inserted else 0
            return outcome
        affected = changes.select(*keys).distinct()
        stored = self.target.read(spark).join(affected, keys, "left_semi").persist()
        new_events = None
        try:
            # The stored history as events: each version is an upsert at __START_AT; a version
            # closed without a successor starting where it ended was closed by a delete.
            stored_upserts = stored.select(*columns, F.col(START_AT).alias(_SEQ), F.lit(False).alias(IS_DELETE))
            successors = stored.select(*keys, F.col(START_AT).alias("__next"))
            closed = stored.where(F.col(END_AT).isNotNull()).select(*keys, F.col(END_AT).alias("__next"))
            stored_deletes = (
                closed.join(successors, [*keys, "__next"], "left_anti")
                .select(*[F.col(k) for k in keys], F.col("__next").alias(_SEQ))
            )
            null_data = [F.lit(None).cast(f.dataType).alias(f.name) for f in data_schema.fields if f.name not in keys]
            stored_deletes = stored_deletes.select(*keys, *null_data, _SEQ, F.lit(True).alias(IS_DELETE)).select(*columns, _SEQ, IS_DELETE)
            stored_events = stored_upserts.unionByName(stored_deletes)
            new_events = changes.select(*columns, _SEQ, IS_DELETE).join(
                stored_events.select(*keys, _SEQ, IS_DELETE), [*keys, _SEQ, IS_DELETE], "left_anti"
            ).persist()
            new_deletes = new_events.where(F.col(IS_DELETE)).count()
            versions = self._versions(stored_events.unionByName(new_events), keys, columns)
            match = _key_match(keys) + f" AND t.{START_AT} <=> s.{START_AT}"
            outcome = self._merge(spark, versions, match, [
                f"WHEN MATCHED AND NOT (t.{END_AT} <=> s.{END_AT}) THEN UPDATE SET t.{END_AT} = s.{END_AT}",
                f"WHEN NOT MATCHED THEN {_insert([*columns, START_AT, END_AT])}",
            ])
        finally:
            stored.unpersist()
            if new_events is not None:
                new_events.unpersist()
        if outcome.inserted or outcome.updated:
            outcome.deleted = new_deletes
        return outcome

    @staticmethod
    def _versions(events: DataFrame, keys: list[str], columns: list[str]) -> DataFrame:
        """One version per upsert event, open until the key's next event (an upsert or a
        delete) by sequence."""
        window = Window.partitionBy(*[F.col(k) for k in keys]).orderBy(F.col(_SEQ).asc_nulls_first(), F.col(IS_DELETE).asc())
        return (
            events.withColumn("__end", F.lead(_SEQ).over(window))
            .where(~F.col(IS_DELETE))
            .select(*columns, F.col(_SEQ).alias(START_AT), F.col("__end").alias(END_AT))
        )

    # -- snapshots -------------------------------------------------------------------------
    def apply_snapshot(self, snapshot: DataFrame, snapshot_time, label: dict | None = None,
                       rebuild: bool = False) -> BatchOutcome:
        """Make the table equal ``snapshot`` (SCD 1) or close and open versions at
        ``snapshot_time`` (SCD 2), in one commit labelled with ``label``; ``rebuild``
        replaces the table (schema and history included) instead."""
        spark = snapshot.sparkSession
        snapshot = snapshot.persist()
        started = time.perf_counter()
        try:
            rows = snapshot.count()
            read_seconds = time.perf_counter() - started
            if not rebuild:
                if self._table_schema is None:
                    self.prepare(spark, snapshot.schema)
                snapshot = project(snapshot, StructType([f for f in self._table_schema.fields
                                                         if f.name not in (START_AT, END_AT)]), fill_missing=True)
            columns = snapshot.columns
            keys = self.plan.primary_keys
            with committing(spark, self.write_id, None, label):
                if rebuild or self._empty or not keys:
                    if self.plan.scd_type == 2:
                        at = F.lit(snapshot_time).cast(TimestampType())
                        snapshot = snapshot.select("*", at.alias(START_AT), F.lit(None).cast(TimestampType()).alias(END_AT))
                    self.target.overwrite(snapshot, replace_schema=rebuild)
                    self._empty = False
                    commit = self.target.last_commit(spark)
                    return _timed(BatchOutcome(rows_read=rows, inserted=commit.inserted if commit else 0), started, read_seconds)
                row_t = f"to_json(struct({', '.join(_col(c, 't') for c in columns)}))"
                row_s = f"to_json(struct({', '.join(_col(c, 's') for c in columns)}))"
                changed = f"NOT ({row_t} <=> {row_s})"
                if self.plan.scd_type == 1:
                    outcome = self._merge(spark, snapshot, _key_match(keys), [
                        f"WHEN MATCHED AND {changed} THEN UPDATE SET {_set(columns)}",
                        f"WHEN NOT MATCHED THEN {_insert(columns)}",
                        "WHEN NOT MATCHED BY SOURCE THEN DELETE",
                    ])
                    outcome.rows_read = rows
                    return _timed(outcome, started, read_seconds)
                at = _timestamp(snapshot_time)
                merge_keys = [F.col(k).alias(f"__mk_{k}") for k in keys]
                current = self.target.read(spark).where(F.col(END_AT).isNull()).alias("t")
                changed_rows = (
                    snapshot.alias("s").join(current, on=[F.col(f"s.{k}") == F.col(f"t.{k}") for k in keys])
                    .where(F.expr(changed)).select("s.*")
                )
                staged = snapshot.select("*", *merge_keys).unionByName(
                    changed_rows.select("*", *[F.lit(None).cast(snapshot.schema[k].dataType).alias(f"__mk_{k}") for k in keys])
                )
                on = " AND ".join(f"t.{quote(k)} = s.{quote('__mk_' + k)}" for k in keys) + f" AND t.{END_AT} IS NULL"
                outcome = self._merge(spark, staged, on, [
                    f"WHEN MATCHED AND {changed} THEN UPDATE SET t.{END_AT} = {at}",
                    f"WHEN NOT MATCHED THEN {_insert([*columns, START_AT, END_AT], [*(f's.{quote(c)}' for c in columns), at, 'CAST(NULL AS TIMESTAMP)'])}",
                    f"WHEN NOT MATCHED BY SOURCE AND t.{END_AT} IS NULL THEN UPDATE SET t.{END_AT} = {at}",
                ])
            outcome.rows_read = rows
            return _timed(outcome, started, read_seconds)
        finally:
            snapshot.unpersist()


def _timed(outcome: BatchOutcome, started: float, read_seconds: float) -> BatchOutcome:
    """``outcome`` with its time split: reading up to ``read_seconds`` after ``started``,
    writing the rest until now."""
    outcome.read_seconds = read_seconds
    outcome.write_seconds = time.perf_counter() - started - read_seconds
    return outcome
