"""Measurement: the demo pipeline shares one HubSpot rate budget across its tables.

    .venv/bin/python bench/rate_budget.py [--limit 40] [--max-concurrent 4]

Runs the demo spec's 10 tables (``configs/pipelines/hubspot_demo.yaml``, into path tables)
against the HubSpot sandbox with its rate limits on at ``--limit`` requests per 10 s (the
documented 190 by default on HubSpot; lower makes the sharing visible), an initial load and,
after ``demo_changes()``, an incremental run. Printed per run: seconds, requests, the busiest
10-second window the sandbox counted and the 429s it served; then any table whose keys
differ from the sandbox's truth (lost, extra or repeated keys; none expected). Tables run ``--max-concurrent`` at a time,
each reading in Spark's Python workers, which take their budget from one file-locked limiter
per connection (``sources/http/rate_limit.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deltalake import DeltaTable  # noqa: E402

from harness.conformance.reading import key_of  # noqa: E402
from harness.conformance.truth_checks import compare_keys  # noqa: E402
from harness.pipeline.prepare import PreparedRun  # noqa: E402
from harness.pipeline.runner import PipelineRunner  # noqa: E402
from harness.spark import PROJECT_ROOT, local_session  # noqa: E402
from pipeline import Quiet, demo_spec_text  # noqa: E402  (bench/ is on sys.path when run as a script)
from sources.hubspot.sandbox import HubSpotSandbox  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=40, help="the sandbox's requests per 10 s (HubSpot documents 190)")
    parser.add_argument("--max-concurrent", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lakeflow-bench-budget-"))
    spark = local_session("lakeflow-bench-budget", home=work / "spark-home")
    sandbox = HubSpotSandbox(seed=HubSpotSandbox.demo_seed, rate_limits=True, ten_second_limit=args.limit).start()
    try:
        spec = work / "demo.yaml"
        spec.write_text(demo_spec_text("bench_budget", work / "tables"))
        prepared = PreparedRun(str(spec), {"ten_second_limit": str(args.limit)}, sandbox)
        for run in ("initial", "incremental"):
            if run == "incremental":
                sandbox.demo_changes()
            sandbox.reset_rate_limits()
            started = time.perf_counter()
            result = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, work / "home",
                                    progress=Quiet(), max_concurrent=args.max_concurrent).run()
            stats = sandbox.limit_stats()
            print(f"limit {args.limit} / 10 s, {run} run at --max-concurrent {args.max_concurrent}: "
                  f"{'ok' if result.ok else 'FAILED'} in {time.perf_counter() - started:.1f} s, "
                  f"{sum(t.requests or 0 for t in result.tables)} requests; busiest 10 s window "
                  f"{stats['max_window_count']}, 429s served {stats['served_429']}", flush=True)
        problems = []
        for plan in prepared.plans:
            if plan.scd_type == 2:
                continue  # history has a row per version, not per key
            rows = DeltaTable(str(work / "tables" / plan.destination)).to_pyarrow_table(
                columns=plan.primary_keys).to_pylist()
            problems += compare_keys(plan.destination, [key_of(r, plan.primary_keys) for r in rows],
                                     set(sandbox.truth(plan.source_table).records), "after the incremental run",
                                     "the Delta table")
        print("keys of every table equal the sandbox's truth" if not problems else "\n".join(problems))
        return 1 if problems else 0
    finally:
        sandbox.stop()
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
