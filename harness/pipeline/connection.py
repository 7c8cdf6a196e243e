"""A pipeline's ``connection`` resolved to connector options, locally.

On Databricks ``connection`` names a Unity Catalog connection whose options Databricks
injects into every read. Locally it names a set of settings, found in

1. ``sources/<source>/configs/dev_config.json`` when the name is the source's (the file live
   tests use), or the JSON file in ``LAKEFLOW_<NAME>_DEV_CONFIG``;
2. environment variables ``LAKEFLOW_<NAME>_<OPTION>`` (``LAKEFLOW_HUBSPOT_SERVICE_KEY``),
   which win over the file.

Option names arrive lower-cased, as Spark passes them to connectors. Values are secrets
until proven otherwise: nothing here prints them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from harness.spark import PROJECT_ROOT
from sources.interface.options import normalized


class ConnectionError_(ValueError):
    """A connection whose settings cannot be read."""


def _prefix(name: str) -> str:
    return "LAKEFLOW_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"


def config_file(name: str, source: str) -> Path | None:
    override = os.environ.get(_prefix(name) + "DEV_CONFIG")
    if override:
        return Path(override)
    if name == source:
        return PROJECT_ROOT / "sources" / source / "configs" / "dev_config.json"
    return None


def connection_options(name: str | None, source: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The connector options of connection ``name`` (``None``: the source's own name)."""
    name = name or source
    environ = os.environ if environ is None else environ
    options: dict[str, str] = {}
    path = config_file(name, source)
    if path is not None and path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConnectionError_(f"connection {name!r}: cannot read {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ConnectionError_(f"connection {name!r}: {path} must hold a JSON object of options")
        options.update(normalized({k: str(v) for k, v in data.items() if not str(k).startswith("_")}))
    prefix = _prefix(name)
    for key, value in environ.items():
        if key.startswith(prefix) and key != prefix + "DEV_CONFIG":
            options.update(normalized({key[len(prefix):]: value}))
    return options
