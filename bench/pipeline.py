"""Benchmark: the pipeline against its baselines, measured in the same run.

    .venv/bin/python bench/pipeline.py [--contacts 20000] [--skip-load] [--skip-demo]

1. **Initial load** (``--contacts`` HubSpot contacts, every property of the sandbox's contact
   schema, no latency, no rate limit; the connector is told so): ``lakeflow pipeline``
   landing them in Delta (``cdc_with_deletes``, SCD 1) against reading the same data into
   Spark's no-op sink (``spark.read`` → ``write.format("noop")``).
2. **The demo's data** (the HubSpot sandbox as ``lakeflow demo`` seeds it, the demo spec's
   10 tables into path tables): the pipeline against the stream-per-table runner it
   replaced (``bench/stream_runner.py``), each on its own copy of the sandbox: an initial
   load, ``demo_changes()`` (a new property, contacts created, updated and archived, deals
   updated and archived), the incremental run, then an idle run (nothing changed).

Printed: seconds and rows/s, the ratios, per-table seconds of the idle run, and where the
initial load's time went.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasource import register  # noqa: E402
from harness.pipeline.prepare import PreparedRun  # noqa: E402
from harness.pipeline.runner import PipelineRunner  # noqa: E402
from harness.spark import PROJECT_ROOT, local_session  # noqa: E402
from hubspot_ingest import seed_contacts  # noqa: E402  (bench/ is on sys.path when run as a script)
from sources.hubspot.sandbox import HubSpotSandbox  # noqa: E402
from stream_runner import StreamPerTableRunner  # noqa: E402



class Quiet:
    """A progress that prints nothing (the benchmarks print their own figures)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def event(self, table, what):
        pass


def run_pipeline(spark, prepared, home: Path):
    started = time.perf_counter()
    result = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, home, progress=Quiet()).run()
    seconds = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"pipeline failed: {[(t.destination, t.error) for t in result.failed]}")
    return seconds, result.tables


def run_streams(spark, prepared, home: Path):
    started = time.perf_counter()
    tables = StreamPerTableRunner(prepared.spec, prepared.plans, spark, prepared.connection, home).run()
    seconds = time.perf_counter() - started
    failed = [(t.destination, t.error) for t in tables if t.error]
    if failed:
        raise SystemExit(f"stream-per-table runner failed: {failed}")
    return seconds, tables


def _spec(work: Path, name: str, body: str) -> Path:
    path = work / f"{name}.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def initial_load(spark, work: Path, contacts: int) -> None:
    sandbox = HubSpotSandbox(token="bench-token", rate_limits=False).start()
    try:
        seed_contacts(sandbox, contacts)
        spec = _spec(work, "load", f"""
            name: bench_load
            source: hubspot
            connection: bench_none
            destination: {{path: {work / 'load-tables'}}}
            options: {{lookback_seconds: "0", ten_second_limit: "1000000", search_per_second: "100000"}}
            tables:
              - source_table: contacts
        """)
        prepared = PreparedRun(str(spec), {}, sandbox)
        fmt = register(spark, "hubspot")
        options = {**prepared.connection, **prepared.spec.options}
        started = time.perf_counter()
        spark.read.format(fmt).option("tableName", "contacts").options(**options).load() \
            .write.format("noop").mode("overwrite").save()
        base = time.perf_counter() - started
        seconds, (table,) = run_pipeline(spark, prepared, work / "load-home")
        t = table.totals
        print(f"1. initial load, {contacts:,} HubSpot contacts (cdc_with_deletes, SCD 1), local[2]:")
        print(f"   baseline spark.read -> noop     {base:6.1f} s  {contacts / base:8,.0f} rows/s")
        print(f"   pipeline into Delta             {seconds:6.1f} s  {contacts / seconds:8,.0f} rows/s  "
              f"= {base / seconds:.2f}x the no-op read; {table.batches} batch(es), {table.requests} requests")
        print(f"   its time: reading (API + conversion) {t.read_seconds:.1f} s, writing Delta {t.write_seconds:.1f} s, "
              f"the rest {max(0.0, seconds - t.read_seconds - t.write_seconds):.1f} s")
    finally:
        sandbox.stop()


def demo_spec_text(name: str, tables_dir: Path) -> str:
    """The demo spec (configs/pipelines/hubspot_demo.yaml) named ``name``, into path tables."""
    body = (PROJECT_ROOT / "configs" / "pipelines" / "hubspot_demo.yaml").read_text()
    body = body.replace("  catalog: main                # used on Databricks; locally the tables go to spark_catalog\n", "")
    return body.replace("  schema: hubspot_demo", f"  path: {tables_dir}").replace("name: hubspot_demo", f"name: {name}")


def demo_runs(spark, work: Path) -> None:
    figures = {}
    for label, runner in (("stream-per-table", run_streams), ("pipeline", run_pipeline)):
        sandbox = HubSpotSandbox(seed=HubSpotSandbox.demo_seed).start()
        try:
            spec = work / f"demo-{label}.yaml"
            spec.write_text(demo_spec_text(f"bench_{label.replace('-', '_')}", work / f"demo-{label}"))
            prepared = PreparedRun(str(spec), {}, sandbox)
            home = work / f"home-{label}"
            first, _ = runner(spark, prepared, home)
            changes = sandbox.demo_changes()
            second, tables = runner(spark, prepared, home)
            rows = sum(t.totals.rows_read for t in tables)
            idle, idle_tables = runner(spark, prepared, home)
            figures[label] = (first, second, idle, rows, idle_tables, tables)
        finally:
            sandbox.stop()
    print(f"2. the demo's data ({len(prepared.plans)} tables; changes: {changes}):")
    for label, (first, second, idle, rows, _, _) in figures.items():
        print(f"   {label:<17} initial {first:6.1f} s   incremental {second:6.1f} s ({rows} rows)   idle {idle:6.1f} s")
    s, p = figures["stream-per-table"], figures["pipeline"]
    print(f"   incremental run: {s[1] / p[1]:.2f}x faster than stream-per-table; idle run {s[2] / p[2]:.2f}x; "
          f"initial {s[0] / p[0]:.2f}x")
    print(f"   idle run, wall seconds per table: pipeline {p[2] / len(p[4]):.2f}, stream-per-table {s[2] / len(s[4]):.2f}")
    per_table = sorted(((t.destination, t.elapsed) for t in p[4]), key=lambda x: -x[1])
    print("   pipeline idle run, seconds per table (4 at a time): "
          + ", ".join(f"{name} {sec:.2f}" for name, sec in per_table))
    changed = sorted((t for t in p[5] if t.totals.rows_read), key=lambda t: -t.elapsed)
    print("   pipeline incremental run, tables with changes (seconds: all, reading, writing Delta): "
          + ", ".join(f"{t.destination} {t.elapsed:.1f} ({t.totals.read_seconds:.1f}, {t.totals.write_seconds:.1f})"
                      for t in changed))
    stream_idle = sorted(((t.destination, t.seconds) for t in s[4]), key=lambda x: -x[1])
    print("   stream-per-table idle run, seconds per table: " + ", ".join(f"{n} {sec:.2f}" for n, sec in stream_idle))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--skip-load", action="store_true", help="skip part 1")
    parser.add_argument("--skip-demo", action="store_true", help="skip part 2")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lakeflow-bench-pipeline-"))
    spark = local_session("lakeflow-bench-pipeline", home=work / "spark-home")
    # Once per process, not per load: Delta's first write, and the first SQL statement on a
    # Delta table (the metastore starts). Paid before measuring, and printed.
    started = time.perf_counter()
    spark.range(1).write.format("delta").save(str(work / "warm-up"))
    written = time.perf_counter()
    spark.sql(f"DESCRIBE DETAIL delta.`{work / 'warm-up'}`").collect()
    done = time.perf_counter()
    print(f"pyspark {spark.version}, local[2], same run; work dir {work}")
    print(f"once per process, before measuring: Delta's first write {written - started:.1f} s, "
          f"first SQL statement on Delta (metastore start) {done - written:.1f} s")
    try:
        if not args.skip_load:
            initial_load(spark, work, args.contacts)
        if not args.skip_demo:
            demo_runs(spark, work)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
