"""Options as connectors receive them: names are case-insensitive, values are strings.

Spark hands a Python data source its options with lower-cased names, while a connector
built directly (tests, the pipeline, a notebook) gets them as typed. This module is the one
place that decides how a name is looked up (lower-cased) and how a value is parsed, so the
runtime and every connector agree, and a bad value fails with an error naming the option:

>>> option({"Page_Size": " 50 "}, "page_size")
'50'
>>> int_option({"page_size": "0"}, "page_size", 100, low=1, owner="HubSpot")
Traceback (most recent call last):
...
sources.interface.errors.ConnectorError: HubSpot option 'page_size' must be at least 1, got 0.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from sources.interface.errors import ConnectorError


def normalized(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options with lower-cased names (the form Spark passes them in)."""
    return {str(k).lower(): v for k, v in dict(options or {}).items()}


def raw_option(options: Mapping[str, Any] | None, name: str) -> str | None:
    """The value of ``name`` (any case) as given; ``None`` only when absent."""
    options = options or {}
    value = options.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in options.items() if str(k).lower() == wanted), None)
    return None if value is None else str(value)


def option(options: Mapping[str, Any] | None, name: str) -> str | None:
    """The value of ``name`` (any case), stripped; ``None`` when absent or blank."""
    value = raw_option(options, name)
    text = None if value is None else value.strip()
    return text or None


def _label(name: str, owner: str) -> str:
    return f"{owner} option {name!r}" if owner else f"Option {name!r}"


def int_option(options: Mapping[str, Any] | None, name: str, default: int | None, *, low: int = 1,
               high: int | None = None, owner: str = "") -> int | None:
    """A whole number between ``low`` and ``high`` (inclusive), else ``default`` when absent."""
    raw = option(options, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConnectorError(f"{_label(name, owner)} must be a whole number, got {raw!r}.") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConnectorError(f"{_label(name, owner)} must be {bounds}, got {value}.")
    return value


def float_option(options: Mapping[str, Any] | None, name: str, default: float, *, low: float = 0.0,
                 owner: str = "") -> float:
    """A finite number of at least ``low``, else ``default`` when absent."""
    raw = option(options, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConnectorError(f"{_label(name, owner)} must be a number, got {raw!r}.") from None
    if not value >= low or math.isinf(value):
        raise ConnectorError(f"{_label(name, owner)} must be a finite number of at least {low}, got {raw!r}.")
    return value
