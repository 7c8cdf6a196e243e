"""Unity Catalog connections for this project's sources, through databricks-sdk.

A connection stores a source's connection options (its credential among them) once. A read
names it with ``.option("databricks.connection", <name>)`` and Databricks injects the stored
options into the read; per-table options pass only when the connection's
``externalOptionsAllowList`` lists them.

* :func:`connection_request` builds and checks the body of
  ``POST /api/2.1/unity-catalog/connections``; it sends nothing.
* :func:`create_connection`, :func:`get_connection` and :func:`delete_connection` call the
  REST API through a :class:`databricks.sdk.WorkspaceClient`'s ``api_client``: the SDK's
  ``ConnectionType`` enum has no community type, so all three use the raw client alike.
* :func:`secret_options` completes the credential from ``LAKEFLOW_<SOURCE>_<OPTION>`` or a
  hidden prompt, so that it need not be typed on a command line.
* :func:`describe` renders a connection with secret values masked.
* :func:`harness.databricks.workspace.workspace_client` builds the client from the environment or a profile.

Failures raise :class:`UcError`, whose message names the connection or option and the fix.

Secrets and logging: the SDK logs every request and response body at DEBUG on the
``databricks.sdk`` logger, masking only a few fixed field names (``value``, ``token_value``,
``content``…), so a connection's ``service_key`` would be logged in clear (and the
``Authorization`` header too with ``DATABRICKS_DEBUG_HEADERS=true``). Each call here
therefore runs with that logger held at INFO or above, and logs its own line on
``lakeflow.databricks`` with secret options masked instead.
"""

from __future__ import annotations

import getpass
import logging
import shlex
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import quote

from datasource.options import IS_DELETE_FLOW, MAX_RECORDS_PER_BATCH, TABLE_CONFIGS, TABLE_NAME, TABLE_NAME_LIST
from harness import connection_settings
from sources.http.redact import is_secret_name, redact_mapping, redact_text
from sources.toolkit.options import OptionSet

log = logging.getLogger("lakeflow.databricks")

#: ``connection_type`` of a community connector's connection (what the upstream
#: lakeflow-community-connectors CLI sends; the SDK's ``ConnectionType`` enum lacks it).
CONNECTION_TYPE = "COMMUNITY"
API_PATH = "/api/2.1/unity-catalog/connections"
SOURCE_NAME = "sourceName"
ALLOW_LIST = "externalOptionsAllowList"
#: The runtime's own read options, always added to ``externalOptionsAllowList`` (as the
#: upstream CLI does) so that Databricks does not drop ``tableName`` and friends.
RUNTIME_ALLOWED = (TABLE_NAME, TABLE_NAME_LIST, TABLE_CONFIGS, IS_DELETE_FLOW, MAX_RECORDS_PER_BATCH)
#: Seconds the SDK keeps retrying an unreachable workspace (its own default is 300).
_SDK_LOGGER = "databricks.sdk"



class UcError(ValueError):
    """A connection that cannot be built, created, read or deleted; the message says why."""


# ------------------------------------------------------------------------------ sources
@dataclass(frozen=True)
class SourceOptions:
    """What a source lets a connection hold: the names of its connector class's
    ``CONNECTION_OPTIONS`` and ``TABLE_OPTIONS`` (:class:`~sources.toolkit.OptionSet`)."""

    source: str
    connector_cls: type
    connection: tuple[str, ...]
    table: tuple[str, ...]

    @property
    def format_name(self) -> str:
        return f"lakeflow_{self.source}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret connection options. Each is one way to give the source's credential
        (HubSpot: ``service_key`` or ``access_token``); exactly one is needed."""
        return tuple(n for n in self.connection if is_secret_name(n))


def source_options(source: str) -> SourceOptions:
    """The option names of ``source`` (``"hubspot"``, ``"example"``)."""
    from datasource.registry import connector_class

    try:
        cls = connector_class(source)
    except ValueError as exc:
        raise UcError(str(exc)) from None
    names = {}
    for attr in ("CONNECTION_OPTIONS", "TABLE_OPTIONS"):
        value = getattr(cls, attr, None)
        if not isinstance(value, OptionSet):
            raise UcError(f"source {source!r}: {cls.__name__} declares no {attr} OptionSet: add the class attribute "
                          f"{attr} = OptionSet(Opt(...), ...) with the options of its README")
        names[attr] = value.names
    return SourceOptions(source, cls, names["CONNECTION_OPTIONS"], names["TABLE_OPTIONS"])


def _check_connection_options(spec: SourceOptions, options: Mapping[str, Any]) -> dict[str, str]:
    """``options`` with lower-cased names; an unknown name or an empty value is an error."""
    checked: dict[str, str] = {}
    for raw_name, value in options.items():
        name = str(raw_name).strip().lower()
        if name not in spec.connection:
            if name in (SOURCE_NAME.lower(), ALLOW_LIST.lower()):
                hint = f" It is set for you (use --allow-table-option for {ALLOW_LIST})."
            elif name in spec.table:
                hint = f" It is a table option: set it on each read with .option({name!r}, ...)."
            else:
                hint = ""
            raise UcError(f"{raw_name!r} is not a connection option of {spec.source}.{hint} "
                          f"Valid options: {', '.join(spec.connection)}.")
        text = "" if value is None else str(value).strip()
        if not text:
            raise UcError(f"connection option {name!r} has an empty value: give {name}=<value> or leave it out.")
        checked[name] = text
    return checked


def _check_allowed(spec: SourceOptions, allow_table_options: Iterable[str] | None) -> list[str]:
    """The table options to let through (``None``: all of the source's), validated."""
    if allow_table_options is None:
        return list(spec.table)
    allowed: list[str] = []
    for item in allow_table_options:
        for part in str(item).split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in spec.table:
                raise UcError(f"--allow-table-option {part.strip()!r} is not a table option of {spec.source}. "
                              f"Valid table options: {', '.join(spec.table) or '(none)'}.")
            if name not in allowed:
                allowed.append(name)
    return allowed


def _check_values(spec: SourceOptions, options: dict[str, str]) -> None:
    """Build the connector from ``options``: a bad value (or no credential) fails here, with
    the connector's own message, before anything is sent. This project's connectors send no
    request from their constructor."""
    try:
        spec.connector_cls(dict(options))
    except Exception as exc:
        message = redact_text(str(exc), [v for k, v in options.items() if is_secret_name(k)])
        raise UcError(f"the {spec.source} connection options are not valid: {message}") from None


# ------------------------------------------------------------------------------ the request
def connection_request(source: str, name: str, options: Mapping[str, Any],
                       allow_table_options: Iterable[str] | None = None, comment: str | None = None) -> dict:
    """The JSON body of ``POST /api/2.1/unity-catalog/connections`` for ``source``.

    Args:
        source: a source of this project (``hubspot``, ``example``).
        name: the connection's name.
        options: connection options (names from the connector's ``CONNECTION_OPTIONS``, any
            case; sent lower-cased), the credential included.
        allow_table_options: the per-table options reads may pass (names from
            ``TABLE_OPTIONS``; items may be comma-separated). ``None``: all of them; an
            empty list: none. The runtime's own options (:data:`RUNTIME_ALLOWED`) are
            always allowed.
        comment: the connection's comment (default: names the source).

    Raises:
        UcError: an unknown source, option or table option, an empty value, or a value
            the connector rejects. Nothing is sent in any case.
    """
    spec = source_options(source)
    if not str(name or "").strip():
        raise UcError("a connection needs a name: --name <connection name>")
    checked = _check_connection_options(spec, options)
    allowed = _check_allowed(spec, allow_table_options)
    _check_values(spec, checked)
    return {
        "name": str(name).strip(),
        "connection_type": CONNECTION_TYPE,
        "options": {SOURCE_NAME: spec.format_name, **checked, ALLOW_LIST: ",".join([*allowed, *RUNTIME_ALLOWED])},
        "comment": comment if comment is not None else f"Lakeflow community connector {spec.format_name}",
    }


def secret_options(source: str, given: Mapping[str, Any], environ: Mapping[str, str] | None = None,
                   prompt: Callable[[str], str] | None = getpass.getpass) -> dict[str, str]:
    """``given`` plus the source's credential, never shown.

    The source's secret options (names holding token, secret, password or key) are
    alternative credentials: when ``given`` holds none of them, the one set in the
    environment as ``LAKEFLOW_<SOURCE>_<OPTION>`` is used (read by
    :mod:`harness.connection_settings`; no ``dev_config.json`` here); when none is set there either,
    ``prompt`` (hidden input) asks for the first one (HubSpot: ``service_key``).
    ``prompt=None`` (no terminal) makes that case an error instead.

    Raises:
        UcError: an unknown source or option name, two credentials in the environment, or
            no credential at all.
    """
    spec = source_options(source)
    options = _check_connection_options(spec, given)
    if not spec.secrets or any(s in options for s in spec.secrets):
        return options
    settings = connection_settings.load(source, environ=environ, only=spec.secrets, files=False)
    found = [s for s in spec.secrets if s in settings]
    if len(found) > 1:
        raise UcError(f"{' and '.join(settings.origin(s) for s in found)} are both set: {source} takes one "
                      f"credential; unset one, or pass --option {found[0]}=... explicitly.")
    if found:
        return {**options, **settings.options()}
    wanted = spec.secrets[0]
    fix = f"pass --option {wanted}=<value> or {settings.how_to_set(wanted)}"
    if prompt is None:
        raise UcError(f"no {source} credential: {fix}.")
    value = (prompt(f"{source} {wanted} (input hidden): ") or "").strip()
    if not value:
        raise UcError(f"no {wanted} was typed: {fix}.")
    return {**options, wanted: value}


# ------------------------------------------------------------------------------ REST calls
@contextmanager
def _sdk_request_log_off() -> Iterator[None]:
    """Hold the SDK's logger at INFO or above: its DEBUG request log prints bodies."""
    sdk = logging.getLogger(_SDK_LOGGER)
    previous = sdk.level
    if sdk.isEnabledFor(logging.DEBUG):
        sdk.setLevel(logging.INFO)
    try:
        yield
    finally:
        sdk.setLevel(previous)


def _uc_error(exc: Exception, action: str, name: str, secrets: list[str], host: str | None) -> UcError:
    from databricks.sdk import errors

    code = getattr(exc, "error_code", None) or ""
    detail = redact_text(str(exc), secrets)
    if isinstance(exc, errors.Unauthenticated):
        return UcError(f"Databricks rejected the credentials (401) to {action} connection {name}: check "
                       f"DATABRICKS_HOST and DATABRICKS_TOKEN, or the profile in DATABRICKS_CONFIG_PROFILE "
                       f"(~/.databrickscfg). ({detail})")
    if isinstance(exc, errors.PermissionDenied):
        need = ("the CREATE CONNECTION privilege on the metastore (a metastore admin grants it: "
                "GRANT CREATE CONNECTION ON METASTORE TO `<you>`)" if action == "create"
                else "to own the connection (or be a metastore admin)" if action == "delete"
                else "to own the connection or have USE CONNECTION on it")
        return UcError(f"permission denied (403) to {action} connection {name}: you need {need}. ({detail})")
    if action == "create" and (isinstance(exc, (errors.AlreadyExists, errors.ResourceAlreadyExists))
                               or "ALREADY_EXISTS" in code
                               or (isinstance(exc, errors.ResourceConflict) and not isinstance(exc, errors.Aborted))):
        return UcError(f"connection {name} exists: `lakeflow uc delete {shlex.quote(name)}` first, "
                       f"or choose another --name")
    if action != "create" and (isinstance(exc, errors.NotFound) or code.endswith(("DOES_NOT_EXIST", "NOT_FOUND"))):
        return UcError(f"no connection named {name}")
    if isinstance(exc, errors.DatabricksError):
        return UcError(f"Databricks refused to {action} connection {name}: {code or type(exc).__name__}: {detail}")
    return UcError(f"cannot reach Databricks{' at ' + host if host else ''} to {action} connection {name}: "
                   f"{type(exc).__name__}: {detail} (check DATABRICKS_HOST and the network)")


def _call(client: Any, method: str, name: str, action: str, body: dict | None = None) -> dict:
    path = API_PATH if action == "create" else f"{API_PATH}/{quote(name, safe='')}"
    options = (body or {}).get("options", {})
    secrets = [str(v) for k, v in options.items() if is_secret_name(k) and v]
    log.debug("%s %s%s", method, path, f" {redact_mapping(options)!r}" if body else "")
    with _sdk_request_log_off():
        try:
            result = client.api_client.do(method, path, body=body)
        except Exception as exc:
            host = getattr(getattr(client, "config", None), "host", None)
            raise _uc_error(exc, action, name, secrets, host) from None
    log.debug("%s %s: done", method, path)
    return result if isinstance(result, dict) else {}


def create_connection(client: Any, source: str, name: str, options: Mapping[str, Any],
                      allow_table_options: Iterable[str] | None = None, comment: str | None = None) -> dict:
    """Create connection ``name`` for ``source`` (see :func:`connection_request`, which
    checks everything first) and return Databricks' answer, which may hold secret values:
    show it with :func:`describe`. ``client`` is a ``WorkspaceClient``."""
    body = connection_request(source, name, options, allow_table_options, comment)
    return _call(client, "POST", body["name"], "create", body)


def get_connection(client: Any, name: str) -> dict:
    """Connection ``name`` as Databricks returns it (may hold secrets: use :func:`describe`)."""
    return _call(client, "GET", name, "read")


def delete_connection(client: Any, name: str) -> None:
    """Delete connection ``name``."""
    _call(client, "DELETE", name, "delete")


# ------------------------------------------------------------------------------ display
def _known_source(format_name: str) -> str | None:
    from datasource.registry import available_sources

    source = format_name[len("lakeflow_"):] if format_name.startswith("lakeflow_") else ""
    return source if source in available_sources() else None


def describe(connection: Mapping[str, Any]) -> str:
    """A connection (as :func:`get_connection` returns it) for people: type, source, owner,
    options with every secret value masked, the allowed table options, and how to read it."""
    name = connection.get("name", "?")
    options = dict(connection.get("options") or {})
    format_name = str(options.pop(SOURCE_NAME, "") or "")
    allowed = [a for a in str(options.pop(ALLOW_LIST, "") or "").split(",") if a]
    source = _known_source(format_name)

    def row(label: str, value: Any) -> str:
        return f"  {label + ':':<10}{value}"

    lines = [f"Connection {name}", row("type", connection.get("connection_type", "?"))]
    if format_name:
        lines.append(row("source", format_name + ("" if source else " (not a source of this project)")))
    lines += [row(key, connection[key]) for key in ("owner", "comment") if connection.get(key)]
    if isinstance(connection.get("created_at"), (int, float)):
        when = datetime.fromtimestamp(connection["created_at"] / 1000, tz=timezone.utc)
        by = f" by {connection['created_by']}" if connection.get("created_by") else ""
        lines.append(row("created", f"{when:%Y-%m-%d %H:%M:%S} UTC{by}"))
    shown = redact_mapping(options)
    lines.append(row("options", "" if shown else "(none shown)").rstrip())
    width = max((len(k) for k in shown), default=0)
    lines += [f"    {k.ljust(width)}  {v}" for k, v in sorted(shown.items())]
    table = [a for a in allowed if a not in RUNTIME_ALLOWED]
    lines.append(row("allowed", f"{', '.join(table) if table else '(none)'} (table options a read may set)"))
    missing = [a for a in RUNTIME_ALLOWED if a not in allowed]
    if missing:
        lines.append(row("warning", f"{ALLOW_LIST} lacks the runtime options {', '.join(missing)}; reads that "
                                    f"set them may lose them"))
    if format_name:
        lines.append(row("read", f'spark.read.format("{format_name}").option("databricks.connection", "{name}")'
                                 f'.option("tableName", "<table>").load()'))
    return "\n".join(lines)
