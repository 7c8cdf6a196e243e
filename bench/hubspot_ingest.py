"""Benchmark: HubSpot ingestion against the sandbox with real latency and HubSpot's limits.

    .venv/bin/python bench/hubspot_ingest.py [--contacts 50000] [--latency 0.1] [--changes 500]

The sandbox answers every request after ``--latency`` seconds and enforces HubSpot's
rate limits (``--ten-second-limit`` requests per rolling 10 s, 5 searches per second). The
connector is told the same budget (``ten_second_limit``) and keeps 10 % headroom.

1. Initial load: ``spark.read.format("lakeflow_hubspot")`` of ``--contacts`` contacts
   (local[2], the connector's id-range partitions over the list API) → rows/s, requests per
   1,000 records, and the ratio to the bound the rate limit and page size set:
   ``ten_second_limit / 10 s × 100 records per list page``. Target: ≥ 80 % of the bound.
2. Incremental: after a stream has caught up, ``--changes`` contacts are updated; the next
   incremental read's request count, against the table size.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasource import register  # noqa: E402
from harness.conformance.reading import read_all  # noqa: E402
from sources.hubspot.sandbox import HubSpotSandbox  # noqa: E402
from harness.spark import local_session  # noqa: E402
from sources.hubspot import HubSpotLakeflowConnect  # noqa: E402

LIST_PAGE = 100


def seed_contacts(sandbox: HubSpotSandbox, count: int) -> list[str]:
    """``count`` contacts in bursts of 1,000 with distinct, older timestamps."""
    ids: list[str] = []
    base = int(time.time() * 1000) - 30 * 86_400_000
    for burst, start in enumerate(range(0, count, 1000)):
        ids += sandbox.seed_burst("contacts", min(1000, count - start), timestamp_ms=base + burst * 60_000)
    return ids


def total_requests(sandbox: HubSpotSandbox) -> int:
    return sum(sandbox.request_counts.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every sandbox response")
    parser.add_argument("--ten-second-limit", type=int, default=190, help="HubSpot Pro/Enterprise: 190")
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    sandbox = HubSpotSandbox(token="bench-token", latency=args.latency, ten_second_limit=args.ten_second_limit,
                             search_per_second=5).start()
    try:
        ids = seed_contacts(sandbox, args.contacts)
        options = {
            **sandbox.connection_options(),
            "ten_second_limit": str(args.ten_second_limit),
            "partitions": str(args.partitions),
            "lookback_seconds": "0",
        }
        spark = local_session("lakeflow-bench-hubspot")
        fmt = register(spark, "hubspot")
        reader = spark.read.format(fmt).option("tableName", "contacts").options(**options)

        sandbox.reset_counts()
        sandbox.reset_rate_limits()
        started = time.perf_counter()
        reader.load().write.format("noop").mode("overwrite").save()
        seconds = time.perf_counter() - started
        requests = total_requests(sandbox)
        rate = args.contacts / seconds
        bound = args.ten_second_limit / 10.0 * LIST_PAGE
        print(f"initial load: {args.contacts:,} contacts, {args.latency * 1000:.0f} ms latency, "
              f"limit {args.ten_second_limit} requests / 10 s, {args.partitions} partitions on local[2]")
        print(f"  {seconds:.1f} s, {rate:,.0f} records/s, {requests:,} requests "
              f"({requests / args.contacts * 1000:.1f} per 1,000 records)")
        print(f"  bound (limit x page size): {bound:,.0f} records/s; reached {rate / bound:.0%} (target >= 80%)")
        print(f"  requests by endpoint: {dict(sandbox.request_counts.most_common(5))}")
        spark.stop()

        # Incremental: catch up once, change k records, read again with a fresh connector.
        connector = HubSpotLakeflowConnect(dict(options))
        caught_up = read_all(connector.read_table, "contacts", dict(options)).final_offset
        changed = random.Random(7).sample(ids, args.changes)
        sandbox.update_records("contacts", changed, {"lifecyclestage": "customer"})
        sandbox.reset_counts()
        fresh = HubSpotLakeflowConnect(dict(options))
        result = read_all(fresh.read_table, "contacts", dict(options), start=caught_up)
        got = {r["id"] for r in result.records}
        print(f"\nincremental read after {args.changes} changes to {args.contacts:,} contacts:")
        print(f"  {len(result.records)} records ({len(got & set(changed))} of the changed), "
              f"{total_requests(sandbox)} requests in {result.calls} calls")
        print(f"  requests by endpoint: {dict(sandbox.request_counts.most_common(5))}")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
