"""The Spark Connect target: a local Connect server on a free port (``lakeflow spark-connect``),
the runtime read through ``sc://``, and a source's conformance suite run on that target
(``lakeflow test <source> --target connect``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from harness import connect_server
from harness.spark import PROJECT_ROOT

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("connect-home")
    state = connect_server.start(home)
    yield state
    connect_server.stop(home)


def _lakeflow(*args: str, env: dict | None = None, timeout: int = 900, home=None) -> subprocess.CompletedProcess:
    """The CLI from the project root; ``home``: this client's own Lakeflow home (with
    ``--remote`` its checkpoints stay there, not in the server's), never the checkout's."""
    local = {"LAKEFLOW_HOME": str(home)} if home is not None else {}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **local, **(env or {})})


def test_the_server_listens_on_a_free_port_and_reports_its_state(server):
    assert server.url == f"sc://127.0.0.1:{server.port}" and server.port != 15002
    assert connect_server.status(server.home) == server
    out = _lakeflow("spark-connect", "status", "--home", server.home)
    assert out.returncode == 0 and server.url in out.stdout
    # a second start for the same home returns the running server; a busy port is refused
    assert connect_server.start(server.home) == server
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(connect_server.ConnectServerError, match=r"port \d+ is in use"):
            connect_server.start(PROJECT_ROOT / "build" / "unused-home", port=busy.getsockname()[1])


def test_read_through_spark_connect(server):
    proc = subprocess.run([sys.executable, "-m", "tests.spark_connect_check", server.url], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"Spark Connect run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    assert "connect" in result["connect"]
    assert result["items"] == 123 and result["sum"] == 123 * 124 // 2


def test_the_conformance_suite_runs_on_the_connect_target(server):
    """`lakeflow test example --target connect`: the suite's Spark checks (spark.read equal
    to the truth, availableNow streams, restarts) through sc://, against the sandbox."""
    out = _lakeflow("test", "example", "--target", "connect", "--remote", server.url, "-k", "spark or stream")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"target connect at {server.url}, sandbox" in out.stdout
    summary = out.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, summary


def test_a_pipeline_runs_through_spark_connect_and_lands_the_truth(server, tmp_path):
    """`lakeflow pipeline run SPEC --target connect --remote URL`: the micro-batch function
    runs in the server's Python, the writer speaks SQL to Delta; the tables (read with
    delta-rs) equal the sandbox, and the totals come from the tables' history."""
    from deltalake import DeltaTable

    from sources.example.sandbox import ExampleSandbox

    spec = tmp_path / "viaconnect.yaml"
    spec.write_text("name: viaconnect\nsource: example\ndestination:\n  schema: viaconnect\ntables:\n"
                    "  - source_table: customers\n  - source_table: orders\n  - source_table: orders\n"
                    "    destination_table: orders_history\n    scd_type: 2\n  - source_table: events\n"
                    "  - source_table: products\n")
    with ExampleSandbox(event_count=300) as sandbox:
        options = [f"--option=base_url={sandbox.url}", f"--option=access_token={sandbox.token}"]
        run = ["pipeline", "run", str(spec), "--target", "connect", "--remote", server.url, "--home", server.home,
               "--plain", *options]
        client_home = tmp_path / "client-home"
        first = _lakeflow(*run, home=client_home)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
        orders = sorted(r["order_id"] for r in sandbox.records("orders"))
        sandbox.update_records("orders", orders[:4])
        sandbox.delete_records("orders", orders[-2:])
        second = _lakeflow(*run, home=client_home)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
        truth = {name: sandbox.truth(name) for name in ("customers", "orders", "events", "products")}
    warehouse = f"{server.home}/warehouse/viaconnect.db"

    def rows(table):
        return DeltaTable(f"{warehouse}/{table}").to_pyarrow_table().to_pylist()

    for table, key in (("customers", "customer_id"), ("orders", "order_id"), ("events", "event_id"),
                       ("products", "product_id")):
        landed = sorted(r[key] for r in rows(table))
        expected = sorted(int(k[0]) for k in truth[table].records)
        assert landed == expected, f"{table}: {len(landed)} rows, {len(expected)} in the sandbox"
    history = rows("orders_history")
    assert len({r["order_id"] for r in history}) == len(orders)
    assert sum(1 for r in history if r["order_id"] in orders[:4]) == 8   # two versions per updated order
    done = [line for line in second.stdout.splitlines() if line.strip().startswith("orders: done")]
    assert done and "updated 4, deleted 2" in done[0], second.stdout[-2000:]


def test_stop_leaves_no_server(server):
    """Last in this module (pytest keeps file order): stops the module's server, whose
    fixture then finds nothing left to stop."""
    out = _lakeflow("spark-connect", "stop", "--home", str(server.home))
    assert out.returncode == 0 and f"stopped the server on {server.url}" in out.stdout
    assert connect_server.status(server.home) is None
    assert _lakeflow("spark-connect", "status", "--home", str(server.home)).returncode == 1
