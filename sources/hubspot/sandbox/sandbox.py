"""The HubSpot CRM sandbox server (see the package docstring for the full guide)."""

from __future__ import annotations

import bisect
import copy
import fnmatch
import heapq
import json
import math
import random
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import quote

from sources.toolkit.sandbox.truth import TableTruth
from sources.toolkit.sandbox.server import Request, Response, SandboxError, SandboxServer, route
from sources.hubspot.sandbox import seed as seeding
from sources.hubspot.sandbox.catalog import (
    DEFAULT_FIELD_TYPES,
    FIELD_TYPES,
    PROPERTY_TYPES,
    AssociationType,
    ObjectType,
    hubspot_defined_association_types,
    prop,
    standard_object_types,
)
from sources.hubspot.sandbox.values import InvalidValue, format_ms, normalize, parse_ms, sort_key

ALL_SCOPES = None  # a token registered with scopes=None may call everything

LIST_MAX_LIMIT = 100
SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000
BATCH_MAX_INPUTS = 100
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18
MAX_URL_LENGTH = 8_000

OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}

AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
SCOPES_MESSAGE = ("This app hasn't been granted all required scopes to make this call. Read more about required "
                  "scopes here: https://developers.hubspot.com/scopes.")


@dataclass
class RateLimitConfig:
    """Rate limits enforced per access token.

    ``ten_second_limit`` requests per rolling 10 s window (HubSpot: 100 free/starter, 190
    pro/enterprise); ``search_per_second`` search requests per rolling second (search requests
    count only there, and their responses carry no ``X-HubSpot-RateLimit-*`` headers);
    ``daily_limit`` requests per sandbox lifetime ("day")."""

    enabled: bool = True
    ten_second_limit: int = 190
    search_per_second: int = 5
    daily_limit: int = 500_000
    interval_ms: int = 10_000


class _Record:
    __slots__ = ("id", "props", "created", "updated", "archived", "archived_at")

    def __init__(self, id: int, props: dict[str, str], created: int, updated: int):
        self.id = id
        self.props = props          # copy-on-write: replaced, never mutated, after creation
        self.created = created
        self.updated = updated
        self.archived = False
        self.archived_at: int | None = None


class _Store:
    """Records of one object type plus the search index (what search can see)."""

    def __init__(self, obj: ObjectType):
        self.obj = obj
        self.records: dict[int, _Record] = {}
        self.ids: list[int] = []                                        # ascending
        self.index: dict[int, tuple[dict[str, str], int, int]] = {}      # id -> (props, created, updated)
        self.index_version = 0
        self.pending: list[tuple[float, int, int, Any]] = []             # heap: (visible_at, seq, id, snapshot)
        self.cache: dict[str, tuple[int, list[int]]] = {}
        # property name -> (type, {id: comparable key}) for indexed records; built lazily the
        # first time a search filters or sorts on the property, then kept up to date.
        self.columns: dict[str, tuple[str, dict[int, Any]]] = {}

    def set_index(self, rid: int, snapshot: tuple[dict[str, str], int, int] | None) -> None:
        if snapshot is None:
            self.index.pop(rid, None)
            for _, col in self.columns.values():
                col.pop(rid, None)
            return
        self.index[rid] = snapshot
        props = snapshot[0]
        for name, (kind, col) in self.columns.items():
            key = sort_key(kind, props.get(name))
            if key is None:
                col.pop(rid, None)
            else:
                col[rid] = key

    def column(self, name: str) -> dict[int, Any]:
        kind = self.obj.properties[name]["type"]
        entry = self.columns.get(name)
        if entry is None or entry[0] != kind:
            col = {}
            for rid, (props, _, _) in self.index.items():
                key = sort_key(kind, props.get(name))
                if key is not None:
                    col[rid] = key
            entry = (kind, col)
            self.columns[name] = entry
        return entry[1]


def _error(status: int, message: str, category: str, **extra: Any) -> Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    body.update(extra)
    return Response.json(body, status=status)


def _fail(status: int, message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> SandboxError:
    return SandboxError(_error(status, message, category, **extra))


def _now_iso(ms: int) -> str:
    return format_ms(ms)


class HubSpotSandbox(SandboxServer):
    """A stateful HubSpot CRM v3/v4 API on 127.0.0.1 (see the package docstring)."""

    name = "hubspot"
    portal_id = 12345678

    def __init__(
        self,
        token: str = "sandbox-token",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        rate_limits: bool | RateLimitConfig = True,
        ten_second_limit: int = 190,
        search_per_second: int = 5,
        search_index_delay: float = 0.0,
        clock: Callable[[], int] | None = None,
    ):
        super().__init__(host=host, port=port, latency=latency)
        self.token = token
        self._tokens: dict[str, set[str] | None] = {token: ALL_SCOPES}
        if isinstance(rate_limits, RateLimitConfig):
            self.rate_limits = rate_limits
        else:
            self.rate_limits = RateLimitConfig(enabled=bool(rate_limits), ten_second_limit=ten_second_limit,
                                               search_per_second=search_per_second)
        self.retry_after_on_429: bool | float = False
        self.search_index_delay = float(search_index_delay)
        self.max_url_length = MAX_URL_LENGTH
        self.uri_too_long_count = 0
        self.clock: Callable[[], int] = clock or (lambda: int(time.time() * 1000))
        self._last_ms = 0
        self._next_id = 1001
        self._seq = 0
        self._types: dict[str, ObjectType] = standard_object_types()
        self._aliases: dict[str, str] = {}
        self._stores: dict[str, _Store] = {}
        for obj in self._types.values():
            self._register_type(obj)
        self._custom_counter = 10_001
        self._assoc_types: dict[int, AssociationType] = {}
        self._assoc_by_pair: dict[tuple[str, str], list[AssociationType]] = {}
        for at in hubspot_defined_association_types():
            self._add_assoc_type(at)
        self._next_assoc_type_id = 1_000
        # (type, id) -> {to_type: {to_id: set(typeIds)}}
        self._assoc: dict[tuple[str, int], dict[str, dict[int, set[int]]]] = {}
        self._owners: list[dict[str, Any]] = []
        self._windows: dict[str, deque] = {}
        self._search_windows: dict[str, deque] = {}
        self._daily: dict[str, int] = {}
        self._request_hooks: list[Callable[[str, Request, Response], None]] = []
        self._nth_hooks: list[list[Any]] = []      # [endpoint, n, fn, fired]
        if seed:
            self._seed(seed)

    # =====================================================================================
    # lifecycle: a 414 check on the raw request line, before routing
    # =====================================================================================
    def start(self) -> "HubSpotSandbox":
        # The base server sets TCP_NODELAY, a 128-connection backlog and a 50 ms shutdown
        # poll; HubSpot adds only the 414 check on the raw request line.
        super().start()
        base = self._httpd.RequestHandlerClass
        sandbox = self

        class HubSpotHandler(base):
            def _guarded(self):
                if len(self.path) > sandbox.max_url_length:
                    length = int(self.headers.get("Content-Length") or 0)
                    if length:
                        self.rfile.read(length)
                    with sandbox.lock:
                        sandbox.uri_too_long_count += 1
                    body = b"<html><body><h1>414 Request-URI Too Large</h1></body></html>"
                    self.send_response(414)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                base._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _guarded

        self._httpd.RequestHandlerClass = HubSpotHandler
        return self

    def connection_options(self) -> dict[str, str]:
        return {"base_url": self.url, "access_token": self.token}

    # -- the truth -------------------------------------------------------------------------
    def truth_tables(self) -> list[str]:
        return [*self.object_types(), "owners"]

    def truth(self, table: str) -> TableTruth:
        """Live records as ``GET /crm/v3/objects/{type}?properties=<all>`` returns them (every
        property, ``""`` kept as stored), keyed by ``id`` with ``updatedAt`` as the cursor;
        archived records as the deleted keys (with ``archivedAt``). ``owners``: the active
        owners as ``GET /crm/v3/owners`` returns them; no deleted keys (owners have no delete
        flow)."""
        if table == "owners":
            with self.lock:
                active = [copy.deepcopy(o) for o in self._owners if not o["archived"]]
            return TableTruth.of("owners", ["id"], "updatedAt", active)
        with self.lock:
            obj = self._resolve(table)
            store = self._store(table)
            names = sorted(obj.properties)
            live, gone = [], []
            for rid in store.ids:
                rec = store.records[rid]
                rendered = self._render_record(obj, rec, names)
                if rec.archived:
                    gone.append((rendered, format_ms(rec.archived_at) if rec.archived_at is not None else None))
                else:
                    live.append(rendered)
            return TableTruth.of(table, ["id"], "updatedAt", live, gone)

    def scenario(self, table: str, change: str, n: int) -> list:
        if table == "owners":
            return self._owner_scenario(change, n)
        if table not in self.object_types():
            return super().scenario(table, change, n)
        if change == "create":
            return [self.create_record(table, {}) for _ in range(n)]
        if change == "update":
            ids = self.record_ids(table)[:n]
            self.update_records(table, ids, {})
            return ids
        if change == "delete":
            ids = self.record_ids(table)[-n:]
            self.archive_records(table, ids)
            return ids
        if change == "burst":
            return self.seed_burst(table, n, timestamp_ms=self.now_ms() + 1000)
        return super().scenario(table, change, n)

    # -- the demo -----------------------------------------------------------------------
    demo_seed = 500

    def describe(self) -> str:
        counts = {t: self.record_count(t) for t in self.object_types()}
        total = sum(counts.values())
        return f"{total:,} CRM records ({', '.join(f'{n:,} {t}' for t, n in counts.items())}), {len(self._owners)} owners"

    def demo_changes(self) -> str:
        contacts = self.record_ids("contacts")
        deals = self.record_ids("deals")
        self.add_property("contacts", "demo_score", type="number", field_type="number", label="Demo score")
        for i in range(25):
            self.create_record("contacts", {"email": f"demo.new.{i}@example.com", "firstname": f"New{i}",
                                            "demo_score": str(i)})
        self.update_records("contacts", contacts[:40], {"demo_score": "42.5"})
        self.update_records("deals", deals[:10], {"dealstage": "closedwon"})
        self.archive_records("contacts", contacts[-5:])
        self.archive_records("deals", deals[-3:])
        return ("new contact property demo_score; 25 contacts created, 40 updated, 5 archived; "
                "10 deals updated, 3 archived")

    # =====================================================================================
    # time
    # =====================================================================================
    def now_ms(self) -> int:
        """The sandbox clock, never going backwards."""
        with self.lock:
            self._last_ms = max(self._last_ms, int(self.clock()))
            return self._last_ms

    def freeze_clock(self, ms: int) -> None:
        """Make the clock return ``ms`` until changed (writes then share that timestamp)."""
        self.clock = lambda: ms

    def advance_clock(self, delta_ms: int) -> None:
        current = self.now_ms() + int(delta_ms)
        self.clock = lambda: current

    def use_real_clock(self) -> None:
        self.clock = lambda: int(time.time() * 1000)

    # =====================================================================================
    # auth, scopes, rate limits, hooks
    # =====================================================================================
    def add_token(self, token: str, scopes: Iterable[str] | None = None) -> None:
        """Accept ``token`` too; ``scopes=None`` grants everything, a list restricts it."""
        with self.lock:
            self._tokens[token] = None if scopes is None else set(scopes)

    def add_service_key(self, scopes: Iterable[str] | None = None) -> str:
        """A new Service Key (``pat-na2-<uuid>``, the shape third-party notes report) that
        authenticates as ``Authorization: Bearer`` like a private-app token; ``scopes=None``
        grants everything."""
        key = f"pat-na2-{uuid.uuid4()}"
        self.add_token(key, scopes)
        return key

    def remove_token(self, token: str) -> None:
        with self.lock:
            self._tokens.pop(token, None)

    @staticmethod
    def _bearer(request: Request) -> str | None:
        header = request.header("authorization") or ""
        if header[:7].lower() == "bearer ":
            return header[7:].strip()
        return None

    def authenticate(self, request: Request) -> Response | None:
        token = self._bearer(request)
        with self.lock:
            known = token is not None and token in self._tokens
        if not known:
            return _error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        return None

    def before_handle(self, request: Request, endpoint: str) -> Response | None:
        token = self._bearer(request) or ""
        limited = self._check_rate_limit(token, endpoint)
        if limited is not None:
            return limited
        with self.lock:
            granted = self._tokens.get(token)
        if granted is not None:
            needed = self._required_scopes(request, endpoint)
            for alternatives in needed:
                if not granted.intersection(alternatives):
                    return _error(403, SCOPES_MESSAGE, "MISSING_SCOPES", errors=[{
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": [alternatives[0]]},
                    }])
        return None

    def after_handle(self, request: Request, endpoint: str, response: Response) -> Response:
        if not self._is_search(endpoint):
            response.headers.update(self._rate_headers(self._bearer(request) or ""))
        for hook in list(self._request_hooks):
            hook(endpoint, request, response)
        with self.lock:
            due = []
            for entry in self._nth_hooks:
                ep, n, fn, fired = entry
                if not fired and ep == endpoint and self.request_counts[endpoint] >= n:
                    entry[3] = True
                    due.append(fn)
        for fn in due:
            fn()
        return response

    @staticmethod
    def _is_search(endpoint: str) -> bool:
        return endpoint.endswith("/search")

    def _check_rate_limit(self, token: str, endpoint: str) -> Response | None:
        cfg = self.rate_limits
        if not cfg.enabled:
            return None
        now = time.monotonic()
        with self.lock:
            if self._is_search(endpoint):
                window = self._search_windows.setdefault(token, deque())
                while window and window[0] <= now - 1.0:
                    window.popleft()
                if len(window) >= cfg.search_per_second:
                    wait = 1.0 - (now - window[0])
                    return self._too_many("secondly", "SECONDLY", wait, {})
                window.append(now)
                return None
            window = self._windows.setdefault(token, deque())
            horizon = cfg.interval_ms / 1000.0
            while window and window[0] <= now - horizon:
                window.popleft()
            if self._daily.get(token, 0) >= cfg.daily_limit:
                return self._too_many("daily", "DAILY", 60.0, self._rate_headers_locked(token))
            if len(window) >= cfg.ten_second_limit:
                wait = horizon - (now - window[0])
                return self._too_many("ten_secondly_rolling", "TEN_SECONDLY_ROLLING", wait,
                                      self._rate_headers_locked(token))
            window.append(now)
            self._daily[token] = self._daily.get(token, 0) + 1
        return None

    def _too_many(self, limit_name: str, policy: str, wait: float, headers: dict[str, str]) -> Response:
        body = {
            "status": "error",
            "message": f"You have reached your {limit_name} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": f"publicapi:private-app:{self.portal_id}",
        }
        headers = dict(headers)
        if self.retry_after_on_429 is not False and self.retry_after_on_429 is not None:
            if self.retry_after_on_429 is True:
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
            else:
                headers["Retry-After"] = f"{float(self.retry_after_on_429):g}"
        return Response.json(body, status=429, headers=headers)

    def _rate_headers(self, token: str) -> dict[str, str]:
        if not self.rate_limits.enabled:
            return {}
        with self.lock:
            return self._rate_headers_locked(token)

    def _rate_headers_locked(self, token: str) -> dict[str, str]:
        cfg = self.rate_limits
        used = len(self._windows.get(token, ()))
        daily = self._daily.get(token, 0)
        return {
            "X-HubSpot-RateLimit-Max": str(cfg.ten_second_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, cfg.ten_second_limit - used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(cfg.interval_ms),
            "X-HubSpot-RateLimit-Daily": str(cfg.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, cfg.daily_limit - daily)),
        }

    def reset_rate_limits(self) -> None:
        with self.lock:
            self._windows.clear()
            self._search_windows.clear()
            self._daily.clear()

    def on_request(self, callback: Callable[[str, Request, Response], None]) -> Callable[[], None]:
        """Call ``callback(endpoint, request, response)`` after every handled request (before
        the response is sent). Returns a function that removes the hook."""
        self._request_hooks.append(callback)
        return lambda: self._request_hooks.remove(callback) if callback in self._request_hooks else None

    def after_nth_request(self, endpoint: str, n: int, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` once, right after the ``n``-th request (by ``request_counts``) to
        ``endpoint`` has been handled and before its response is sent."""
        with self.lock:
            self._nth_hooks.append([endpoint, n, fn, False])

    def _required_scopes(self, request: Request, endpoint: str) -> list[list[str]]:
        """A list of requirements; each is a list of alternative scopes (any one suffices)."""
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        try:
            if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4:
                obj = self._resolve(parts[3])
                read = method == "GET" or endpoint.endswith("/search") or endpoint.endswith("/batch/read")
                return [obj.read_scopes if read else obj.write_scopes]
            if parts[:3] == ["crm", "v3", "properties"] and len(parts) >= 4:
                obj = self._resolve(parts[3])
                return [obj.schema_read_scopes if method == "GET" else obj.schema_write_scopes]
            if (parts[:3] == ["crm", "v3", "schemas"]) or parts[:1] == ["crm-object-schemas"]:
                return [["crm.schemas.custom.read"] if method == "GET" else ["crm.schemas.custom.write"]]
            if parts[:3] == ["crm", "v3", "owners"]:
                return [["crm.objects.owners.read"]]
            if parts[:3] == ["crm", "v4", "associations"] and len(parts) >= 5:
                a, b = self._resolve(parts[3]), self._resolve(parts[4])
                if method == "GET" or endpoint.endswith("/batch/read"):
                    return [a.read_scopes, b.read_scopes]
                return [a.write_scopes, b.read_scopes]
            if parts[:3] == ["crm", "v4", "objects"] and len(parts) >= 7 and parts[5] == "associations":
                to_name = parts[7] if parts[6] == "default" and len(parts) > 7 else parts[6]
                a, b = self._resolve(parts[3]), self._resolve(to_name)
                if method == "GET":
                    return [a.read_scopes, b.read_scopes]
                return [a.write_scopes, b.read_scopes]
        except (SandboxError, IndexError):
            return []   # the handler answers the unknown object type
        return []

    # =====================================================================================
    # object types
    # =====================================================================================
    def _register_type(self, obj: ObjectType) -> None:
        self._types[obj.name] = obj
        self._stores.setdefault(obj.name, _Store(obj))
        for alias in obj.aliases() + [obj.singular]:
            self._aliases[alias.lower()] = obj.name

    def _resolve(self, name: str) -> ObjectType:
        key = self._aliases.get(str(name).lower())
        if key is None:
            raise _fail(400, f"Unable to infer object type from: {name}")
        return self._types[key]

    def _store(self, name: str) -> _Store:
        return self._stores[self._resolve(name).name]

    def object_types(self) -> list[str]:
        with self.lock:
            return list(self._types)

    # =====================================================================================
    # ids, writes and the search index
    # =====================================================================================
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _index_put(self, store: _Store, rec: _Record, immediate: bool = False) -> None:
        snapshot = None if rec.archived else (rec.props, rec.created, rec.updated)
        if immediate or (self.search_index_delay <= 0 and not store.pending):
            store.set_index(rec.id, snapshot)
            store.index_version += 1
            return
        self._seq += 1
        heapq.heappush(store.pending, (time.monotonic() + max(0.0, self.search_index_delay), self._seq, rec.id, snapshot))
        self._apply_pending(store)

    def _apply_pending(self, store: _Store) -> None:
        now = time.monotonic()
        changed = False
        while store.pending and store.pending[0][0] <= now:
            _, _, rid, snapshot = heapq.heappop(store.pending)
            store.set_index(rid, snapshot)
            changed = True
        if changed:
            store.index_version += 1

    def set_search_index_delay(self, seconds: float) -> None:
        """Records written from now on become visible to search ``seconds`` later."""
        with self.lock:
            self.search_index_delay = float(seconds)

    def flush_search_index(self) -> None:
        """Make every pending write visible to search now."""
        with self.lock:
            for store in self._stores.values():
                while store.pending:
                    _, _, rid, snapshot = heapq.heappop(store.pending)
                    store.set_index(rid, snapshot)
                store.index_version += 1

    def _derive(self, obj: ObjectType, props: dict[str, str]) -> None:
        """HubSpot-calculated properties that follow from written ones."""
        if obj.name == "deals" and "dealstage" in props:
            stage = props.get("dealstage") or ""
            props["hs_is_closed"] = "true" if stage in ("closedwon", "closedlost") else "false"
            props["hs_is_closed_won"] = "true" if stage == "closedwon" else "false"
        if obj.name == "line_items":
            try:
                from decimal import Decimal
                q, p = props.get("quantity"), props.get("price")
                if q not in (None, "") and p not in (None, ""):
                    props["amount"] = str((Decimal(q) * Decimal(p)).quantize(Decimal("0.01")))
            except Exception:
                pass

    def _validate(self, obj: ObjectType, values: dict[str, Any] | None, creating: bool) -> dict[str, str | None]:
        if values is None:
            return {}
        if not isinstance(values, dict):
            raise _fail(400, "Invalid input JSON: properties must be an object")
        out: dict[str, str | None] = {}
        errors = []
        for name, value in values.items():
            definition = obj.properties.get(name)
            if definition is None:
                errors.append({"isValid": False, "message": f'Property "{name}" does not exist',
                               "error": "PROPERTY_DOESNT_EXIST", "name": name, "localizedErrorMessage":
                               f'Property "{name}" does not exist'})
                continue
            if name == obj.created_property and not creating:
                continue  # the creation date can be set when creating (imports), not moved later
            meta = definition["modificationMetadata"]
            if meta["readOnlyValue"] and name != obj.created_property:
                errors.append({"isValid": False, "message": f'"{name}" is a read only property; its value cannot be set.',
                               "error": "READ_ONLY_VALUE", "name": name})
                continue
            try:
                out[name] = normalize(definition, value)
            except InvalidValue as exc:
                errors.append({"isValid": False, "message": str(exc), "error": exc.code, "name": name})
        if errors:
            raise _fail(400, "Property values were not valid: " + json.dumps(errors, separators=(",", ":")))
        return out

    def _create(self, obj: ObjectType, values: dict[str, Any], ts: int | None = None, validated: bool = False) -> _Record:
        store = self._stores[obj.name]
        props = values if validated else self._validate(obj, values, creating=True)
        if obj.custom and obj.schema:
            missing = [n for n in obj.schema.get("requiredProperties") or [] if props.get(n) in (None, "")]
            if missing:
                raise _fail(400, "Property values were not valid: " + json.dumps(
                    [{"isValid": False, "message": f"Required property {n} is missing", "error": "REQUIRED_PROPERTY",
                      "name": n} for n in missing], separators=(",", ":")))
        now = self.now_ms() if ts is None else int(ts)
        rid = self._new_id()
        created = now
        if props.get(obj.created_property):
            created = parse_ms(props[obj.created_property]) or now
        clean = {k: v for k, v in props.items() if v is not None}
        clean["hs_object_id"] = str(rid)
        clean[obj.created_property] = format_ms(created)
        clean[obj.cursor_property] = format_ms(now)
        self._derive(obj, clean)
        rec = _Record(rid, clean, created, now)
        store.records[rid] = rec
        store.ids.append(rid)
        self._index_put(store, rec)
        return rec

    def _update(self, obj: ObjectType, rec: _Record, values: dict[str, Any], ts: int | None = None,
                validated: bool = False) -> _Record:
        props = values if validated else self._validate(obj, values, creating=False)
        now = self.now_ms() if ts is None else int(ts)
        now = max(now, rec.updated + 1) if ts is None else now
        merged = dict(rec.props)
        for k, v in props.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        merged[obj.cursor_property] = format_ms(now)
        self._derive(obj, merged)
        rec.props = merged
        rec.updated = now
        self._index_put(self._stores[obj.name], rec)
        return rec

    def _archive(self, obj: ObjectType, rec: _Record, ts: int | None = None) -> None:
        if rec.archived:
            return
        rec.archived = True
        rec.archived_at = self.now_ms() if ts is None else int(ts)
        self._index_put(self._stores[obj.name], rec)

    def _get(self, obj: ObjectType, raw_id: Any, id_property: str | None = None,
             archived: bool | None = False) -> _Record | None:
        store = self._stores[obj.name]
        rec = None
        if id_property and id_property != "hs_object_id":
            definition = obj.properties.get(id_property)
            unique = definition is not None and (definition["hasUniqueValue"] or
                                                 (obj.name == "contacts" and id_property == "email"))
            if not unique:
                raise _fail(400, f"{id_property} is not a unique property and cannot be used as idProperty")
            wanted = str(raw_id)
            lowered = wanted.lower() if id_property == "email" else wanted
            for candidate in store.records.values():
                value = candidate.props.get(id_property)
                if value is not None and (value.lower() if id_property == "email" else value) == lowered:
                    if archived is None or candidate.archived == archived:
                        rec = candidate
                        break
            return rec
        try:
            rid = int(str(raw_id))
        except ValueError:
            return None
        rec = store.records.get(rid)
        if rec is None or (archived is not None and rec.archived != archived):
            return None
        return rec

    # =====================================================================================
    # rendering
    # =====================================================================================
    def _select(self, obj: ObjectType, requested: list[str] | None) -> list[str]:
        if not requested:
            return list(obj.default_properties)
        names = [n for n in dict.fromkeys(requested) if n in obj.properties]
        for n in obj.always_properties:
            if n not in names:
                names.append(n)
        return names

    def _render(self, obj: ObjectType, rid: int, props: dict[str, str], created: int, updated: int,
                names: list[str] | None, archived: bool = False, archived_at: int | None = None,
                associations: list[str] | None = None, with_history: list[str] | None = None) -> dict[str, Any]:
        if names is None:
            values = dict(sorted(props.items()))
        else:
            values = {n: props.get(n) for n in names}
        out: dict[str, Any] = {
            "id": str(rid),
            "properties": values,
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated),
            "archived": archived,
        }
        if archived and archived_at is not None:
            out["archivedAt"] = format_ms(archived_at)
        if with_history:
            history = {}
            for n in with_history:
                if n in obj.properties and props.get(n) is not None:
                    history[n] = [{"value": props[n], "timestamp": format_ms(updated),
                                   "sourceType": "API", "sourceId": "sandbox"}]
            out["propertiesWithHistory"] = history
        if associations:
            blocks = {}
            for to_name in associations:
                try:
                    to_obj = self._resolve(to_name)
                except SandboxError:
                    continue
                linked = self._assoc.get((obj.name, rid), {}).get(to_obj.name, {})
                results = []
                for to_id in sorted(linked):
                    for type_id in sorted(linked[to_id]):
                        results.append({"id": str(to_id), "type": self._v3_type_name(type_id)})
                if results:
                    blocks[to_obj.fully_qualified_name or to_obj.name] = {"results": results}
            if blocks:
                out["associations"] = blocks
        return out

    def _render_record(self, obj: ObjectType, rec: _Record, names: list[str] | None,
                       associations: list[str] | None = None, with_history: list[str] | None = None) -> dict:
        return self._render(obj, rec.id, rec.props, rec.created, rec.updated, names, rec.archived,
                            rec.archived_at, associations, with_history)

    # =====================================================================================
    # request parsing helpers
    # =====================================================================================
    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return request.json()
        except (ValueError, UnicodeDecodeError):
            raise _fail(400, "Invalid input JSON on line 1: the request body is not valid JSON") from None

    @staticmethod
    def _bool_arg(request: Request, name: str) -> bool:
        return (request.arg(name) or "false").lower() == "true"

    @staticmethod
    def _int_arg(request: Request, name: str, default: int) -> int:
        raw = request.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise _fail(400, f"Unable to parse query parameter {name}: {raw!r} is not an integer") from None

    def _link(self, path: str, params: dict[str, str]) -> str:
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
        return f"{self.url}{path}?{query}"

    @staticmethod
    def _inputs(body: Any) -> list[Any]:
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            raise _fail(400, "Invalid input JSON: expected an object with an \"inputs\" array")
        inputs = body["inputs"]
        if len(inputs) > BATCH_MAX_INPUTS:
            raise _fail(400, f"Too many inputs: {len(inputs)}. The maximum batch size is {BATCH_MAX_INPUTS}.",
                        context={"inputs": [str(len(inputs))]})
        return inputs

    def _batch(self, results: list[Any], started: int, errors: list[dict] | None = None,
               status: int = 200) -> Response:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": format_ms(started),
                                "completedAt": format_ms(self.now_ms())}
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
            status = 207
        return Response.json(body, status=status)

    # =====================================================================================
    # objects: list / get / create / update / archive
    # =====================================================================================
    @route("GET", r"/crm/v3/objects/(?P<object_type>[^/]+)")
    def list_objects(self, request: Request, object_type: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            store = self._stores[obj.name]
            limit = self._int_arg(request, "limit", 10)
            if limit > LIST_MAX_LIMIT or limit < 1:
                raise _fail(400, f"limit must be between 1 and {LIST_MAX_LIMIT}; got {limit}",
                            context={"limit": [str(limit)]})
            after_raw = request.arg("after")
            start = 0
            if after_raw:
                try:
                    after = int(after_raw)
                except ValueError:
                    raise _fail(400, f"Invalid after value: {after_raw}") from None
                start = bisect.bisect_left(store.ids, after)
            archived = self._bool_arg(request, "archived")
            names = self._select(obj, request.args("properties"))
            history = request.args("propertiesWithHistory")
            assoc = request.args("associations")
            results = []
            next_after = None
            i = start
            ids = store.ids
            while i < len(ids):
                rec = store.records[ids[i]]
                if rec.archived == archived:
                    if len(results) == limit:
                        next_after = rec.id
                        break
                    results.append(self._render_record(obj, rec, names, assoc, history))
                i += 1
            body: dict[str, Any] = {"results": results}
            if next_after is not None:
                params = {"after": str(next_after), "limit": str(limit)}
                body["paging"] = {"next": {"after": str(next_after),
                                           "link": self._link(f"/crm/v3/objects/{object_type}", params)}}
            return Response.json(body)

    @route("GET", r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)")
    def get_object(self, request: Request, object_type: str, object_id: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            archived = self._bool_arg(request, "archived")
            rec = self._get(obj, object_id, request.arg("idProperty"), archived=archived)
            if rec is None:
                raise self._not_found(obj, object_id)
            names = self._select(obj, request.args("properties"))
            return Response.json(self._render_record(obj, rec, names, request.args("associations"),
                                                     request.args("propertiesWithHistory")))

    @staticmethod
    def _not_found(obj: ObjectType, object_id: str) -> SandboxError:
        return _fail(404, f"Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                     context={"id": [str(object_id)]})

    def _create_associations(self, obj: ObjectType, rec: _Record, specs: Any) -> None:
        if not specs:
            return
        for spec in specs:
            try:
                to_id = int(str(spec["to"]["id"]))
                types = spec.get("types") or []
            except (KeyError, TypeError, ValueError):
                raise _fail(400, "Invalid association input: expected {\"to\":{\"id\"},\"types\":[...]}") from None
            for t in types:
                at = self._assoc_types.get(int(t.get("associationTypeId", -1)))
                if at is None or at.from_type != obj.name:
                    raise _fail(400, f"{t.get('associationTypeId')} is not a valid association type id from {obj.name}")
                target = self._get(self._types[at.to_type], to_id)
                if target is None:
                    raise _fail(400, f"No {self._types[at.to_type].singular} with id {to_id} exists to associate with")
                self._link_records(obj.name, rec.id, at.to_type, to_id, at.type_id)

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)")
    def create_object(self, request: Request, object_type: str) -> Response:
        body = self._body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            props = self._validate(obj, body.get("properties") or {}, creating=True)
            rec = self._create(obj, props, validated=True)
            self._create_associations(obj, rec, body.get("associations"))
            return Response.json(self._render_record(obj, rec, None), status=201)

    @route("PATCH", r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)")
    def update_object(self, request: Request, object_type: str, object_id: str) -> Response:
        body = self._body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            rec = self._get(obj, object_id, request.arg("idProperty"))
            if rec is None:
                raise self._not_found(obj, object_id)
            self._update(obj, rec, body.get("properties") or {})
            return Response.json(self._render_record(obj, rec, None))

    @route("DELETE", r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)")
    def archive_object(self, request: Request, object_type: str, object_id: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            rec = self._get(obj, object_id)
            if rec is not None:
                self._archive(obj, rec)
            return Response.empty(204)

    # =====================================================================================
    # objects: batch
    # =====================================================================================
    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/read")
    def batch_read(self, request: Request, object_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = self._inputs(body)
            names = self._select(obj, body.get("properties"))
            id_property = body.get("idProperty")
            archived = self._bool_arg(request, "archived")
            results, missing = [], []
            for item in inputs:
                raw = item.get("id") if isinstance(item, dict) else None
                rec = self._get(obj, raw, id_property, archived=archived)
                if rec is None:
                    missing.append(str(raw))
                else:
                    results.append(self._render_record(obj, rec, names,
                                                       with_history=body.get("propertiesWithHistory")))
            errors = None
            if missing:
                errors = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not get some {obj.singular.upper()} objects, they may be deleted or "
                                      f"not exist. Check that ids are valid.",
                           "context": {"ids": missing}}]
            return self._batch(results, started, errors)

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/create")
    def batch_create(self, request: Request, object_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = self._inputs(body)
            validated = [self._validate(obj, (i or {}).get("properties") or {}, creating=True) for i in inputs]
            results = []
            for item, props in zip(inputs, validated):
                rec = self._create(obj, props, validated=True)
                self._create_associations(obj, rec, (item or {}).get("associations"))
                results.append(self._render_record(obj, rec, None))
            return self._batch(results, started, status=201)

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/update")
    def batch_update(self, request: Request, object_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = self._inputs(body)
            planned, missing = [], []
            for item in inputs:
                item = item or {}
                rec = self._get(obj, item.get("id"), item.get("idProperty"))
                props = self._validate(obj, item.get("properties") or {}, creating=False)
                if rec is None:
                    missing.append(str(item.get("id")))
                else:
                    planned.append((rec, props))
            results = [self._render_record(obj, self._update(obj, rec, props, validated=True), None)
                       for rec, props in planned]
            errors = None
            if missing:
                errors = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not update some {obj.singular.upper()} objects, they may be deleted "
                                      f"or not exist.", "context": {"ids": missing}}]
            return self._batch(results, started, errors)

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/upsert")
    def batch_upsert(self, request: Request, object_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = self._inputs(body)
            results = []
            for item in inputs:
                item = item or {}
                id_property = item.get("idProperty") or "hs_object_id"
                props = self._validate(obj, item.get("properties") or {}, creating=True)
                rec = self._get(obj, item.get("id"), id_property)
                if rec is None:
                    if id_property != "hs_object_id":
                        props.setdefault(id_property, str(item.get("id")))
                    rec = self._create(obj, props, validated=True)
                    out = self._render_record(obj, rec, None)
                    out["new"] = True
                else:
                    props.pop(obj.created_property, None)
                    out = self._render_record(obj, self._update(obj, rec, props, validated=True), None)
                    out["new"] = False
                results.append(out)
            return self._batch(results, started)

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/archive")
    def batch_archive(self, request: Request, object_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            obj = self._resolve(object_type)
            for item in self._inputs(body):
                rec = self._get(obj, (item or {}).get("id"))
                if rec is not None:
                    self._archive(obj, rec)
            return Response.empty(204)

    # =====================================================================================
    # search
    # =====================================================================================
    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/search")
    def search(self, request: Request, object_type: str) -> Response:
        body = self._body(request) or {}
        if not isinstance(body, dict):
            raise _fail(400, "Invalid input JSON: expected an object")
        with self.lock:
            obj = self._resolve(object_type)
            store = self._stores[obj.name]
            limit = body.get("limit", 10)
            try:
                limit = int(limit if limit is not None else 10)
            except (TypeError, ValueError):
                raise _fail(400, f"Invalid limit: {limit}") from None
            if limit > SEARCH_MAX_LIMIT or limit < 0:
                raise _fail(400, f"limit must be between 0 and {SEARCH_MAX_LIMIT}; got {limit}",
                            context={"limit": [str(limit)]})
            after_raw = body.get("after")
            try:
                offset = int(after_raw) if after_raw not in (None, "") else 0
            except (TypeError, ValueError):
                raise _fail(400, f"Invalid after value: {after_raw}. Use the value of paging.next.after.") from None
            if offset < 0:
                raise _fail(400, f"Invalid after value: {after_raw}")
            if offset + limit > SEARCH_MAX_RESULTS:
                raise _fail(400, f"The CRM search API returns at most {SEARCH_MAX_RESULTS} results per query; "
                                 f"after={offset} with limit={limit} asks beyond that. Narrow the query instead.",
                            context={"after": [str(offset)], "limit": [str(limit)]})
            groups = self._check_filter_groups(obj, body.get("filterGroups") or [])
            sort = self._parse_sorts(obj, body.get("sorts") or [])
            query = body.get("query")
            ids = self._search_ids(store, groups, sort, query)
            page = ids[offset:offset + limit]
            names = self._select(obj, body.get("properties"))
            results = []
            for rid in page:
                props, created, updated = store.index[rid]
                results.append(self._render(obj, rid, props, created, updated, names))
            out: dict[str, Any] = {"total": len(ids), "results": results}
            if offset + limit < len(ids) and limit > 0:
                out["paging"] = {"next": {"after": str(offset + limit)}}
            return Response.json(out)

    def _check_filter_groups(self, obj: ObjectType, groups: Any) -> list[list[dict[str, Any]]]:
        if not isinstance(groups, list):
            raise _fail(400, "filterGroups must be an array")
        if len(groups) > MAX_FILTER_GROUPS:
            raise _fail(400, f"Too many filter groups: {len(groups)}. A search can have at most "
                             f"{MAX_FILTER_GROUPS} filterGroups.")
        total = 0
        parsed = []
        for group in groups:
            filters = (group or {}).get("filters") or []
            if len(filters) > MAX_FILTERS_PER_GROUP:
                raise _fail(400, f"Too many filters in a filter group: {len(filters)}. A filter group can have at "
                                 f"most {MAX_FILTERS_PER_GROUP} filters.")
            total += len(filters)
            checked = []
            for f in filters:
                name = (f or {}).get("propertyName")
                op = str((f or {}).get("operator") or "").upper()
                if op not in OPERATORS:
                    raise _fail(400, f"Invalid operator: {f.get('operator')}. Use one of {sorted(OPERATORS)}")
                definition = obj.properties.get(name) if name != "id" else obj.properties.get("hs_object_id")
                if definition is None:
                    raise _fail(400, f"There was a problem with the request: property {name!r} does not exist "
                                     f"on {obj.name}.")
                if op == "BETWEEN" and (f.get("value") is None or f.get("highValue") is None):
                    raise _fail(400, "BETWEEN needs both value and highValue")
                if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
                    raise _fail(400, f"{op} needs a values array")
                if op not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN") and f.get("value") is None:
                    raise _fail(400, f"{op} needs a value")
                checked.append({**f, "operator": op, "propertyName": definition["name"]})
            parsed.append(checked)
        if total > MAX_FILTERS_TOTAL:
            raise _fail(400, f"Too many filters: {total}. A search can have at most {MAX_FILTERS_TOTAL} filters.")
        return parsed

    def _parse_sorts(self, obj: ObjectType, sorts: Any) -> tuple[str, bool] | None:
        if not isinstance(sorts, list):
            raise _fail(400, "sorts must be an array")
        if len(sorts) > 1:
            raise _fail(400, f"Too many sorts: {len(sorts)}. A search can only have 1 sort.")
        if not sorts:
            return None
        s = sorts[0]
        if isinstance(s, str):
            text = s.strip()
            if text.startswith("{"):
                try:
                    s = json.loads(text)
                except ValueError:
                    raise _fail(400, f"Invalid sort: {text}") from None
            else:
                desc = text.startswith("-")
                name = text.lstrip("-+")
                s = {"propertyName": name, "direction": "DESCENDING" if desc else "ASCENDING"}
        name = (s or {}).get("propertyName")
        direction = str((s or {}).get("direction") or "ASCENDING").upper()
        if direction not in ("ASCENDING", "DESCENDING"):
            raise _fail(400, f"Invalid sort direction: {direction}")
        if name == "id":
            name = "hs_object_id"
        if name not in obj.properties:
            raise _fail(400, f"There was a problem with the request: cannot sort by unknown property {name!r}.")
        return name, direction == "DESCENDING"

    def _search_ids(self, store: _Store, groups: list[list[dict]], sort: tuple[str, bool] | None,
                    query: Any) -> list[int]:
        """Ids of the search-visible records matching the query, in result order. Cached per
        query until the index changes; per-property typed values are kept in columns, so
        re-anchored queries (new filter values every page) stay cheap."""
        self._apply_pending(store)
        key = json.dumps([groups, sort, query], sort_keys=True, default=str)
        hit = store.cache.get(key)
        if hit is not None and hit[0] == store.index_version:
            return hit[1]
        obj = store.obj
        predicates = [[self._compile(store, f) for f in g] for g in groups]
        predicates = [g for g in predicates if g]
        text = str(query).strip().lower() if query else ""
        searchable = [n for n in obj.properties if obj.properties[n]["type"] in ("string", "phone_number")]
        index = store.index
        matched: list[int] = []
        for rid in index:
            if predicates and not any(all(p(rid) for p in g) for g in predicates):
                continue
            if text:
                props = index[rid][0]
                if not any(text in (props.get(n) or "").lower() for n in searchable):
                    continue
            matched.append(rid)
        matched.sort()
        if sort is not None:
            name, desc = sort
            col = store.column(name)
            present = [rid for rid in matched if rid in col]
            missing = [rid for rid in matched if rid not in col]
            present.sort(key=col.__getitem__, reverse=desc)   # stable: ties keep id order
            ids = present + missing
        else:
            ids = matched
        if len(store.cache) > 256:
            store.cache.clear()
        store.cache[key] = (store.index_version, ids)
        return ids

    def _compile(self, store: _Store, f: dict[str, Any]) -> Callable[[int], bool]:
        """A predicate over record ids for one filter."""
        name = f["propertyName"]
        kind = store.obj.properties[name]["type"]
        op = f["operator"]
        col = store.column(name)
        get = col.get

        def key(v: Any):
            return sort_key(kind, v)

        if op == "HAS_PROPERTY":
            return lambda rid: rid in col
        if op == "NOT_HAS_PROPERTY":
            return lambda rid: rid not in col
        if op in ("IN", "NOT_IN"):
            wanted = {key(v) for v in f.get("values") or []}
            wanted.discard(None)
            if op == "IN":
                return lambda rid: get(rid) in wanted
            return lambda rid: get(rid) not in wanted
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern = str(f.get("value")).lower()
            wildcard = "*" in pattern or "?" in pattern
            index = store.index

            def contains(rid: int) -> bool:
                value = (index[rid][0].get(name) or "").lower()
                if not value:
                    return False
                tokens = [value] + re.findall(r"[\w@.+-]+", value) + re.findall(r"\w+", value)
                if wildcard:
                    return any(fnmatch.fnmatchcase(t, pattern) for t in tokens)
                return pattern in tokens

            if op == "CONTAINS_TOKEN":
                return contains
            return lambda rid: not contains(rid)
        low = key(f.get("value"))
        if op == "EQ":
            return lambda rid: low is not None and get(rid) == low
        if op == "NEQ":
            return lambda rid: get(rid) != low
        if low is None:
            return lambda rid: False
        if op == "BETWEEN":
            high = key(f.get("highValue"))
            if high is None:
                return lambda rid: False

            def between(rid: int) -> bool:
                v = get(rid)
                return v is not None and low <= v <= high
            return between
        if op == "GT":
            return lambda rid: (v := get(rid)) is not None and v > low
        if op == "GTE":
            return lambda rid: (v := get(rid)) is not None and v >= low
        if op == "LT":
            return lambda rid: (v := get(rid)) is not None and v < low
        return lambda rid: (v := get(rid)) is not None and v <= low

    # =====================================================================================
    # properties API
    # =====================================================================================
    def _property_out(self, obj: ObjectType, definition: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(definition)
        if definition["name"] == "hubspot_owner_id":
            out["options"] = [{"label": f"{o['firstName']} {o['lastName']} ({o['email']})", "value": o["id"],
                               "displayOrder": i, "hidden": o["archived"]} for i, o in enumerate(self._owners)]
        return out

    @route("GET", r"/crm/v3/properties/(?P<object_type>[^/]+)")
    def list_properties(self, request: Request, object_type: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            archived = self._bool_arg(request, "archived")
            if archived:
                return Response.json({"results": []})
            return Response.json({"results": [self._property_out(obj, d) for d in obj.properties.values()]})

    @route("GET", r"/crm/v3/properties/(?P<object_type>[^/]+)/(?P<property_name>[^/]+)")
    def get_property(self, request: Request, object_type: str, property_name: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            if property_name == "groups":
                return Response.json({"results": copy.deepcopy(obj.groups)})
            definition = obj.properties.get(property_name)
            if definition is None:
                raise _fail(404, f"Unable to find property {property_name} on object type {obj.object_type_id}",
                            "OBJECT_NOT_FOUND")
            return Response.json(self._property_out(obj, definition))

    @route("POST", r"/crm/v3/properties/(?P<object_type>[^/]+)")
    def create_property(self, request: Request, object_type: str) -> Response:
        body = self._body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            definition = self._new_property(obj, body)
            return Response.json(self._property_out(obj, definition), status=201)

    def _new_property(self, obj: ObjectType, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        kind = body.get("type")
        field_type = body.get("fieldType") or DEFAULT_FIELD_TYPES.get(kind or "", None)
        if not name or not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise _fail(400, f"Invalid property name: {name!r}. Names are lowercase letters, digits and _.")
        if kind not in PROPERTY_TYPES:
            raise _fail(400, f"Invalid property type: {kind!r}")
        if field_type not in FIELD_TYPES:
            raise _fail(400, f"Invalid fieldType: {field_type!r}")
        if name in obj.properties:
            raise _fail(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        group = body.get("groupName") or (obj.groups[0]["name"] if obj.groups else "")
        opts = [{"label": o.get("label", o.get("value")), "value": o.get("value"),
                 "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden", False)),
                 **({"description": o["description"]} if o.get("description") else {})}
                for i, o in enumerate(body.get("options") or [])]
        if kind == "enumeration" and field_type == "booleancheckbox" and not opts:
            opts = [{"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False}]
        definition = prop(name, body.get("label") or name, kind, field_type, group, opts or None,
                          description=body.get("description") or "", hubspot_defined=False,
                          unique=bool(body.get("hasUniqueValue", False)),
                          display_order=int(body.get("displayOrder", -1)),
                          form_field=bool(body.get("formField", True)))
        now = format_ms(self.now_ms())
        definition["createdAt"] = definition["updatedAt"] = now
        definition["hidden"] = bool(body.get("hidden", False))
        definition["createdUserId"] = definition["updatedUserId"] = "1"
        obj.properties[name] = definition
        self._invalidate_caches(obj)
        return definition

    @route("PATCH", r"/crm/v3/properties/(?P<object_type>[^/]+)/(?P<property_name>[^/]+)")
    def update_property(self, request: Request, object_type: str, property_name: str) -> Response:
        body = self._body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            definition = obj.properties.get(property_name)
            if definition is None:
                raise _fail(404, f"Unable to find property {property_name}", "OBJECT_NOT_FOUND")
            if definition["hubspotDefined"] and set(body) - {"label", "description", "options", "displayOrder",
                                                             "hidden", "groupName"}:
                raise _fail(400, f"Cannot change the definition of HubSpot-defined property {property_name}")
            for key in ("label", "description", "groupName", "displayOrder", "hidden", "formField", "type",
                        "fieldType"):
                if key in body:
                    definition[key] = body[key]
            if "options" in body:
                definition["options"] = [{"label": o.get("label", o.get("value")), "value": o.get("value"),
                                          "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden"))}
                                         for i, o in enumerate(body["options"] or [])]
            definition["updatedAt"] = format_ms(self.now_ms())
            self._invalidate_caches(obj)
            return Response.json(self._property_out(obj, definition))

    @route("DELETE", r"/crm/v3/properties/(?P<object_type>[^/]+)/(?P<property_name>[^/]+)")
    def archive_property(self, request: Request, object_type: str, property_name: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            definition = obj.properties.get(property_name)
            if definition is None:
                return Response.empty(204)
            if definition["hubspotDefined"] or property_name in obj.always_properties:
                raise _fail(400, f"Cannot archive HubSpot-defined property {property_name}")
            del obj.properties[property_name]
            self._invalidate_caches(obj)
            return Response.empty(204)

    def _invalidate_caches(self, obj: ObjectType) -> None:
        self._stores[obj.name].cache.clear()
        self._stores[obj.name].columns.clear()

    # =====================================================================================
    # schemas (custom objects)
    # =====================================================================================
    def _schema_out(self, obj: ObjectType) -> dict[str, Any]:
        schema = copy.deepcopy(obj.schema or {})
        schema["properties"] = [self._property_out(obj, d) for d in obj.properties.values()]
        schema["associations"] = [
            {"id": str(at.type_id), "fromObjectTypeId": obj.object_type_id,
             "toObjectTypeId": self._types[at.to_type].object_type_id, "name": self._v3_type_name(at.type_id).upper(),
             "createdAt": schema.get("createdAt"), "updatedAt": schema.get("updatedAt")}
            for at in self._assoc_types.values() if at.from_type == obj.name
        ]
        return schema

    def _custom_types(self) -> list[ObjectType]:
        return [o for o in self._types.values() if o.custom]

    def create_schema(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a custom object type (the body of ``POST /crm/v3/schemas``); returns the schema."""
        with self.lock:
            name = str(body.get("name") or "").strip().lower()
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise _fail(400, f"Invalid object name: {body.get('name')!r}")
            if name in self._aliases:
                raise _fail(409, f"An object type with name '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
            labels = body.get("labels") or {}
            if not labels.get("singular") or not labels.get("plural"):
                raise _fail(400, "labels.singular and labels.plural are required")
            type_id = f"2-{self._custom_counter}"
            self._custom_counter += 1
            fqn = f"p{self.portal_id}_{name}"
            g = f"{name}_information"
            base = [
                prop("hs_object_id", "Record ID", "number", "number", g, read_only=True),
                prop("hs_createdate", "Object create date/time", "datetime", "date", g, read_only=True),
                prop("hs_lastmodifieddate", "Object last modified date/time", "datetime", "date", g, read_only=True),
                prop("hubspot_owner_id", "Owner", "enumeration", "select", g, [], external_options=True),
            ]
            obj = ObjectType(
                name=name, singular=name, object_type_id=type_id, created_property="hs_createdate",
                cursor_property="hs_lastmodifieddate",
                default_properties=["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
                read_scopes=["crm.objects.custom.read"], write_scopes=["crm.objects.custom.write"],
                schema_read_scopes=["crm.schemas.custom.read"], schema_write_scopes=["crm.schemas.custom.write"],
                properties={p["name"]: p for p in base},
                groups=[{"name": g, "label": f"{labels['singular']} information", "displayOrder": 0, "archived": False}],
                custom=True, fully_qualified_name=fqn,
            )
            now = format_ms(self.now_ms())
            for p_body in body.get("properties") or []:
                definition = self._new_property_definition(obj, p_body, g)
                obj.properties[definition["name"]] = definition
            primary = body.get("primaryDisplayProperty")
            if primary and primary not in obj.properties:
                raise _fail(400, f"primaryDisplayProperty {primary!r} is not one of the object's properties")
            for required in body.get("requiredProperties") or []:
                if required not in obj.properties:
                    raise _fail(400, f"requiredProperties: {required!r} is not one of the object's properties")
            obj.schema = {
                "id": type_id.split("-")[1],
                "objectTypeId": type_id,
                "name": name,
                "fullyQualifiedName": fqn,
                "labels": {"singular": labels["singular"], "plural": labels["plural"]},
                "description": body.get("description"),
                "primaryDisplayProperty": primary,
                "secondaryDisplayProperties": list(body.get("secondaryDisplayProperties") or []),
                "requiredProperties": list(body.get("requiredProperties") or []),
                "searchableProperties": list(body.get("searchableProperties") or []),
                "archived": False,
                "createdAt": now,
                "updatedAt": now,
            }
            self._register_type(obj)
            for target in body.get("associatedObjects") or []:
                self._user_assoc_type(obj.name, self._resolve(str(target)).name)
            return self._schema_out(obj)

    def _new_property_definition(self, obj: ObjectType, body: dict[str, Any], group: str) -> dict[str, Any]:
        name, kind = body.get("name"), body.get("type")
        field_type = body.get("fieldType") or DEFAULT_FIELD_TYPES.get(kind or "")
        if not name or kind not in PROPERTY_TYPES or field_type not in FIELD_TYPES:
            raise _fail(400, f"Invalid property definition: {body!r}")
        opts = [{"label": o.get("label", o.get("value")), "value": o.get("value"),
                 "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden", False))}
                for i, o in enumerate(body.get("options") or [])]
        definition = prop(name, body.get("label") or name, kind, field_type, body.get("groupName") or group,
                          opts or None, description=body.get("description") or "", hubspot_defined=False,
                          unique=bool(body.get("hasUniqueValue", False)))
        now = format_ms(self.now_ms())
        definition["createdAt"] = definition["updatedAt"] = now
        return definition

    @route("GET", r"/crm/v3/schemas")
    def list_schemas(self, request: Request) -> Response:
        with self.lock:
            return Response.json({"results": [self._schema_out(o) for o in self._custom_types()]})

    @route("POST", r"/crm/v3/schemas")
    def post_schema(self, request: Request) -> Response:
        return Response.json(self.create_schema(self._body(request) or {}), status=201)

    @route("GET", r"/crm/v3/schemas/(?P<object_type>[^/]+)")
    def get_schema(self, request: Request, object_type: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            if not obj.custom:
                raise _fail(404, f"Unable to find a custom object schema for {object_type}", "OBJECT_NOT_FOUND")
            return Response.json(self._schema_out(obj))

    # The official Python client (v12) calls the same API under /crm-object-schemas/v3/schemas.
    @route("GET", r"/crm-object-schemas/v3/schemas")
    def list_schemas_alias(self, request: Request) -> Response:
        return self.list_schemas(request)

    @route("POST", r"/crm-object-schemas/v3/schemas")
    def post_schema_alias(self, request: Request) -> Response:
        return self.post_schema(request)

    @route("GET", r"/crm-object-schemas/v3/schemas/(?P<object_type>[^/]+)")
    def get_schema_alias(self, request: Request, object_type: str) -> Response:
        return self.get_schema(request, object_type)

    # =====================================================================================
    # owners
    # =====================================================================================
    def add_owner(self, email: str, first_name: str, last_name: str, archived: bool = False,
                  teams: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        with self.lock:
            n = len(self._owners)
            ts = format_ms(seeding.SEED_START + n * 3_600_000)
            owner = {
                "id": str(70_000_000 + n * 137 + 1),
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": 9_000_000 + n * 11 + 1,
                "userIdIncludingInactive": 9_000_000 + n * 11 + 1,
                "createdAt": ts,
                "updatedAt": ts,
                "archived": archived,
                "teams": teams if teams is not None else [
                    {"id": str(400 + n % 3), "name": ["Sales", "Support", "Success"][n % 3], "primary": True}],
            }
            self._owners.append(owner)
            return copy.deepcopy(owner)

    def touch_owners(self, ids: Iterable[str], timestamp_ms: int | None = None, **fields: Any) -> None:
        """Change owners (``fields`` such as ``lastName``) and set their ``updatedAt``."""
        wanted = {str(i) for i in ids}
        with self.lock:
            when = format_ms(timestamp_ms if timestamp_ms is not None else self.now_ms())
            for owner in self._owners:
                if owner["id"] in wanted:
                    owner.update(fields)
                    owner["updatedAt"] = when

    def _owner_scenario(self, change: str, n: int) -> list:
        """Owners change like users do: added, renamed, or many at once (a team import).
        Deactivation has no dated tombstone, so there is no ``delete`` scenario."""
        start = len(self._owners)
        if change in ("create", "burst"):
            created = [self.add_owner(f"owner{start + i}@example.com", f"First{start + i}", f"Last{start + i}")["id"]
                       for i in range(n)]
            self.touch_owners(created, timestamp_ms=self.now_ms() + (1000 if change == "burst" else 0))
            return created
        if change == "update":
            ids = [o["id"] for o in self._owners if not o["archived"]][:n]
            self.touch_owners(ids, lastName="Renamed")
            return ids
        return super().scenario("owners", change, n)

    @route("GET", r"/crm/v3/owners")
    def list_owners(self, request: Request) -> Response:
        with self.lock:
            limit = self._int_arg(request, "limit", 100)
            if limit < 1 or limit > 500:
                raise _fail(400, f"limit must be between 1 and 500; got {limit}")
            archived = self._bool_arg(request, "archived")
            email = request.arg("email")
            owners = [o for o in self._owners if o["archived"] == archived and (not email or o["email"] == email)]
            after = request.arg("after")
            start = 0
            if after:
                start = next((i for i, o in enumerate(owners) if int(o["id"]) >= int(after)), len(owners)) \
                    if after.isdigit() else 0
            page = owners[start:start + limit]
            body: dict[str, Any] = {"results": copy.deepcopy(page)}
            if start + limit < len(owners):
                nxt = owners[start + limit]["id"]
                body["paging"] = {"next": {"after": nxt, "link": self._link("/crm/v3/owners/", {"after": nxt})}}
            return Response.json(body)

    @route("GET", r"/crm/v3/owners/(?P<owner_id>[^/]+)")
    def get_owner(self, request: Request, owner_id: str) -> Response:
        with self.lock:
            id_property = request.arg("idProperty", "id")
            archived = self._bool_arg(request, "archived")
            for o in self._owners:
                key = str(o["userId"]) if id_property == "userId" else o["id"]
                if key == owner_id and o["archived"] == archived:
                    return Response.json(copy.deepcopy(o))
            raise _fail(404, f"Owner {owner_id} not found", "OBJECT_NOT_FOUND")

    # =====================================================================================
    # associations
    # =====================================================================================
    def _add_assoc_type(self, at: AssociationType) -> None:
        self._assoc_types[at.type_id] = at
        self._assoc_by_pair.setdefault((at.from_type, at.to_type), []).append(at)

    def _user_assoc_type(self, a: str, b: str) -> AssociationType:
        existing = self._default_type(a, b, create=False)
        if existing is not None:
            return existing
        fwd, inv = self._next_assoc_type_id, self._next_assoc_type_id + 1
        self._next_assoc_type_id += 2
        self._add_assoc_type(AssociationType(a, b, fwd, inv, None, "USER_DEFINED", True))
        if (b, a) != (a, b):
            self._add_assoc_type(AssociationType(b, a, inv, fwd, None, "USER_DEFINED", True))
        return self._assoc_types[fwd]

    def _default_type(self, a: str, b: str, create: bool = True) -> AssociationType | None:
        for at in self._assoc_by_pair.get((a, b), []):
            if at.is_default:
                return at
        return self._user_assoc_type(a, b) if create else None

    def _v3_type_name(self, type_id: int) -> str:
        at = self._assoc_types[type_id]
        base = f"{self._types[at.from_type].singular}_to_{self._types[at.to_type].singular}"
        labeled = any(o.label for o in self._assoc_by_pair.get((at.from_type, at.to_type), []))
        if at.label is None and labeled:
            return base + "_unlabeled"
        return base

    def _link_records(self, a: str, a_id: int, b: str, b_id: int, type_id: int) -> None:
        at = self._assoc_types[type_id]
        self._assoc.setdefault((a, a_id), {}).setdefault(b, {}).setdefault(b_id, set()).add(type_id)
        self._assoc.setdefault((b, b_id), {}).setdefault(a, {}).setdefault(a_id, set()).add(at.inverse_id)

    def _unlink_records(self, a: str, a_id: int, b: str, b_id: int, type_ids: set[int] | None = None) -> None:
        fwd = self._assoc.get((a, a_id), {}).get(b, {})
        current = fwd.get(b_id, set())
        remove = set(current) if type_ids is None else current & type_ids
        for tid in remove:
            current.discard(tid)
            back = self._assoc.get((b, b_id), {}).get(a, {}).get(a_id)
            if back is not None:
                back.discard(self._assoc_types[tid].inverse_id)
                if not back:
                    del self._assoc[(b, b_id)][a][a_id]
        if b_id in fwd and not fwd[b_id]:
            del fwd[b_id]

    def _spec(self, type_id: int) -> dict[str, Any]:
        at = self._assoc_types[type_id]
        return {"category": at.category, "typeId": at.type_id, "label": at.label}

    def _require(self, obj: ObjectType, raw_id: Any) -> _Record:
        rec = self._get(obj, raw_id)
        if rec is None:
            raise _fail(400, f"No {obj.singular} with id {raw_id} exists", "VALIDATION_ERROR")
        return rec

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/create")
    def v4_batch_create(self, request: Request, from_type: str, to_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            results = []
            planned = []
            for item in self._inputs(body):
                try:
                    from_id, to_id = item["from"]["id"], item["to"]["id"]
                    types = item.get("types") or []
                except (KeyError, TypeError):
                    raise _fail(400, "Invalid input: expected {from:{id}, to:{id}, types:[...]}") from None
                ra, rb = self._require(a, from_id), self._require(b, to_id)
                tids = []
                for t in types:
                    at = self._assoc_types.get(int(t.get("associationTypeId", -1)))
                    if at is None or (at.from_type, at.to_type) != (a.name, b.name):
                        raise _fail(400, f"{t.get('associationTypeId')} is not a valid association type from "
                                         f"{a.name} to {b.name}")
                    tids.append(at.type_id)
                planned.append((ra, rb, tids))
            for ra, rb, tids in planned:
                for tid in tids:
                    self._link_records(a.name, ra.id, b.name, rb.id, tid)
                labels = sorted({self._assoc_types[t].label for t in tids if self._assoc_types[t].label})
                results.append({"fromObjectTypeId": a.object_type_id, "fromObjectId": ra.id,
                                "toObjectTypeId": b.object_type_id, "toObjectId": rb.id, "labels": labels})
            return self._batch(results, started, status=201)

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/associate/default")
    def v4_batch_default(self, request: Request, from_type: str, to_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            at = self._default_type(a.name, b.name)
            results = []
            for item in self._inputs(body):
                ra, rb = self._require(a, item["from"]["id"]), self._require(b, item["to"]["id"])
                self._link_records(a.name, ra.id, b.name, rb.id, at.type_id)
                results.append(self._default_result(at, ra.id, rb.id))
            return self._batch(results, started)

    def _default_result(self, at: AssociationType, a_id: int, b_id: int) -> dict[str, Any]:
        return {"from": {"id": str(a_id)}, "to": {"id": str(b_id)},
                "associationSpec": {"associationCategory": at.category, "associationTypeId": at.type_id}}

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/read")
    def v4_batch_read(self, request: Request, from_type: str, to_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            results, errors = [], []
            for item in self._inputs(body):
                raw = (item or {}).get("id")
                try:
                    rid = int(str(raw))
                except ValueError:
                    rid = -1
                linked = self._assoc.get((a.name, rid), {}).get(b.name, {})
                live = {to_id: tids for to_id, tids in linked.items() if tids}
                if not live:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                                   "message": f"No {b.singular} is associated with {a.singular} {raw}.",
                                   "context": {"fromObjectId": [str(raw)]}})
                    continue
                results.append({"from": {"id": str(rid)},
                                "to": [{"toObjectId": to_id,
                                        "associationTypes": [self._spec(t) for t in sorted(tids)]}
                                       for to_id, tids in sorted(live.items())]})
            return self._batch(results, started, errors)

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/archive")
    def v4_batch_archive(self, request: Request, from_type: str, to_type: str) -> Response:
        body = self._body(request)
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            for item in self._inputs(body):
                try:
                    from_id = int(str(item["from"]["id"]))
                    targets = item.get("to") or []
                except (KeyError, TypeError, ValueError):
                    raise _fail(400, "Invalid input: expected {from:{id}, to:[{id}]}") from None
                for t in targets:
                    self._unlink_records(a.name, from_id, b.name, int(str(t["id"])))
            return Response.empty(204)

    @route("GET", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/labels")
    def v4_labels(self, request: Request, from_type: str, to_type: str) -> Response:
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            types = self._assoc_by_pair.get((a.name, b.name), [])
            return Response.json({"results": [self._spec(at.type_id) for at in sorted(types, key=lambda t: t.type_id)]})

    @route("PUT", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations/default/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)")
    def v4_put_default(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            ra, rb = self._require(a, from_id), self._require(b, to_id)
            at = self._default_type(a.name, b.name)
            self._link_records(a.name, ra.id, b.name, rb.id, at.type_id)
            inverse = self._assoc_types[at.inverse_id]
            return self._batch([self._default_result(at, ra.id, rb.id),
                                self._default_result(inverse, rb.id, ra.id)], started)

    @route("PUT", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)")
    def v4_put_labeled(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        body = self._body(request) or []
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            ra, rb = self._require(a, from_id), self._require(b, to_id)
            tids = []
            for t in body if isinstance(body, list) else []:
                at = self._assoc_types.get(int(t.get("associationTypeId", -1)))
                if at is None or (at.from_type, at.to_type) != (a.name, b.name):
                    raise _fail(400, f"{t.get('associationTypeId')} is not a valid association type")
                tids.append(at.type_id)
            for tid in tids:
                self._link_records(a.name, ra.id, b.name, rb.id, tid)
            labels = sorted({self._assoc_types[t].label for t in tids if self._assoc_types[t].label})
            return Response.json({"fromObjectTypeId": a.object_type_id, "fromObjectId": ra.id,
                                  "toObjectTypeId": b.object_type_id, "toObjectId": rb.id, "labels": labels},
                                 status=201)

    @route("DELETE", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)")
    def v4_delete(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            try:
                self._unlink_records(a.name, int(from_id), b.name, int(to_id))
            except ValueError:
                pass
            return Response.empty(204)

    @route("GET", r"/crm/v4/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)/associations/(?P<to_type>[^/]+)")
    def v4_list(self, request: Request, object_type: str, object_id: str, to_type: str) -> Response:
        with self.lock:
            a, b = self._resolve(object_type), self._resolve(to_type)
            limit = self._int_arg(request, "limit", 500)
            if limit < 1 or limit > 500:
                raise _fail(400, f"limit must be between 1 and 500; got {limit}")
            try:
                rid = int(object_id)
            except ValueError:
                rid = -1
            linked = sorted((k, v) for k, v in self._assoc.get((a.name, rid), {}).get(b.name, {}).items() if v)
            after = request.arg("after")
            if after:
                linked = [(k, v) for k, v in linked if k >= int(after)]
            page = linked[:limit]
            body: dict[str, Any] = {"results": [{"toObjectId": k, "associationTypes": [self._spec(t) for t in sorted(v)]}
                                                for k, v in page]}
            if len(linked) > limit:
                nxt = str(linked[limit][0])
                body["paging"] = {"next": {"after": nxt, "link": self._link(request.path, {"after": nxt})}}
            return Response.json(body)

    # =====================================================================================
    # scenario helpers (Python API for tests)
    # =====================================================================================
    def _seed(self, n: int) -> None:
        rng = random.Random("hubspot-sandbox-owners")
        for i in range(n):
            first, last = rng.choice(seeding.FIRST_NAMES), rng.choice(seeding.LAST_NAMES)
            local = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and (c.isalnum() or c == "."))
            self.add_owner(f"{local}{i}@sandbox-portal.example.com", first, last)
        owner_ids = [o["id"] for o in self._owners]
        ids: dict[str, list[int]] = {}
        for obj in list(self._types.values()):
            if obj.custom:
                continue
            rng = random.Random(f"hubspot-sandbox:{obj.name}")
            created_ids = []
            for i in range(n):
                values = seeding.record_values(obj, rng, i, owner_ids)
                created = rng.randrange(seeding.SEED_START, seeding.SEED_END - 30 * seeding.DAY)
                updated = created + rng.randrange(0, 30 * seeding.DAY)
                rec = self._raw_create(obj, values, created, updated)
                created_ids.append(rec.id)
            ids[obj.name] = created_ids
        rng = random.Random("hubspot-sandbox-associations")
        contacts, companies, deals, tickets = (ids["contacts"], ids["companies"], ids["deals"], ids["tickets"])
        for i, cid in enumerate(contacts):
            company = companies[i % len(companies)]
            self._link_records("contacts", cid, "companies", company, 279)
            self._link_records("contacts", cid, "companies", company, 1)
        for i, did in enumerate(deals):
            self._link_records("deals", did, "companies", companies[rng.randrange(len(companies))], 341)
            for cid in rng.sample(contacts, k=min(len(contacts), 1 + i % 2)):
                self._link_records("deals", did, "contacts", cid, 3)
            if ids["line_items"]:
                self._link_records("deals", did, "line_items", ids["line_items"][i % len(ids["line_items"])], 19)
        for i, tid in enumerate(tickets):
            self._link_records("tickets", tid, "contacts", contacts[rng.randrange(len(contacts))], 16)
            self._link_records("tickets", tid, "companies", companies[rng.randrange(len(companies))], 339)
        engagement_types = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202, "tasks": 204}
        for name, type_id in engagement_types.items():
            for eid in ids[name]:
                self._link_records(name, eid, "contacts", contacts[rng.randrange(len(contacts))], type_id)
        products = ids["products"]
        for i, lid in enumerate(ids["line_items"]):
            store = self._stores["line_items"]
            rec = store.records[lid]
            rec.props = {**rec.props, "hs_product_id": str(products[i % len(products)])}
            self._index_put(store, rec, immediate=True)

    def _raw_create(self, obj: ObjectType, values: dict[str, Any], created: int, updated: int) -> _Record:
        """Create without validation or clock (seeding)."""
        store = self._stores[obj.name]
        rid = self._new_id()
        props = {k: v for k, v in values.items() if v is not None}
        props["hs_object_id"] = str(rid)
        props[obj.created_property] = format_ms(created)
        props[obj.cursor_property] = format_ms(updated)
        rec = _Record(rid, props, created, updated)
        store.records[rid] = rec
        store.ids.append(rid)
        self._index_put(store, rec, immediate=True)
        return rec

    def create_record(self, object_type: str, properties: dict[str, Any] | None = None,
                      timestamp_ms: int | None = None) -> str:
        """Create one record as the API would (validated); returns its id."""
        with self.lock:
            obj = self._resolve(object_type)
            return str(self._create(obj, properties or {}, ts=timestamp_ms).id)

    def seed_burst(self, object_type: str, count: int, timestamp_ms: int | None = None,
                   properties: dict[str, Any] | None = None) -> list[str]:
        """Create ``count`` records that all share one createdAt/updatedAt/lastmodified
        timestamp (a bulk import); returns their ids. Visible to search immediately unless a
        search index delay is set."""
        with self.lock:
            obj = self._resolve(object_type)
            ts = self.now_ms() if timestamp_ms is None else int(timestamp_ms)
            extra = self._validate(obj, properties, creating=True) if properties else {}
            rng = random.Random(f"hubspot-sandbox-burst:{obj.name}:{ts}:{count}")
            owner_ids = [o["id"] for o in self._owners]
            store = self._stores[obj.name]
            stamp = format_ms(ts)
            out = []
            immediate = self.search_index_delay <= 0 and not store.pending
            for i in range(count):
                values = seeding.record_values(obj, rng, len(store.ids) + i, owner_ids)
                values.update(extra)
                rid = self._new_id()
                props = {k: v for k, v in values.items() if v is not None}
                props["hs_object_id"] = str(rid)
                props[obj.created_property] = stamp
                props[obj.cursor_property] = stamp
                rec = _Record(rid, props, ts, ts)
                store.records[rid] = rec
                store.ids.append(rid)
                if immediate:
                    store.set_index(rid, (props, ts, ts))
                else:
                    self._index_put(store, rec)
                out.append(str(rid))
            store.index_version += 1
            return out

    def update_records(self, object_type: str, ids: Iterable[Any], properties: dict[str, Any] | None = None,
                       timestamp_ms: int | None = None) -> None:
        """Update records as the API would: bumps updatedAt and the lastmodified property (to
        ``timestamp_ms`` if given, else the clock, strictly later than before)."""
        with self.lock:
            obj = self._resolve(object_type)
            props = self._validate(obj, properties or {}, creating=False)
            for raw in ids:
                rec = self._get(obj, raw)
                if rec is None:
                    raise KeyError(f"no active {obj.name} record {raw}")
                self._update(obj, rec, props, ts=timestamp_ms, validated=True)

    def archive_records(self, object_type: str, ids: Iterable[Any], timestamp_ms: int | None = None) -> None:
        """Archive (soft-delete) records; their lastmodified/updatedAt do not change."""
        with self.lock:
            obj = self._resolve(object_type)
            for raw in ids:
                rec = self._get(obj, raw, archived=None)
                if rec is None:
                    raise KeyError(f"no {obj.name} record {raw}")
                self._archive(obj, rec, timestamp_ms)

    def add_property(self, object_type: str, name: str, type: str = "string", field_type: str | None = None,
                     label: str | None = None, options: list[dict[str, Any]] | None = None,
                     group_name: str | None = None) -> dict[str, Any]:
        """Add a custom property to an object type (as ``POST /crm/v3/properties`` would)."""
        with self.lock:
            obj = self._resolve(object_type)
            body = {"name": name, "type": type, "fieldType": field_type or DEFAULT_FIELD_TYPES.get(type),
                    "label": label or name, "options": options or [], "groupName": group_name}
            return copy.deepcopy(self._new_property(obj, body))

    def associate(self, from_type: str, from_id: Any, to_type: str, to_id: Any, type_id: int | None = None) -> None:
        """Associate two records (both directions); default type unless ``type_id``."""
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            ra, rb = self._require(a, from_id), self._require(b, to_id)
            at = self._assoc_types[type_id] if type_id is not None else self._default_type(a.name, b.name)
            self._link_records(a.name, ra.id, b.name, rb.id, at.type_id)

    def record_count(self, object_type: str, archived: bool = False) -> int:
        with self.lock:
            store = self._store(object_type)
            return sum(1 for r in store.records.values() if r.archived == archived)

    def record_ids(self, object_type: str, archived: bool = False) -> list[str]:
        with self.lock:
            store = self._store(object_type)
            return [str(i) for i in store.ids if store.records[i].archived == archived]

    def get_record(self, object_type: str, record_id: Any) -> dict[str, Any]:
        """The full stored record (all properties) as the API would render it."""
        with self.lock:
            obj = self._resolve(object_type)
            rec = self._get(obj, record_id, archived=None)
            if rec is None:
                raise KeyError(f"no {obj.name} record {record_id}")
            return self._render_record(obj, rec, None)

    def property_names(self, object_type: str) -> list[str]:
        with self.lock:
            return list(self._resolve(object_type).properties)

    def cursor_property(self, object_type: str) -> str:
        return self._resolve(object_type).cursor_property
