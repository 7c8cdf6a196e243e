"""A source outside this checkout: a plugin project written by ``lakeflow new-source``,
installed beside this package installed from a wheel (not editable), and found by name
through the ``lakeflow.sources`` entry point by ``lakeflow test``, ``register`` + ``spark.read``
and the CLI's ``pipeline run --sandbox``, all run from a folder that is not this checkout.

The plugin's connector, sandbox and test utilities are thin subclasses of the example
source's (the scaffold leaves them to be written); what is under test is how a plugin is
found and run, not a connector."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from harness.databricks.deploy import build_wheel
from harness.spark import PROJECT_ROOT

pytestmark = pytest.mark.slow

CONNECTOR = '''"""The demo shop: the example source's connector under a plugin's name."""

from sources.example.example import ExampleLakeflowConnect


class DemoShopLakeflowConnect(ExampleLakeflowConnect):
    pass
'''
SANDBOX = '''from sources.example.sandbox import ExampleSandbox


class DemoShopSandbox(ExampleSandbox):
    name = "demo_shop"
'''
TEST_UTILS = '''from sources.example.example_test_utils import ExampleTestUtils


class DemoShopTestUtils(ExampleTestUtils):
    pass
'''
TEST_FILE = '''from harness.conformance import LakeflowConnectTests
from lakeflow_demo_shop import DemoShopLakeflowConnect
from lakeflow_demo_shop.sandbox import DemoShopSandbox


class TestDemoShopConnector(LakeflowConnectTests):
    source_name = "demo_shop"
    connector_class = DemoShopLakeflowConnect
    sandbox_class = DemoShopSandbox
    live_required_options = ("access_token", "base_url")
'''
READ = '''import sys
from datasource import register
from harness.cli import main
from harness.sandboxes import get_sandbox
from harness.spark import local_session
import datasource, lakeflow_demo_shop
assert "site-packages" in datasource.__file__, datasource.__file__   # the wheel, not the checkout
spark = local_session("plugin-read")
with get_sandbox("demo_shop")() as sandbox:
    fmt = register(spark, "demo_shop")
    rows = spark.read.format(fmt).options(**sandbox.connection_options()).option("tableName", "customers").load().collect()
    truth = sorted(r["customer_id"] for r in sandbox.records("customers"))
    print("format", fmt, "rows", len(rows), "equal", sorted(r.customer_id for r in rows) == truth, flush=True)
# then `lakeflow pipeline run shop.yaml --sandbox`, in this process: one JVM for both
sys.exit(main(["pipeline", "run", "shop.yaml", "--sandbox"]))
'''
SPEC = '''name: plugin_shop
source: demo_shop
connection: demo_shop
destination: {path: tables}
tables:
  - source_table: customers
  - source_table: orders
'''


def _run(cmd, cwd, env, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_a_plugin_from_the_scaffold_installs_and_runs_outside_the_checkout(tmp_path):
    wheel = build_wheel(PROJECT_ROOT, tmp_path / "dist")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=300)
    py, lakeflow = venv / "bin" / "python", venv / "bin" / "lakeflow"
    # This package's dependencies (and pip) come from the test's environment (a .pth after the
    # venv's own site-packages); this package itself only from the wheel.
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env.update(LAKEFLOW_HOME=str(tmp_path / "home"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel], tmp_path, env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    _run([lakeflow, "new-source", "demo_shop"], work, env)
    project = work / "lakeflow-demo-shop"
    package = project / "lakeflow_demo_shop"
    (package / "demo_shop.py").write_text(CONNECTOR)
    (package / "sandbox.py").write_text(SANDBOX)
    (package / "demo_shop_test_utils.py").write_text(TEST_UTILS)
    (package / "test" / "test_demo_shop_lakeflow_connect.py").write_text(TEST_FILE)
    _run([py, "-m", "pip", "install", "--no-deps", "--quiet", "-e", project], work, env)

    # found by name, from another folder, with the wheel's harness
    found = _run([py, "-c", "from datasource import available_sources; from harness.sandboxes import sandbox_names; "
                  "print(available_sources(), sandbox_names())"], tmp_path, env)
    assert found.stdout.count("'demo_shop'") == 2, found.stdout
    # lakeflow uc knows its options (from the connector class's OptionSets), before any call
    # to a workspace: an unknown option is refused naming the valid ones
    uc = subprocess.run([str(lakeflow), "uc", "create-connection", "demo_shop", "--name", "shop",
                         "--option", "bogus=1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert uc.returncode != 0 and "'bogus' is not a connection option of demo_shop" in uc.stderr, uc.stderr
    assert "access_token, base_url, page_size" in uc.stderr, uc.stderr

    # lakeflow test NAME runs the plugin's own suite (a few of its tests: the rest is the
    # example's suite, run on the example)
    tested = _run([lakeflow, "test", "demo_shop", "-k", "list_tables or schema or metadata or read_table"], tmp_path, env)
    summary = tested.stdout.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|deselected|failed)", summary)}
    assert counts.get("passed", 0) >= 3 and not counts.get("failed") and counts.get("deselected", 0) > 10, summary

    # register by name + spark.read (equal to the sandbox's truth), then a pipeline on it
    # with its sandbox found by name (the CLI's `lakeflow pipeline run SPEC --sandbox`)
    (work / "shop.yaml").write_text(textwrap.dedent(SPEC))
    (tmp_path / "read.py").write_text(READ)
    ran = _run([py, tmp_path / "read.py"], work, env)
    assert "format lakeflow_demo_shop" in ran.stdout and "equal True" in ran.stdout, ran.stdout
    assert "customers" in ran.stdout and "orders" in ran.stdout
    from deltalake import DeltaTable
    from sources.example.sandbox import ExampleSandbox

    landed = sorted(DeltaTable(str(work / "tables" / "customers")).to_pyarrow_table().column("customer_id").to_pylist())
    assert landed == sorted(r["customer_id"] for r in ExampleSandbox().records("customers"))
