"""The `lakeflow` command as a user meets it: the demo, sandbox commands, errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from deltalake import DeltaTable

from harness.spark import PROJECT_ROOT, require_java


def _lakeflow(*args, cwd=None, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.slow
@pytest.mark.spark
def test_demo_lands_delta_tables_and_prints_the_summary(tmp_path):
    out = _lakeflow("demo", "--source", "example", "--plain", cwd=tmp_path, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert "[3/5] run 1, initial load: 6 tables into spark_catalog.example_shop" in text
    assert "[5/5] run 2, incremental" in text
    # the second run's summary: the demo's changes, counted
    second = text[text.index("[5/5]"):]
    rows = {line.split()[0]: line.split() for line in second.splitlines() if line.split() and line.split()[0] in
            ("products", "customers", "orders", "events")}
    # columns end with: batches, read, inserted, updated, deleted, requests, elapsed
    assert rows["customers"][-5:-2] == ["5", "4", "0"], rows["customers"]
    assert rows["orders"][-5:-2] == ["0", "6", "3"], rows["orders"]
    assert rows["events"][-5:-2] == ["250", "0", "0"], rows["events"]
    assert rows["products"][-5:-2] == ["2", "0", "1"], rows["products"]
    assert "SELECT * FROM example_shop.products" in text
    for noise in ("log4j", "WARN ", "Ivy", ":: resolving"):
        assert noise not in text + out.stderr, f"Spark noise in the demo's output: {noise}"
    warehouse = tmp_path / "lakeflow-data" / "warehouse" / "example_shop.db"
    assert len(DeltaTable(str(warehouse / "customers")).to_pyarrow_table()) == 305


def test_sandbox_module_prints_the_bound_port():
    proc = subprocess.Popen([sys.executable, "-m", "sources.example.sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
    finally:
        proc.kill()
    assert "http://127.0.0.1:" in line and ":0 " not in line and "token example-token" in line


def test_missing_java_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match=r"Java was not found.*apt-get install openjdk-17-jre-headless.*JAVA_HOME"):
        require_java()


def test_unknown_spec_key_fails_before_spark(tmp_path):
    spec = tmp_path / "p.yaml"
    spec.write_text("name: p\nsource: example\ndestination: {schema: s}\ntables:\n  - source_table: orders\n    scd: 2\n")
    out = _lakeflow("pipeline", "validate", str(spec), "--sandbox", timeout=120)
    assert out.returncode == 2
    assert "tables[0].scd: unknown key" in out.stderr
    ok = tmp_path / "ok.yaml"
    ok.write_text("name: p\nsource: example\ndestination: {schema: s}\ntables:\n  - source_table: orders\n")
    out = _lakeflow("pipeline", "validate", str(ok), "--sandbox", timeout=120)
    assert out.returncode == 0 and "orders" in out.stdout and "cdc scd1 +deletes" in out.stdout


def test_live_without_credentials_fails_naming_them():
    """`lakeflow test --live` without credentials fails (exit 1) naming the variables,
    instead of skipping."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEFLOW_EXAMPLE_")}
    env["LAKEFLOW_EXAMPLE_DEV_CONFIG"] = "/nonexistent/dev_config.json"
    out = _lakeflow("test", "example", "--live", "-k", "list_tables", cwd=PROJECT_ROOT, timeout=300, env=env)
    assert out.returncode == 1, out.stdout[-2000:]
    assert "--live: no credentials for example: set LAKEFLOW_EXAMPLE_ACCESS_TOKEN" in out.stdout


def test_check_doc_and_check_readme(tmp_path):
    """`lakeflow check-doc` / `check-readme`: every source passes; a README without its
    connection parameters section fails with PATH:LINE and exit 1."""
    def lakeflow(*args):
        return _lakeflow(*args, cwd=PROJECT_ROOT, timeout=120)

    docs = sorted(str(p) for p in (PROJECT_ROOT / "sources").glob("*/*_api_doc.md"))
    readmes = sorted(str(p.parent / "README.md") for p in (PROJECT_ROOT / "sources").glob("*/*_api_doc.md"))
    assert docs and lakeflow("check-doc", *docs).returncode == 0
    assert lakeflow("check-readme", *readmes).returncode == 0
    text = (PROJECT_ROOT / "sources" / "example" / "README.md").read_text()
    start = text.index("## Connection parameters")
    bad = tmp_path / "README.md"
    bad.write_text(text[:start] + text[text.index("\n## ", start + 1) + 1:])
    out = lakeflow("check-readme", str(bad))
    assert out.returncode == 1 and f"{bad}:" in out.stdout and "Connection parameters" in out.stdout
