"""The HubSpot connector under the whole conformance and write-back suite.

Runs against :class:`~sources.hubspot.sandbox.HubSpotSandbox` on 127.0.0.1 (rate limits
on, a search index delay, a custom object ``cars``) unless ``LAKEFLOW_HUBSPOT_ACCESS_TOKEN``
(or ``sources/hubspot/configs/dev_config.json``) gives a real private-app token; then it
reads and writes (marked test records only) in that portal.

HubSpot scenario tests (ties past the 10k search cap, index lag, 429 storms, request
counts…) live in ``tests/test_hubspot_connector.py``.
"""

from __future__ import annotations

from harness.conformance import LakeflowConnectTests, LakeflowConnectWriteBackTests
from sources.hubspot.sandbox import HubSpotSandbox
from sources.hubspot import HubSpotLakeflowConnect
from sources.hubspot.hubspot_test_utils import HubSpotTestUtils

#: Tables the sandbox run reads (a representative subset keeps the Spark stream tests short):
#: a standard object with associations, a deal (decimals), an engagement, owners, a custom object.
SANDBOX_TABLES = ["contacts", "deals", "calls", "owners", "cars"]
ALL_STANDARD = ["contacts", "companies", "deals", "tickets", "products", "line_items", "calls", "emails",
                "meetings", "notes", "tasks", "owners", "cars"]

# Small lookback (≥ the sandbox's 0.3 s index delay) and budgets matching the sandbox's limits.
SANDBOX_TABLE_OPTIONS = {"lookback_seconds": "1", "ten_second_limit": "1000", "search_per_second": "40",
                         "partitions": "3"}
LIVE_TABLE_OPTIONS = {"lookback_seconds": "30"}


class TestHubSpotConnector(LakeflowConnectWriteBackTests, LakeflowConnectTests):
    source_name = "hubspot"
    connector_class = HubSpotLakeflowConnect
    test_utils_class = HubSpotTestUtils
    sandbox_class = HubSpotSandbox
    sandbox_kwargs = {"seed": 30, "search_index_delay": 0.3, "rate_limits": True, "ten_second_limit": 1000,
                      "search_per_second": 50}
    live_required_options = ("service_key|access_token",)
    live_optional_options = ("base_url",)
    table_options = {t: dict(SANDBOX_TABLE_OPTIONS) for t in ALL_STANDARD}
    allow_unpopulated = {t: ["archivedAt"] for t in ALL_STANDARD}
    write_visibility_deadline = 30.0
    truth_incremental_tables = ["contacts", "deals", "owners"]

    @classmethod
    def setup_class(cls) -> None:
        super().setup_class()
        if cls.mode == "live":
            cls.table_options = {t: dict(LIVE_TABLE_OPTIONS) for t in ALL_STANDARD}
            cls.write_visibility_deadline = 240.0
            cls.tables_under_test = None
            return
        cls.tables_under_test = list(SANDBOX_TABLES)
        sandbox = cls.sandbox
        sandbox.create_schema({
            "name": "cars",
            "labels": {"singular": "Car", "plural": "Cars"},
            "primaryDisplayProperty": "model",
            "requiredProperties": ["model"],
            "properties": [
                {"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
                {"name": "price", "label": "Price", "type": "number", "fieldType": "number"},
                {"name": "electric", "label": "Electric", "type": "bool", "fieldType": "booleancheckbox"},
                {"name": "first_registered", "label": "First registered", "type": "date", "fieldType": "date"},
            ],
            "associatedObjects": ["contacts"],
        })
        past = sandbox.now_ms() - 3_600_000
        for i in range(12):
            sandbox.create_record("cars", {"model": f"Model {i}", "price": f"{20000 + i}.{i:02d}",
                                           "electric": "true" if i % 2 else "false",
                                           "first_registered": "2023-05-01"}, timestamp_ms=past + i * 1000)
        sandbox.flush_search_index()
