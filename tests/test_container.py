"""End to end in containers (``pytest -m container``): the project image runs the example
sandbox in one container and a Spark Connect server in another, on one Docker network. From
the host, Spark reads every table through ``sc://`` and a stream lands ``customers`` in Delta
on a mounted volume; both are compared with the truth the sandbox serves
(``GET /__truth__/<table>``), and the Delta table is read with delta-rs, not Spark.

The image is built by ``docker/ci-engine.sh`` (``.ci/run`` calls it). Without an engine the
tests skip with the reason, except where ``LAKEFLOW_REQUIRE_CONTAINERS=1`` (CI) makes that a
failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request

import pytest

from harness.spark import PROJECT_ROOT

pytestmark = [pytest.mark.container, pytest.mark.slow]

IMAGE = os.environ.get("LAKEFLOW_IMAGE", "lakeflow-connect:ci")
TOKEN = "container-token"


def _unavailable(reason: str):
    if os.environ.get("LAKEFLOW_REQUIRE_CONTAINERS") == "1":
        pytest.fail(f"container tests are required here (LAKEFLOW_REQUIRE_CONTAINERS=1) but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        _unavailable("no Docker engine answers `docker info` (docker/ci-engine.sh installs and starts one on "
                     "Debian as root)")
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        _unavailable(f"image {IMAGE} is not built: run docker/ci-engine.sh (or docker build -f docker/Dockerfile "
                     f"-t {IMAGE} .)")
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")   # Ryuk's image cannot be pulled here
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    data = tmp_path_factory.mktemp("connect-data")
    with Network() as network:
        sandbox = (DockerContainer(IMAGE)
                   .with_command(["lakeflow", "sandbox", "example", "--host", "0.0.0.0", "--port", "8765",
                                  "--token", TOKEN])
                   .with_network(network).with_network_aliases("sandbox").with_exposed_ports(8765)
                   .waiting_for(LogMessageWaitStrategy("sandbox listening").with_startup_timeout(60)))
        server = (DockerContainer(IMAGE).with_network(network).with_exposed_ports(15002)
                  .with_volume_mapping(str(data), "/data", "rw")
                  .waiting_for(LogMessageWaitStrategy("Spark Connect server listening").with_startup_timeout(300)))
        with sandbox, server:
            yield {
                "remote": f"sc://{server.get_container_host_ip()}:{server.get_exposed_port(15002)}",
                "sandbox": f"http://{sandbox.get_container_host_ip()}:{sandbox.get_exposed_port(8765)}",
                "data": data,
            }


def _truth(stack, table: str) -> dict:
    with urllib.request.urlopen(f"{stack['sandbox']}/__truth__/{table}", timeout=30) as answer:
        return json.load(answer)


def _check(stack, phase: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.container_check", stack["remote"], "http://sandbox:8765",
                           TOKEN, phase], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"{phase} through {stack['remote']} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def _change(stack) -> tuple[list, list]:
    """Update three customers and create two, through the sandbox's own API."""
    def call(method: str, path: str, body: dict) -> dict:
        request = urllib.request.Request(f"{stack['sandbox']}{path}", data=json.dumps(body).encode(), method=method,
                                         headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    ids = sorted(r["customer_id"] for r in _truth(stack, "customers")["records"])[:3]
    updated = [call("PATCH", f"/api/v1/customers/{i}", {"tier": "gold"})["customer_id"] for i in ids]
    created = [call("POST", "/api/v1/customers", {"email": f"container{i}@example.com", "name": f"C {i}"})["customer_id"]
               for i in range(2)]
    return updated, created


def test_spark_connect_in_a_container_reads_every_table_like_the_truth(stack):
    result = _check(stack, "read")
    assert result["session"] == "pyspark.sql.connect.session"
    for table, key in (("customers", "customer_id"), ("orders", "order_id"), ("products", "product_id"),
                       ("events", "event_id")):
        truth = _truth(stack, table)
        expected = sorted(r[key] for r in truth["records"])
        assert result[table] == expected, f"{table}: {len(result[table])} keys read, {len(expected)} in the sandbox"


def test_a_stream_lands_delta_on_the_volume_and_catches_up_after_changes(stack):
    from deltalake import DeltaTable

    first = _check(stack, "stream")
    assert first["exception"] is None, first["exception"]
    updated, created = _change(stack)
    second = _check(stack, "stream")
    assert second["exception"] is None, second["exception"]
    rows = DeltaTable(str(stack["data"] / "tables" / "customers")).to_pyarrow_table().to_pylist()
    latest: dict = {}
    for row in rows:   # the stream appends changes: the newest row per key is the customer's state
        if row["customer_id"] not in latest or row["updated_at"] > latest[row["customer_id"]]["updated_at"]:
            latest[row["customer_id"]] = row
    truth = {r["customer_id"]: r for r in _truth(stack, "customers")["records"]}
    assert set(latest) == set(truth), (len(latest), len(truth))
    assert all(latest[i]["tier"] == "gold" for i in updated)
    assert set(created) <= set(latest)
    assert len(rows) == len(truth) + len(updated), "a record was delivered twice"


def test_the_demo_pipeline_runs_through_sc_into_delta_on_the_volume(stack, tmp_path):
    """`lakeflow pipeline run configs/pipelines/example.yaml --target connect --remote sc://…
    --home /data`: every example table lands in the container's metastore on the volume; the
    Delta tables (read with delta-rs on the host) hold exactly the sandbox's keys."""
    from deltalake import DeltaTable

    cmd = [sys.executable, "-m", "harness.cli", "pipeline", "run", "configs/pipelines/example.yaml", "--target", "connect",
           "--remote", stack["remote"], "--home", "/data", "--plain",
           "--option", "base_url=http://sandbox:8765", "--option", f"access_token={TOKEN}"]
    env = {**os.environ, "LAKEFLOW_HOME": str(tmp_path)}   # the client's log; state and tables are the server's
    try:
        proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, env=env)
    except subprocess.TimeoutExpired as exc:  # show where it stood, and what the server said
        server_log = stack["data"] / "spark-connect" / "server.log"
        tail = server_log.read_text(errors="replace")[-3000:] if server_log.exists() else "(no server log)"
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        pytest.fail(f"the pipeline did not finish in 600 s; its output:\n{out[-3000:]}\nserver log tail:\n{tail}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    warehouse = stack["data"] / "warehouse"
    schema = next(warehouse.glob("*.db"))
    for table, key in (("customers", "customer_id"), ("orders", "order_id"), ("events", "event_id"),
                       ("products", "product_id")):
        landed = sorted(r[key] for r in DeltaTable(str(schema / table)).to_pyarrow_table().to_pylist())
        expected = sorted(r[key] for r in _truth(stack, table)["records"])
        assert landed == expected, f"{table}: {len(landed)} rows landed, {len(expected)} in the sandbox"
