"""``lakeflow new-source NAME [--path DIR]``: a new source as a plugin project of its own,
ready for its first test run.

It writes ``DIR/lakeflow-NAME/`` (``DIR`` is the current directory unless given), and
never overwrites:

* ``pyproject.toml`` — the distribution ``lakeflow-NAME``, declaring the source in the entry
  point group ``lakeflow.sources`` (``NAME = "lakeflow_NAME"``): after ``pip install -e .``
  there, ``register(spark, "NAME")`` and every ``lakeflow`` command find it;
* ``conftest.py`` — the suite's fixtures (``pytest_plugins = ["harness.testing"]``);
* ``lakeflow_NAME/NAME.py`` — a connector on the shared HTTP client and option helpers, with
  the unknown-table check in every method and ``NotImplementedError("Next: …")`` where the
  source's own knowledge goes;
* ``lakeflow_NAME/NAME_test_utils.py`` — write-back utilities (to be written);
* ``lakeflow_NAME/test/test_NAME_lakeflow_connect.py`` — the one test class;
* ``lakeflow_NAME/sandbox.py`` — a declared sandbox with bearer auth and no tables yet;
* ``lakeflow_NAME/configs/dev_config.example.json``, and the API doc and README from the
  installed templates (``harness/templates``).

Its tests run at once and fail, each saying what to implement next: nothing passes by
having nothing to check.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.doc_checks import TEMPLATES

#: Package names under ``sources/`` that are not sources.
RESERVED = {"interface", "http", "toolkit", "test", "tests"}


class ScaffoldError(ValueError):
    """A name that cannot be a source, or files that already exist."""


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


CONNECTOR = '''"""``{camel}LakeflowConnect``: {name} as Spark tables.

Connection options (strings): ``{credential}`` (required; sent as ``Authorization: Bearer``),
``base_url``, and the shared client's ``connect_timeout``, ``read_timeout``,
``retry_max_attempts``, ``retry_base_delay``, ``retry_max_delay``, ``request_deadline``.
See ``docs/authoring.md`` for the steps.
"""

from __future__ import annotations

from typing import Iterator

from pyspark.sql.types import StructType

from sources.http import HttpClient, HttpSettings
from sources.interface import ReadLimits, SupportsReadLimits
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import HTTP_OPTIONS, HttpConnector, Opt, OptionSet

DEFAULT_BASE_URL = "https://api.{name}.example"

#: table -> {{"primary_keys": [...], "cursor_field": ..., "ingestion_type": ...}}
METADATA: dict[str, dict] = {{}}
#: table -> its Spark schema (StructType); nested objects stay nested.
SCHEMAS: dict[str, StructType] = {{}}
#: The connector's own connection options; the shared client's (``connect_timeout`` …) are
#: read by HttpSettings.from_options.
OPTIONS = OptionSet(
    Opt("{credential}", secret=True, required=True, doc="the API's credential"),
    Opt("base_url", default=DEFAULT_BASE_URL),
)


class {camel}LakeflowConnect(HttpConnector, SupportsReadLimits):
    """Reads {name} (see the module docstring)."""

    #: What a Unity Catalog connection may hold, and the per-table options it lets through
    #: (`lakeflow uc create-connection`); document each in the README.
    CONNECTION_OPTIONS = OptionSet(OPTIONS, HTTP_OPTIONS)
    TABLE_OPTIONS = OptionSet()

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = OPTIONS.parse(self.options, owner="{camel}")
        self._token = getattr(parsed, "{credential}")
        self.base_url = parsed.base_url.rstrip("/")
        self.http = HttpSettings.from_options(self.options, owner="{camel}")

    def make_client(self) -> HttpClient:
        return HttpClient.from_settings(self.base_url, self.http,
                                        headers={{"Authorization": f"Bearer {{self._token}}"}}, secrets=[self._token])

    def list_tables(self) -> list[str]:
        if not METADATA:
            raise NotImplementedError(
                "Next: describe {name}'s tables in METADATA and SCHEMAS ({package}/{name}.py), from "
                "{package}/{name}_api_doc.md.")
        return list(METADATA)

    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> StructType:
        self.check_table(table_name)
        return SCHEMAS[table_name]

    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        self.check_table(table_name)
        return dict(METADATA[table_name])

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        self.check_table(table_name)
        raise NotImplementedError(
            f"Next: read one page of {{table_name!r}} after start_offset in {camel}LakeflowConnect.read_table "
            "(self.client.paginate(...) with a paginator from sources.toolkit) and return (records, offset); the "
            "offset advances whenever records come back, and nothing past limits.end_offset is returned.")

    def read_table_deletes(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                           limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        self.check_table(table_name)
        raise NotImplementedError(
            f"Next: read the records deleted from {{table_name!r}} after start_offset, if {name} reports deletes "
            "(only for tables whose ingestion_type is cdc_with_deletes).")
'''

INIT = '''"""The {name} connector."""

from {package}.{name} import {camel}LakeflowConnect

__all__ = ["{camel}LakeflowConnect"]
'''

TEST_UTILS = '''"""Write-back utilities for {name}: create and delete marked records through its API, so the
suite can check that a fresh connector reads them."""

from __future__ import annotations

from sources.interface.write_back import LakeflowConnectWriteTestUtils


class {camel}TestUtils(LakeflowConnectWriteTestUtils):
    def list_insertable_tables(self) -> list[str]:
        raise NotImplementedError("Next: name the tables whose records the tests may create "
                                  "({package}/{name}_test_utils.py).")

    def generate_rows_and_write(self, table_name, number_of_rows):
        raise NotImplementedError("Next: create number_of_rows marked records in table_name through the API.")

    def list_deletable_tables(self) -> list[str]:
        raise NotImplementedError("Next: name the tables whose records the tests may delete (or return []).")

    def delete_rows(self, table_name, number_of_rows):
        raise NotImplementedError("Next: delete number_of_rows of this run's records in table_name.")

    def cleanup(self) -> None:
        pass
'''

TEST_FILE = '''"""The {name} connector under the whole conformance and write-back suite (the sandbox unless
LAKEFLOW_{upper}_{credential_upper} is set)."""

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from {package}.sandbox import {camel}Sandbox
from {package} import {camel}LakeflowConnect
from {package}.{name}_test_utils import {camel}TestUtils


class Test{camel}Connector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "{name}"
    connector_class = {camel}LakeflowConnect
    test_utils_class = {camel}TestUtils
    sandbox_class = {camel}Sandbox
    live_required_options = ("{credential}",)
'''

SANDBOX = '''"""A sandbox of the {name} API: a real HTTP server on 127.0.0.1 that behaves as the documented
API does ({package}/{name}_api_doc.md), declared with the sandbox kit
(sources/toolkit/sandbox; sources/github/sandbox.py is a worked example)."""

from __future__ import annotations

from sources.toolkit.sandbox import (  # noqa: F401  (what a declaration usually needs)
    BOOLEAN, DATE, INTEGER, NUMBER, STRING, TIMESTAMP, BearerAuth, DeclaredSandbox, Filter, PageNumberPaging, Sort,
    Table, array_of, derived, maybe, obj, one_of,
)


class {camel}Sandbox(DeclaredSandbox):
    name = "{name}"
    auth = BearerAuth("{name}-token", option="{credential}")
    error_body = {{"message": "{{message}}"}}
    # Next: declare each table as the API doc describes it, for example
    #   Table("items", "/v1/items", {{"id": INTEGER, "name": STRING, "tags": array_of(STRING),
    #         "updated_at": TIMESTAMP}}, "id", cursor="updated_at", rows=120,
    #         filters=(Filter("updated_since", "updated_at", ">="),), paging=PageNumberPaging()),
    tables: tuple[Table, ...] = ()
'''

CONFIG = '''{{
  "_comment": "Copy to {package}/configs/dev_config.json (keep it out of version control) with real credentials to run the suite live, or set LAKEFLOW_{upper}_{credential_upper}.",
  "{credential}": "<token>"
}}
'''


PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "lakeflow-{dash}"
version = "0.1.0"
description = "{camel} as Spark tables: a Lakeflow community connector"
requires-python = ">=3.10"
dependencies = ["lakeflow-community-connectors>=0.1"]

[project.optional-dependencies]
# What `lakeflow test {name}` needs: the conformance suite and pytest.
test = ["lakeflow-community-connectors[harness]>=0.1"]

# How Lakeflow finds the source: its name and its package.
[project.entry-points."lakeflow.sources"]
{name} = "{package}"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.setuptools.package-data]
"*" = ["*.md", "*.json"]

[tool.pytest.ini_options]
testpaths = ["{package}"]
'''

CONFTEST = '''"""The conformance suite's fixtures (one Spark session per test run)."""

pytest_plugins = ["harness.testing"]
'''

def _from_template(template: Path, name: str) -> str:
    text = template.read_text(encoding="utf-8")
    return text.replace("{{Source}}", _camel(name)).replace("{{source}}", name)


def project_dir(name: str, where: Path) -> Path:
    """The folder ``new_source`` writes: ``where/lakeflow-<name>``."""
    return Path(where) / f"lakeflow-{name.replace('_', '-')}"


def new_source(name: str, where: Path, credential: str = "access_token") -> list[Path]:
    """Write the plugin project of source ``name`` under ``where``; return its files.
    ``credential`` names the connection option that carries the API's secret (``api_key``,
    ``api_token``...), sent as ``Authorization: Bearer`` until the author changes it."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name or ""):
        raise ScaffoldError(f"source name {name!r} is not valid: 2-41 characters, lower-case letters, digits and _, "
                            "starting with a letter (it becomes the package lakeflow_<name> and the format lakeflow_<name>)")
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", credential or ""):
        raise ScaffoldError(f"credential option {credential!r} is not valid: lower-case letters, digits and _, "
                            "starting with a letter (users pass it as an option and LAKEFLOW_<NAME>_<OPTION>)")
    if name in RESERVED:
        raise ScaffoldError(f"source name {name!r} is reserved ({', '.join(sorted(RESERVED))})")
    from datasource.registry import available_sources

    if name in available_sources():
        raise ScaffoldError(f"source {name!r} exists already (built in or an installed plugin): choose another name")
    package = f"lakeflow_{name}"
    values = {"name": name, "camel": _camel(name), "upper": name.upper(), "package": package,
              "dash": name.replace("_", "-"), "credential": credential, "credential_upper": credential.upper()}
    project = project_dir(name, where)
    pkg = project / package
    files = {
        project / "pyproject.toml": PYPROJECT.format(**values),
        project / "conftest.py": CONFTEST,
        pkg / "__init__.py": INIT.format(**values),
        pkg / f"{name}.py": CONNECTOR.format(**values),
        pkg / f"{name}_test_utils.py": TEST_UTILS.format(**values),
        pkg / "test" / "__init__.py": "",
        pkg / "test" / f"test_{name}_lakeflow_connect.py": TEST_FILE.format(**values),
        pkg / "sandbox.py": SANDBOX.format(**values),
        pkg / "configs" / "dev_config.example.json": CONFIG.format(**values),
        pkg / f"{name}_api_doc.md": _from_template(TEMPLATES / "source_api_doc_template.md", name),
        pkg / "README.md": _from_template(TEMPLATES / "community_connector_doc_template.md", name),
    }
    if project.exists():
        raise ScaffoldError(f"{project} exists already; new-source never overwrites: choose another name or --path, "
                            "or remove it")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
