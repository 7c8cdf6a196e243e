"""The one offset loop (sources.interface.contract): what it accepts and how it fails."""

from __future__ import annotations

import pytest

from sources.interface import ConnectorError
from sources.interface.contract import OffsetContractError, connector_reader, iterate_offsets, offset_key, read_to_end, validate_metadata
from tests.toy_connectors import CyclingLakeflowConnect, PagedLakeflowConnect, RestlessLakeflowConnect, StuckLakeflowConnect


def _reader(connector, table="items"):
    return connector_reader(connector, table, {})


def test_reads_to_the_end_and_stops_where_the_offset_stops():
    records, end = read_to_end(_reader(PagedLakeflowConnect({"rows": "250", "page": "100"})), "items")
    assert [int(r["id"]) for r in records] == list(range(1, 251)) and end == {"id": 250}


def test_max_records_and_until_bound_a_read():
    read = _reader(PagedLakeflowConnect({"rows": "250", "page": "100"}))
    pages = list(iterate_offsets(read, "items", max_records=150))
    assert [p.end for p in pages] == [{"id": 100}, {"id": 200}]
    pages = list(iterate_offsets(read, "items", {"id": 100}, until={"id": 200}))
    assert [p.end for p in pages] == [{"id": 200}]


def test_records_without_an_advancing_offset_fail():
    with pytest.raises(OffsetContractError, match=r"returned 1 record\(s\) with an end offset equal to its start offset \{\}"):
        read_to_end(_reader(StuckLakeflowConnect({})), "items")


def test_a_cycling_offset_fails_instead_of_hanging():
    with pytest.raises(OffsetContractError, match=r"returned offset \{\"n\":1\} again within one read"):
        read_to_end(_reader(CyclingLakeflowConnect({})), "items")


def test_an_offset_moving_forever_without_records_fails():
    with pytest.raises(OffsetContractError, match=r"no records 50 times in a row.*does not converge"):
        read_to_end(_reader(RestlessLakeflowConnect({})), "items", max_empty_advances=50)


def test_offsets_must_be_json_dicts():
    with pytest.raises(OffsetContractError, match="offsets must be dicts"):
        read_to_end(lambda o, limits: ([], [1]), "t")
    with pytest.raises(OffsetContractError, match="not JSON-serialisable"):
        read_to_end(lambda o, limits: ([], {"x": object()}), "t")
    with pytest.raises(OffsetContractError, match=r"must return \(records, offset\)"):
        read_to_end(lambda o, limits: [], "t")


def test_offset_key_and_metadata():
    assert offset_key(None) == offset_key({}) == "{}"
    assert offset_key({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert validate_metadata("t", {"primary_keys": ["id"], "cursor_field": "u", "ingestion_type": "cdc"})["primary_keys"] == ["id"]
    with pytest.raises(ConnectorError, match="needs primary_keys and a cursor_field"):
        validate_metadata("t", {"primary_keys": [], "ingestion_type": "cdc"})
