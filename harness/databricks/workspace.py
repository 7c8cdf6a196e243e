"""The Databricks workspace client every ``lakeflow`` command uses (databricks-sdk)."""

from __future__ import annotations

from typing import Any

from sources.http.redact import is_secret_name, redact_text

#: Seconds an unreachable workspace is retried before a command fails (the SDK's default is 300).
RETRY_TIMEOUT_SECONDS = 60


class DatabricksConfigError(ValueError):
    """No usable workspace configuration; the message names what to set."""


def workspace_client(profile: str | None = None, **config: Any):
    """A ``WorkspaceClient`` configured as the SDK does it: ``config`` (``host``, ``token``…),
    else ``DATABRICKS_HOST`` + ``DATABRICKS_TOKEN``, else ``profile`` (or the one named by
    ``DATABRICKS_CONFIG_PROFILE``, else ``DEFAULT``) in ``~/.databrickscfg``. The SDK first asks
    the host for ``/.well-known/databricks-config`` (no credentials sent)."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    config.setdefault("retry_timeout_seconds", RETRY_TIMEOUT_SECONDS)
    if profile:
        config["profile"] = profile
    try:
        return WorkspaceClient(config=Config(**config))
    except ValueError as exc:
        detail = redact_text(str(exc), [str(v) for k, v in config.items() if is_secret_name(k) and v])
        where = f"profile {profile!r} in ~/.databrickscfg" if profile else "the environment"
        raise DatabricksConfigError(
            f"Databricks is not configured ({where}): set DATABRICKS_HOST (https://<workspace>.cloud.databricks.com) "
            "and DATABRICKS_TOKEN, or DATABRICKS_CONFIG_PROFILE to a profile of ~/.databrickscfg (one made by "
            f"`databricks auth login --host <workspace URL>`). databricks-sdk: {detail}") from None
