"""Crash-proof, proven: the pipeline runs in a subprocess against a slow sandbox and is killed
with SIGKILL at several points (during the initial load, during a Delta MERGE, after a Delta
commit but before Spark's checkpoint, between batches) while the source changes between
attempts. After a final run the Delta tables — read with delta-rs, not Spark — equal the
sandbox's contents, SCD 2 history has no duplicate version, and an idle rerun commits nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timezone
from pathlib import Path

import pytest
from deltalake import DeltaTable

from harness.pipeline.crashpoints import ENV as CRASH_ENV
from sources.example.sandbox import ExampleSandbox, parse_instant
from harness.spark import PROJECT_ROOT

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SPEC = """
name: crash
source: example
connection: crash_test_none
destination:
  schema: crash
options:
  maxRecordsPerBatch: "120"
  page_size: "60"
tables:
  - source_table: products
  - source_table: customers
  - source_table: orders
  - source_table: orders
    destination_table: orders_history
    scd_type: 2
  - source_table: events
"""


class Attempt:
    def __init__(self, spec: Path, home: Path, sandbox: ExampleSandbox, crash_at: str | None = None):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop(CRASH_ENV, None)
        if crash_at:
            env[CRASH_ENV] = crash_at
        options = sandbox.connection_options()
        cmd = [sys.executable, "-m", "harness.cli", "pipeline", "run", str(spec), "--home", str(home), "--plain",
               "--max-concurrent", "3", "--option", f"base_url={options['base_url']}",
               "--option", f"access_token={options['access_token']}"]
        self.proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.lines: list[str] = []

    def kill_when(self, predicate, delay: float = 0.0) -> None:
        """SIGKILL the run's whole process group (Python and its JVM) once a line matches."""
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if predicate(line):
                time.sleep(delay)
                os.killpg(self.proc.pid, signal.SIGKILL)
                break
        self.proc.wait(timeout=120)
        assert self.proc.returncode == -signal.SIGKILL, "\n".join(self.lines[-30:])

    def finish(self) -> int:
        out, _ = self.proc.communicate(timeout=600)
        self.lines.extend(out.splitlines())
        return self.proc.returncode


def _table(home: Path, name: str) -> list[dict]:
    return DeltaTable(str(home / "warehouse" / "crash.db" / name)).to_pyarrow_table().to_pylist()


def _ms(value) -> int:
    if isinstance(value, str):
        return int(parse_instant(value).timestamp() * 1000)
    return int((value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp() * 1000)


def _change(sandbox: ExampleSandbox, round_: int) -> None:
    orders = sorted(r["order_id"] for r in sandbox.records("orders"))
    customers = sorted(r["customer_id"] for r in sandbox.records("customers"))
    sandbox.update_records("orders", orders[round_ * 7: round_ * 7 + 5])
    sandbox.delete_records("orders", orders[-2:])
    sandbox.update_records("customers", customers[round_ * 3: round_ * 3 + 3])
    sandbox.add_records("customers", 4)
    sandbox.add_records("events", 30)
    products = sorted(r["product_id"] for r in sandbox.records("products"))
    sandbox.delete_records("products", products[:1])


def test_killed_pipeline_converges_to_the_truth(tmp_path):
    spec = tmp_path / "crash.yaml"
    spec.write_text(textwrap.dedent(SPEC))
    home = tmp_path / "home"
    sandbox = ExampleSandbox(latency=0.005, event_count=700).start()
    try:
        # 1. during the initial load: a stream has started, nothing is committed yet
        Attempt(spec, home, sandbox).kill_when(lambda l: "orders: started" in l, delay=2.0)
        _change(sandbox, 1)
        # 2. during a Delta MERGE of the orders table's second micro-batch
        Attempt(spec, home, sandbox, crash_at="during_write:orders:2:300").kill_when(lambda l: False)
        _change(sandbox, 2)
        # 3. after Delta committed an append batch, before Spark's checkpoint did: the replay
        #    must not append the same events again
        Attempt(spec, home, sandbox, crash_at="after_write:events:1").kill_when(lambda l: False)
        # 4. between two micro-batches of the SCD 2 table
        Attempt(spec, home, sandbox).kill_when(lambda l: "orders_history: batch 1:" in l)
        _change(sandbox, 3)
        final = Attempt(spec, home, sandbox)
        assert final.finish() == 0, "\n".join(final.lines[-40:])

        orders = {r["order_id"]: r for r in sandbox.records("orders")}
        landed = _table(home, "orders")
        assert sorted(r["order_id"] for r in landed) == sorted(orders), "orders differ from the sandbox"
        assert all(r["status"] == orders[r["order_id"]]["status"] and _ms(r["updated_at"]) == _ms(orders[r["order_id"]]["updated_at"])
                   for r in landed)

        customers = {r["customer_id"]: r for r in sandbox.records("customers")}
        landed = _table(home, "customers")
        assert sorted(r["customer_id"] for r in landed) == sorted(customers)
        assert all(r["tier"] == customers[r["customer_id"]]["tier"] for r in landed)

        history = _table(home, "orders_history")
        starts = [(r["order_id"], r["__START_AT"]) for r in history]
        assert len(starts) == len(set(starts)), "duplicate SCD 2 versions"
        open_keys = sorted(r["order_id"] for r in history if r["__END_AT"] is None)
        assert open_keys == sorted(orders)
        deleted = {t["order_id"] for t in sandbox.tombstones("orders")}
        assert not deleted & set(open_keys)

        events = [r["event_id"] for r in _table(home, "events")]
        assert len(events) == len(set(events)), "an event landed twice"
        assert sorted(events) == sorted(r["event_id"] for r in sandbox.records("events"))

        products = sorted(r["product_id"] for r in _table(home, "products"))
        assert products == sorted(r["product_id"] for r in sandbox.records("products"))

        versions = {name: DeltaTable(str(home / "warehouse" / "crash.db" / name)).version()
                    for name in ("customers", "orders", "orders_history", "events")}
        idle = Attempt(spec, home, sandbox)
        assert idle.finish() == 0, "\n".join(idle.lines[-40:])
        assert versions == {name: DeltaTable(str(home / "warehouse" / "crash.db" / name)).version() for name in versions}
    finally:
        sandbox.stop()
