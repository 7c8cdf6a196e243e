"""Where the suite gets credentials: the environment, or a ``dev_config.json``.

For source ``hubspot`` with ``live_options = ("access_token",)``, live mode is on when every
option is found in either

* the environment: ``LAKEFLOW_HUBSPOT_ACCESS_TOKEN=...``, or
* ``sources/hubspot/configs/dev_config.json`` (git-ignored): ``{"access_token": "..."}``
  (or the path in ``LAKEFLOW_HUBSPOT_DEV_CONFIG``).

An entry may name alternatives, ``"service_key|access_token"``: any one of them is enough.
Otherwise the suite runs against the connector's sandbox. Values are never printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr, create_model
from pydantic_settings import BaseSettings, JsonConfigSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from harness.spark import PROJECT_ROOT


#: ``sandbox`` ignores credentials, ``live`` requires them, ``auto`` (default) uses them if
#: present (``lakeflow test`` sets it from ``--live``).
MODE_ENV = "LAKEFLOW_TEST_MODE"


def dev_config_path(source: str) -> Path:
    override = os.environ.get(f"LAKEFLOW_{source.upper()}_DEV_CONFIG")
    return Path(override) if override else PROJECT_ROOT / "sources" / source / "configs" / "dev_config.json"


def live_options(source: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str] | None:
    """The live connection options for ``source``, or ``None`` when any required one is
    missing (the suite then uses the sandbox)."""
    if not required:
        return None
    path = dev_config_path(source)

    class _Base(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=f"LAKEFLOW_{source.upper()}_", case_sensitive=False, extra="ignore",
            json_file=path if path.exists() else None,
        )

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, JsonConfigSettingsSource(settings_cls))

    names = [name for entry in (*required, *optional) for name in entry.split("|")]
    fields: dict[str, Any] = {name: (SecretStr | None, None) for name in names}
    settings = create_model(f"{source.title()}LiveSettings", __base__=_Base, **fields)()
    values = {name: getattr(settings, name) for name in names}
    if any(all(values[name] is None for name in entry.split("|")) for entry in required):
        return None
    return {name: value.get_secret_value() for name, value in values.items() if value is not None}


def env_names(source: str, options: tuple[str, ...]) -> str:
    """``LAKEFLOW_HUBSPOT_SERVICE_KEY or LAKEFLOW_HUBSPOT_ACCESS_TOKEN, …`` for messages."""
    return ", ".join(" or ".join(f"LAKEFLOW_{source.upper()}_{name.upper()}" for name in entry.split("|"))
                     for entry in options)
