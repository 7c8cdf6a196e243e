"""Spark targets: a local Delta-enabled session, a Spark Connect session, or Databricks, and
the choice among them by name (:func:`session_for`: ``local``, ``connect`` (a Spark Connect
server, ``sc://host:port``) or ``databricks`` (Databricks Connect)). The test suite and
``lakeflow test`` pick the target from the environment: ``LAKEFLOW_TEST_TARGET`` (default
``local``) and, for ``connect``, ``LAKEFLOW_TEST_REMOTE``.

``local_session()`` is what tests, ``lakeflow demo`` and ``lakeflow pipeline run`` use:
``local[2]``, UI off, few shuffle partitions, UTC session time zone, and Delta Lake's own
Spark integration (the ``io.delta:delta-spark`` jars, which Spark resolves from Maven Central
the first time, then from the local Ivy cache; no Python package is needed). Tables live in a persistent Hive metastore (embedded Derby)
and warehouse under the *Lakeflow home* (``$LAKEFLOW_HOME``, default ``./lakeflow-data``), so
``spark.read.table("hubspot_demo.contacts")`` works again after a restart.

The driver's Python runs Spark's Python workers (``PYSPARK_PYTHON`` is set when unset), and
the project root is put on ``PYTHONPATH`` so that the workers import the same connector code.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

from harness.errors import TargetUnavailable

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Delta Lake's Maven artifact for the pinned pyspark 4.2.0 (pyproject.toml). The code uses
#: Delta through Spark SQL only, so the ``delta-spark`` PyPI package is not a dependency (its
#: PyPI releases can also precede their jars on Maven Central: 4.4.1 did).
DELTA_PACKAGE = "io.delta:delta-spark_4.2_2.13:4.4.0"

_BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.streaming.stopTimeout": "30s",
    # Threads that start queries (the pipeline runs tables concurrently) get their own copy
    # of the local properties; shared, a task could be serialized while another thread
    # changes them (java.io.OptionalDataException).
    "spark.localProperties.clone": "true",
}

_DELTA_CONF = {
    "spark.jars.packages": DELTA_PACKAGE,
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # Small local tables: skip Delta's per-commit stats collection on tiny files.
    "spark.databricks.delta.snapshotPartitions": "2",
}


def lakeflow_home(home: str | os.PathLike | None = None) -> Path:
    """Where local pipelines keep tables, the metastore, checkpoints and logs:
    ``home``, else ``$LAKEFLOW_HOME``, else ``./lakeflow-data``."""
    chosen = home or os.environ.get("LAKEFLOW_HOME") or "lakeflow-data"
    return Path(chosen).expanduser().resolve()


def worker_environment() -> None:
    """Make the project importable by Spark's Python workers, with the driver's Python."""
    paths = [str(PROJECT_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def require_java() -> None:
    """Fail with the fix when no Java runtime is found (Spark needs Java 17 or 21)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return
    if shutil.which("java"):
        return
    raise RuntimeError(
        "Java was not found: Spark needs a Java 17 (or 21) runtime. Install one "
        "(Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) "
        "and put `java` on PATH or set JAVA_HOME."
    )


def clear_unfinished_metastore(metastore: Path) -> bool:
    """Remove a metastore database whose creation was cut off — a process killed while Derby
    created it leaves ``metastore_db/`` without ``service.properties``, which Derby then
    refuses to open ever after (``ERROR XBM0A``), failing every later run on the home. Such a
    database never finished being created, so it holds no table; it is left alone while a
    live process holds its lock (being created right now). Returns whether it was removed."""
    import fcntl

    database = metastore / "metastore_db"
    if not database.is_dir() or (database / "service.properties").exists():
        return False
    lock = database / "dbex.lck"  # Derby holds this one locked while it runs (db.lck only names it)
    if lock.exists():
        with open(lock, "a") as held:
            try:  # fcntl, as Java's FileChannel.lock takes it
                fcntl.lockf(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            fcntl.lockf(held, fcntl.LOCK_UN)
    shutil.rmtree(database, ignore_errors=True)
    return True


def delta_conf(home: Path) -> dict[str, str]:
    """Delta + a persistent Derby-backed Hive metastore and warehouse under ``home``."""
    metastore = home / "metastore"
    return {
        **_DELTA_CONF,
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(home / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={metastore} -Dderby.stream.error.file={metastore / 'derby.log'}",
    }


@contextlib.contextmanager
def _jvm_output_to(log_file: Path | None):
    """Send the JVM's stdout/stderr (Ivy resolution, log4j) to ``log_file`` while the
    gateway starts; the JVM keeps writing there for its lifetime."""
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


def local_session(
    app_name: str = "lakeflow",
    master: str = "local[2]",
    extra_conf: dict | None = None,
    *,
    home: str | os.PathLike | None = None,
    delta: bool = True,
    log_file: str | os.PathLike | None = None,
):
    """A classic local ``SparkSession`` (reused if one is already active).

    Args:
        home: the Lakeflow home for the metastore and warehouse (see :func:`lakeflow_home`).
        delta: enable Delta Lake and the persistent metastore (default).
        log_file: where the JVM's own output (Ivy, log4j) goes instead of the terminal
            (default with Delta: ``<home>/logs/spark.log``); Spark's errors still reach
            Python as exceptions.
    """
    require_java()
    worker_environment()
    from pyspark.sql import SparkSession

    conf = dict(_BASE_CONF)
    if delta:
        root = lakeflow_home(home)
        (root / "metastore").mkdir(parents=True, exist_ok=True)
        clear_unfinished_metastore(root / "metastore")
        conf.update(delta_conf(root))
        log_file = log_file or root / "logs" / "spark.log"
    conf.update(extra_conf or {})
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    with _jvm_output_to(Path(log_file) if log_file else None):
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def connect_session(remote: str = "local[2]", extra_conf: dict | None = None):
    """A Spark Connect session. ``remote="local[2]"`` starts an in-process Connect server;
    ``"sc://host:port"`` connects to a running one (its Python workers must be able to
    import this package: install it there, or ship it with ``spark.addArtifacts``)."""
    worker_environment()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(remote).appName("lakeflow-connect")
    for key, value in {**_BASE_CONF, **(extra_conf or {})}.items():
        # A running server fixed its static confs at start; a client may set session confs only.
        if remote.startswith("local") or key.startswith("spark.sql."):
            builder = builder.config(key, value)
    return builder.getOrCreate()


#: How long one wait for a stream's end may block (seconds); see :func:`await_termination`.
AWAIT_POLL_SECONDS = 5.0


def await_termination(query, timeout: float | None = None, poll_seconds: float = AWAIT_POLL_SECONDS) -> bool:
    """Wait until the streaming ``query`` ends (raising its error if it failed), in short
    waits; ``False`` if ``timeout`` seconds pass first. Over Spark Connect each wait is a
    server request, and an unbounded ``awaitTermination()`` one long request: in CI a
    pipeline over Spark Connect once hung for 15 minutes after every batch had committed,
    the server having logged ``INVALID_CURSOR.DISCONNECTED`` for a response stream. Short
    waits keep every request brief, on every target."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not query.awaitTermination(poll_seconds):
        if deadline is not None and time.monotonic() >= deadline:
            return False
    return True


# ------------------------------------------------------------------------------ targets
TARGETS = ("local", "connect", "databricks")
TARGET_ENV = "LAKEFLOW_TEST_TARGET"
REMOTE_ENV = "LAKEFLOW_TEST_REMOTE"


def session_for(target: str, home: str | os.PathLike | None = None, remote: str | None = None,
                log_file: str | os.PathLike | None = None):
    """A Spark session on ``target``."""
    if target == "local":
        return local_session("lakeflow-tests", home=home, log_file=log_file)
    if target == "connect":
        if not remote:
            raise TargetUnavailable("target 'connect' needs the server's sc:// URL "
                                    f"({REMOTE_ENV}, or `lakeflow test --target connect`, which starts one)")
        return connect_session(remote)
    if target == "databricks":
        from harness.databricks.session import databricks_session

        return databricks_session()
    raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")


def session_for_tests(home: Path):
    """The session of this test run (see the module docstring)."""
    target = os.environ.get(TARGET_ENV, "local")
    return session_for(target, home=home, remote=os.environ.get(REMOTE_ENV),
                       log_file=Path(home) / "spark.log")
