"""HubSpot connector scenarios against the HubSpot sandbox (real HTTP on 127.0.0.1).

The conformance suite (``sources/hubspot/test``) checks the generic contract; these tests
check what is specific to HubSpot: ties past the 10,000-result search cap, writes during a
read, search index lag, archives, schema drift, 429 storms, auth errors, request counts,
associations on both read paths, partition coverage, long property lists and exact decimals.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from datasource.arrow_convert import ArrowConverter
from harness.conformance.reading import poll, read_all
from sources.hubspot.sandbox import HubSpotSandbox
from sources.toolkit.sandbox.server import Fault
from sources.hubspot import HubSpotLakeflowConnect
from sources.hubspot.api import HubSpotApiError
from sources.hubspot.hubspot_test_utils import HubSpotTestUtils
from sources.interface import ConnectorError, ReadLimits, UnknownTableError
from sources.interface.contract import connector_reader, iterate_offsets

SEARCH = "POST /crm/v3/objects/{object_type}/search"
LIST = "GET /crm/v3/objects/{object_type}"
HOUR = 3_600_000

FAST = {"ten_second_limit": "100000", "search_per_second": "1000"}


def _sandbox(**kwargs) -> HubSpotSandbox:
    kwargs.setdefault("rate_limits", False)
    return HubSpotSandbox(**kwargs).start()


def _options(sandbox: HubSpotSandbox, **table_options: str) -> dict[str, str]:
    return {**sandbox.connection_options(), **FAST, "lookback_seconds": "0.5", **table_options}


@pytest.fixture
def sandbox():
    sb = _sandbox(seed=20)
    yield sb
    sb.stop()


def _ids(records) -> list[str]:
    return [r["id"] for r in records]


def _search_bodies(sandbox: HubSpotSandbox) -> list[dict]:
    bodies: list[dict] = []
    sandbox.on_request(lambda endpoint, request, response: bodies.append(request.json()) if endpoint == SEARCH else None)
    return bodies


# ---------------------------------------------------------------------------------------------
# incremental reads
# ---------------------------------------------------------------------------------------------
def test_twelve_thousand_records_sharing_one_timestamp_arrive_exactly_once():
    sb = _sandbox(seed=0)
    try:
        past = sb.now_ms() - 2 * HOUR
        before = [sb.create_record("contacts", {"email": f"b{i}@x.com"}, timestamp_ms=past - 1000 + i) for i in range(5)]
        burst = sb.seed_burst("contacts", 12_345, timestamp_ms=past)
        after = [sb.create_record("contacts", {"email": f"a{i}@x.com"}, timestamp_ms=past + 1 + i) for i in range(5)]
        bodies = _search_bodies(sb)
        connector = HubSpotLakeflowConnect(sb.connection_options())
        options = _options(sb, associations="", page_size="200")
        result = read_all(connector.read_table, "contacts", options)
        ids = _ids(result.records)
        assert len(ids) == len(set(ids)), "a record was emitted twice"
        assert set(ids) == set(before) | set(burst) | set(after)
        assert ids[:5] == before and ids[-5:] == after, "records are not in (modified, id) order"
        assert all(int(b.get("after") or 0) + int(b.get("limit") or 0) <= 10_000 for b in bodies)
        assert not any("after" in b for b in bodies), "the read must re-anchor instead of paging with after"
        # about one search per 200 records, never one per record
        assert len(bodies) <= 12_355 // 200 + 6, len(bodies)
        assert result.final_offset == {"cursor": past + 5, "id": int(after[-1])}
    finally:
        sb.stop()


def test_the_read_limit_gathers_several_pages_per_call(sandbox):
    sandbox.seed_burst("notes", 700, timestamp_ms=sandbox.now_ms() - HOUR)
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    records, end = connector.read_table("notes", None, _options(sandbox), limits=ReadLimits(max_records=1000))
    records = list(records)
    assert len(records) == 720 and len(set(_ids(records))) == 720
    records, _ = HubSpotLakeflowConnect(sandbox.connection_options()).read_table(
        "notes", None, _options(sandbox), limits=ReadLimits(max_records=300))
    assert 300 <= len(list(records)) < 300 + 200   # stops after the page that reaches the limit
    with pytest.raises(ConnectorError, match="'max_records_per_call' was replaced by the runtime's 'maxRecordsPerBatch'"):
        connector.read_table("notes", None, _options(sandbox, max_records_per_call="1000"))


def test_changes_made_just_before_a_run_arrive_in_that_run(sandbox):
    """Create 5, update 3, let search index them, run once: all 8 arrive (the window ends at
    the run's start, not a lookback before it)."""
    options = _options(sandbox, lookback_seconds="60", associations="")
    base = read_all(HubSpotLakeflowConnect(sandbox.connection_options()).read_table, "contacts", options).final_offset
    existing = sandbox.record_ids("contacts")[:3]
    created = [sandbox.create_record("contacts", {"email": f"just{i}@x.com"}) for i in range(5)]
    sandbox.update_records("contacts", existing, {"jobtitle": "just now"})
    sandbox.flush_search_index()
    run = read_all(HubSpotLakeflowConnect(sandbox.connection_options()).read_table, "contacts", options, start=base)
    assert sorted(_ids(run.records)) == sorted(created + existing)
    again = read_all(HubSpotLakeflowConnect(sandbox.connection_options()).read_table, "contacts", options,
                     start=run.final_offset)
    assert again.records == [], "a record of the lookback tail was delivered twice"


def test_replay_ends_at_the_checkpointed_offset_after_records_in_it_changed(sandbox):
    """A micro-batch replayed after records inside it changed returns the unchanged records
    of the range once, and ends exactly at the checkpointed offset."""
    options = _options(sandbox, associations="", page_size="25")
    first = HubSpotLakeflowConnect(sandbox.connection_options())
    pages = list(iterate_offsets(connector_reader(first, "contacts", options), "contacts", max_records=100))
    batch = [r["id"] for p in pages for r in p.records]
    end = pages[-1].end
    changed = batch[5:30]
    sandbox.update_records("contacts", changed, {"jobtitle": "changed before the replay"})
    sandbox.flush_search_index()
    replay = HubSpotLakeflowConnect(sandbox.connection_options())
    pages = list(iterate_offsets(connector_reader(replay, "contacts", options), "contacts", pages[0].start, until=end))
    assert [r["id"] for p in pages for r in p.records] == [i for i in batch if i not in set(changed)]
    assert pages[-1].end == end


def test_records_updated_while_paging_are_not_lost(sandbox):
    past = sandbox.now_ms() - HOUR
    ids = [sandbox.create_record("contacts", {"email": f"p{i}@x.com"}, timestamp_ms=past + i * 10) for i in range(300)]
    sandbox.flush_search_index()
    early, late = ids[:20], ids[-20:]   # already read / not yet read when the update happens

    def update() -> None:
        sandbox.update_records("contacts", early + late, {"jobtitle": "changed mid-read"})

    sandbox.after_nth_request(SEARCH, 3, update)
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox, page_size="50", associations="")
    first = read_all(connector.read_table, "contacts", options)
    seen = {r["id"]: r for r in first.records}
    assert set(early) <= set(seen)
    assert not set(late) & set(seen), "late records moved past the window; the next cycle must read them"
    assert sandbox.request_counts[SEARCH] > 3, "the update did not happen mid-read"

    def caught_up():
        more = read_all(HubSpotLakeflowConnect(sandbox.connection_options()).read_table, "contacts", options,
                        start=first.final_offset).records
        return more if {r["id"] for r in more} >= set(early + late) else None

    later = poll(caught_up, 10, what="records updated mid-read")
    for record in later:
        seen[record["id"]] = record
    assert set(seen) >= set(ids) | {r["id"] for r in first.records}
    assert all(seen[i]["properties"]["jobtitle"] == "changed mid-read" for i in early + late)


def test_search_index_lag_record_is_read_by_a_later_run_not_lost():
    sb = _sandbox(seed=5)
    try:
        connector = HubSpotLakeflowConnect(sb.connection_options())
        base = read_all(connector.read_table, "contacts", _options(sb, lookback_seconds="2")).final_offset
        sb.set_search_index_delay(1.5)
        lagging = sb.create_record("contacts", {"email": "lagging@x.com"})     # indexed 1.5 s from now
        sb.set_search_index_delay(0)
        time.sleep(0.05)
        fresh = sb.create_record("contacts", {"email": "fresh@x.com"})         # indexed after `lagging`'s due time
        # Without a lookback the window reaches `fresh` (already indexed) and jumps past `lagging`:
        no_lookback = read_all(HubSpotLakeflowConnect(sb.connection_options()).read_table, "contacts",
                               _options(sb, lookback_seconds="0"), start=base)
        assert fresh in _ids(no_lookback.records) and lagging not in _ids(no_lookback.records)
        # With the lookback the run reads what is visible now (`fresh`) ...
        with_lookback = _options(sb, lookback_seconds="5")
        now = read_all(HubSpotLakeflowConnect(sb.connection_options()).read_table, "contacts", with_lookback, start=base)
        assert fresh in _ids(now.records) and lagging not in _ids(now.records)
        time.sleep(1.6)   # `lagging` is indexed now, but its timestamp is behind both offsets
        lost = read_all(HubSpotLakeflowConnect(sb.connection_options()).read_table, "contacts",
                        _options(sb, lookback_seconds="0"), start=no_lookback.final_offset)
        assert lagging not in _ids(lost.records)   # lost for good: what lookback_seconds prevents
        # ... and the next run walks the lookback tail again: `lagging` arrives, `fresh` not twice.
        later = read_all(HubSpotLakeflowConnect(sb.connection_options()).read_table, "contacts", with_lookback,
                         start=now.final_offset)
        assert _ids(later.records) == [lagging]
    finally:
        sb.stop()


def test_archive_after_a_read_appears_in_the_delete_flow(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox)
    assert read_all(connector.read_table_deletes, "deals", options).records == []
    saved = read_all(connector.read_table_deletes, "deals", options).final_offset
    victims = sandbox.record_ids("deals")[:3]
    sandbox.archive_records("deals", victims)
    result = read_all(connector.read_table_deletes, "deals", options, start=saved)
    assert sorted(_ids(result.records)) == sorted(victims)
    for record in result.records:
        assert record["archived"] is True and record["archivedAt"] and record["updatedAt"]
        assert record["properties"] is None
    again, end = connector.read_table_deletes("deals", result.final_offset, options)
    assert list(again) == [] and end == result.final_offset
    # archived records leave both the incremental and the batch reads
    listed = [r["id"] for p in connector.get_partitions("deals", options) for r in connector.read_partition("deals", p, options)]
    assert not set(victims) & set(listed)


def test_custom_property_added_between_reads_appears_in_schema_and_values(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox)
    before = connector.get_table_schema("contacts", options)
    offset = read_all(connector.read_table, "contacts", options).final_offset
    sandbox.add_property("contacts", "favorite_color", "string")
    sandbox.add_property("contacts", "loyalty_points", "number")
    target = sandbox.record_ids("contacts")[3]
    sandbox.update_records("contacts", [target], {"favorite_color": "teal", "loyalty_points": "12.75"})
    after = connector.get_table_schema("contacts", options)
    names = after["properties"].dataType.fieldNames()
    assert "favorite_color" not in before["properties"].dataType.fieldNames()
    assert "favorite_color" in names and names == sorted(names)
    assert str(after["properties"].dataType["loyalty_points"].dataType) == "DecimalType(38,18)"

    def updated():
        got = read_all(connector.read_table, "contacts", options, start=offset).records
        return [r for r in got if r["id"] == target] or None

    record = poll(updated, 10, what="the updated contact")[0]
    assert record["properties"]["favorite_color"] == "teal"
    row = ArrowConverter(after, "contacts").convert([record]).to_pylist()[0]
    assert row["properties"]["loyalty_points"] == Decimal("12.75")


def test_incremental_request_count_grows_with_changes_not_table_size():
    counts = {}
    for size in (500, 5_000):
        sb = _sandbox(seed=0)
        try:
            sb.seed_burst("contacts", size, timestamp_ms=sb.now_ms() - HOUR)
            connector = HubSpotLakeflowConnect(sb.connection_options())
            options = _options(sb)
            offset = read_all(connector.read_table, "contacts", options).final_offset
            sb.update_records("contacts", sb.record_ids("contacts")[:10], {"jobtitle": "k changes"})
            time.sleep(0.6)   # past lookback_seconds
            fresh = HubSpotLakeflowConnect(sb.connection_options())
            result = read_all(fresh.read_table, "contacts", options, start=offset)
            assert len(result.records) == 10
            counts[size] = fresh.api.request_count
        finally:
            sb.stop()
    # properties + drain search + window search + one v4 association read per association type
    assert counts[500] == counts[5_000] <= 6, counts


# ---------------------------------------------------------------------------------------------
# associations, partitions, long property lists, decimals
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("table", ["contacts", "deals", "tickets", "calls"])
def test_associations_match_between_list_and_incremental_reads(sandbox, table):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox)
    incremental = {r["id"]: r["associations"] for r in read_all(connector.read_table, table, options).records}
    listed = {r["id"]: r["associations"] for p in connector.get_partitions(table, options)
              for r in connector.read_partition(table, p, options)}
    assert incremental.keys() == listed.keys()
    for rid in incremental:
        assert {k: sorted(v) for k, v in incremental[rid].items()} == {k: sorted(v) for k, v in listed[rid].items()}
    assert any(any(v) for a in incremental.values() for v in a.values()), "no association found at all"
    sample = next(iter(incremental.values()))
    assert set(sample) == {f.name for f in connector.get_table_schema(table, options)["associations"].dataType.fields}


def test_partitions_cover_the_table_exactly_once(sandbox):
    sandbox.seed_burst("contacts", 1_000, timestamp_ms=sandbox.now_ms() - HOUR)
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox, partitions="5")
    parts = connector.get_partitions("contacts", options)
    assert len(parts) == 5 and parts == connector.get_partitions("contacts", options)
    assert parts[0]["start"] is None and parts[-1]["end"] is None
    per_part = [_ids(connector.read_partition("contacts", p, options)) for p in parts]
    ids = [i for part in per_part for i in part]
    assert len(ids) == len(set(ids)) == sandbox.record_count("contacts")
    assert set(ids) == set(sandbox.record_ids("contacts"))
    assert all(per_part), "a partition was empty"
    # a record created after planning lands in the open-ended last partition
    late = sandbox.create_record("contacts", {"email": "late@x.com"})
    assert late in _ids(connector.read_partition("contacts", parts[-1], options))


def test_partition_readers_take_from_one_shared_budget():
    # (the sandbox's on_request hooks do not see 429s, which are answered before its
    # after_handle; the connector's retry counter and the sandbox's served_429 do)
    sb = _sandbox(seed=0, rate_limits=True, ten_second_limit=30, search_per_second=5)
    try:
        sb.seed_burst("products", 450, timestamp_ms=sb.now_ms() - HOUR)
        options = {**sb.connection_options(), "ten_second_limit": "30", "partitions": "3", "concurrency": "2",
                   "page_size": "100"}
        connector = HubSpotLakeflowConnect(sb.connection_options())
        parts = connector.get_partitions("products", options)
        assert len(parts) == 3 and all("share" not in p for p in parts)
        # every partition reader takes from the whole int(0.9 * 30) = 27 per 10 s, shared
        # through one lock file with the planner and each other (no per-reader division)
        readers = [HubSpotLakeflowConnect(sb.connection_options()) for _ in parts]
        got = [r["id"] for reader, part in zip(readers, parts) for r in reader.read_partition("products", part, options)]
        assert sorted(got) == sorted(sb.record_ids("products"))
        budgets = [reader.api._limiters[(27, 10.0)] for reader in readers]
        assert list(readers[0].api._limiters) == [(27, 10.0)]
        assert len({b.path for b in budgets} | {connector.api._limiters[(27, 10.0)].path}) == 1
        # a descriptor planned by an older version (with its "share") still reads
        old = {**parts[0], "share": 2}
        assert [r["id"] for r in readers[0].read_partition("products", old, options)] == \
            [r["id"] for r in readers[0].read_partition("products", parts[0], options)]
        assert connector.api.retry_count == sum(r.api.retry_count for r in readers) == sb.served_429 == 0
    finally:
        sb.stop()


def test_hundreds_of_properties_avoid_414_through_batch_read():
    sb = _sandbox(seed=15)
    try:
        for i in range(300):
            sb.add_property("companies", f"custom_field_with_a_long_descriptive_name_{i:03d}", "string")
        target = sb.record_ids("companies")[0]
        sb.update_records("companies", [target], {"custom_field_with_a_long_descriptive_name_299": "deep value"},
                          timestamp_ms=sb.now_ms() - HOUR)
        sb.flush_search_index()
        connector = HubSpotLakeflowConnect(sb.connection_options())
        options = _options(sb)
        listed = {r["id"]: r for p in connector.get_partitions("companies", options)
                  for r in connector.read_partition("companies", p, options)}
        searched = {r["id"]: r for r in read_all(connector.read_table, "companies", options).records}
        assert sb.uri_too_long_count == 0
        assert len(listed) == len(searched) == 15
        for records in (listed, searched):
            assert records[target]["properties"]["custom_field_with_a_long_descriptive_name_299"] == "deep value"
            assert records[target]["associations"] is not None
        assert sb.request_counts["POST /crm/v3/objects/{object_type}/batch/read"] >= 2
    finally:
        sb.stop()


def test_decimals_stay_exact_after_conversion(sandbox):
    values = ["1234.5678", "0.1", "12345678901234567890.123456789012345678", "-42"]
    ids = [sandbox.create_record("deals", {"dealname": f"d{i}", "amount": v, "pipeline": "default",
                                           "dealstage": "qualifiedtobuy"}, timestamp_ms=sandbox.now_ms() - HOUR)
           for i, v in enumerate(values)]
    sandbox.flush_search_index()
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox)
    schema = connector.get_table_schema("deals", options)
    records = [r for r in read_all(connector.read_table, "deals", options).records if r["id"] in ids]
    rows = ArrowConverter(schema, "deals", primary_keys=["id"]).convert(records).to_pylist()
    by_id = {row["id"]: row["properties"]["amount"] for row in rows}
    assert [by_id[i] for i in ids] == [Decimal(v) for v in values]


# ---------------------------------------------------------------------------------------------
# failures: rate limits, auth, options, unknown tables
# ---------------------------------------------------------------------------------------------
def test_429_storm_without_retry_after_is_retried(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox)
    sandbox.inject(Fault(429, body={"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                                    "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}),
                   times=3, endpoint=LIST)
    parts = connector.get_partitions("contacts", options)
    ids = [r["id"] for p in parts for r in connector.read_partition("contacts", p, options)]
    assert len(ids) == 20
    assert connector.api.retry_count == 3


def test_429_storm_with_retry_after_on_search_is_retried(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    sandbox.inject(Fault(429, retry_after=0.2, body={"status": "error", "policyName": "SECONDLY"}), times=4,
                   endpoint=SEARCH)
    started = time.monotonic()
    result = read_all(connector.read_table, "contacts", _options(sandbox))
    assert len(result.records) == 20
    assert connector.api.retry_count == 4
    assert time.monotonic() - started >= 0.8   # Retry-After honoured


def test_real_search_rate_limit_429s_are_retried():
    sb = _sandbox(seed=0, rate_limits=True, ten_second_limit=1000, search_per_second=2)
    try:
        sb.seed_burst("contacts", 1_000, timestamp_ms=sb.now_ms() - HOUR)
        connector = HubSpotLakeflowConnect(sb.connection_options())
        # misconfigured: the connector believes it may search 50 times a second
        options = {**sb.connection_options(), "search_per_second": "50", "ten_second_limit": "1000",
                   "associations": "", "lookback_seconds": "0.5"}
        result = read_all(connector.read_table, "contacts", options)
        assert len(set(_ids(result.records))) == 1_000
        assert connector.api.retry_count > 0
    finally:
        sb.stop()


def test_daily_limit_stops_at_once(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    sandbox.inject(Fault(429, body={"status": "error", "message": "You have reached your daily limit.",
                                    "policyName": "DAILY"}), times=1, endpoint=SEARCH)
    with pytest.raises(ConnectorError, match="daily"):
        read_all(connector.read_table, "contacts", _options(sandbox))
    assert connector.api.retry_count == 0


def test_401_names_the_token_problem_without_showing_it(sandbox):
    secret = "pat-na1-not-a-real-token-123456"
    connector = HubSpotLakeflowConnect({**sandbox.connection_options(), "access_token": secret})
    for call in (lambda: connector.get_table_schema("contacts", {}),
                 lambda: connector.read_table("contacts", None, _options(sandbox, access_token=secret)),
                 lambda: list(connector.read_partition("deals", {"start": None, "end": None}, {}))):
        with pytest.raises(ConnectorError) as info:
            call()
        message = str(info.value)
        assert "401" in message and "access_token" in message and "private app token" in message
        assert "/crm/v3/" in message
        assert secret not in message and secret not in repr(connector)
    assert connector.api.retry_count == 0


def test_403_names_the_missing_scope_and_endpoint(sandbox):
    sandbox.add_token("limited-token-xyz", scopes=["crm.objects.contacts.read"])
    connector = HubSpotLakeflowConnect({**sandbox.connection_options(), "access_token": "limited-token-xyz"})
    with pytest.raises(ConnectorError) as info:
        connector.read_table("owners", None, {})
    message = str(info.value)
    assert "crm.objects.owners.read" in message and "GET /crm/v3/owners" in message and "403" in message
    assert "limited-token-xyz" not in message
    with pytest.raises(ConnectorError, match="crm.schemas.contacts.read"):
        connector.get_table_schema("contacts", {})
    # no custom-object scope: standard tables are still listed
    assert "contacts" in connector.list_tables()


def test_a_service_key_connects_and_its_errors_name_it(sandbox):
    """Service Keys are the documented way to connect (new private apps cannot be created)."""
    key = sandbox.add_service_key()
    options = {"base_url": sandbox.url, "service_key": key, **FAST}
    connector = HubSpotLakeflowConnect(options)
    assert set(_ids(read_all(connector.read_table, "deals", {**options, "associations": ""}).records)) == \
        set(sandbox.record_ids("deals"))
    assert key not in repr(connector)
    limited = sandbox.add_service_key(scopes=["crm.objects.contacts.read"])
    with pytest.raises(ConnectorError) as info:
        HubSpotLakeflowConnect({"base_url": sandbox.url, "service_key": limited}).read_table("owners", None, {})
    message = str(info.value)
    assert "the Service Key lacks the scope(s) crm.objects.owners.read" in message and limited not in message
    sandbox.remove_token(key)
    with pytest.raises(ConnectorError, match=r"rejected the service_key \(401\).*check the Service Key"):
        HubSpotLakeflowConnect(options).get_table_schema("deals", {})
    with pytest.raises(ConnectorError, match="'service_key' and 'access_token' were both given"):
        HubSpotLakeflowConnect({**options, "access_token": "pat-na1-x"})


def test_options_are_validated_by_name(sandbox):
    with pytest.raises(ConnectorError, match="'service_key' is required.*'access_token'"):
        HubSpotLakeflowConnect({"base_url": sandbox.url})
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    for name, value in [("page_size", "500"), ("start_date", "yesterday"), ("lookback_seconds", "soon"),
                        ("partitions", "0"), ("ten_second_limit", "-1"), ("properties", "email;phone")]:
        with pytest.raises(ConnectorError, match=name):
            connector.read_table("contacts", None, {name: value})
    with pytest.raises(ConnectorError, match="properties"):
        connector.get_table_schema("contacts", {"properties": "email,no_such_property"})
    with pytest.raises(ConnectorError, match="associations"):
        connector.get_partitions("contacts", {"associations": "spaceships"})
    with pytest.raises(ConnectorError, match="offset"):
        connector.read_table("contacts", {"cursor": "x"}, {})


def test_unknown_table_raises_from_every_method(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    for call in (lambda: connector.get_table_schema("spaceships", {}),
                 lambda: connector.read_table_metadata("spaceships", {}),
                 lambda: connector.read_table("spaceships", None, {}),
                 lambda: connector.read_table_deletes("spaceships", None, {}),
                 lambda: connector.get_partitions("spaceships", {}),
                 lambda: connector.read_partition("spaceships", {"start": None, "end": None}, {})):
        with pytest.raises(UnknownTableError, match="spaceships"):
            call()


def test_properties_option_and_start_date(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    options = _options(sandbox, properties="email,firstname", associations="", start_date="2024-07-01")
    schema = connector.get_table_schema("contacts", options)
    assert schema["properties"].dataType.fieldNames() == ["email", "firstname"]
    assert "associations" not in schema.fieldNames()
    records = read_all(connector.read_table, "contacts", options).records
    assert records and all(r["updatedAt"] >= "2024-07-01" for r in records)
    listed = [r for p in connector.get_partitions("contacts", options) for r in connector.read_partition("contacts", p, options)]
    assert sorted(_ids(listed)) == sorted(_ids(records))
    everything = read_all(connector.read_table, "contacts", _options(sandbox)).records
    assert len(records) < len(everything) == 20


def test_owners_and_metadata(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    assert connector.read_table_metadata("owners", {})["ingestion_type"] == "cdc"
    assert connector.read_table_metadata("calls", {})["ingestion_type"] == "cdc_with_deletes"
    result = read_all(connector.read_table, "owners", {})
    assert len(result.records) == 20
    row = ArrowConverter(connector.get_table_schema("owners", {}), "owners").convert(result.records[:1]).to_pylist()[0]
    assert isinstance(row["userId"], int) and row["teams"][0]["name"]
    sandbox.add_owner("new.owner@example.com", "New", "Owner")   # seeded timestamps: SEED_START + n hours
    more = read_all(connector.read_table, "owners", {}, start=result.final_offset).records
    assert [o["email"] for o in more] == ["new.owner@example.com"]


def test_write_back_utils_touch_only_their_own_rows(sandbox):
    utils = HubSpotTestUtils(sandbox.connection_options())
    before = {t: set(sandbox.record_ids(t)) for t in ("contacts", "companies", "deals")}
    ok, rows, mapping = utils.generate_rows_and_write("contacts", 3)
    assert ok and len(rows) == 3 and mapping["email"] == "properties.email" and mapping["id"] == "id"
    assert all(r["email"].startswith("lakeflow-test-") for r in rows)
    ok, deleted, _ = utils.delete_rows("deals", 2)
    assert set(sandbox.record_ids("deals", archived=True)) == {r["id"] for r in deleted}
    utils.cleanup()
    for table, ids in before.items():
        assert set(sandbox.record_ids(table)) == ids, f"{table}: cleanup touched rows it did not create"


# ---------------------------------------------------------------------------------------------
# through Spark
# ---------------------------------------------------------------------------------------------
@pytest.mark.spark
def test_spark_read_with_partitions_and_delete_flow(spark):
    from datasource import register

    sb = _sandbox(seed=10, rate_limits=True, ten_second_limit=1000, search_per_second=50)
    try:
        sb.seed_burst("contacts", 600, timestamp_ms=sb.now_ms() - HOUR)
        fmt = register(spark, "hubspot")
        assert fmt == "lakeflow_hubspot"

        def reader(**extra):
            r = spark.read.format(fmt).option("tableName", "contacts")
            for key, value in {**sb.connection_options(), "ten_second_limit": "1000", "search_per_second": "40",
                               "partitions": "4", **extra}.items():
                r = r.option(key, value)
            return r

        df = reader().load()
        assert df.rdd.getNumPartitions() == 4
        rows = df.select("id", "properties.email", "associations.companies").collect()
        assert len(rows) == 610 and {r.id for r in rows} == set(sb.record_ids("contacts"))
        assert any(r.companies for r in rows)

        victims = sb.record_ids("contacts")[:4]
        sb.archive_records("contacts", victims)
        deleted = reader(isDeleteFlow="true").load().select("id", "archived", "archivedAt").collect()
        assert sorted(r.id for r in deleted) == sorted(victims)
        assert all(r.archived and r.archivedAt is not None for r in deleted)
        assert reader().load().count() == 606
    finally:
        sb.stop()


def test_offsets_are_json_and_repr_hides_the_token(sandbox):
    connector = HubSpotLakeflowConnect(sandbox.connection_options())
    _, offset = connector.read_table("contacts", None, _options(sandbox))
    assert json.loads(json.dumps(offset)) == offset and set(offset) == {"cursor", "id"}
    assert sandbox.token not in repr(connector)


# ---------------------------------------------------------------------------------------------
# the step algorithm alone, with a search that orders timestamp ties arbitrarily
# ---------------------------------------------------------------------------------------------
def test_step_algorithm_with_arbitrary_tie_order():
    import random

    from sources.hubspot import incremental

    rng = random.Random(7)
    # 2,500 records over 6 timestamps: ties far larger than a page, plus singletons
    stamps = [1000, 1000, 1000, 2000, 3000, 3000] * 400 + [1500] * 100
    records = [{"id": str(10_000 + i), "properties": {"m": str(ts)}} for i, ts in enumerate(stamps)]
    calls = []

    def search(filters, sort, direction, limit):
        calls.append(filters)
        def ok(r):
            for f in filters:
                v = int(r["properties"]["m"]) if f["propertyName"] == "m" else int(r["id"])
                target = int(f["value"])
                if not {"EQ": v == target, "GT": v > target, "GTE": v >= target, "LTE": v <= target}[f["operator"]]:
                    return False
            return True
        hits = [r for r in records if ok(r)]
        rng.shuffle(hits)
        key = (lambda r: int(r["id"])) if sort == "hs_object_id" else (lambda r: int(r["properties"]["m"]))
        hits.sort(key=key)   # stable sort over a shuffled list: ties in random order
        return hits[:limit]

    position = incremental.Position(0, 0, True)
    seen: list[str] = []
    for _ in range(1_000):
        result = incremental.step(search, "m", position, upper=2500, limit=200)
        if result is None:
            break
        seen += [r["id"] for r in result.records]
        assert result.position != position
        position = result.position
    expected = {r["id"] for r in records if int(r["properties"]["m"]) <= 2500}
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert position.to_offset() == {"cursor": 2000, "id": max(int(r["id"]) for r in records if r["properties"]["m"] == "2000")}


@pytest.mark.parametrize("body", [{}, {"status": "error", "message": "try later"}, ""])
def test_a_page_without_results_is_an_error_not_the_end(sandbox, body):
    """A 200 answer without a results list once cut batch reads short and made streams skip
    records for good; it is retried like a 5xx, and if it persists the read fails naming the
    endpoint."""
    options = _options(sandbox, retry_max_attempts="3", retry_base_delay="0.01")
    connector = HubSpotLakeflowConnect(options)
    sandbox.inject(Fault(200, body=body), times=3, endpoint="POST /crm/v3/objects/{object_type}/search")
    with pytest.raises(HubSpotApiError, match=r"POST /crm/v3/objects/contacts/search answered HTTP 200 with an "
                                              r"unexpected body \(.*'results' list\) after 3 attempt"):
        read_all(connector.read_table, "contacts", options)
    partition = {"start": None, "end": None}
    sandbox.inject(Fault(200, body=body), times=3, endpoint="GET /crm/v3/objects/{object_type}")
    with pytest.raises(HubSpotApiError, match=r"GET /crm/v3/objects/contacts answered HTTP 200 with an unexpected body"):
        list(HubSpotLakeflowConnect(options).read_partition("contacts", partition, options))


def test_a_page_without_results_once_is_retried_and_the_read_is_complete(sandbox):
    options = _options(sandbox, associations="", retry_base_delay="0.01")
    expected = set(sandbox.record_ids("contacts"))
    sandbox.inject(Fault(200, body={}), times=2, endpoint="POST /crm/v3/objects/{object_type}/search")
    connector = HubSpotLakeflowConnect(options)
    assert set(_ids(read_all(connector.read_table, "contacts", options).records)) == expected
    assert connector.api.retry_count == 2


def test_a_server_that_never_answers_fails_in_bounded_time_naming_the_endpoint():
    """base_url on a port that accepts and never replies once blocked a load() for 1,038 s
    and named the wrong endpoint."""
    from sources.toolkit.sandbox.silent import SilentServer

    with SilentServer() as url:
        options = {"access_token": "pat-na1-secret", "base_url": url, "read_timeout": "0.3",
                   "request_deadline": "1.2", "retry_base_delay": "0.05"}
        started = time.monotonic()
        with pytest.raises(HubSpotApiError) as info:
            HubSpotLakeflowConnect(options).get_table_schema("contacts", {})
        elapsed = time.monotonic() - started
    assert elapsed < 3.0, elapsed
    message = str(info.value)
    assert "GET /crm/v3/properties/contacts failed after" in message and "ReadTimeout" in message, message
    assert "pat-na1-secret" not in message
    with pytest.raises(ConnectorError, match="HubSpot option 'request_deadline'"):
        HubSpotLakeflowConnect({**options, "request_deadline": "never"})
