"""``lakeflow new-source NAME``: a new source's files, ready for its first test run.

It writes, and never overwrites:

* ``sources/NAME/NAME.py`` — a connector on the shared HTTP client and option helpers, with
  the unknown-table check in every method and ``NotImplementedError("Next: …")`` where the
  source's own knowledge goes;
* ``sources/NAME/NAME_test_utils.py`` — write-back utilities (to be written);
* ``sources/NAME/test/test_NAME_lakeflow_connect.py`` — the one test class;
* ``sources/NAME/sandbox.py`` — a declared sandbox with bearer auth and no tables yet;
* ``configs/NAME.example.json``, and the API doc and README from ``templates/``.

Its tests run at once and fail, each saying what to implement next: nothing passes by
having nothing to check.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.spark import PROJECT_ROOT

#: Package names under ``sources/`` that are not sources.
RESERVED = {"interface", "http", "toolkit", "test", "tests"}


class ScaffoldError(ValueError):
    """A name that cannot be a source, or files that already exist."""


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


CONNECTOR = '''"""``{camel}LakeflowConnect``: {name} as Spark tables.

Connection options (strings): ``access_token`` (required; sent as ``Authorization: Bearer``),
``base_url``, and the shared client's ``connect_timeout``, ``read_timeout``,
``retry_max_attempts``, ``retry_base_delay``, ``retry_max_delay``, ``request_deadline``.
See ``docs/authoring.md`` for the steps.
"""

from __future__ import annotations

from typing import Iterator

from pyspark.sql.types import StructType

from sources.http import HttpClient, HttpSettings
from sources.interface import ConnectorError, ReadLimits, SupportsReadLimits
from sources.interface.options import option
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import HttpConnector

DEFAULT_BASE_URL = "https://api.{name}.example"

#: table -> {{"primary_keys": [...], "cursor_field": ..., "ingestion_type": ...}}
METADATA: dict[str, dict] = {{}}
#: table -> its Spark schema (StructType); nested objects stay nested.
SCHEMAS: dict[str, StructType] = {{}}
#: Per-table options users may pass (what `lakeflow uc create-connection` lets through).
TABLE_OPTIONS: tuple[str, ...] = ()
CONNECTION_OPTIONS = ("access_token", "base_url", "connect_timeout", "read_timeout", "retry_max_attempts",
                      "retry_base_delay", "retry_max_delay", "request_deadline")


class {camel}LakeflowConnect(HttpConnector, SupportsReadLimits):
    """Reads {name} (see the module docstring)."""

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        token = option(self.options, "access_token")
        if token is None:
            raise ConnectorError("{camel} option 'access_token' is required.")
        self._token = token
        self.base_url = (option(self.options, "base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.http = HttpSettings.from_options(self.options, owner="{camel}")

    def make_client(self) -> HttpClient:
        return HttpClient.from_settings(self.base_url, self.http,
                                        headers={{"Authorization": f"Bearer {{self._token}}"}}, secrets=[self._token])

    def list_tables(self) -> list[str]:
        if not METADATA:
            raise NotImplementedError(
                "Next: describe {name}'s tables in METADATA and SCHEMAS (sources/{name}/{name}.py), from "
                "sources/{name}/{name}_api_doc.md.")
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

from sources.{name}.{name} import {camel}LakeflowConnect

__all__ = ["{camel}LakeflowConnect"]
'''

TEST_UTILS = '''"""Write-back utilities for {name}: create and delete marked records through its API, so the
suite can check that a fresh connector reads them."""

from __future__ import annotations

from sources.interface.write_back import LakeflowConnectWriteTestUtils


class {camel}TestUtils(LakeflowConnectWriteTestUtils):
    def list_insertable_tables(self) -> list[str]:
        raise NotImplementedError("Next: name the tables whose records the tests may create "
                                  "(sources/{name}/{name}_test_utils.py).")

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
LAKEFLOW_{upper}_ACCESS_TOKEN is set)."""

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.{name}.sandbox import {camel}Sandbox
from sources.{name} import {camel}LakeflowConnect
from sources.{name}.{name}_test_utils import {camel}TestUtils


class Test{camel}Connector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "{name}"
    connector_class = {camel}LakeflowConnect
    test_utils_class = {camel}TestUtils
    sandbox_class = {camel}Sandbox
    live_required_options = ("access_token",)
'''

SANDBOX = '''"""A sandbox of the {name} API: a real HTTP server on 127.0.0.1 that behaves as the documented
API does (sources/{name}/{name}_api_doc.md), declared with the sandbox kit
(sources/toolkit/sandbox; sources/github/sandbox.py is a worked example)."""

from __future__ import annotations

from sources.toolkit.sandbox import (  # noqa: F401  (what a declaration usually needs)
    BOOLEAN, DATE, INTEGER, NUMBER, STRING, TIMESTAMP, BearerAuth, DeclaredSandbox, Filter, PageNumberPaging, Sort,
    Table, array_of, derived, maybe, obj, one_of,
)


class {camel}Sandbox(DeclaredSandbox):
    name = "{name}"
    auth = BearerAuth("{name}-token")
    error_body = {{"message": "{{message}}"}}
    # Next: declare each table as the API doc describes it, for example
    #   Table("items", "/v1/items", {{"id": INTEGER, "name": STRING, "tags": array_of(STRING),
    #         "updated_at": TIMESTAMP}}, "id", cursor="updated_at", rows=120,
    #         filters=(Filter("updated_since", "updated_at", ">="),), paging=PageNumberPaging()),
    tables: tuple[Table, ...] = ()
'''

CONFIG = '''{{
  "_comment": "Copy to sources/{name}/configs/dev_config.json (git-ignored) with real credentials to run the suite live, or set LAKEFLOW_{upper}_ACCESS_TOKEN.",
  "access_token": "<token>"
}}
'''


def _from_template(template: Path, name: str) -> str:
    text = template.read_text(encoding="utf-8")
    return text.replace("{{Source}}", _camel(name)).replace("{{source}}", name)


def new_source(name: str, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write the files of source ``name`` under ``root``; return their paths."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name or ""):
        raise ScaffoldError(f"source name {name!r} is not valid: 2-41 characters, lower-case letters, digits and _, "
                            "starting with a letter (it becomes a Python package and the format lakeflow_<name>)")
    if name in RESERVED:
        raise ScaffoldError(f"source name {name!r} is reserved ({', '.join(sorted(RESERVED))})")
    values = {"name": name, "camel": _camel(name), "upper": name.upper()}
    files = {
        root / "sources" / name / "__init__.py": INIT.format(**values),
        root / "sources" / name / f"{name}.py": CONNECTOR.format(**values),
        root / "sources" / name / f"{name}_test_utils.py": TEST_UTILS.format(**values),
        root / "sources" / name / "test" / "__init__.py": "",
        root / "sources" / name / "test" / f"test_{name}_lakeflow_connect.py": TEST_FILE.format(**values),
        root / "sources" / name / "sandbox.py": SANDBOX.format(**values),
        root / "configs" / f"{name}.example.json": CONFIG.format(**values),
        root / "sources" / name / f"{name}_api_doc.md":
            _from_template(root / "templates" / "source_api_doc_template.md", name),
        root / "sources" / name / "README.md":
            _from_template(root / "templates" / "community_connector_doc_template.md", name),
    }
    existing = [str(p.relative_to(root)) for p in files if p.exists()]
    if existing or (root / "sources" / name).exists():
        raise ScaffoldError(f"source {name!r} exists already ({', '.join(existing) or 'sources/' + name}); "
                            "new-source never overwrites: choose another name or remove those files")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
