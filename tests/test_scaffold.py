"""`lakeflow new-source NAME` in a temporary copy of the project: the files it writes, its
refusals, and a first test run that fails saying what to implement next."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from harness.spark import PROJECT_ROOT

COPIED = ("datasource", "sources", "harness", "templates", "configs", "conftest.py", "pyproject.toml")


def _copy(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    for name in COPIED:
        src = PROJECT_ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "dev_config.json"))
        else:
            shutil.copy2(src, root / name)
    return root


def _run(root, *args, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True, timeout=timeout, env=env)


def test_new_source_writes_a_package_whose_tests_fail_saying_what_to_do(tmp_path):
    root = _copy(tmp_path)
    out = _run(root, "-m", "harness.cli", "new-source", "demo_source")
    assert out.returncode == 0, out.stderr
    for path in ("sources/demo_source/demo_source.py", "sources/demo_source/demo_source_test_utils.py",
                 "sources/demo_source/test/test_demo_source_lakeflow_connect.py", "sources/demo_source/sandbox.py",
                 "configs/demo_source.example.json", "sources/demo_source/demo_source_api_doc.md",
                 "sources/demo_source/README.md"):
        assert (root / path).is_file(), path
    # found like every source: the runtime's registry and the sandbox registry
    found = _run(root, "-c", "from datasource.registry import available_sources; from harness.sandboxes import "
                 "sandbox_names; print(available_sources(), sandbox_names())")
    assert found.stdout.count("demo_source") == 2, found.stdout + found.stderr
    # the sandbox is declared with the kit, answers with its error body and says what to declare next
    declared = _run(root, "-c", "from harness.sandboxes import get_sandbox\n"
                    "from sources.toolkit.sandbox import DeclaredSandbox\n"
                    "import requests\n"
                    "with get_sandbox('demo_source')() as s:\n"
                    "    assert isinstance(s, DeclaredSandbox)\n"
                    "    r = requests.get(s.url + '/v1/items', timeout=5); print(r.status_code, r.json())\n"
                    "    s.truth_tables()\n")
    assert declared.stdout.strip() == "404 {'message': 'Not Found'}" and "Next: declare the tables of DemoSourceSandbox" in declared.stderr
    # never overwrites; validates the name
    again = _run(root, "-m", "harness.cli", "new-source", "demo_source")
    assert again.returncode == 2 and "exists already" in again.stderr and "never overwrites" in again.stderr
    bad = _run(root, "-m", "harness.cli", "new-source", "Bad-Name")
    assert bad.returncode == 2 and "is not valid" in bad.stderr
    # the first test run fails, naming the first thing to implement; nothing passes
    tests = _run(root, "-m", "pytest", "sources/demo_source", "-q", "-p", "no:cacheprovider")
    assert tests.returncode != 0
    assert "Next: describe demo_source's tables in METADATA and SCHEMAS" in tests.stdout
    assert " passed" not in tests.stdout.splitlines()[-1]
    # the docs are the templates: the checkers reject them until they are written
    assert _run(root, "-m", "harness.doc_checks", "doc", "sources/demo_source/demo_source_api_doc.md").returncode == 1
