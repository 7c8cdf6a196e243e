"""The ``lakeflow`` command.

* ``lakeflow demo [--source example|hubspot]`` — start the source's sandbox on loopback, read
  every table through Spark (``spark.read.format("lakeflow_<source>")``), stream one
  incremental table with ``trigger(availableNow=True)``, and print a summary.
* ``lakeflow sandbox <source> --port P --token T [--seed N]`` — run a sandbox in the
  foreground, for trying a connector by hand.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time


def _print(message: str) -> None:
    print(message, flush=True)


#: Records per object the demo seeds when --seed is not given (the example seeds itself).
_DEMO_SEED = {"hubspot": 200}


def _sandbox_kwargs(source: str, token: str | None, seed: int | None, port: int = 0) -> dict:
    kwargs: dict = {"port": port}
    seed = _DEMO_SEED.get(source) if seed is None else seed
    if token:
        kwargs["token"] = token
    if seed is not None:
        kwargs["seed"] = seed
    return kwargs


def cmd_sandbox(args: argparse.Namespace) -> int:
    from harness.sandboxes import get_sandbox

    sandbox = get_sandbox(args.source)(**_sandbox_kwargs(args.source, args.token, args.seed, args.port))
    sandbox.start()
    _print(f"{args.source} sandbox listening on {sandbox.url} (Ctrl-C to stop)")
    options = sandbox.connection_options()
    shown = {k: ("<the --token you gave>" if "token" in k else v) for k, v in options.items()}
    _print(f"connector options: {shown}")
    try:
        while True:
            time.sleep(3600)
    finally:
        sandbox.stop()


def cmd_demo(args: argparse.Namespace) -> int:
    from datasource import register
    from harness.sandboxes import get_sandbox
    from harness.spark import local_session

    started = time.monotonic()
    sandbox = get_sandbox(args.source)(**_sandbox_kwargs(args.source, None, args.seed)).start()
    _print(f"[1/4] {args.source} sandbox on {sandbox.url}")
    _print("[2/4] starting local Spark (local[2]) ...")
    spark = local_session(f"lakeflow-demo-{args.source}")
    workdir = tempfile.mkdtemp(prefix="lakeflow-demo-")
    try:
        fmt = register(spark, args.source)
        options = sandbox.connection_options()
        options.update(dict(kv.split("=", 1) for kv in args.option or []))
        from datasource.registry import connector_class

        connector = connector_class(args.source)(dict(options))
        tables = args.table or connector.list_tables()
        _print(f"[3/4] reading {len(tables)} tables with spark.read.format({fmt!r})")
        rows = []
        for table in tables:
            meta = connector.read_table_metadata(table, dict(options))
            t0 = time.monotonic()
            df = spark.read.format(fmt).option("tableName", table).options(**options).load()
            count = df.count()
            partitions = df.rdd.getNumPartitions()
            seconds = time.monotonic() - t0
            rows.append((table, meta["ingestion_type"], count, len(df.columns), partitions, seconds))
            _print(f"      {table:<14} {count:>7} rows  {len(df.columns):>3} columns  {partitions} partition(s)  {seconds:5.1f}s")
        incremental = [r[0] for r in rows if r[1] in ("cdc", "cdc_with_deletes", "append")]
        if incremental:
            table = incremental[0]
            _print(f"[4/4] streaming {table!r} with spark.readStream (availableNow), twice from one checkpoint")
            counts = []
            for run in (1, 2):
                query = (
                    spark.readStream.format(fmt).option("tableName", table).options(**options).load().writeStream.format("parquet")
                    .option("path", f"{workdir}/sink").option("checkpointLocation", f"{workdir}/checkpoint")
                    .trigger(availableNow=True).start()
                )
                query.awaitTermination()
                counts.append(spark.read.parquet(f"{workdir}/sink").count())
            _print(f"      run 1 landed {counts[0]} rows; run 2 (idle restart) added {counts[1] - counts[0]}")
        _print("")
        _print(f"{'table':<14} {'ingestion':<17} {'rows':>7} {'cols':>5} {'parts':>5} {'secs':>6}")
        for table, ingestion, count, cols, parts, seconds in rows:
            _print(f"{table:<14} {ingestion:<17} {count:>7} {cols:>5} {parts:>5} {seconds:>6.1f}")
        _print(f"\ndone in {time.monotonic() - started:.1f}s: {sum(r[2] for r in rows)} rows from {len(rows)} tables")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        spark.stop()
        sandbox.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakeflow", description="Lakeflow community connectors: harness and tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="read every table of a sandbox source through local Spark")
    demo.add_argument("--source", default="example", help="source to demo (default: example)")
    demo.add_argument("--seed", type=int, default=None, help="sandbox data seed / size (source-specific)")
    demo.add_argument("--table", action="append", help="only this table (repeatable)")
    demo.add_argument("--option", action="append", metavar="KEY=VALUE", help="extra connector option (repeatable)")
    demo.set_defaults(func=cmd_demo)

    sandbox = sub.add_parser("sandbox", help="run a source's sandbox API server in the foreground")
    sandbox.add_argument("source", help="example or hubspot")
    sandbox.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    sandbox.add_argument("--token", default=None, help="the bearer token the sandbox accepts")
    sandbox.add_argument("--seed", type=int, default=None, help="records to seed per object (source-specific)")
    sandbox.set_defaults(func=cmd_sandbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line error, not a traceback, for users
        from sources.http.redact import redact_text

        print(f"lakeflow {args.command}: error: {redact_text(str(exc), [])}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
