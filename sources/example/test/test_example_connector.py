"""The example connector against the example sandbox: full reads, offsets, ties, deletes,
partitions, retries, slow responses, errors and secrecy. Fast; no Spark."""

from __future__ import annotations

import json
import pickle
import time

import pytest
from pyspark.sql.types import DateType, DecimalType, LongType, MapType, StringType, StructType, TimestampType

from harness.sandboxes import Fault
from sources.interface import ReadLimits
from sources.interface.contract import connector_reader, iterate_offsets
from sources.example.sandbox import CUSTOMER_TIE_TIMESTAMP, ExampleSandbox
from sources.example import ExampleApiError, ExampleLakeflowConnect
from sources.interface import ConnectorError, UnknownTableError

TOKEN = "tok-connector-test-5f3a9c"
FAST = {"retry_base_delay": "0.01", "retry_max_delay": "0.05", "max_requests_per_second": "1000"}


@pytest.fixture()
def sandbox():
    with ExampleSandbox(token=TOKEN, seed=1, event_count=2500) as sb:
        yield sb


def make(sandbox, **extra) -> ExampleLakeflowConnect:
    return ExampleLakeflowConnect({**sandbox.connection_options(), **FAST, **{k: str(v) for k, v in extra.items()}})


def loop(connector, table, start=None, table_options=None, deletes=False):
    """The runtime's offset loop (the contract's): returns (records, offsets, calls)."""
    read = connector_reader(connector, table, table_options or {}, deletes)
    pages = list(iterate_offsets(read, table, start))
    return [r for p in pages for r in p.records], [p.end for p in pages], len(pages)


ID = {"products": "product_id", "customers": "customer_id", "orders": "order_id", "events": "event_id"}


# ----------------------------------------------------------------------------- options
def test_missing_token_names_the_option():
    with pytest.raises(ConnectorError, match="access_token"):
        ExampleLakeflowConnect({"base_url": "http://127.0.0.1:1"})
    with pytest.raises(ConnectorError, match="access_token"):
        ExampleLakeflowConnect({"access_token": "  "})


@pytest.mark.parametrize("name,value", [("page_size", "abc"), ("page_size", "0"), ("page_size", "501"),
                                        ("retry_base_delay", "soon"), ("max_requests_per_second", "-1"),
                                        ("base_url", "ftp://x")])
def test_bad_options_name_the_option(name, value):
    with pytest.raises(ConnectorError, match=name):
        ExampleLakeflowConnect({"access_token": TOKEN, name: value})


def test_defaults():
    connector = ExampleLakeflowConnect({"access_token": TOKEN})
    assert connector.base_url == "http://127.0.0.1:8765"
    assert connector.page_size == 200
    assert connector.http.base_delay == 0.5 and connector.http.max_attempts == 8
    assert connector.http.timeout == (10.0, 60.0) and connector.http.deadline == 300.0
    assert ExampleLakeflowConnect({"access_token": TOKEN, "request_timeout": "5"}).http.read_timeout == 5.0
    assert ExampleLakeflowConnect({"access_token": TOKEN, "Read_Timeout": "7"}).http.read_timeout == 7.0


def test_token_never_in_repr_or_pickle_breaks(sandbox):
    connector = make(sandbox)
    assert TOKEN not in repr(connector) and "***" in repr(connector)
    list(connector.read_table("customers", None, {})[0])
    clone = pickle.loads(pickle.dumps(connector))
    assert list(clone.read_table("products", None, {})[0])


# ----------------------------------------------------------------------------- tables
def test_list_tables_and_metadata(sandbox):
    connector = make(sandbox)
    assert connector.list_tables() == ["products", "customers", "orders", "events"]
    assert connector.read_table_metadata("products", {}) == {"primary_keys": ["product_id"], "cursor_field": None, "ingestion_type": "snapshot"}
    assert connector.read_table_metadata("customers", {})["ingestion_type"] == "cdc"
    assert connector.read_table_metadata("orders", {}) == {"primary_keys": ["order_id"], "cursor_field": "updated_at", "ingestion_type": "cdc_with_deletes"}
    assert connector.read_table_metadata("events", {}) == {"primary_keys": ["event_id"], "cursor_field": "event_id", "ingestion_type": "append"}


def test_schemas(sandbox):
    connector = make(sandbox)
    products = connector.get_table_schema("products", {})
    assert products["price"].dataType == DecimalType(18, 2)
    assert products["launched_on"].dataType == DateType()
    assert products["product_id"].dataType == LongType()
    customers = connector.get_table_schema("customers", {})
    assert customers["updated_at"].dataType == TimestampType()
    assert isinstance(customers["address"].dataType, StructType)
    orders = connector.get_table_schema("orders", {})
    assert orders["metadata"].dataType == MapType(StringType(), StringType())
    assert orders["items"].dataType.elementType["unit_price"].dataType == DecimalType(18, 2)
    assert connector.get_table_schema("events", {})["occurred_at"].dataType == TimestampType()
    for table in connector.list_tables():
        meta = connector.read_table_metadata(table, {})
        names = connector.get_table_schema(table, {}).fieldNames()
        assert set(meta["primary_keys"]) <= set(names)
        assert meta["cursor_field"] is None or meta["cursor_field"] in names
        # every field the API sends is in the schema, and vice versa
        assert set(sandbox.records(table)[0]) == set(names)


def test_unknown_table_everywhere(sandbox):
    connector = make(sandbox)
    calls = [
        lambda: connector.get_table_schema("nope", {}),
        lambda: connector.read_table_metadata("nope", {}),
        lambda: connector.read_table("nope", None, {}),
        lambda: connector.read_table_deletes("nope", None, {}),
        lambda: connector.is_partitioned("nope"),
        lambda: connector.get_partitions("nope", {}),
        lambda: connector.latest_offset("nope", {}, {}),
        lambda: connector.read_partition("nope", {"since_id": 0, "until_id": 1}, {}),
    ]
    for call in calls:
        with pytest.raises(UnknownTableError, match="nope"):
            call()
    assert sum(sandbox.request_counts.values()) == 0


def test_deletes_only_for_orders(sandbox):
    with pytest.raises(ConnectorError, match="only available for 'orders'"):
        make(sandbox).read_table_deletes("customers", None, {})


# ----------------------------------------------------------------------------- full reads
def test_products_snapshot_is_lazy_and_complete(sandbox):
    connector = make(sandbox, page_size=7)
    records, offset = connector.read_table("products", None, {})
    assert offset is None
    assert sandbox.request_counts["GET /api/v1/{table}"] == 1  # first page only, eagerly
    assert list(records) == sandbox.records("products")
    assert sandbox.request_counts["GET /api/v1/{table}"] == 6


@pytest.mark.parametrize("table", ["customers", "orders", "events"])
@pytest.mark.parametrize("page_size", [7, 200])
def test_offset_loop_reads_table_exactly(sandbox, table, page_size):
    connector = make(sandbox, page_size=page_size)
    records, offsets, calls = loop(connector, table)
    assert records == sandbox.records(table), "raw records, in (cursor, id) order, none lost or repeated"
    ids = [r[ID[table]] for r in records]
    assert len(ids) == len(set(ids))
    assert calls == -(-len(records) // page_size) + 1
    last = records[-1]
    cursor_field = "event_id" if table == "events" else "updated_at"
    assert offsets[-1] == {"cursor": last[cursor_field], "id": last[ID[table]]}


def test_records_stay_raw(sandbox):
    connector = make(sandbox)
    customer = next(iter(connector.read_table("customers", None, {})[0]))
    assert isinstance(customer["credit_limit"], str) and isinstance(customer["updated_at"], str)
    event = next(iter(connector.read_table("events", None, {})[0]))
    assert isinstance(event["occurred_at"], int)


def test_tie_group_crossing_pages(sandbox):
    connector = make(sandbox, page_size=9)
    records, offsets, _ = loop(connector, "customers")
    tied = [r["customer_id"] for r in records if r["updated_at"] == CUSTOMER_TIE_TIMESTAMP]
    assert len(tied) >= 50 and len(tied) == len(set(tied))
    assert sum(o["cursor"] == CUSTOMER_TIE_TIMESTAMP for o in offsets if o) >= 5  # offsets inside the group


def test_read_limit_caps_a_call_and_the_old_option_names_its_replacement(sandbox):
    connector = make(sandbox)
    batch, end = connector.read_table("customers", None, {}, limits=ReadLimits(max_records=25))
    assert len(list(batch)) == 25
    with pytest.raises(ConnectorError, match="'max_records_per_batch' was replaced by the runtime's 'maxRecordsPerBatch'"):
        connector.read_table("customers", None, {"max_records_per_batch": "25"})


def test_replay_ends_at_the_checkpointed_offset_after_records_in_it_changed(sandbox):
    """A micro-batch (start, end] replayed after records inside it changed: page boundaries
    shift, yet the replay returns exactly the unchanged records of the range, once."""
    connector = make(sandbox, page_size=40)
    pages = list(iterate_offsets(connector_reader(connector, "customers", {}), "customers", max_records=200))
    batch = [r["customer_id"] for p in pages for r in p.records]
    end = pages[-1].end
    changed = batch[10:40]
    sandbox.update_records("customers", changed)
    replay = make(sandbox, page_size=40)
    pages = list(iterate_offsets(connector_reader(replay, "customers", {}), "customers", until=end))
    replayed = [r["customer_id"] for p in pages for r in p.records]
    assert replayed == [c for c in batch if c not in set(changed)]
    assert all(p.end == end or replay._after_end("customers", p.end["cursor"], p.end["id"],
                                                 (end["cursor"], end["id"])) is False for p in pages)


def test_replay_is_stable_and_final_offset_idle(sandbox):
    connector = make(sandbox, page_size=50)
    first, end = connector.read_table("orders", None, {})
    first = list(first)
    again, end_again = make(sandbox, page_size=50).read_table("orders", None, {})
    assert list(again) == first and end_again == end
    _, offsets, _ = loop(connector, "orders")
    records, final = make(sandbox).read_table("orders", offsets[-1], {})
    assert list(records) == [] and final == offsets[-1]


# ----------------------------------------------------------------------------- incremental
def test_incremental_after_writes_updates_and_ties(sandbox):
    connector = make(sandbox, page_size=40)
    _, offsets, _ = loop(connector, "customers")
    saved = offsets[-1]
    added = sandbox.add_records("customers", 5)
    updated = sandbox.update_records("customers", [3, 4])
    sandbox.set_fixed_timestamp("2031-01-01T00:00:00.000Z")
    tied = sandbox.add_records("customers", 45) + sandbox.update_records("customers", [10, 11])
    sandbox.set_fixed_timestamp(None)
    records, offsets, _ = loop(make(sandbox, page_size=10), "customers", start=saved)
    assert [r["customer_id"] for r in records] == [r["customer_id"] for r in added + updated] + sorted(
        r["customer_id"] for r in tied)
    assert records == sandbox.records("customers")[-len(records):]


def test_bound_lets_a_cycle_finish_under_constant_writes(sandbox):
    connector = make(sandbox, page_size=100)
    batch, offset = connector.read_table("events", None, {})
    assert len(list(batch)) == 100
    calls = 1
    while True:
        sandbox.add_records("events", 150)  # faster than one page per call
        batch, end = connector.read_table("events", offset, {})
        calls += 1
        if end == offset:
            break
        offset = end
        assert calls < 100, "the read cycle never finished"
    assert offset["id"] == 2500  # the bound captured at the start of the cycle
    batch, end = connector.read_table("events", offset, {})  # a new cycle sees the new events
    assert len(list(batch)) == 100 and end["id"] == 2600


def test_offset_beyond_cached_bound_refreshes(sandbox):
    connector = make(sandbox)
    connector.read_table("events", None, {})  # bound = 2500
    new = sandbox.add_records("events", 3)
    batch, end = connector.read_table("events", {"cursor": 2500, "id": 2500}, {})
    assert list(batch) == [] and end == {"cursor": 2500, "id": 2500}  # end of cycle
    batch, end = connector.read_table("events", {"cursor": 2500, "id": 2500}, {})
    assert list(batch) == new
    # A start beyond a (stale) bound refreshes it instead of returning nothing.
    connector2 = make(sandbox)
    connector2.read_table("events", None, {})
    sandbox.add_records("events", 2)
    batch, _ = connector2.read_table("events", {"cursor": 2504, "id": 2504}, {})  # bound is 2503
    assert [e["event_id"] for e in batch] == [2505]


def test_orders_mixed_offsets_compare_as_instants(sandbox):
    connector = make(sandbox, page_size=11)
    records, _, _ = loop(connector, "orders")
    assert any(r["updated_at"].endswith("+02:00") for r in records)
    assert records == sandbox.records("orders")


def test_bad_offset_is_a_clear_error(sandbox):
    with pytest.raises(ConnectorError, match="Invalid offset"):
        make(sandbox).read_table("customers", {"page": 3}, {})


# ----------------------------------------------------------------------------- deletes
def test_read_table_deletes(sandbox):
    connector = make(sandbox, page_size=6)
    records, offsets, _ = loop(connector, "orders", deletes=True)
    tombstones = sandbox.tombstones("orders")
    assert [r["order_id"] for r in records] == [t["order_id"] for t in tombstones]
    assert all(r["updated_at"] == t["deleted_at"] for r, t in zip(records, tombstones))
    assert all(r["status"] is None and r["total"] is None for r in records)
    assert set(records[0]) == set(connector.get_table_schema("orders", {}).fieldNames())
    saved = offsets[-1]
    gone = sandbox.delete_records("orders", [1, 2, 5])
    more, _, _ = loop(make(sandbox), "orders", start=saved, deletes=True)
    assert [r["order_id"] for r in more] == [t["order_id"] for t in gone]


# ----------------------------------------------------------------------------- partitions
def test_partitions_cover_events_exactly_once(sandbox):
    connector = make(sandbox, page_size=300)
    assert connector.is_partitioned("events")
    assert not any(connector.is_partitioned(t) for t in ("products", "customers", "orders"))
    parts = connector.get_partitions("events", {})
    assert parts == [{"since_id": 0, "until_id": 1000}, {"since_id": 1000, "until_id": 2000},
                     {"since_id": 2000, "until_id": 2500}]
    assert json.loads(json.dumps(parts)) == parts
    ids = [e["event_id"] for p in parts for e in make(sandbox, page_size=300).read_partition("events", p, {})]
    assert ids == list(range(1, 2501))
    assert connector.get_partitions("events", {"partition_size": "600"})[-1] == {"since_id": 2400, "until_id": 2500}
    with pytest.raises(ConnectorError, match="not partitioned"):
        connector.get_partitions("customers", {})


def test_latest_offset_and_stream_partitions(sandbox):
    connector = make(sandbox)
    latest = connector.latest_offset("events", {}, {})
    assert latest == {"cursor": 2500, "id": 2500}
    assert connector.latest_offset("events", {}, latest) == latest
    assert connector.get_partitions("events", {}, latest, latest) == []
    capped = connector.latest_offset("events", {}, {"cursor": 100, "id": 100}, limits=ReadLimits(max_records=700))
    assert capped == {"cursor": 800, "id": 800}
    parts = connector.get_partitions("events", {}, {"cursor": 100, "id": 100}, capped)
    ids = [e["event_id"] for p in parts for e in connector.read_partition("events", p, {})]
    assert ids == list(range(101, 801))
    new = sandbox.add_records("events", 4)
    assert connector.latest_offset("events", {}, latest) == {"cursor": 2504, "id": 2504}
    streamed = [e for p in connector.get_partitions("events", {}, latest, {"cursor": 2504, "id": 2504})
                for e in connector.read_partition("events", p, {})]
    assert streamed == new


def test_empty_events_table():
    with ExampleSandbox(token=TOKEN, event_count=0) as sb:
        connector = make(sb)
        assert connector.get_partitions("events", {}) == []
        assert connector.latest_offset("events", {}, {}) == {}
        records, end = connector.read_table("events", {}, {})
        assert list(records) == [] and end == {}


# ----------------------------------------------------------------------------- retries and faults
def test_retry_on_429_with_retry_after(sandbox):
    connector = make(sandbox)
    sandbox.inject(Fault(status=429, retry_after=0.2), times=2, endpoint="GET /api/v1/{table}")
    started = time.monotonic()
    records, _ = connector.read_table("customers", None, {})
    assert len(list(records)) == 200
    assert time.monotonic() - started >= 0.4, "Retry-After was honoured"
    assert connector.client.retry_count == 2


def test_retry_on_429_without_retry_after_and_503(sandbox):
    connector = make(sandbox)
    sandbox.inject(Fault(status=429), times=2)
    sandbox.inject(Fault(status=503), times=2)
    records, _, _ = loop(connector, "orders")
    assert len(records) == 500
    assert connector.client.retry_count == 4


def test_gives_up_after_max_attempts_with_endpoint_and_status(sandbox):
    connector = make(sandbox, retry_max_attempts=3)
    sandbox.inject(Fault(status=503), times=5, endpoint="GET /api/v1/{table}")
    with pytest.raises(ExampleApiError) as info:
        connector.read_table("products", None, {})
    assert info.value.status == 503 and "/api/v1/products" in str(info.value) and "503" in str(info.value)
    assert TOKEN not in str(info.value)


def test_slow_responses_still_read(sandbox):
    sandbox.latency = 0.02
    sandbox.inject(Fault(delay=0.3), times=1)
    records, _, _ = loop(make(sandbox), "customers")
    assert len(records) == 300


def test_timeout_is_retried(sandbox):
    connector = make(sandbox, request_timeout=0.2)
    sandbox.inject(Fault(delay=0.5), times=1, endpoint="GET /api/v1/{table}")
    records, _ = connector.read_table("products", None, {})
    assert len(list(records)) == 40 and connector.client.retry_count == 1


# ----------------------------------------------------------------------------- errors and secrecy
def test_bad_token_hint_and_no_secret():
    with ExampleSandbox(token="the-right-token") as sb:
        connector = ExampleLakeflowConnect({"base_url": sb.url, "access_token": TOKEN})
        with pytest.raises(ExampleApiError) as info:
            connector.read_table("customers", None, {})
        message = str(info.value)
        assert info.value.status == 401
        assert "check access_token" in message and "/api/v1/" in message and "401" in message
        assert TOKEN not in message and TOKEN not in repr(info.value)


def test_unreachable_base_url_hint():
    connector = ExampleLakeflowConnect({"access_token": TOKEN, "base_url": "http://127.0.0.1:9",
                                        "retry_max_attempts": "2", "retry_base_delay": "0.01"})
    with pytest.raises(ExampleApiError, match="check base_url") as info:
        connector.read_table("events", None, {})
    assert TOKEN not in str(info.value)


def test_token_not_in_logs(sandbox, caplog):
    caplog.set_level("DEBUG")
    connector = make(sandbox)
    sandbox.inject(Fault(status=429, retry_after=0.01), times=1)
    list(connector.read_table("products", None, {})[0])
    assert caplog.records and TOKEN not in caplog.text


# ----------------------------------------------------------------------------- write-back utils
@pytest.fixture()
def test_utils_class():
    from sources.example.example_test_utils import ExampleTestUtils

    return ExampleTestUtils


def test_write_back_utils(sandbox, test_utils_class):
    utils = test_utils_class({**sandbox.connection_options(), **FAST})
    assert TOKEN not in repr(utils)
    assert utils.list_insertable_tables() == ["customers", "orders", "events"]
    assert utils.list_deletable_tables() == ["orders"]
    connector = make(sandbox)
    saved = {t: loop(connector, t)[1][-1] for t in ("customers", "orders", "events")}
    for table in ("customers", "orders", "events"):
        ok, rows, mapping = utils.generate_rows_and_write(table, 3)
        assert ok and len(rows) == 3 and all(ID[table] in r for r in rows)
        read, _, _ = loop(make(sandbox), table, start=saved[table])
        by_id = {r[ID[table]]: r for r in read}
        for row in rows:
            got = by_id[row[ID[table]]]
            for write_name, read_path in mapping.items():
                a, b = row, got
                for part in write_name.split("."):
                    a = a[part]
                for part in read_path.split("."):
                    b = b[part]
                assert a == b
    assert "lf-test-" in rows[0]["payload"]["source"]
    ok, deleted, mapping = utils.delete_rows("orders", 2)
    assert ok and len(deleted) == 2 and mapping == {"order_id": "order_id"}
    tombstone_ids = {t["order_id"] for t in sandbox.tombstones()}
    assert {d["order_id"] for d in deleted} <= tombstone_ids
    mine = [c for c in sandbox.records("customers") if c["email"].startswith(utils.marker)]
    assert len(mine) == 4  # 3 written + 1 owning the test orders
    utils.cleanup()
    assert not [c for c in sandbox.records("customers") if c["email"].startswith("lf-test-")]
    assert not [o for o in sandbox.records("orders") if o["metadata"].get("lf_test_run") == utils.marker]
    assert len(sandbox.records("customers")) == 300
    utils.cleanup()  # idempotent
