"""Benchmark: landing HubSpot-shaped records in Delta with the pipeline, against reading the
same data into Spark's no-op sink, in the same run.

    .venv/bin/python bench/pipeline.py [--contacts 20000] [--changed 0.01]

The HubSpot sandbox serves ``--contacts`` contacts (every property of the sandbox's contact
schema, associations to companies/deals/tickets) with no latency and no rate limit, and the connector is told
so (``ten_second_limit``, ``search_per_second``), so the figures are the pipeline's own cost,
not HubSpot's budget (bench/hubspot_ingest.py measures that).

1. Baseline: ``spark.read.format("lakeflow_hubspot")`` → ``write.format("noop")``: the API
   reads and the conversion to Arrow, nothing written.
2. Initial load: ``lakeflow pipeline`` semantics for a ``cdc_with_deletes`` table (SCD 1):
   the change and delete flows in one availableNow stream, each micro-batch MERGEd into Delta.
3. Incremental: ``--changed`` of the contacts updated, the pipeline run again.

Printed: rows/s of each, the ratio to the baseline, and where the pipeline's time went
(reading the source — API calls and conversion — vs writing Delta vs the rest: stream
planning, checkpoints, table creation).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasource import register  # noqa: E402
from harness.cli import PreparedRun  # noqa: E402
from harness.pipeline.runner import PipelineRunner  # noqa: E402
from sources.hubspot.sandbox import HubSpotSandbox  # noqa: E402
from harness.spark import local_session  # noqa: E402
from hubspot_ingest import seed_contacts  # noqa: E402  (bench/ is on sys.path when run as a script)


def run_pipeline(spark, prepared, home: Path) -> tuple[float, object]:
    started = time.perf_counter()
    result = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, home,
                            progress=_Quiet()).run()
    seconds = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"pipeline failed: {[(t.destination, t.error) for t in result.failed]}")
    return seconds, result.tables[0]


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def event(self, table, what):
        pass


def report(label: str, rows: int, seconds: float, baseline_rps: float, table) -> None:
    rps = rows / seconds
    t = table.totals
    rest = max(0.0, seconds - t.read_seconds - t.write_seconds - table.setup_seconds)
    print(f"{label}: {rows:,} rows in {seconds:.1f} s = {rps:,.0f} rows/s "
          f"({rps / baseline_rps:.2f}x the no-op read); {table.batches} micro-batch(es), {table.requests} requests")
    print(f"  time: reading the source (API + conversion) {t.read_seconds:.1f} s ({t.read_seconds / seconds:.0%}), "
          f"writing Delta {t.write_seconds:.1f} s ({t.write_seconds / seconds:.0%}), "
          f"creating/evolving the table {table.setup_seconds:.1f} s ({table.setup_seconds / seconds:.0%}), "
          f"stream start/checkpoints/other {rest:.1f} s ({rest / seconds:.0%}); "
          f"+{t.inserted:,} ~{t.updated:,} -{t.deleted:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction of contacts updated before run 2")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lakeflow-bench-pipeline-"))
    sandbox = HubSpotSandbox(token="bench-token", rate_limits=False).start()
    try:
        ids = seed_contacts(sandbox, args.contacts)
        spec = work / "bench.yaml"
        spec.write_text(textwrap.dedent(f"""
            name: bench
            source: hubspot
            connection: bench_none
            destination: {{path: {work / 'tables'}}}
            options: {{lookback_seconds: "0", ten_second_limit: "1000000", search_per_second: "100000"}}
            tables:
              - source_table: contacts
        """))
        prepared = PreparedRun(str(spec), {}, sandbox)
        spark = local_session("lakeflow-bench-pipeline", home=work / "home")
        fmt = register(spark, "hubspot")
        options = {**prepared.connection, **prepared.spec.options}

        started = time.perf_counter()
        spark.read.format(fmt).option("tableName", "contacts").options(**options).load() \
            .write.format("noop").mode("overwrite").save()
        base_seconds = time.perf_counter() - started
        base_rps = args.contacts / base_seconds
        print(f"HubSpot sandbox, {args.contacts:,} contacts, local[2], pyspark + Delta (same run)")
        print(f"baseline spark.read -> noop: {base_seconds:.1f} s = {base_rps:,.0f} rows/s")

        seconds, table = run_pipeline(spark, prepared, work / "home")
        report("initial load into Delta (cdc_with_deletes, SCD 1)", args.contacts, seconds, base_rps, table)

        changed = random.Random(7).sample(ids, max(1, int(len(ids) * args.changed)))
        sandbox.update_records("contacts", changed, {"lifecyclestage": "customer"})
        seconds, table = run_pipeline(spark, prepared, work / "home")
        rows = table.totals.rows_read
        print(f"incremental run after {len(changed):,} changes ({args.changed:.0%}): {seconds:.1f} s for {rows:,} rows "
              f"(re-reading the whole table into the no-op sink took {base_seconds:.1f} s)")
        report("  incremental", rows, seconds, base_rps, table)
        spark.stop()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
