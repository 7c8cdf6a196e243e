"""One Delta table the pipeline writes, by name in the metastore or by path: every Delta read
and write of the pipeline goes through :class:`DeltaTarget`.

Creation, schema evolution (columns added, types widened), commits (append, overwrite,
MERGE) made idempotent and labelled with the pipeline's write id and offsets, the table's
history and what its commits wrote. All of it in Delta's own Spark integration through SQL
(``CREATE TABLE … USING DELTA``, ``MERGE INTO``, ``DESCRIBE HISTORY``) and the DataFrame
writer, which work the same on a classic session and through Spark Connect (Delta's Python
``DeltaTable`` API needs Delta's Connect plugin on the server).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Iterator

from pyspark.sql.types import StructType

#: Session confs Delta reads to make a commit idempotent: a commit with an (app id,
#: version) the table has already recorded is skipped.
TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"
#: Session conf whose value Delta stores in each commit's ``userMetadata``.
USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
#: The key of the pipeline's record inside a commit's ``userMetadata`` JSON.
METADATA_KEY = "lakeflow"
#: How many recent commits :meth:`DeltaTarget.last_labelled` looks through first.
HISTORY_WINDOW = 50


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_path(path: tuple[str, ...] | list[str]) -> str:
    return ".".join(quote(p) for p in path)


@dataclass(frozen=True)
class Commit:
    """One entry of the table's history."""

    version: int
    operation: str
    metrics: dict = field(default_factory=dict)
    #: The pipeline's label of the commit (``{"writeId", "batch", "offsets"}``), if any.
    label: dict | None = None

    @property
    def inserted(self) -> int:
        """Rows a plain write (append / overwrite) added."""
        if self.operation in ("WRITE", "STREAMING UPDATE", "CREATE OR REPLACE TABLE AS SELECT", "CREATE TABLE AS SELECT",
                              "REPLACE TABLE AS SELECT"):
            return _metric(self.metrics, "numOutputRows")
        if self.operation == "MERGE":
            return _metric(self.metrics, "numTargetRowsInserted")
        return 0


@dataclass
class Written:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def _metric(metrics: dict, *names: str) -> int:
    return sum(int(metrics.get(n) or 0) for n in names)


def _label(user_metadata: str | None) -> dict | None:
    if not user_metadata:
        return None
    try:
        value = json.loads(user_metadata)
    except ValueError:
        return None
    label = value.get(METADATA_KEY) if isinstance(value, dict) else None
    return label if isinstance(label, dict) else None


def _is_missing_table(exc: Exception) -> bool:
    text = str(exc)
    return any(marker in text for marker in ("TABLE_OR_VIEW_NOT_FOUND", "DELTA_TABLE_NOT_FOUND", "DELTA_MISSING_DELTA_TABLE",
                                             "PATH_NOT_FOUND", "is not a Delta table", "doesn't exist"))


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

    # -- reading -----------------------------------------------------------------------
    def read(self, spark):
        """The table's current rows as a DataFrame."""
        return spark.read.format("delta").load(self.path) if self.path else spark.read.table(self.name)

    def schema(self, spark) -> StructType | None:
        """The table's schema, or ``None`` when it does not exist."""
        try:
            return self.read(spark).schema
        except Exception as exc:
            if _is_missing_table(exc):
                return None
            raise

    def history(self, spark, limit: int | None = None) -> list[Commit]:
        """The newest commits first (``[]`` when the table does not exist)."""
        try:
            rows = spark.sql(f"DESCRIBE HISTORY {self.sql_ref}" + (f" LIMIT {int(limit)}" if limit else "")).select(
                "version", "operation", "operationMetrics", "userMetadata").collect()
        except Exception as exc:
            if _is_missing_table(exc):
                return []
            raise
        return [Commit(r["version"], r["operation"], dict(r["operationMetrics"] or {}), _label(r["userMetadata"]))
                for r in rows]

    def file_count(self, spark) -> int | None:
        """How many data files the table's current version has (``None`` when it does not
        exist): Delta's metadata, no data read. Delta writes no empty files, so 0 means no
        rows."""
        try:
            row = spark.sql(f"DESCRIBE DETAIL {self.sql_ref}").select("numFiles").first()
        except Exception as exc:
            if _is_missing_table(exc):
                return None
            raise
        return int(row["numFiles"] or 0) if row is not None else None

    def last_commit(self, spark) -> Commit | None:
        history = self.history(spark, 1)
        return history[0] if history else None

    def labelled(self, spark, write_id_prefix: str) -> Iterator[Commit]:
        """Commits labelled by a write id starting with ``write_id_prefix``, newest first:
        the recent ones, then (only if needed) the rest of the history."""
        recent = self.history(spark, HISTORY_WINDOW)
        for commit in recent:
            if commit.label and str(commit.label.get("writeId", "")).startswith(write_id_prefix):
                yield commit
        if len(recent) == HISTORY_WINDOW:
            for commit in self.history(spark)[HISTORY_WINDOW:]:
                if commit.label and str(commit.label.get("writeId", "")).startswith(write_id_prefix):
                    yield commit

    def last_labelled(self, spark, write_id: str) -> Commit | None:
        """The newest commit labelled with exactly ``write_id``."""
        for commit in self.labelled(spark, write_id):
            if commit.label.get("writeId") == write_id:
                return commit
        return None

    def written_since(self, spark, version: int | None) -> Written:
        """Rows the table's commits after ``version`` inserted, updated and deleted."""
        out = Written()
        for commit in self.history(spark):
            if version is not None and commit.version <= version:
                continue
            out.inserted += commit.inserted
            if commit.operation == "MERGE":
                out.updated += _metric(commit.metrics, "numTargetRowsUpdated")
                out.deleted += _metric(commit.metrics, "numTargetRowsDeleted")
        return out

    def properties(self, spark) -> dict[str, str]:
        try:
            return {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {self.sql_ref}").collect()}
        except Exception as exc:
            if _is_missing_table(exc):
                return {}
            raise

    # -- creation and schema -------------------------------------------------------------
    def _create_schema(self, spark) -> None:
        if self.name and "." in self.name:
            spark.sql(f"CREATE SCHEMA IF NOT EXISTS {quote(self.name.split('.')[0])}")

    def create(self, spark, schema: StructType, properties: dict[str, str] | None = None) -> None:
        """Create the table with ``schema`` if it does not exist."""
        self._create_schema(spark)
        columns = ", ".join(f"{quote(f.name)} {f.dataType.simpleString()}" for f in schema.fields)
        props = ""
        if properties:
            props = " TBLPROPERTIES (" + ", ".join(f"'{k}' = '{_sql_string(v)}'" for k, v in properties.items()) + ")"
        spark.sql(f"CREATE TABLE IF NOT EXISTS {self.sql_ref} ({columns}) USING DELTA{props}")

    def add_columns(self, spark, columns: list[tuple[tuple[str, ...], object]]) -> None:
        """Add columns or nested struct fields, as (path, Spark type)."""
        if columns:
            text = ", ".join(f"{quote_path(path)} {dtype.simpleString()}" for path, dtype in columns)
            spark.sql(f"ALTER TABLE {self.sql_ref} ADD COLUMNS ({text})")

    def widen(self, spark, columns: list[tuple[tuple[str, ...], object]]) -> None:
        """Widen column types in place with Delta's type widening (int → bigint, float →
        double, a larger decimal), enabling the table feature first."""
        if not columns:
            return
        spark.sql(f"ALTER TABLE {self.sql_ref} SET TBLPROPERTIES ('delta.enableTypeWidening' = 'true')")
        for path, dtype in columns:
            spark.sql(f"ALTER TABLE {self.sql_ref} ALTER COLUMN {quote_path(path)} TYPE {dtype.simpleString()}")

    def set_properties(self, spark, properties: dict[str, str]) -> None:
        if properties:
            text = ", ".join(f"'{k}' = '{_sql_string(v)}'" for k, v in properties.items())
            spark.sql(f"ALTER TABLE {self.sql_ref} SET TBLPROPERTIES ({text})")

    def drop(self, spark) -> None:
        """Drop a metastore table (its files go with it); a path table is left to the caller."""
        if self.name:
            spark.sql(f"DROP TABLE IF EXISTS {self.sql_ref}")

    # -- writes ------------------------------------------------------------------------
    def _writer(self, df, mode: str, **options: str):
        writer = df.write.format("delta").mode(mode)
        for key, value in options.items():
            writer = writer.option(key, value)
        return writer

    def _save(self, writer) -> None:
        if self.path:
            writer.save(self.path)
        else:
            writer.saveAsTable(self.name)

    def append(self, df) -> None:
        """Append ``df`` (new columns merged into the schema)."""
        self._create_schema(spark=df.sparkSession)
        self._save(self._writer(df, "append", mergeSchema="true"))

    def overwrite(self, df, replace_schema: bool = False) -> None:
        """Replace the table's rows with ``df`` in one commit (readers see the old rows until
        it lands); ``replace_schema`` takes ``df``'s schema as the table's."""
        self._create_schema(spark=df.sparkSession)
        options = {"overwriteSchema": "true"} if replace_schema else {"mergeSchema": "true"}
        self._save(self._writer(df, "overwrite", **options))

    def merge(self, spark, source, on: str, clauses: list[str]) -> Written | None:
        """``MERGE INTO <table> t USING <source> s ON <on> <clauses>``: the rows it inserted,
        updated and deleted, or ``None`` when Delta skipped the commit as already applied."""
        view = f"lakeflow_merge_{uuid.uuid4().hex}"
        source.createOrReplaceTempView(view)
        try:
            rows = spark.sql(f"MERGE INTO {self.sql_ref} t USING {view} s ON {on} {' '.join(clauses)}").collect()
        finally:
            spark.catalog.dropTempView(view)
        if not rows:
            return None
        row = rows[0]
        return Written(row["num_inserted_rows"], row["num_updated_rows"], row["num_deleted_rows"])


def _sql_string(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


@contextlib.contextmanager
def committing(spark, write_id: str, batch: int | None, label: dict | None = None):
    """Label the Delta commits inside the block with ``{"lakeflow": {"writeId", "batch",
    **label}}`` in their ``userMetadata``, so that the offsets a batch reached land
    atomically with its rows; with a ``batch`` number, also make them idempotent for
    (``write_id``, ``batch``): a batch applied again after a crash is skipped by Delta."""
    confs = {USER_METADATA: json.dumps({METADATA_KEY: {"writeId": write_id, "batch": batch, **(label or {})}},
                                       sort_keys=True, separators=(",", ":"))}
    if batch is not None:
        confs.update({TXN_APP_ID: write_id, TXN_VERSION: str(batch)})
    for key, value in confs.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key in confs:
            spark.conf.unset(key)
