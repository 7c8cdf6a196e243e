"""The example sandbox behaves as its API doc says (sources/example/example_api_doc.md)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime

import pytest
import requests

from harness.sandboxes import Fault, get_sandbox
from sources.example.sandbox import CUSTOMER_TIE_TIMESTAMP, ExampleSandbox, parse_instant

TOKEN = "sandbox-test-token"


@pytest.fixture()
def sandbox():
    with ExampleSandbox(token=TOKEN, seed=0, event_count=1200) as sb:
        yield sb


@pytest.fixture()
def api(sandbox):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, sandbox.url + path, timeout=10, **kwargs)

    yield call
    session.close()


def read_all(api, table: str, page_size: int = 37, suffix: str = "", **params) -> list[dict]:
    """Keyset-read every record of a listing, page_size at a time."""
    cursor_field = {"customers": "updated_at", "orders": "updated_at", "events": "event_id"}[table]
    id_field = {"customers": "customer_id", "orders": "order_id", "events": "event_id"}[table]
    if suffix == "/deleted":
        cursor_field = "deleted_at"
    out, since = [], {}
    while True:
        body = api("GET", f"/api/v1/{table}{suffix}", params={"page_size": page_size, **params, **since}).json()
        out.extend(body["data"])
        if not body["data"]:
            return out
        last = body["data"][-1]
        since = {"since_cursor": last[cursor_field], "since_id": last[id_field]}


# ----------------------------------------------------------------------------- basics
def test_registered_and_connection_options(sandbox):
    assert get_sandbox("example") is ExampleSandbox
    assert sandbox.connection_options() == {"base_url": sandbox.url, "access_token": TOKEN}


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = ExampleSandbox(seed=3, event_count=10), ExampleSandbox(seed=3, event_count=10), ExampleSandbox(seed=4, event_count=10)
    for table in ("products", "customers", "orders", "events"):
        assert a.records(table) == b.records(table)
    assert a.records("customers") != c.records("customers")


def test_table_sizes_and_shapes(sandbox):
    assert len(sandbox.records("products")) == 40
    assert len(sandbox.records("customers")) == 300
    assert len(sandbox.records("orders")) == 500
    assert len(sandbox.records("events")) == 1200
    assert len(sandbox.tombstones("orders")) == 20
    product = sandbox.records("products")[0]
    assert isinstance(product["price"], str) and "." in product["price"]
    assert any(p["attributes"] is None for p in sandbox.records("products"))
    customers = sandbox.records("customers")
    assert sum(c["updated_at"] == CUSTOMER_TIE_TIMESTAMP for c in customers) >= 50
    assert any(c["address"] is None for c in customers)
    orders = sandbox.records("orders")
    assert any(o["updated_at"].endswith("Z") for o in orders)
    assert any(o["updated_at"].endswith("+02:00") for o in orders)
    assert all(isinstance(i["unit_price"], str) for o in orders for i in o["items"])
    event = sandbox.records("events")[0]
    assert isinstance(event["occurred_at"], int) and event["occurred_at"] > 1_600_000_000_000


# ----------------------------------------------------------------------------- auth
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/orders/deleted", "/api/v1/events/stats"])
def test_every_endpoint_requires_the_bearer_token(sandbox, headers, path):
    response = requests.get(sandbox.url + path, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "missing or invalid bearer token"}


def test_writes_require_the_bearer_token(sandbox):
    response = requests.post(sandbox.url + "/api/v1/customers", json={"email": "x@example.com"}, timeout=10)
    assert response.status_code == 401
    assert len(sandbox.records("customers")) == 300


# ----------------------------------------------------------------------------- paging
def test_page_number_paging_covers_table(api, sandbox):
    seen, page = [], 1
    while True:
        body = api("GET", "/api/v1/products", params={"page_size": 15, "page": page}).json()
        assert body["page"] == page and body["page_size"] == 15 and body["total"] == 40
        seen.extend(body["data"])
        if not body["has_more"]:
            break
        page += 1
    assert page == 3
    assert [p["product_id"] for p in seen] == list(range(1, 41))


def test_page_size_limits_and_bad_parameters(api):
    too_big = api("GET", "/api/v1/customers", params={"page_size": 501})
    assert too_big.status_code == 400
    assert too_big.json() == {"error": "invalid_request", "message": "page_size must be ≤ 500"}
    assert api("GET", "/api/v1/customers", params={"page_size": 500}).status_code == 200
    assert api("GET", "/api/v1/customers", params={"page_size": 0}).status_code == 400
    assert api("GET", "/api/v1/customers", params={"page_size": "ten"}).status_code == 400
    assert api("GET", "/api/v1/customers", params={"since_cursor": "yesterday"}).status_code == 400
    assert api("GET", "/api/v1/events", params={"since_cursor": "2024-01-01T00:00:00Z"}).status_code == 400
    assert api("GET", "/api/v1/products", params={"since_cursor": "1"}).status_code == 400


def test_unknown_table_is_404(api):
    for method, path in [("GET", "/api/v1/nope"), ("GET", "/api/v1/nope/stats"), ("GET", "/api/v1/nope/deleted"),
                         ("POST", "/api/v1/nope"), ("DELETE", "/api/v1/nope/1")]:
        response = api(method, path)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "unknown table 'nope'"}


def test_default_page_size(api):
    body = api("GET", "/api/v1/events").json()
    assert body["page_size"] == 100 and len(body["data"]) == 100 and body["has_more"]


# ----------------------------------------------------------------------------- keyset
@pytest.mark.parametrize("table", ["customers", "orders", "events"])
def test_keyset_read_returns_every_record_once_in_order(api, sandbox, table):
    records = read_all(api, table, page_size=23)
    assert records == sandbox.records(table)
    id_field = {"customers": "customer_id", "orders": "order_id", "events": "event_id"}[table]
    ids = [r[id_field] for r in records]
    assert len(ids) == len(set(ids))


def test_sorted_by_instant_not_by_text(api):
    orders = read_all(api, "orders", page_size=500)
    instants = [(parse_instant(o["updated_at"]), o["order_id"]) for o in orders]
    assert instants == sorted(instants)
    # The text order differs (mixed "Z" and "+02:00"), so a text sort would be wrong.
    assert [o["updated_at"] for o in orders] != sorted(o["updated_at"] for o in orders)


def test_tie_group_splits_across_pages_without_loss(api, sandbox):
    tied = [c["customer_id"] for c in sandbox.records("customers") if c["updated_at"] == CUSTOMER_TIE_TIMESTAMP]
    # Start just before the tie group with small pages: the group spans many pages.
    body = api("GET", "/api/v1/customers", params={
        "since_cursor": CUSTOMER_TIE_TIMESTAMP, "since_id": tied[6], "page_size": 5}).json()
    assert [c["customer_id"] for c in body["data"]] == tied[7:12]
    got = [c["customer_id"] for c in read_all(api, "customers", page_size=7)
           if c["updated_at"] == CUSTOMER_TIE_TIMESTAMP]
    assert got == sorted(tied)


def test_since_cursor_alone_is_strict_and_until_cursor_inclusive(api, sandbox):
    customers = sandbox.records("customers")
    after = api("GET", "/api/v1/customers", params={"since_cursor": CUSTOMER_TIE_TIMESTAMP, "page_size": 500}).json()
    assert all(parse_instant(c["updated_at"]) > parse_instant(CUSTOMER_TIE_TIMESTAMP) for c in after["data"])
    upto = api("GET", "/api/v1/customers", params={"until_cursor": CUSTOMER_TIE_TIMESTAMP, "page_size": 500}).json()
    assert upto["total"] + after["total"] == len(customers)
    assert sum(c["updated_at"] == CUSTOMER_TIE_TIMESTAMP for c in upto["data"]) >= 50


def test_cursor_with_offset_is_compared_as_instant(api):
    a = api("GET", "/api/v1/orders", params={"since_cursor": "2024-05-01T12:00:00+02:00", "page_size": 500}).json()
    b = api("GET", "/api/v1/orders", params={"since_cursor": "2024-05-01T10:00:00Z", "page_size": 500}).json()
    assert a == b
    # A "+" sent unencoded arrives as a space; the API tolerates it.
    url_plus = api("GET", "/api/v1/orders?page_size=500&since_cursor=2024-05-01T12:00:00+02:00").json()
    assert url_plus == a


def test_events_keyset_by_event_id(api):
    body = api("GET", "/api/v1/events", params={"since_cursor": 100, "since_id": 100, "until_cursor": 150, "page_size": 500}).json()
    assert [e["event_id"] for e in body["data"]] == list(range(101, 151))
    assert body["total"] == 50 and body["has_more"] is False


# ----------------------------------------------------------------------------- deleted, stats
def test_deleted_listing(api, sandbox):
    tombstones = read_all(api, "orders", page_size=6, suffix="/deleted")
    assert tombstones == sandbox.tombstones("orders")
    assert len(tombstones) == 20
    assert set(tombstones[0]) == {"order_id", "deleted_at"}
    live = {o["order_id"] for o in sandbox.records("orders")}
    assert not live & {t["order_id"] for t in tombstones}
    assert api("GET", "/api/v1/customers/deleted").json()["data"] == []


def test_stats(api, sandbox):
    assert api("GET", "/api/v1/events/stats").json() == {"count": 1200, "min_id": 1, "max_id": 1200, "max_cursor": 1200}
    customers = api("GET", "/api/v1/customers/stats").json()
    assert customers["count"] == 300 and customers["min_id"] == 1 and customers["max_id"] == 300
    assert customers["max_cursor"] == sandbox.records("customers")[-1]["updated_at"]
    assert api("GET", "/api/v1/products/stats").json()["max_cursor"] is None


# ----------------------------------------------------------------------------- writes
def test_create_update_delete_customer(api, sandbox):
    created = api("POST", "/api/v1/customers", json={"email": "new@example.com", "name": "New One", "credit_limit": "10.5"})
    assert created.status_code == 201
    record = created.json()
    assert record["customer_id"] == 301 and record["credit_limit"] == "10.50"
    assert record["created_at"] == record["updated_at"]
    assert api("GET", "/api/v1/customers/301").json() == record
    assert api("POST", "/api/v1/customers", json={"email": "new@example.com"}).status_code == 409
    assert api("POST", "/api/v1/customers", json={"name": "no email"}).status_code == 400
    assert api("POST", "/api/v1/customers", json={"email": "z@example.com", "customer_id": 5}).status_code == 400

    patched = api("PATCH", "/api/v1/customers/301", json={"tier": "pro"}).json()
    assert patched["tier"] == "pro"
    assert parse_instant(patched["updated_at"]) > parse_instant(record["updated_at"])
    assert read_all(api, "customers")[-1] == patched

    assert api("DELETE", "/api/v1/customers/301").status_code == 204
    assert api("GET", "/api/v1/customers/301").status_code == 404
    assert api("PATCH", "/api/v1/customers/301", json={"tier": "pro"}).status_code == 404


def test_write_timestamps_strictly_increase(api):
    stamps = [api("POST", "/api/v1/customers", json={"email": f"c{i}@example.com"}).json()["updated_at"] for i in range(20)]
    instants = [parse_instant(s) for s in stamps]
    assert all(a < b for a, b in zip(instants, instants[1:]))


def test_delete_order_leaves_tombstone(api, sandbox):
    order = sandbox.records("orders")[0]
    assert api("DELETE", f"/api/v1/orders/{order['order_id']}").status_code == 204
    tombstone = sandbox.tombstones("orders")[-1]
    assert tombstone["order_id"] == order["order_id"]
    assert read_all(api, "orders", suffix="/deleted")[-1] == tombstone
    assert order["order_id"] not in {o["order_id"] for o in sandbox.records("orders")}


def test_products_read_only_events_append_only(api, sandbox):
    assert api("POST", "/api/v1/products", json={}).status_code == 405
    assert api("DELETE", "/api/v1/products/1").status_code == 405
    assert api("PATCH", "/api/v1/events/1", json={"type": "x"}).status_code == 405
    assert api("DELETE", "/api/v1/events/1").status_code == 405
    created = api("POST", "/api/v1/events", json={"type": "purchase", "payload": {"source": "web", "value": 3}})
    assert created.status_code == 201
    event = created.json()
    assert event["event_id"] == 1201 and isinstance(event["occurred_at"], int)
    assert api("GET", "/api/v1/events/stats").json()["max_id"] == 1201


def test_create_order_computes_total_and_validates(api):
    order = api("POST", "/api/v1/orders", json={
        "customer_id": 1, "items": [{"sku": "SKU-1", "quantity": 3, "unit_price": "1.10"}],
        "metadata": {"lf": "x"}}).json()
    assert order["total"] == "3.30" and order["metadata"] == {"lf": "x"} and order["status"] == "pending"
    assert api("POST", "/api/v1/orders", json={"customer_id": 1, "metadata": {"k": 1}}).status_code == 400
    assert api("POST", "/api/v1/orders", json=[1, 2]).status_code == 400


# ----------------------------------------------------------------------------- scenario helpers
def test_scenario_helpers(sandbox):
    added = sandbox.add_records("customers", 3)
    assert [c["customer_id"] for c in added] == [301, 302, 303]
    assert sandbox.records("customers")[-3:] == added
    updated = sandbox.update_records("orders", [1, 2])
    assert sandbox.records("orders")[-2:] == updated
    tombstones = sandbox.delete_records("orders", [3])
    assert tombstones[0]["order_id"] == 3 and sandbox.tombstones()[-1] == tombstones[0]
    assert len(sandbox.add_records("events", 2)) == 2
    assert len(sandbox.add_records("products", 1)) == 1
    with pytest.raises(ValueError):
        sandbox.update_records("events", [1])
    with pytest.raises(ValueError):
        sandbox.add_records("nope", 1)


def test_fixed_timestamp_creates_ties(sandbox):
    sandbox.set_fixed_timestamp("2030-01-01T00:00:00.000Z")
    added = sandbox.add_records("customers", 4) + sandbox.update_records("customers", [1, 2])
    assert {c["updated_at"] for c in added} == {"2030-01-01T00:00:00.000Z"}
    orders = sandbox.update_records("orders", [1, 2])
    assert {parse_instant(o["updated_at"]) for o in orders} == {parse_instant("2030-01-01T00:00:00Z")}
    assert {o["updated_at"] for o in orders} == {"2030-01-01T00:00:00Z", "2030-01-01T02:00:00+02:00"}
    sandbox.set_fixed_timestamp(None)
    later = sandbox.add_records("customers", 1)[0]
    assert parse_instant(later["updated_at"]) > parse_instant("2030-01-01T00:00:00Z")


# ----------------------------------------------------------------------------- faults, latency, counts
def test_request_counts_by_endpoint(api, sandbox):
    sandbox.reset_counts()
    api("GET", "/api/v1/customers")
    api("GET", "/api/v1/orders")
    api("GET", "/api/v1/orders/deleted")
    api("GET", "/api/v1/events/stats")
    api("POST", "/api/v1/events", json={"type": "x"})
    assert sandbox.request_counts == Counter({
        "GET /api/v1/{table}": 2, "GET /api/v1/{table}/deleted": 1,
        "GET /api/v1/{table}/stats": 1, "POST /api/v1/{table}": 1})


def test_injected_faults(api, sandbox):
    sandbox.inject(Fault(status=429, retry_after=2), endpoint="GET /api/v1/{table}")
    sandbox.inject(Fault(status=503))
    first = api("GET", "/api/v1/events")
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert api("GET", "/api/v1/events").status_code == 503
    assert api("GET", "/api/v1/events").status_code == 200


def test_slow_response_and_latency(api, sandbox):
    sandbox.inject(Fault(delay=0.3))
    started = time.monotonic()
    assert api("GET", "/api/v1/products").status_code == 200
    assert time.monotonic() - started >= 0.3
    sandbox.latency = 0.2
    started = time.monotonic()
    api("GET", "/api/v1/products")
    assert time.monotonic() - started >= 0.2


def test_concurrent_writes_and_reads_are_consistent(api, sandbox):
    errors = []

    def writer():
        try:
            for _ in range(20):
                assert api("POST", "/api/v1/events", json={"type": "x"}).status_code == 201
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = [e["event_id"] for e in sandbox.records("events")]
    assert ids == list(range(1, 1281))


def test_timestamps_parse():
    assert parse_instant("2024-05-01T12:00:00+02:00") == parse_instant("2024-05-01T10:00:00.000Z")
    assert isinstance(parse_instant("2024-05-01T10:00:00.123Z"), datetime)
    with pytest.raises(ValueError):
        parse_instant("2024-05-01T10:00:00")
