"""One Delta table the pipeline writes: by name in the metastore or by path.

Creation from a Spark schema, additive schema evolution, Delta's idempotent-write
transaction ids, the metrics of the table's last commit, and MERGE — everything the writers
need, through Delta's own Spark integration in SQL (``CREATE TABLE … USING DELTA``,
``MERGE INTO``, ``DESCRIBE HISTORY``), which works the same on a classic session and through
Spark Connect (Delta's Python ``DeltaTable`` API needs Delta's Connect plugin on the server).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from pyspark.sql.types import StructField, StructType

#: Session confs Delta reads to make a MERGE/UPDATE/DELETE/write idempotent: a commit with
#: an (app id, version) the table has already recorded is skipped.
TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Commit:
    """The table's last commit (from its history): rows written by a plain write. MERGE
    outcomes come from ``execute()``'s own metrics instead (see ``apply.merged``)."""

    version: int
    operation: str
    inserted: int = 0


class DeltaTarget:
    """A Delta table identified by ``name`` (``schema.table``) or ``path``."""

    def __init__(self, *, name: str | None = None, path: str | None = None):
        if (name is None) == (path is None):
            raise ValueError("a DeltaTarget has a name or a path")
        self.name = name
        self.path = path

    def __repr__(self) -> str:
        return f"DeltaTarget({self.display})"

    @property
    def display(self) -> str:
        return self.name if self.name else self.path

    @property
    def sql_ref(self) -> str:
        """The table in SQL: ``schema.table`` or ``delta.`/path```."""
        if self.name:
            return ".".join(quote(p) for p in self.name.split("."))
        return f"delta.{quote(self.path)}"

    # -- existence and creation ---------------------------------------------------------
    def read(self, spark):
        """The table's current rows as a DataFrame."""
        return spark.read.format("delta").load(self.path) if self.path else spark.read.table(self.name)

    def ensure(self, spark, schema: StructType) -> None:
        """Create the table with ``schema`` if it does not exist; otherwise add the columns
        it lacks (a source that grew a property), never dropping or retyping one."""
        if self.name and "." in self.name:
            spark.sql(f"CREATE SCHEMA IF NOT EXISTS {quote(self.name.split('.')[0])}")
        columns = ", ".join(f"{quote(f.name)} {f.dataType.simpleString()}" for f in schema.fields)
        spark.sql(f"CREATE TABLE IF NOT EXISTS {self.sql_ref} ({columns}) USING DELTA")
        self.evolve(spark, schema)

    def evolve(self, spark, schema: StructType) -> None:
        """Add the columns and nested struct fields of ``schema`` the table lacks."""
        missing = missing_fields(self.read(spark).schema, schema)
        if missing:
            columns = ", ".join(f"{'.'.join(quote(p) for p in path)} {dtype.simpleString()}" for path, dtype in missing)
            spark.sql(f"ALTER TABLE {self.sql_ref} ADD COLUMNS ({columns})")

    # -- commits -------------------------------------------------------------------------

    def last_commit(self, spark) -> Commit:
        row = spark.sql(f"DESCRIBE HISTORY {self.sql_ref} LIMIT 1").select(
            "version", "operation", "operationMetrics").first()
        metrics = row["operationMetrics"] or {}

        if row["operation"] in ("WRITE", "STREAMING UPDATE", "CREATE OR REPLACE TABLE AS SELECT"):
            return Commit(row["version"], row["operation"], inserted=int(metrics.get("numOutputRows", 0) or 0))
        return Commit(row["version"], row["operation"])


@dataclass(frozen=True)
class Written:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def _metric(metrics: dict, *names: str) -> int:
    return sum(int(metrics.get(n) or 0) for n in names)


def written_since(spark, target_ref: str, version: int | None) -> Written:
    """Rows the table's commits after ``version`` inserted, updated and deleted (history)."""
    rows = spark.sql(f"DESCRIBE HISTORY {target_ref}").select("version", "operation", "operationMetrics").collect()
    inserted = updated = deleted = 0
    for row in rows:
        if version is not None and row["version"] <= version:
            continue
        metrics = row["operationMetrics"] or {}
        if row["operation"] == "MERGE":
            inserted += _metric(metrics, "numTargetRowsInserted")
            updated += _metric(metrics, "numTargetRowsUpdated")
            deleted += _metric(metrics, "numTargetRowsDeleted")
        elif row["operation"] in ("WRITE", "STREAMING UPDATE"):
            inserted += _metric(metrics, "numOutputRows")
    return Written(inserted, updated, deleted)


def merge(spark, target_ref: str, source, on: str, clauses: list[str]):
    """``MERGE INTO target_ref t USING <source> s ON on <clauses>``; returns the metrics
    DataFrame Delta answers with (no row when the commit was skipped as already applied)."""
    view = f"lakeflow_merge_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        result = spark.sql(f"MERGE INTO {target_ref} t USING {view} s ON {on} {' '.join(clauses)}")
        return result.collect()
    finally:
        spark.catalog.dropTempView(view)


@contextlib.contextmanager
def idempotent(spark, app_id: str, version: int):
    """Make the Delta commits inside the block idempotent for (``app_id``, ``version``):
    a replay of the same micro-batch after a crash is skipped by Delta itself."""
    spark.conf.set(TXN_APP_ID, app_id)
    spark.conf.set(TXN_VERSION, str(version))
    try:
        yield
    finally:
        spark.conf.unset(TXN_APP_ID)
        spark.conf.unset(TXN_VERSION)


def missing_fields(current: StructType, wanted: StructType, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Fields of ``wanted`` absent from ``current``, as (path, type); nested structs are
    compared field by field (a property added inside a ``properties`` struct, say)."""
    have = {f.name.lower(): f for f in current.fields}
    out: list[tuple[tuple[str, ...], object]] = []
    for field in wanted.fields:
        mine = have.get(field.name.lower())
        if mine is None:
            out.append(((*prefix, field.name), field.dataType))
        elif isinstance(field.dataType, StructType) and isinstance(mine.dataType, StructType):
            out.extend(missing_fields(mine.dataType, field.dataType, (*prefix, mine.name)))
    return out


def with_fields(schema: StructType, *extra: StructField) -> StructType:
    return StructType([*schema.fields, *extra])
