"""Declared options: a connector lists its options once, with type, bounds, default,
whether it is secret or required, and a line of doc; :meth:`OptionSet.parse` reads them
through :mod:`sources.interface.options` (names in any case, values as strings or typed)
and fails with an error naming the option and the value it expects.

>>> OPTIONS = OptionSet(
...     Opt("access_token", secret=True, required=True, doc="a personal access token"),
...     Opt("page_size", int, default=100, low=1, high=100),
...     Opt("include_archived", bool, default=False),
...     Opt("repositories", list, doc="owner/name, comma-separated"))
>>> o = OPTIONS.parse({"Access_Token": "t", "page_size": "50", "repositories": "a/b, c/d"}, owner="GitHub")
>>> (o.access_token, o.page_size, o.include_archived, o.repositories)
('t', 50, False, ['a/b', 'c/d'])
>>> OPTIONS.parse({"access_token": "t", "page_size": "0"}, owner="GitHub")
Traceback (most recent call last):
...
sources.interface.errors.ConnectorError: GitHub option 'page_size' must be between 1 and 100, got 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Mapping

from sources.http.settings import HttpSettings
from sources.interface.errors import ConnectorError
from sources.interface.options import _label, float_option, int_option, normalized, option

_TYPES = (str, int, float, bool, list)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_NO_LOW = -(2**63)
_ABSENT = object()


@dataclass(frozen=True)
class Opt:
    """One option: ``name`` (matched in any case), ``type`` (``str``, ``int``, ``float``,
    ``bool`` or ``list`` — comma-separated text), ``default`` when absent or blank,
    inclusive bounds ``low``/``high`` for numbers, ``secret`` (redacted everywhere),
    ``required``, a one-line ``doc`` (shown in the error when it is missing) and ``empty``:
    the value of an option given blank (``""``), when that means something other than
    absent (say ``associations=""``: none, not the default); unset, blank counts as absent."""

    name: str
    type: type = str
    default: Any = None
    low: Any = None
    high: Any = None
    secret: bool = False
    required: bool = False
    doc: str = ""
    empty: Any = _ABSENT

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise TypeError(f"Opt {self.name!r}: type must be one of str, int, float, bool, list")
        object.__setattr__(self, "name", self.name.lower())


class OptionSet:
    """The options a connector (or a table) accepts; see the module docstring. Built from
    :class:`Opt` and other sets (``OptionSet(OWN, HTTP_OPTIONS)``). A connector declares its
    sets as the class attributes ``CONNECTION_OPTIONS`` and ``TABLE_OPTIONS`` (what a Unity
    Catalog connection may store, and let through per table)."""

    def __init__(self, *items: "Opt | OptionSet"):
        opts = [o for item in items for o in (item.opts.values() if isinstance(item, OptionSet) else (item,))]
        self.opts = {o.name: o for o in opts}
        if len(self.opts) != len(opts):
            raise ValueError("OptionSet: an option is declared twice")

    @property
    def names(self) -> tuple[str, ...]:
        """The declared names (lower case), for allow-lists and documentation."""
        return tuple(self.opts)

    def parse(self, options: Mapping[str, Any] | None, owner: str = "") -> SimpleNamespace:
        """Every declared option's value (an attribute per name). Names not declared here
        are ignored (Spark passes its own); a bad or missing value raises
        :class:`~sources.interface.errors.ConnectorError` naming the option."""
        options = normalized(options)
        return SimpleNamespace(**{name: _parse(opt, options, owner) for name, opt in self.opts.items()})

    def secrets(self, options: Mapping[str, Any] | None) -> list[str]:
        """The values of the secret options present, to mask in errors and logs."""
        options = normalized(options)
        found = []
        for name, opt in self.opts.items():
            raw = options.get(name)
            if opt.secret and raw is not None and str(raw).strip():
                found.extend({str(raw), str(raw).strip()})
        return found


def _parse(opt: Opt, options: Mapping[str, Any], owner: str) -> Any:
    raw = options.get(opt.name)
    if opt.type is list and isinstance(raw, (list, tuple)):
        items = [str(v).strip() for v in raw if str(v).strip()]
        return items or _missing(opt, owner, raw)
    text = option(options, opt.name)
    if text is None:
        return _missing(opt, owner, raw)
    label = _label(opt.name, owner)
    if opt.type is str:
        return text
    if opt.type is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    if opt.type is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ConnectorError(f"{label} must be true or false, got {text!r}.")
    if opt.type is int:
        if opt.low is not None:
            return int_option(options, opt.name, opt.default, low=opt.low, high=opt.high, owner=owner)
        value = int_option(options, opt.name, opt.default, low=_NO_LOW, owner=owner)
    else:
        low = -math.inf if opt.low is None else opt.low
        value = float_option(options, opt.name, opt.default, low=low, owner=owner)
        if math.isnan(value):
            raise ConnectorError(f"{label} must be a number, got {text!r}.")
    if opt.high is not None and value > opt.high:
        bounds = f"between {opt.low} and {opt.high}" if opt.low is not None else f"at most {opt.high}"
        raise ConnectorError(f"{label} must be {bounds}, got {text!r}.")
    return value


def _missing(opt: Opt, owner: str, raw: Any) -> Any:
    if raw is not None and opt.empty is not _ABSENT:  # given, but blank
        return list(opt.empty) if isinstance(opt.empty, (list, tuple)) else opt.empty
    if opt.required:
        what = f": {opt.doc}" if opt.doc else ""
        raise ConnectorError(f"{_label(opt.name, owner)} is required{what}.")
    return list(opt.default) if isinstance(opt.default, (list, tuple)) else opt.default


#: The shared HTTP client's connection options, with its defaults (read by
#: :meth:`~sources.http.settings.HttpSettings.from_options`, which applies these bounds).
_HTTP = HttpSettings()
HTTP_OPTIONS = OptionSet(
    Opt("connect_timeout", float, default=_HTTP.connect_timeout, low=0.001, doc="seconds to connect"),
    Opt("read_timeout", float, default=_HTTP.read_timeout, low=0.001, doc="seconds to wait for a response"),
    Opt("retry_max_attempts", int, default=_HTTP.max_attempts, low=1, doc="attempts per request"),
    Opt("retry_base_delay", float, default=_HTTP.base_delay, doc="first backoff, seconds"),
    Opt("retry_max_delay", float, default=_HTTP.max_delay, doc="longest backoff, seconds"),
    Opt("request_deadline", float, default=_HTTP.deadline, low=0.001,
        doc="seconds one request may take, retries and waits included"),
)
