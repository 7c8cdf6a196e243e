"""`lakeflow new-source NAME --path DIR`: the plugin project it writes, its refusals, and a
first test run that fails saying what to implement next."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from harness.spark import PROJECT_ROOT


def _run(cwd, *args, pythonpath=(), timeout=300):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), str(PROJECT_ROOT)])}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_new_source_writes_a_plugin_project_whose_tests_fail_saying_what_to_do(tmp_path):
    work = tmp_path / "my-project"
    work.mkdir()
    out = _run(work, "-m", "harness.cli", "new-source", "demo_source")  # the current directory by default
    assert out.returncode == 0, out.stderr
    project = work / "lakeflow-demo-source"
    for path in ("pyproject.toml", "conftest.py", "lakeflow_demo_source/demo_source.py",
                 "lakeflow_demo_source/demo_source_test_utils.py",
                 "lakeflow_demo_source/test/test_demo_source_lakeflow_connect.py", "lakeflow_demo_source/sandbox.py",
                 "lakeflow_demo_source/configs/dev_config.example.json", "lakeflow_demo_source/demo_source_api_doc.md",
                 "lakeflow_demo_source/README.md"):
        assert (project / path).is_file(), path
    assert "pip install -e ." in out.stdout and str(project) in out.stdout
    assert not (PROJECT_ROOT / "sources" / "demo_source").exists()  # never into the installed package
    # the entry point that makes it a source once installed
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["lakeflow.sources"] == {"demo_source": "lakeflow_demo_source"}
    # --path writes elsewhere; never overwrites; validates the name
    elsewhere = _run(work, "-m", "harness.cli", "new-source", "other_source", "--path", str(tmp_path / "elsewhere"),
                     "--credential", "api_key")
    other = tmp_path / "elsewhere" / "lakeflow-other-source"
    assert elsewhere.returncode == 0 and (other / "pyproject.toml").is_file()
    # --credential names the secret's option everywhere: connector, sandbox auth, live mode, config example
    named = _run(other, "-c", "from lakeflow_other_source.sandbox import OtherSourceSandbox\n"
                 "from lakeflow_other_source.test.test_other_source_lakeflow_connect import TestOtherSourceConnector as T\n"
                 "from lakeflow_other_source import OtherSourceLakeflowConnect as C\n"
                 "print(sorted(OtherSourceSandbox().connection_options()), T.live_required_options)\n"
                 "try:\n    C({})\nexcept Exception as e:\n    print(e)\n", pythonpath=[other])
    assert named.stdout.splitlines() == ["['api_key', 'base_url'] ('api_key',)", "OtherSource option 'api_key' is required: the API's credential."], named.stderr
    assert '"api_key"' in (other / "lakeflow_other_source" / "configs" / "dev_config.example.json").read_text()
    assert "access_token" not in (other / "lakeflow_other_source" / "other_source.py").read_text()
    assert _run(work, "-m", "harness.cli", "new-source", "third", "--credential", "Bad-Key").returncode == 2
    again = _run(work, "-m", "harness.cli", "new-source", "demo_source")
    assert again.returncode == 2 and "exists already" in again.stderr and "never overwrites" in again.stderr
    taken = _run(work, "-m", "harness.cli", "new-source", "hubspot")
    assert taken.returncode == 2 and "exists already" in taken.stderr
    bad = _run(work, "-m", "harness.cli", "new-source", "Bad-Name")
    assert bad.returncode == 2 and "is not valid" in bad.stderr
    # the sandbox is declared with the kit, answers with its error body and says what to declare next
    declared = _run(project, "-c", "from lakeflow_demo_source.sandbox import DemoSourceSandbox\n"
                    "from sources.toolkit.sandbox import DeclaredSandbox\n"
                    "import requests\n"
                    "with DemoSourceSandbox() as s:\n"
                    "    assert isinstance(s, DeclaredSandbox)\n"
                    "    r = requests.get(s.url + '/v1/items', timeout=5); print(r.status_code, r.json())\n"
                    "    s.truth_tables()\n", pythonpath=[project])
    assert declared.stdout.strip() == "404 {'message': 'Not Found'}" and "Next: declare the tables of DemoSourceSandbox" in declared.stderr
    # the first test run, from the project, fails naming the first thing to implement; nothing passes
    tests = _run(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", pythonpath=[project])
    assert tests.returncode != 0
    assert "Next: describe demo_source's tables in METADATA and SCHEMAS" in tests.stdout, tests.stdout[-3000:]
    assert " passed" not in tests.stdout.splitlines()[-1]
    # the docs are the installed templates: the checkers reject them until they are written
    doc = project / "lakeflow_demo_source" / "demo_source_api_doc.md"
    assert _run(work, "-m", "harness.doc_checks", "doc", str(doc)).returncode == 1
