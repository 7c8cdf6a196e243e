"""A source's connection options, from the environment and ``dev_config.json``: one loader.

Used by the conformance suite's live mode (:mod:`harness.conformance.config`), local pipeline
runs and rendered pipeline files run off Databricks (:func:`connection_options`), and
``lakeflow uc create-connection`` (:func:`harness.databricks.uc.secret_options`).

For connection ``NAME`` (by default the source's own name), option ``OPTION`` is found in

1. the environment variable ``LAKEFLOW_<NAME>_<OPTION>``: both parts upper-cased, every
   character other than a letter or digit replaced by ``_`` (``LAKEFLOW_HUBSPOT_SERVICE_KEY``),
   which wins over
2. the JSON object in the file named by ``LAKEFLOW_<NAME>_DEV_CONFIG``, or, when ``NAME`` is
   the source's, ``sources/<source>/configs/dev_config.json`` (git-ignored). Keys starting
   with ``_`` are comments.

Option names are lower-cased (the form Spark passes them in); values are stripped, and a
blank value counts as unset. Each value remembers where it came from (:meth:`ConnectionSettings.origin`)
for messages; values themselves are never shown: not in a repr, a description or an error.

>>> s = load("acme", environ={"LAKEFLOW_ACME_ACCESS_TOKEN": " pat-1 ", "LAKEFLOW_ACME_DEV_CONFIG": "/nonexistent.json"})
>>> s.options(), s.origin("access_token")
({'access_token': 'pat-1'}, 'LAKEFLOW_ACME_ACCESS_TOKEN')
>>> s
ConnectionSettings('acme', access_token from LAKEFLOW_ACME_ACCESS_TOKEN)
>>> s.require(("service_key|access_token", "base_url"))
Traceback (most recent call last):
...
harness.connection_settings.ConnectionSettingsError: connection 'acme' has no base_url: set LAKEFLOW_ACME_BASE_URL or add "base_url" to /nonexistent.json
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from harness.spark import PROJECT_ROOT

DEV_CONFIG = "DEV_CONFIG"


class ConnectionSettingsError(ValueError):
    """Connection settings that cannot be read, or lack an option; the message names the
    option or file and the fix, never a value."""


def env_prefix(name: str) -> str:
    """``LAKEFLOW_<NAME>_``: ``name`` upper-cased, non-alphanumerics as ``_``."""
    return "LAKEFLOW_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"


def env_name(name: str, option: str) -> str:
    """``LAKEFLOW_<NAME>_<OPTION>``, the variable that holds ``option`` of connection ``name``."""
    return env_prefix(name) + re.sub(r"[^A-Za-z0-9]", "_", option).upper()


def dev_config_path(source: str, connection: str | None = None,
                    environ: Mapping[str, str] | None = None) -> Path | None:
    """The JSON file consulted for ``connection`` (default: the source's name): the one in
    ``LAKEFLOW_<CONNECTION>_DEV_CONFIG``, else ``configs/dev_config.json`` in the source's package
    (``sources/<source>/``, or a plugin's) when the connection is the source's, else none. The file need not exist."""
    connection = connection or source
    environ = os.environ if environ is None else environ
    override = environ.get(env_name(connection, DEV_CONFIG), "").strip()
    if override:
        return Path(override)
    if connection == source:
        from datasource.registry import source_packages

        package = source_packages().get(source)
        folder = package.directory if package else PROJECT_ROOT / "sources" / source
        return folder / "configs" / "dev_config.json"
    return None


def _alternatives(entry: str) -> list[str]:
    """``"service_key|access_token"`` → ``["service_key", "access_token"]`` (any one is enough)."""
    return [part.strip().lower() for part in entry.split("|") if part.strip()]


def _file_value(value: object, key: str, path: Path, connection: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)   # true, 5, 1.5: as written in the file
    raise ConnectionSettingsError(f"connection {connection!r}: option {key!r} in {path} must be a string, number "
                                  f"or boolean, not a JSON {type(value).__name__}")


def _read_file(path: Path, connection: str) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        # json's message gives the position, never the text; OSError names the path.
        raise ConnectionSettingsError(f"connection {connection!r}: cannot read {path}: {exc}. Fix the file or "
                                      f"point {env_name(connection, DEV_CONFIG)} at another") from None
    if not isinstance(data, dict):
        raise ConnectionSettingsError(f"connection {connection!r}: {path} must hold a JSON object of options "
                                      f'({{"access_token": "..."}}), not a JSON {type(data).__name__}')
    values = {}
    for key, value in data.items():
        text = _file_value(value, str(key), path, connection)
        if not str(key).startswith("_") and text is not None:
            values[str(key).strip().lower()] = text
    return values


class ConnectionSettings:
    """The options found for one connection, and where each came from. Its repr and
    :meth:`describe` name options and origins only; :meth:`options` gives the values."""

    __slots__ = ("source", "name", "file", "files", "_values", "_origins")

    def __init__(self, source: str, name: str, file: Path | None, values: dict[str, str],
                 origins: dict[str, str], files: bool = True):
        #: ``file``: the dev_config.json consulted (it may not exist); ``files``: whether one was.
        self.source, self.name, self.file, self.files = source, name, file, files
        self._values, self._origins = values, origins

    def options(self) -> dict[str, str]:
        """The options (a new dict): what a connector is built from."""
        return dict(self._values)

    def __contains__(self, option: str) -> bool:
        return option.lower() in self._values

    def origin(self, option: str) -> str | None:
        """Where ``option`` came from: the variable's name or the file's path; ``None`` if unset."""
        return self._origins.get(option.lower())

    def describe(self) -> str:
        """``access_token from LAKEFLOW_ACME_ACCESS_TOKEN, base_url from /…/dev_config.json``."""
        return ", ".join(f"{k} from {self._origins[k]}" for k in sorted(self._values)) or "no options"

    def __repr__(self) -> str:
        return f"ConnectionSettings({self.name!r}, {self.describe()})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ConnectionSettings) and (self.name, self.source, self._values, self._origins)
                == (other.name, other.source, other._values, other._origins))

    def how_to_set(self, entry: str) -> str:
        """The fix for a missing ``entry`` (``"service_key|access_token"``: any one of them)."""
        names = _alternatives(entry)
        fix = "set " + " or ".join(env_name(self.name, n) for n in names)
        keys = " or ".join(json.dumps(n) for n in names)
        if not self.files:
            return fix
        if self.file is not None:
            return f"{fix} or add {keys} to {self.file}"
        return f"{fix} or point {env_name(self.name, DEV_CONFIG)} at a JSON file holding {keys}"

    def missing(self, required: Iterable[str]) -> list[str]:
        """The entries of ``required`` none of whose alternatives is set."""
        return [entry for entry in required if not any(n in self._values for n in _alternatives(entry))]

    def require(self, required: Iterable[str]) -> "ConnectionSettings":
        """``self``, or :class:`ConnectionSettingsError` naming the first missing option and the fix."""
        missing = self.missing(required)
        if missing:
            wanted = " or ".join(_alternatives(missing[0]))
            raise ConnectionSettingsError(f"connection {self.name!r} has no {wanted}: {self.how_to_set(missing[0])}")
        return self


def load(source: str, connection: str | None = None, *, environ: Mapping[str, str] | None = None,
         only: Iterable[str] | None = None, files: bool = True) -> ConnectionSettings:
    """The settings of ``connection`` (default: ``source``'s own) for ``source``.

    Args:
        source: the source (``hubspot``); names the default ``dev_config.json``.
        connection: the connection's name (a pipeline spec's ``connection``).
        environ: the environment (default ``os.environ``).
        only: the option names to look for (entries may be ``a|b``); ``None``: every
            ``LAKEFLOW_<NAME>_*`` variable (but ``…_DEV_CONFIG``) and every key of the file.
        files: ``False``: the environment only, no ``dev_config.json``.

    Raises:
        ConnectionSettingsError: the file cannot be read, is not a JSON object, or holds a
            nested value.
    """
    name = connection or source
    environ = os.environ if environ is None else environ
    path = dev_config_path(source, name, environ) if files else None
    wanted = None if only is None else {n for entry in only for n in _alternatives(entry)}
    values: dict[str, str] = {}
    origins: dict[str, str] = {}

    def put(option: str, value: str, origin: str) -> None:
        text = value.strip()
        if option and text and (wanted is None or option in wanted):
            values[option], origins[option] = text, origin

    if path is not None and path.is_file():
        for option, value in _read_file(path, name).items():
            put(option, value, str(path))
    prefix = env_prefix(name)
    if wanted is None:
        found = {key[len(prefix):].lower(): key for key in environ
                 if key.startswith(prefix) and key != prefix + DEV_CONFIG}
    else:
        found = {option: env_name(name, option) for option in wanted}
    for option, key in sorted(found.items()):
        if key in environ:
            put(option, environ[key], key)
    return ConnectionSettings(source, name, path, values, origins, files)


def connection_options(name: str | None, source: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The connector options of connection ``name`` (``None``: the source's own name), as a
    local pipeline run (and a rendered pipeline file off Databricks) reads them."""
    return load(source, name, environ=environ).options()
