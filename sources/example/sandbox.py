"""``ExampleSandbox``: the fictional "shop" REST API the ``example`` connector reads.

A real HTTP server on loopback (built on :class:`~sources.toolkit.sandbox.server.SandboxServer`)
with deterministic seeded data, bearer-token auth, keyset filters, page limits, tombstones
for deleted orders, write endpoints and scenario helpers for tests::

    with ExampleSandbox(token="t", seed=0) as sandbox:
        options = sandbox.connection_options()      # {"base_url": ..., "access_token": "t"}
        sandbox.add_records("customers", 5)         # five new customers, updated_at = now
        sandbox.set_fixed_timestamp("2030-01-01T00:00:00.000Z")   # next writes tie
        sandbox.inject(Fault(status=429, retry_after=0.1), endpoint="GET /api/v1/{table}")

The data deliberately mixes wire encodings so that the runtime's converter is exercised:
money is a decimal *string* (``"12.50"``), customers' timestamps are ISO-8601 with
milliseconds and ``Z``, orders' timestamps carry either ``Z`` or a ``+02:00`` offset (they
are compared as instants), and events' ``occurred_at`` is epoch milliseconds (an integer).

Standalone: ``ExampleSandbox(token="T", port=8765).serve_forever()`` or
``python -m sources.example.sandbox --port 8765 --token T``.
"""

from __future__ import annotations

import argparse
import copy
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sources.toolkit.sandbox.server import Request, Response, SandboxError, SandboxServer, route
from sources.toolkit.sandbox.truth import TableTruth

UTC = timezone.utc
PLUS2 = timezone(timedelta(hours=2))

TABLES = ("products", "customers", "orders", "events")
#: Primary key of each table.
ID_FIELD = {"products": "product_id", "customers": "customer_id", "orders": "order_id", "events": "event_id"}
#: Field the records are ordered and filtered by (``None``: by id only).
CURSOR_FIELD = {"products": None, "customers": "updated_at", "orders": "updated_at", "events": "event_id"}
#: ``updated_at`` shared by a group of seeded customers (a tie on the cursor).
CUSTOMER_TIE_TIMESTAMP = "2024-06-15T12:00:00.000Z"
#: Instant shared by a group of seeded orders, half of them written with a ``+02:00`` offset.
ORDER_TIE_INSTANT = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)

_ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Ergonomic", "Mini", "Pro", "Rustic", "Smart", "Ultra"]
_NOUNS = ["Backpack", "Bottle", "Chair", "Desk Lamp", "Headphones", "Kettle", "Mug", "Notebook", "Speaker", "Umbrella"]
_TAGS = ["new", "sale", "bestseller", "eco", "gift", "limited", "outdoor", "office"]
_COLORS = ["black", "white", "red", "green", "blue", "grey"]
_FIRST = ["Ada", "Ben", "Chloé", "Dmitri", "Eva", "Farah", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena", "Mateo", "Noor", "Olga", "Pablo"]
_LAST = ["Adams", "Brown", "Chen", "Dubois", "Evans", "Fischer", "García", "Haddad", "Ito", "Jensen", "Kowalski", "López"]
_TIERS = ["free", "pro", "enterprise"]
_STREETS = ["1 Main St", "22 Rue de Rivoli", "5 Königstraße", "77 Harbour Rd", "9 Calle Mayor", "410 Pine Ave"]
_CITIES = [("Springfield", "US"), ("Paris", "FR"), ("Berlin", "DE"), ("Sydney", "AU"), ("Madrid", "ES"), ("Toronto", "CA")]
_STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
_META_KEYS = ["channel", "coupon", "gift_note", "utm_source", "warehouse"]
_EVENT_TYPES = ["page_view", "add_to_cart", "checkout", "purchase", "refund"]
_SOURCES = ["web", "ios", "android", "api"]

# Fields a client may send when creating/updating, per table (everything else is server-owned).
_WRITABLE = {
    "customers": {"email", "name", "tier", "credit_limit", "address"},
    "orders": {"customer_id", "status", "total", "items", "metadata"},
    "events": {"customer_id", "type", "payload", "occurred_at"},
}


def _error(status: int, error: str, message: str) -> SandboxError:
    return SandboxError(Response.json({"error": error, "message": message}, status=status))


def _bad_request(message: str) -> SandboxError:
    return _error(400, "invalid_request", message)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _iso_ms_z(instant: datetime) -> str:
    """``2024-05-01T10:00:00.123Z``."""
    instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _iso_order(instant: datetime, tz: timezone) -> str:
    """Orders' encoding: ``Z`` or ``+02:00``; milliseconds only when non-zero."""
    local = instant.astimezone(tz)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond // 1000:03d}"
    return text + ("Z" if tz is UTC else local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:])


def parse_instant(value: Any) -> datetime:
    """An ISO-8601 timestamp (``Z`` or offset; a space where ``+`` was mis-encoded) as an
    aware UTC datetime; raises ``ValueError`` otherwise."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {value!r}")
    return parsed.astimezone(UTC)


def _epoch_ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


class ExampleSandbox(SandboxServer):
    """The example "shop" API on ``127.0.0.1`` (see ``sources/example/example_api_doc.md``).

    Args:
        token: the bearer token every request must carry.
        seed: seeds :class:`random.Random`; the same seed gives the same data.
        host, port, latency: as :class:`SandboxServer` (port 0: a free port).
        page_size_max: the largest ``page_size`` accepted (larger → HTTP 400).
        event_count: number of seeded ``events`` (ids ``1..event_count``).
    """

    name = "example"

    def __init__(
        self,
        token: str = "example-token",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        page_size_max: int = 500,
        event_count: int = 5000,
    ):
        super().__init__(host=host, port=port, latency=latency)
        self.token = token
        self.seed = seed
        self.page_size_max = page_size_max
        self.default_page_size = min(100, page_size_max)
        self._rng = random.Random(seed)
        self._rows: dict[str, dict[int, dict]] = {t: {} for t in TABLES}
        self._tombstones: dict[str, dict[int, dict]] = {t: {} for t in TABLES}
        self._order_tz: dict[int, timezone] = {}
        self._sorted: dict[str, list | None] = {}
        self._next_id: dict[str, int] = {}
        self._last_now = datetime(2000, 1, 1, tzinfo=UTC)
        self._fixed_now: datetime | None = None
        self._email_index: set | None = None
        with self.lock:
            self._seed_data(event_count)

    def connection_options(self) -> dict[str, str]:
        return {"base_url": self.url, "access_token": self.token}

    # ================================================================ seeded data
    def _seed_data(self, event_count: int) -> None:
        rng = self._rng
        for pid in range(1, 41):
            self._rows["products"][pid] = {
                "product_id": pid,
                "name": f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
                "price": _money(rng.randint(199, 49999)),
                "tags": rng.sample(_TAGS, rng.randint(0, 3)),
                "attributes": None if pid % 7 == 0 else {
                    "color": rng.choice(_COLORS), "weight_kg": round(rng.uniform(0.05, 25.0), 3)},
                "active": rng.random() > 0.2,
                "launched_on": (date(2023, 1, 1) + timedelta(days=rng.randint(0, 500))).isoformat(),
            }

        base = datetime(2024, 1, 1, tzinfo=UTC)
        tie_ids = set(rng.sample(range(1, 301), 60))
        for cid in range(1, 301):
            created = base + timedelta(hours=12 * cid, milliseconds=rng.randint(0, 3_599_999))
            if cid in tie_ids:
                updated = CUSTOMER_TIE_TIMESTAMP
            else:
                updated = _iso_ms_z(created + timedelta(milliseconds=rng.randint(0, 120 * 86_400_000)))
            city, country = rng.choice(_CITIES)
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            self._rows["customers"][cid] = {
                "customer_id": cid,
                "email": f"{first.lower()}.{last.lower()}.{cid}@example.com",
                "name": f"{first} {last}",
                "tier": rng.choice(_TIERS),
                "credit_limit": "1500.75" if cid == 1 else _money(rng.choice([0, rng.randint(1, 2_000_000)])),
                "address": None if cid % 9 == 0 else {"street": rng.choice(_STREETS), "city": city, "country": country},
                "created_at": _iso_ms_z(created),
                "updated_at": updated,
            }

        prices = {pid: p["price"] for pid, p in self._rows["products"].items()}
        order_base = datetime(2024, 2, 1, tzinfo=UTC)
        tie_orders = set(rng.sample(range(1, 521), 12))
        for oid in range(1, 521):
            items = []
            for _ in range(rng.randint(1, 4)):
                pid = rng.randint(1, 40)
                items.append({"sku": f"SKU-{pid:04d}", "quantity": rng.randint(1, 5), "unit_price": prices[pid]})
            if oid in tie_orders:
                instant = ORDER_TIE_INSTANT
            else:
                instant = order_base + timedelta(seconds=rng.randint(0, 120 * 86_400))
            tz = PLUS2 if oid % 2 == 0 else UTC
            self._order_tz[oid] = tz
            self._rows["orders"][oid] = {
                "order_id": oid,
                "customer_id": rng.randint(1, 300),
                "status": rng.choice(_STATUSES),
                "total": self._order_total(items),
                "items": items,
                "metadata": {k: f"{k}-{rng.randint(1, 99)}" for k in rng.sample(_META_KEYS, rng.randint(0, 3))},
                "updated_at": _iso_order(instant, tz),
            }
        # Twenty orders were deleted before the sandbox started: tombstones from day one.
        for oid in sorted(rng.sample(range(1, 521), 20)):
            order = self._rows["orders"].pop(oid)
            deleted = parse_instant(order["updated_at"]) + timedelta(hours=rng.randint(1, 240), milliseconds=rng.randint(0, 999))
            self._tombstones["orders"][oid] = {"order_id": oid, "deleted_at": _iso_ms_z(deleted)}

        event_base = datetime(2024, 1, 1, tzinfo=UTC)
        for eid in range(1, event_count + 1):
            occurred = event_base + timedelta(seconds=60 * eid, milliseconds=rng.randint(0, 59_999))
            self._rows["events"][eid] = {
                "event_id": eid,
                "customer_id": rng.randint(1, 300),
                "type": rng.choice(_EVENT_TYPES),
                "payload": None if eid % 50 == 0 else {"source": rng.choice(_SOURCES), "value": round(rng.uniform(0, 500), 2)},
                "occurred_at": _epoch_ms(occurred),
            }
        for table in TABLES:
            self._next_id[table] = max([0, *self._rows[table], *self._tombstones[table]]) + 1
            self._sorted[table] = None

    @staticmethod
    def _order_total(items: list[dict]) -> str:
        total = sum((Decimal(i["unit_price"]) * int(i["quantity"]) for i in items), Decimal("0"))
        return str(total.quantize(Decimal("0.01")))

    # ================================================================ ordering
    def _key(self, table: str, record: dict) -> tuple:
        """The (cursor, id) sort key; timestamps compare as instants."""
        rid = record[ID_FIELD[table]]
        if table in ("customers", "orders"):
            return (parse_instant(record["updated_at"]), rid)
        return (rid, rid)  # events: cursor is event_id; products: by id

    def _sorted_rows(self, table: str) -> list[tuple[tuple, dict]]:
        cached = self._sorted.get(table)
        if cached is None:
            cached = sorted(((self._key(table, r), r) for r in self._rows[table].values()), key=lambda kr: kr[0])
            self._sorted[table] = cached
        return cached

    def _sorted_tombstones(self, table: str) -> list[tuple[tuple, dict]]:
        rows = self._tombstones[table].values()
        return sorted((((parse_instant(t["deleted_at"]), t[ID_FIELD[table]]), t) for t in rows), key=lambda kr: kr[0])

    def _touch(self, table: str) -> None:
        self._sorted[table] = None

    # ================================================================ clock
    def _now(self) -> datetime:
        """The write timestamp: the fixed one if set, else wall-clock UTC in milliseconds,
        strictly increasing across writes."""
        if self._fixed_now is not None:
            return self._fixed_now
        now = datetime.now(UTC)
        now = now.replace(microsecond=(now.microsecond // 1000) * 1000)
        if now <= self._last_now:
            now = self._last_now + timedelta(milliseconds=1)
        self._last_now = now
        return now

    def _stamp(self, table: str, record: dict, now: datetime) -> None:
        if table == "customers":
            record["updated_at"] = _iso_ms_z(now)
        elif table == "orders":
            record["updated_at"] = _iso_order(now, self._order_tz.get(record["order_id"], UTC))

    # ================================================================ auth
    def authenticate(self, request: Request) -> Response | None:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or value.strip() != self.token:
            return Response.json({"error": "unauthorized", "message": "missing or invalid bearer token"}, status=401)
        return None

    # ================================================================ request parsing
    def _table(self, table: str) -> str:
        if table not in TABLES:
            raise _error(404, "not_found", f"unknown table '{table}'")
        return table

    @staticmethod
    def _int_arg(request: Request, name: str, default: int | None = None) -> int | None:
        try:
            return request.int_arg(name, default)
        except ValueError as exc:
            raise _bad_request(str(exc)) from None

    def _cursor_arg(self, table: str, request: Request, name: str, deleted: bool) -> Any:
        raw = request.arg(name)
        if raw is None or raw == "":
            return None
        if table == "products" and not deleted:
            raise _bad_request(f"{name} is not supported: products has no cursor (page through it)")
        if table == "events" and not deleted:
            try:
                return int(raw)
            except ValueError:
                raise _bad_request(f"{name} must be an integer event_id for events, got {raw!r}") from None
        try:
            return parse_instant(raw)
        except ValueError:
            raise _bad_request(f"{name} must be an ISO-8601 timestamp with a zone, got {raw!r}") from None

    def _page_args(self, request: Request) -> tuple[int, int]:
        page_size = self._int_arg(request, "page_size", self.default_page_size)
        page = self._int_arg(request, "page", 1)
        if page_size > self.page_size_max:
            raise _bad_request(f"page_size must be ≤ {self.page_size_max}")
        if page_size < 1:
            raise _bad_request("page_size must be ≥ 1")
        if page < 1:
            raise _bad_request("page must be ≥ 1")
        return page_size, page

    def _listing(self, table: str, request: Request, rows: list[tuple[tuple, dict]], deleted: bool) -> Response:
        page_size, page = self._page_args(request)
        since_cursor = self._cursor_arg(table, request, "since_cursor", deleted)
        until_cursor = self._cursor_arg(table, request, "until_cursor", deleted)
        since_id = self._int_arg(request, "since_id")
        selected = []
        for (cursor, rid), record in rows:
            if since_cursor is not None:
                if since_id is not None:
                    if (cursor, rid) <= (since_cursor, since_id):
                        continue
                elif cursor <= since_cursor:
                    continue
            elif since_id is not None and rid <= since_id:
                continue
            if until_cursor is not None and cursor > until_cursor:
                continue
            selected.append(record)
        start = (page - 1) * page_size
        data = copy.deepcopy(selected[start:start + page_size])
        return Response.json({
            "data": data, "page": page, "page_size": page_size,
            "total": len(selected), "has_more": start + page_size < len(selected),
        })

    # ================================================================ read endpoints
    @route("GET", r"/api/v1/(?P<table>[^/]+)")
    def list_records(self, request: Request, table: str) -> Response:
        with self.lock:
            table = self._table(table)
            return self._listing(table, request, self._sorted_rows(table), deleted=False)

    @route("GET", r"/api/v1/(?P<table>[^/]+)/deleted")
    def list_deleted(self, request: Request, table: str) -> Response:
        with self.lock:
            table = self._table(table)
            return self._listing(table, request, self._sorted_tombstones(table), deleted=True)

    @route("GET", r"/api/v1/(?P<table>[^/]+)/stats")
    def stats(self, request: Request, table: str) -> Response:
        with self.lock:
            table = self._table(table)
            rows = self._sorted_rows(table)
            ids = list(self._rows[table])
            cursor_field = CURSOR_FIELD[table]
            return Response.json({
                "count": len(ids),
                "min_id": min(ids) if ids else None,
                "max_id": max(ids) if ids else None,
                "max_cursor": rows[-1][1][cursor_field] if rows and cursor_field else None,
            })

    @route("GET", r"/api/v1/(?P<table>[^/]+)/(?P<record_id>\d+)")
    def get_record(self, request: Request, table: str, record_id: str) -> Response:
        with self.lock:
            table = self._table(table)
            record = self._rows[table].get(int(record_id))
            if record is None:
                raise _error(404, "not_found", f"no {table} record with id {record_id}")
            return Response.json(copy.deepcopy(record))

    # ================================================================ write endpoints
    def _writable(self, table: str, method: str) -> None:
        if table == "products":
            raise _error(405, "method_not_allowed", "products is read-only")
        if table == "events" and method != "POST":
            raise _error(405, "method_not_allowed", "events is append-only: only POST is allowed")

    @route("POST", r"/api/v1/(?P<table>[^/]+)")
    def create(self, request: Request, table: str) -> Response:
        with self.lock:
            table = self._table(table)
            self._writable(table, "POST")
            return Response.json(self._create(table, self._body(request)), status=201)

    @route("PATCH", r"/api/v1/(?P<table>[^/]+)/(?P<record_id>\d+)")
    def update(self, request: Request, table: str, record_id: str) -> Response:
        with self.lock:
            table = self._table(table)
            self._writable(table, "PATCH")
            return Response.json(self._update(table, int(record_id), self._body(request)))

    @route("DELETE", r"/api/v1/(?P<table>[^/]+)/(?P<record_id>\d+)")
    def delete(self, request: Request, table: str, record_id: str) -> Response:
        with self.lock:
            table = self._table(table)
            self._writable(table, "DELETE")
            self._delete(table, int(record_id))
            return Response.empty(204)

    @staticmethod
    def _body(request: Request) -> dict:
        try:
            body = request.json()
        except ValueError:
            raise _bad_request("the body must be a JSON object") from None
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise _bad_request("the body must be a JSON object")
        return body

    def _validate(self, table: str, body: dict, creating: bool) -> dict:
        unknown = sorted(set(body) - _WRITABLE[table])
        if unknown:
            raise _bad_request(f"unknown or read-only field(s) for {table}: {', '.join(unknown)}")
        clean: dict[str, Any] = {}
        for name, value in body.items():
            clean[name] = self._check_field(table, name, value)
        if creating:
            required = {"customers": ["email"], "orders": ["customer_id"], "events": ["type"]}[table]
            missing = [f for f in required if clean.get(f) is None]
            if missing:
                raise _bad_request(f"missing required field(s) for {table}: {', '.join(missing)}")
        if table == "customers" and clean.get("email") is not None and clean["email"] in self._emails():
            raise _error(409, "conflict", f"a customer with email {clean['email']!r} already exists")
        return clean

    @staticmethod
    def _decimal(name: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _bad_request(f"{name} must be a decimal string such as \"12.50\"")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise _bad_request(f"{name} must be a decimal string such as \"12.50\", got {value!r}") from None
        if not number.is_finite():
            raise _bad_request(f"{name} must be finite")
        return str(number.quantize(Decimal("0.01")))

    def _check_field(self, table: str, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in ("credit_limit", "total"):
            return self._decimal(name, value)
        if name in ("customer_id", "occurred_at"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad_request(f"{name} must be an integer")
            return value
        if name in ("email", "name", "tier", "status", "type"):
            if not isinstance(value, str):
                raise _bad_request(f"{name} must be a string")
            return value
        if name == "address":
            if not isinstance(value, dict) or set(value) - {"street", "city", "country"}:
                raise _bad_request("address must be an object with street, city, country")
            return {k: value.get(k) for k in ("street", "city", "country")}
        if name == "metadata":
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise _bad_request("metadata must be an object of string keys to string values")
            return dict(value)
        if name == "payload":
            if not isinstance(value, dict) or set(value) - {"source", "value"}:
                raise _bad_request("payload must be an object with source and value")
            number = value.get("value")
            return {"source": value.get("source"), "value": None if number is None else float(number)}
        if name == "items":
            if not isinstance(value, list):
                raise _bad_request("items must be a list")
            items = []
            for item in value:
                if not isinstance(item, dict) or not {"sku", "quantity", "unit_price"} <= set(item):
                    raise _bad_request("each item needs sku, quantity and unit_price")
                items.append({"sku": str(item["sku"]), "quantity": int(item["quantity"]),
                              "unit_price": self._decimal("unit_price", item["unit_price"])})
            return items
        return value

    def _emails(self) -> set:
        """Customers' e-mails, kept up to date by writes (uniqueness checks stay O(1))."""
        if self._email_index is None:
            self._email_index = {r["email"] for r in self._rows["customers"].values()}
        return self._email_index

    def _create(self, table: str, body: dict) -> dict:
        clean = self._validate(table, body, creating=True)
        rid = self._next_id[table]
        self._next_id[table] = rid + 1
        now = self._now()
        if table == "customers":
            record = {"customer_id": rid, "email": clean["email"], "name": clean.get("name"),
                      "tier": clean.get("tier") or "free", "credit_limit": clean.get("credit_limit") or "0.00",
                      "address": clean.get("address"), "created_at": _iso_ms_z(now), "updated_at": None}
        elif table == "orders":
            items = clean.get("items") or []
            self._order_tz[rid] = PLUS2 if rid % 2 == 0 else UTC
            record = {"order_id": rid, "customer_id": clean["customer_id"], "status": clean.get("status") or "pending",
                      "total": clean.get("total") or self._order_total(items), "items": items,
                      "metadata": clean.get("metadata") or {}, "updated_at": None}
        else:  # events
            record = {"event_id": rid, "customer_id": clean.get("customer_id"), "type": clean["type"],
                      "payload": clean.get("payload"),
                      "occurred_at": clean.get("occurred_at") if clean.get("occurred_at") is not None else _epoch_ms(now)}
        self._stamp(table, record, now)
        self._rows[table][rid] = record
        if table == "customers":
            self._emails().add(record["email"])
        self._touch(table)
        return copy.deepcopy(record)

    def _update(self, table: str, rid: int, body: dict) -> dict:
        record = self._rows[table].get(rid)
        if record is None:
            raise _error(404, "not_found", f"no {table} record with id {rid}")
        if table == "customers" and body.get("email") == record["email"]:
            body = {k: v for k, v in body.items() if k != "email"}
        clean = self._validate(table, body, creating=False)
        if table == "customers" and "email" in clean:
            self._emails().discard(record["email"])
            self._emails().add(clean["email"])
        record.update(clean)
        self._stamp(table, record, self._now())
        self._touch(table)
        return copy.deepcopy(record)

    def _delete(self, table: str, rid: int) -> dict:
        record = self._rows[table].pop(rid, None)
        if record is None:
            raise _error(404, "not_found", f"no {table} record with id {rid}")
        if table == "customers":
            self._emails().discard(record["email"])
        self._touch(table)
        if table == "orders":
            self._tombstones[table][rid] = {"order_id": rid, "deleted_at": _iso_ms_z(self._now())}
            return copy.deepcopy(self._tombstones[table][rid])
        return copy.deepcopy(record)

    # ================================================================ scenario helpers
    def records(self, table: str) -> list[dict]:
        """Copies of the live records of ``table`` in (cursor, id) order."""
        with self.lock:
            return copy.deepcopy([r for _, r in self._sorted_rows(self._table_or_value_error(table))])

    def tombstones(self, table: str = "orders") -> list[dict]:
        """Copies of the tombstones of ``table`` in (deleted_at, id) order."""
        with self.lock:
            return copy.deepcopy([t for _, t in self._sorted_tombstones(self._table_or_value_error(table))])

    def add_records(self, table: str, n: int) -> list[dict]:
        """Create ``n`` generated records (as POST would; any table, products included) and
        return copies of them."""
        with self.lock:
            table = self._table_or_value_error(table)
            created = []
            for _ in range(n):
                if table == "products":
                    created.append(self._add_product())
                else:
                    created.append(self._create(table, self._generated(table)))
            return created

    def update_records(self, table: str, ids) -> list[dict]:
        """Bump ``updated_at`` (and change a field) of the given customers or orders."""
        with self.lock:
            table = self._table_or_value_error(table)
            if table not in ("customers", "orders"):
                raise ValueError(f"{table} records cannot be updated (only customers and orders)")
            out = []
            for rid in ids:
                body = ({"tier": self._rng.choice(_TIERS)} if table == "customers"
                        else {"status": self._rng.choice(_STATUSES)})
                out.append(self._update(table, int(rid), body))
            return out

    def delete_records(self, table: str, ids) -> list[dict]:
        """Delete records (orders leave tombstones, which are returned); products/events
        may be deleted here too, for snapshot tests."""
        with self.lock:
            table = self._table_or_value_error(table)
            return [self._delete(table, int(rid)) for rid in ids]

    def set_fixed_timestamp(self, value: str | datetime | None) -> None:
        """Make every following write use exactly ``value`` (ISO-8601 with a zone, or an
        aware datetime) as its timestamp, creating ties on the cursor; ``None`` restores
        the strictly increasing clock."""
        with self.lock:
            if value is None:
                self._fixed_now = None
            else:
                instant = parse_instant(value) if isinstance(value, str) else value.astimezone(UTC)
                self._fixed_now = instant.replace(microsecond=(instant.microsecond // 1000) * 1000)
                self._last_now = max(self._last_now, self._fixed_now)

    def truth_tables(self) -> list[str]:
        return list(TABLES)

    def truth(self, table: str) -> TableTruth:
        with self.lock:
            table = self._table_or_value_error(table)
            records = [r for _, r in self._sorted_rows(table)]
            deleted = [(t, t["deleted_at"]) for _, t in self._sorted_tombstones(table)]
            return TableTruth.of(table, [ID_FIELD[table]], CURSOR_FIELD[table], copy.deepcopy(records), deleted)

    def scenario(self, table: str, change: str, n: int) -> list:
        table = self._table_or_value_error(table)
        if change == "create":
            return self.add_records(table, n)
        if change == "update" and table in ("customers", "orders"):
            ids = [r[ID_FIELD[table]] for r in self.records(table)][:n]
            return self.update_records(table, ids)
        if change == "delete" and table == "orders":  # the only table whose deletes are listed
            ids = [r[ID_FIELD[table]] for r in self.records(table)][-n:]
            return self.delete_records(table, ids)
        if change in ("burst", "tie") and table in ("customers", "orders"):  # a bulk import: new ids, one instant
            with self.lock:
                self.set_fixed_timestamp(self._now() + timedelta(seconds=1) if change == "burst"
                                         else self.truth(table).newest())
                try:
                    return self.add_records(table, n)
                finally:
                    self.set_fixed_timestamp(None)
        if change == "tie_update":
            raise NotImplementedError("the example API stamps every write strictly later than all before it, so an "
                                      "update never lands on an existing updated_at")
        if change == "tie" and table == "events":
            raise NotImplementedError("events are ordered by event_id, which no two events share: there is no tie to make")
        return super().scenario(table, change, n)

    def describe(self) -> str:
        with self.lock:
            held = ", ".join(f"{len(self._rows[t]):,} {t}" for t in TABLES)
            return f"{held}, {len(self._tombstones['orders']):,} deleted orders"

    def demo_changes(self) -> str:
        with self.lock:
            customers = sorted(self._rows["customers"])[:4]
            orders = sorted(self._rows["orders"])
            products = sorted(self._rows["products"])
        self.add_records("customers", 5)
        self.update_records("customers", customers)
        self.update_records("orders", orders[:6])
        self.delete_records("orders", orders[-3:])
        self.add_records("events", 250)
        self.delete_records("products", products[:1])
        self.add_records("products", 2)
        return ("5 customers created, 4 updated; 6 orders updated, 3 deleted; 250 events; "
                "1 product removed and 2 added (snapshot)")

    def _table_or_value_error(self, table: str) -> str:
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        return table

    def _generated(self, table: str) -> dict:
        rng = self._rng
        n = self._next_id[table]
        if table == "customers":
            city, country = rng.choice(_CITIES)
            return {"email": f"generated.{self.seed}.{n}.{rng.randint(0, 10**9)}@example.com",
                    "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", "tier": rng.choice(_TIERS),
                    "credit_limit": _money(rng.randint(0, 500_000)),
                    "address": {"street": rng.choice(_STREETS), "city": city, "country": country}}
        if table == "orders":
            pid = rng.randint(1, 40)
            price = self._rows["products"].get(pid, {}).get("price", "9.99")
            return {"customer_id": rng.randint(1, 300), "status": "pending",
                    "items": [{"sku": f"SKU-{pid:04d}", "quantity": rng.randint(1, 3), "unit_price": price}],
                    "metadata": {"channel": rng.choice(_SOURCES)}}
        return {"customer_id": rng.randint(1, 300), "type": rng.choice(_EVENT_TYPES),
                "payload": {"source": rng.choice(_SOURCES), "value": round(rng.uniform(0, 500), 2)}}

    def _add_product(self) -> dict:
        rng = self._rng
        pid = self._next_id["products"]
        self._next_id["products"] = pid + 1
        record = {"product_id": pid, "name": f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
                  "price": _money(rng.randint(199, 49999)), "tags": rng.sample(_TAGS, rng.randint(0, 3)),
                  "attributes": {"color": rng.choice(_COLORS), "weight_kg": round(rng.uniform(0.05, 25.0), 3)},
                  "active": True, "launched_on": self._now().date().isoformat()}
        self._rows["products"][pid] = record
        self._touch("products")
        return copy.deepcopy(record)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the example API sandbox in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="example-token")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--event-count", type=int, default=5000)
    args = parser.parse_args(argv)
    sandbox = ExampleSandbox(token=args.token, seed=args.seed, host=args.host, port=args.port,
                             latency=args.latency, event_count=args.event_count)
    sandbox.serve_forever(announce=lambda s: print(f"example sandbox on {s.url} (token {s.token}; Ctrl-C to stop)", flush=True))


if __name__ == "__main__":
    main()
