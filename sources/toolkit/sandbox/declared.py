"""A sandbox declared, not written: tables, their fields, keys, cursors, filters, sort, paging,
auth, error bodies and write endpoints. Seed data, the truth, scenarios, faults, latency and
rate limits come with it. A sandbox for a typical REST API is a class body::

    class PetsSandbox(DeclaredSandbox):
        auth = BearerAuth("pets-token")
        error_body = {"message": "{message}"}
        tables = (
            Table("pets", "/v1/pets", primary_key="id", cursor="updated_at", rows=250,
                  fields={"id": INTEGER, "name": STRING, "tags": array_of(STRING),
                          "owner": obj(id=INTEGER, name=STRING), "updated_at": TIMESTAMP},
                  filters=(Filter("since", "updated_at", ">="),),
                  sort=Sort(options={"updated": "updated_at"}, default="updated"),
                  paging=PageNumberPaging(link_header=True), writes=("create", "update", "delete")),
        )

That serves ``GET /v1/pets`` (filtered, sorted, paged), ``POST /v1/pets``,
``PATCH|DELETE /v1/pets/{id}``, 401 without the token, and ``GET /__truth__/pets``. APIs with
their own logic (HubSpot's search) add ``@route`` methods or override the hooks
``records_for`` (what a listing starts from) and ``on_write`` (a write's side effects).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import random
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import parse_qsl

from sources.toolkit.cursors import CursorError, parse_instant
from sources.toolkit.sandbox.auth import NoAuth
from sources.toolkit.sandbox.fields import (
    SEED_EPOCH, UTC, Field, check_fields, derive, generate, get_path, iso, set_path, stamp,
)
from sources.toolkit.sandbox.paging import KeysetPaging, NoPaging, StartingAfterPaging, TokenPaging
from sources.toolkit.sandbox.server import Fault, Request, Response, SandboxError, SandboxServer
from sources.toolkit.sandbox.truth import TableTruth


# ------------------------------------------------------------------------------ tables
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "in": lambda a, b: a in b,
    "glob": lambda a, b: fnmatch.fnmatchcase(str(a), str(b)),
}


@dataclass(frozen=True)
class Filter:
    """The query parameter ``param`` keeps records whose ``field`` (a dotted path) compares
    with its value by ``op`` (``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=``, ``in``: comma-separated,
    ``glob``: ``*`` wildcards, as Stripe's ``type=customer.*``).
    ``default`` applies when the parameter is absent; ``any_value`` turns the filter off."""

    param: str
    field: str
    op: str = ">="
    default: str | None = None
    any_value: str | None = None


@dataclass(frozen=True)
class Sort:
    """``?sort=<option>&direction=asc|desc``; ``options`` maps option names to fields (ties by
    primary key). ``default_direction`` is one direction, or a dict by option (``"*"`` for
    the rest)."""

    options: dict[str, str]
    default: str
    param: str = "sort"
    direction_param: str = "direction"
    default_direction: str | dict[str, str] = "asc"

    def direction(self, option: str) -> str:
        if isinstance(self.default_direction, str):
            return self.default_direction
        return self.default_direction.get(option, self.default_direction.get("*", "asc"))


@dataclass(frozen=True)
class Table:
    """One listed collection of the API. ``path`` may hold ``{placeholders}`` (checked against
    the sandbox's ``path_values`` when it names them). ``cursor`` is a dotted path to a
    timestamp (or ``EPOCH_SECONDS``) field; with ``cursor_moves_on_update=False`` it is a
    creation time that updates leave alone (an API whose only filter is ``created``);
    ``ties`` of the seeded rows share one cursor value, later than every
    other (a burst across pages). Records are listed in ``order_by`` order (default: the
    cursor, else the primary key) unless ``sort`` is given. ``envelope`` is the body key of
    the record list (``None``: the body is the list). ``writes`` are among ``create``
    (``POST path``), ``update`` (``update_method``, default ``PATCH``, to ``path/{item_key}``;
    Stripe updates by ``POST``) and ``delete`` (``DELETE``: 204, or 200 with
    ``delete_body(record)`` as the body). Write bodies are JSON or form-encoded
    (``a[b]=c`` nests); with ``body_key`` the record is wrapped in both directions
    (Zendesk's ``{"ticket": {...}}``). Writes go to ``write_path`` where the API writes
    elsewhere than it lists (Zendesk lists tickets through an export, writes to
    ``/api/v2/tickets``)."""

    name: str
    path: str
    fields: dict[str, Field]
    primary_key: str
    cursor: str | None = None
    rows: int = 100
    ties: int = 0
    filters: tuple[Filter, ...] = ()
    sort: Sort | None = None
    order_by: str | None = None
    descending: bool = False
    paging: Any = field(default_factory=NoPaging)
    envelope: str | None = None
    writes: tuple[str, ...] = ()
    item_key: str | None = None
    required: tuple[str, ...] = ()
    #: Records never change once written (commits, events): no ``update`` scenario.
    append_only: bool = False
    cursor_moves_on_update: bool = True
    update_method: str = "PATCH"
    create_status: int = 201
    delete_body: Callable[[dict], dict] | None = None
    write_path: str | None = None
    body_key: str | None = None

    @property
    def key_field(self) -> str:
        return self.item_key or self.primary_key


def _pattern(path: str) -> str:
    return re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)


# ------------------------------------------------------------------------------ the sandbox
class DeclaredSandbox(SandboxServer):
    """A sandbox whose tables are declared (see the module docstring). Constructor:
    ``(token=None, seed=0, host="127.0.0.1", port=0, latency=0.0)``; ``token`` replaces the
    declared auth's token, ``seed`` changes the generated data."""

    auth: Any = NoAuth()
    tables: tuple[Table, ...] = ()
    #: Values the ``{placeholders}`` of table paths must take (others answer 404).
    path_values: dict[str, str] = {}
    #: The body of every error, ``{message}`` and ``{status}`` filled in.
    error_body: dict = {"error": "{message}"}
    validation_status: int = 400
    #: The message of a 401 answer.
    unauthorized_message: str = "Bad credentials"

    def __init__(self, token: str | None = None, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        if token is not None:
            self.auth = replace(self.auth, token=token)
        self.seed = seed
        self.table = {t.name: t for t in self.tables}
        self.rows: dict[str, dict[Any, dict]] = {t.name: {} for t in self.tables}
        self.deleted: dict[str, dict[Any, tuple[dict, str]]] = {t.name: {} for t in self.tables}
        self._rngs = {t.name: random.Random(f"{seed}:{t.name}") for t in self.tables}
        self._last_id = 1000
        self._clock = SEED_EPOCH
        with self.lock:
            for table in self.tables:
                self._check(table)
                self._seed(table)

    # -- declaration checks and seed ---------------------------------------------------
    def _check(self, table: Table) -> None:
        where = f"{type(self).__name__}.tables[{table.name!r}]"
        check_fields(table.fields, where)
        paths = (table.primary_key, table.cursor, table.order_by, table.item_key, *table.required,
                 *(f.field for f in table.filters), *(table.sort.options.values() if table.sort else ()))
        for path in filter(None, paths):
            try:
                _field_at(table.fields, path)
            except KeyError:
                raise ValueError(f"{where}: {path!r} is not a declared field") from None
        body_values = (isinstance(table.paging, (TokenPaging, StartingAfterPaging))
                       or getattr(table.paging, "total_key", None))
        if body_values and table.envelope is None:
            raise ValueError(f"{where}: this paging puts values in the body, so declare envelope=")
        if isinstance(table.paging, KeysetPaging) and (table.cursor is None or table.sort or table.descending):
            raise ValueError(f"{where}: keyset paging needs a cursor and the default ascending order")

    def _seed(self, table: Table) -> None:
        for i in range(table.rows):
            record = self.create_record(table.name, i=i)
            if table.cursor and i >= table.rows - table.ties:
                set_path(record, table.cursor, stamp(_field_at(table.fields, table.cursor),
                                                     SEED_EPOCH + timedelta(hours=table.rows + 1)))

    def now(self) -> datetime:
        """The write clock: real time in whole seconds, never going back. Writes within one
        second share its timestamp, as they do in an API whose cursor has second resolution."""
        self._clock = max(datetime.now(UTC).replace(microsecond=0), self._clock)
        return self._clock

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def create_record(self, table_name: str, values: dict | None = None, at: datetime | None = None,
                      i: int | None = None) -> dict:
        """The one way a record comes to be (seed, ``POST``, scenarios): generated to fill every
        field, ``values`` laid over it, its timestamps ``at`` (seeded rows: their own)."""
        table = self.table[table_name]
        i = len(self.rows[table_name]) + len(self.deleted[table_name]) if i is None else i
        record = generate(table.fields, i, self._rngs[table_name], at)
        key_spec = table.fields[table.primary_key]
        if key_spec.value is None:
            record[table.primary_key] = (self._new_id() if key_spec.type == "integer"
                                         else f"{self._rngs[table_name].getrandbits(64):016x}")
        record.update(values or {})
        derive(table.fields, record, i)
        self.rows[table_name][record[table.primary_key]] = record
        return record

    def update_record(self, table_name: str, record: dict, values: dict, at: datetime) -> dict:
        """``values`` laid over ``record`` and its cursor moved to ``at`` (derived fields keep
        their creation values; ``on_write`` adjusts what an API derives on update)."""
        table = self.table[table_name]
        record.update(values)
        if table.cursor and table.cursor_moves_on_update:
            set_path(record, table.cursor, stamp(_field_at(table.fields, table.cursor), at))
        return record

    def delete_record(self, table_name: str, record: dict, at: datetime) -> None:
        key = record[self.table[table_name].primary_key]
        del self.rows[table_name][key]
        self.deleted[table_name][key] = (record, iso(at))

    # -- auth, errors, connection ------------------------------------------------------
    @property
    def token(self) -> str | None:
        """The credential this sandbox accepts (the declared auth's)."""
        return self.auth.token

    def connection_options(self) -> dict[str, str]:
        return {"base_url": self.url, **self.auth.options()}

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        """An error in the API's own shape: ``error_body`` with ``{message}`` and ``{status}``
        filled in wherever they stand (nested values included)."""
        def fill(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, str):
                return value.replace("{message}", message).replace("{status}", str(status))
            return value
        return Response.json(fill(self.error_body), status=status, headers=headers)

    def fail(self, status: int, message: str) -> SandboxError:
        return SandboxError(self.error(status, message))

    def authenticate(self, request: Request) -> Response | None:
        return None if self.auth.accepts(request) else self.error(401, self.unauthorized_message)

    def not_found(self, request: Request) -> Response:
        return self.error(404, "Not Found")

    def fault_response(self, fault: Fault, endpoint: str) -> Response:
        if fault.body is not None:
            return super().fault_response(fault, endpoint)
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return self.error(fault.status or 500, f"injected HTTP {fault.status}", headers)

    def rate_limit(self, times: int = 1, retry_after: float | None = 1.0, status: int = 429,
                   message: str = "rate limit exceeded") -> None:
        """The next ``times`` requests answer ``status`` (429) with ``Retry-After``."""
        body = json.loads(self.error(status, message).body)
        self.inject(Fault(status=status, retry_after=retry_after, body=body), times=times)

    # -- routes ------------------------------------------------------------------------
    def extra_routes(self) -> list[tuple[str, str, Callable]]:
        routes = []
        for table in self.tables:
            routes.append(("GET", _pattern(table.path), self._lister(table)))
            base = table.write_path or table.path
            item = f"{base}/{{{table.key_field}}}"
            if "create" in table.writes:
                routes.append(("POST", _pattern(base), self._creator(table)))
            if "update" in table.writes:
                routes.append((table.update_method, _pattern(item), self._updater(table)))
            if "delete" in table.writes:
                routes.append(("DELETE", _pattern(item), self._deleter(table)))
        return routes

    def _check_path(self, params: dict[str, str]) -> None:
        for name, value in params.items():
            if name in self.path_values and self.path_values[name] != value:
                raise self.fail(404, "Not Found")

    def records_for(self, table: Table, request: Request) -> list[dict]:
        """The records a listing of ``table`` starts from, called under the lock (the stored
        records themselves: read them, do not change them); override to add or reshape."""
        return list(self.rows[table.name].values())

    def on_write(self, table: Table, record: dict, body: dict, created: bool) -> None:
        """A hook after a create or update through the API (set derived state, validate)."""

    def _comparable(self, table: Table, path: str, value: Any) -> Any:
        kind = _field_at(table.fields, path).type
        if value is None:
            return None
        try:
            if kind in ("timestamp", "epoch_seconds", "date"):
                return parse_instant(value)
            if kind in ("integer", "number"):
                return float(value)
        except (CursorError, ValueError):
            raise self.fail(self.validation_status, f"{value!r} is not a valid {kind}") from None
        return value

    def _filter(self, table: Table, request: Request, records: list[dict]) -> list[dict]:
        for f in table.filters:
            raw = request.arg(f.param, f.default)
            if raw in (None, "") or raw == f.any_value:
                continue
            bound = ([self._comparable(table, f.field, v) for v in raw.split(",")] if f.op == "in"
                     else self._comparable(table, f.field, raw))
            records = [r for r in records if (v := self._comparable(table, f.field, get_path(r, f.field))) is not None
                       and _OPS[f.op](v, bound)]
        return records

    def _order(self, table: Table, request: Request, records: list[dict]) -> list[dict]:
        by, descending = table.order_by or table.cursor or table.primary_key, table.descending
        if table.sort:
            option = request.arg(table.sort.param) or table.sort.default
            if option not in table.sort.options:
                raise self.fail(self.validation_status, f"{table.sort.param} must be one of "
                                                        f"{', '.join(table.sort.options)}, got {option!r}")
            direction = request.arg(table.sort.direction_param) or table.sort.direction(option)
            if direction not in ("asc", "desc"):
                raise self.fail(self.validation_status, f"{table.sort.direction_param} must be asc or desc")
            by, descending = table.sort.options[option], direction == "desc"
        return sorted(records, reverse=descending,
                      key=lambda r: (get_path(r, by) is not None, get_path(r, by) or 0, str(r[table.primary_key])))

    def _lister(self, table: Table) -> Callable:
        def list_records(request: Request, **params: str) -> Response:
            self._check_path(params)
            with self.lock:  # held until the page is serialized: no write changes it meanwhile
                records = self._order(table, request, self._filter(table, request, self.records_for(table, request)))
                chunk, extra, headers = table.paging.page(self, request, records, table)
                if table.envelope is None:
                    return Response.json(chunk, headers=headers)
                body: dict = {table.envelope: chunk}
                for path, value in extra.items():
                    set_path(body, path, value)
                return Response.json(body, headers=headers)
        return list_records

    def _body(self, request: Request, table: Table | None = None) -> dict:
        body = self._decoded(request)
        if table is None or table.body_key is None:
            return body
        if not isinstance(body.get(table.body_key), dict):
            raise self.fail(400, f"the body must be an object under {table.body_key!r}")
        return body[table.body_key]

    def _wrapped(self, table: Table, record: dict) -> dict:
        record = copy.deepcopy(record)
        return record if table.body_key is None else {table.body_key: record}

    def _decoded(self, request: Request) -> dict:
        if (request.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            return _unflatten(parse_qsl((request.body or b"").decode("utf-8"), keep_blank_values=True))
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self.fail(400, "Problems parsing JSON: expected an object")
        return body

    def _find(self, table: Table, key: str) -> dict:
        for record in self.rows[table.name].values():
            if str(record.get(table.key_field)) == key:
                return record
        raise self.fail(404, "Not Found")

    def _settable(self, table: Table, body: dict) -> dict:
        return {k: v for k, v in body.items() if k in table.fields and k != table.primary_key
                and table.fields[k].value is None}

    def _creator(self, table: Table) -> Callable:
        def create(request: Request, **params: str) -> Response:
            self._check_path(params)
            body = self._body(request, table)
            missing = [name for name in table.required if body.get(name) in (None, "")]
            if missing:
                return self.error(422, f"Validation Failed: {', '.join(missing)} missing")
            with self.lock:
                record = self.create_record(table.name, self._settable(table, body), at=self.now())
                self.on_write(table, record, body, created=True)
                return Response.json(self._wrapped(table, record), status=table.create_status)
        return create

    def _updater(self, table: Table) -> Callable:
        def update(request: Request, **params: str) -> Response:
            key = params.pop(table.key_field)
            self._check_path(params)
            body = self._body(request, table)
            with self.lock:
                record = self.update_record(table.name, self._find(table, key), self._settable(table, body), self.now())
                self.on_write(table, record, body, created=False)
                return Response.json(self._wrapped(table, record))
        return update

    def _deleter(self, table: Table) -> Callable:
        def delete(request: Request, **params: str) -> Response:
            key = params.pop(table.key_field)
            self._check_path(params)
            with self.lock:
                record = self._find(table, key)
                self.delete_record(table.name, record, self.now())
                if table.delete_body is not None:
                    return Response.json(table.delete_body(copy.deepcopy(record)))
            return Response.empty(204)
        return delete

    # -- the truth and scenarios -------------------------------------------------------
    def truth_tables(self) -> list[str]:
        if not self.tables:
            raise NotImplementedError(f"Next: declare the tables of {type(self).__name__} (its tables = (Table(...), ...)), "
                                      "as the source's API doc describes them.")
        return [t.name for t in self.tables]

    def truth(self, table: str) -> TableTruth:
        spec = self.table[table]
        with self.lock:
            return TableTruth.of(table, [spec.primary_key], spec.cursor, copy.deepcopy(list(self.rows[table].values())),
                                 copy.deepcopy(list(self.deleted[table].values())))

    def scenario(self, table: str, change: str, n: int) -> list:
        """``create``, ``burst`` (n records on one new cursor value) and ``tie`` (n records on
        the cursor value of the newest record) for every table; ``update`` (a new cursor value
        and an edited text field) and ``tie_update`` (n records moved to the newest record's
        cursor value) for tables with a cursor that are not ``append_only``; ``delete`` for
        tables that declare the ``delete`` write."""
        spec = self.table.get(table)
        if spec is None or change not in ("create", "burst", "tie", "update", "tie_update", "delete"):
            return super().scenario(table, change, n)
        with self.lock:
            if change == "create":
                return [copy.deepcopy(self.create_record(table, at=self.now())) for _ in range(n)]
            if change == "delete":
                if "delete" not in spec.writes:
                    raise NotImplementedError(f"{type(self).__name__}.tables[{table!r}] declares no delete write")
                chosen = sorted(self.rows[table].values(), key=lambda r: str(r[spec.primary_key]))[-n:]
                at = self.now()
                for record in chosen:
                    self.delete_record(table, record, at)
                return copy.deepcopy(chosen)
            if change in ("tie", "tie_update") and spec.cursor is None:
                raise NotImplementedError(f"{type(self).__name__}.tables[{table!r}] has no cursor to tie on")
            if change == "tie_update" and not spec.cursor_moves_on_update:
                raise NotImplementedError(f"{table}'s cursor {spec.cursor} is a creation time: an update never moves it")
            if change == "burst":
                at = self.now()
                return [copy.deepcopy(self.create_record(table, at=at)) for _ in range(n)]
            newest = self.truth(table).newest() if change in ("tie", "tie_update") else None
            if change == "tie":
                at = self.now() if newest is None else parse_instant(newest)
                return [copy.deepcopy(self.create_record(table, at=at)) for _ in range(n)]
            if spec.cursor is None or spec.append_only:
                return super().scenario(table, change, n)
            text = next((k for k, f in spec.fields.items() if f.type == "string" and not f.choices and not f.value
                         and k not in (spec.primary_key, spec.key_field)), None)
            rng = self._rngs[table]
            candidates = sorted(self.rows[table].values(), key=lambda r: str(r[spec.primary_key]))
            if change == "tie_update":
                candidates = [r for r in candidates if get_path(r, spec.cursor) != newest]
            chosen = rng.sample(candidates, min(n, len(candidates)))
            at = self.now() if change == "update" else parse_instant(newest)
            return [copy.deepcopy(self.update_record(table, r, {text: f"edited {iso(at)}"} if text else {}, at))
                    for r in chosen]

    def describe(self) -> str:
        return ", ".join(f"{len(rows)} {name}" for name, rows in self.rows.items())

    def demo_changes(self) -> str:
        """``lakeflow demo``'s changes between its runs: in every table 5 records created, and in
        tables with a cursor that are not append-only 5 updated."""
        done = []
        for table in self.tables:
            created = len(self.scenario(table.name, "create", 5))
            updated = len(self.scenario(table.name, "update", 5)) if table.cursor and not table.append_only else 0
            done.append(f"{table.name} +{created}" + (f" ~{updated}" if updated else ""))
        return ", ".join(done)


def _unflatten(pairs: list[tuple[str, str]]) -> dict:
    """A form body as nested values: ``metadata[tier]=pro`` → ``{"metadata": {"tier": "pro"}}``
    (the client's ``form_fields`` in reverse; lists stay dicts keyed by index)."""
    body: dict = {}
    for name, value in pairs:
        *parents, last = re.findall(r"[^\[\]]+", name) or [name]
        target = body
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return body


def _field_at(fields: dict[str, Field], path: str) -> Field:
    head, _, rest = path.partition(".")
    spec = fields[head]
    return _field_at(spec.fields, rest) if rest else spec
