"""Zendesk's export rules the suite runs without: the last minute is not exported (and a
``start_time`` inside it is refused), and exports allow a few requests a minute. Here with
the sandbox's clock shortened to seconds, the connector reads everything, never sends a
refused ``start_time``, and waits out 429s instead of failing or stopping short."""

from __future__ import annotations

import time

import requests

from sources.zendesk import ZendeskLakeflowConnect
from sources.zendesk.sandbox import ZendeskSandbox
from sources.zendesk.zendesk_test_utils import ZendeskTestUtils


def _ids(records) -> set:
    return {r["id"] for r in records}


def test_records_of_the_last_seconds_come_in_a_later_read_and_the_offset_waits_for_them():
    with ZendeskSandbox(recent_seconds=2) as sandbox:
        options = sandbox.connection_options()
        connector = ZendeskLakeflowConnect(options)
        records, offset = connector.read_table("tickets", {}, {})
        assert _ids(records) == {r["id"] for r in sandbox.truth("tickets").records.values()}
        _, written, _ = ZendeskTestUtils(options).generate_rows_and_write("tickets", 3)
        new = _ids(written)

        records, early = connector.read_table("tickets", offset, {})
        assert not new & _ids(records), "records of the last seconds were exported"
        assert early["cursor"] <= time.time() - 2

        refused = requests.get(f"{sandbox.url}/api/v2/incremental/tickets/cursor", params={"start_time": int(time.time())},
                               headers={"Authorization": connector.client.session.headers["Authorization"]}, timeout=10)
        assert refused.status_code == 400 and "Too recent start_time" in refused.json()["description"]

        time.sleep(2.2)
        records, _ = ZendeskLakeflowConnect(options).read_table("tickets", early, {})
        assert new <= _ids(records)


def test_a_rate_limited_export_is_read_whole_after_waiting_out_429s():
    with ZendeskSandbox(export_limit=(3, 2.0)) as sandbox:
        connector = ZendeskLakeflowConnect({**sandbox.connection_options(), "page_size": "40"})
        started = time.monotonic()
        records = list(connector.read_table("tickets", {}, {})[0])
        took = time.monotonic() - started
        truth = sandbox.truth("tickets").records
        assert _ids(records) == {r["id"] for r in truth.values()} and len(records) == len(truth)
        assert sandbox.export_rejections > 0, "the limit was never reached: the test proves nothing"
        assert took >= 2.0, f"7 pages at 3 requests per 2 s were read in {took:.1f} s"
