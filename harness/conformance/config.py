"""Where the suite gets credentials: the environment, or a ``dev_config.json``.

For source ``hubspot`` with ``live_options = ("access_token",)``, live mode is on when every
option is found in either

* the environment: ``LAKEFLOW_HUBSPOT_ACCESS_TOKEN=...`` (which wins), or
* ``sources/hubspot/configs/dev_config.json`` (git-ignored): ``{"access_token": "..."}``
  (or the path in ``LAKEFLOW_HUBSPOT_DEV_CONFIG``).

An entry may name alternatives, ``"service_key|access_token"``: any one of them is enough.
Otherwise the suite runs against the connector's sandbox. Values are never printed. The
lookup itself is :mod:`harness.connection_settings`, shared with pipelines and UC.
"""

from __future__ import annotations

from pathlib import Path

from harness import connection_settings


#: ``sandbox`` ignores credentials, ``live`` requires them, ``auto`` (default) uses them if
#: present (``lakeflow test`` sets it from ``--live``).
MODE_ENV = "LAKEFLOW_TEST_MODE"


def dev_config_path(source: str) -> Path:
    """``LAKEFLOW_<SOURCE>_DEV_CONFIG``, else ``sources/<source>/configs/dev_config.json``."""
    return connection_settings.dev_config_path(source)


def live_options(source: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str] | None:
    """The live connection options for ``source``, or ``None`` when any required one is
    missing (the suite then uses the sandbox)."""
    if not required:
        return None
    settings = connection_settings.load(source, only=(*required, *optional))
    return None if settings.missing(required) else settings.options()


def env_names(source: str, options: tuple[str, ...]) -> str:
    """``LAKEFLOW_HUBSPOT_SERVICE_KEY or LAKEFLOW_HUBSPOT_ACCESS_TOKEN, …`` for messages."""
    return ", ".join(" or ".join(connection_settings.env_name(source, name) for name in entry.split("|"))
                     for entry in options)
