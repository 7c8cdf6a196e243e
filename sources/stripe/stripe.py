"""``StripeLakeflowConnect``: a Stripe account's customers, charges, invoices, subscriptions and
events as Spark tables, read through Stripe's REST API (see ``stripe_api_doc.md``).

Connection options: ``api_key`` (required; a secret or restricted key, ``sk_…``/``rk_…``, sent
as ``Authorization: Bearer``), ``base_url`` (default ``https://api.stripe.com``), ``page_size``
(1–100, default 100) and the shared client's ``connect_timeout``, ``read_timeout``,
``retry_*`` and ``request_deadline``.

Stripe's lists have one time filter, ``created``, a creation time that updates leave alone.
Changes are read through ``events`` instead:

* ``events`` (30 days of them) is **append** on ``created`` (epoch seconds):
  ``created[gte]=<cursor>`` (inclusive) and the ids already read at the cursor in the offset
  (an :class:`InclusiveCursor`), so events written in the same second as the last one read
  are neither lost nor repeated.
* ``customers`` is **cdc_with_deletes**. The first read lists every customer; later reads
  take the ``customer.*`` events since the offset (read like ``events``) and fetch each
  customer they name as it is *now* (``GET /v1/customers/{id}``), since events of one second
  cannot be ordered. Each record carries ``updated``: the API's clock (its ``Date`` header,
  whole seconds) when that state was read — the sequence of a customer's versions. The delete
  flow is the ``customer.deleted`` events, ``updated`` their time; a deletion in the same
  second as a read wins.
* ``charges``, ``invoices`` and ``subscriptions`` are **snapshots**, read whole on every run
  (``starting_after`` paging; subscriptions with ``status=all``).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any, Iterator

from pyspark.sql.types import StructType

from sources.http import HttpClient, HttpSettings
from sources.http.retry import RetryPolicy
from sources.interface import ConnectorError, ReadLimits, SupportsReadLimits
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import (
    BOOLEAN, EPOCH_SECONDS, HTTP_OPTIONS, LONG, STRING, HttpConnector, InclusiveCursor, Opt, OptionSet,
    StartingAfterPaginator, struct,
)

DEFAULT_BASE_URL = "https://api.stripe.com"
#: The API version the schemas were written against (sent as ``Stripe-Version``).
API_VERSION = "2024-06-20"

OPTIONS = OptionSet(
    Opt("api_key", secret=True, required=True, doc="a Stripe secret or restricted key (sk_… or rk_…)"),
    Opt("base_url", default=DEFAULT_BASE_URL),
    Opt("page_size", int, default=100, low=1, high=100),
)

_SNAPSHOT = {"primary_keys": ["id"], "cursor_field": None, "ingestion_type": "snapshot"}
METADATA = {
    "customers": {"primary_keys": ["id"], "cursor_field": "updated", "ingestion_type": "cdc_with_deletes"},
    "charges": _SNAPSHOT, "invoices": _SNAPSHOT, "subscriptions": _SNAPSHOT,
    "events": {"primary_keys": ["id"], "cursor_field": "created", "ingestion_type": "append"},
}
#: table -> (path, query every request sends)
LISTINGS = {
    "customers": ("/v1/customers", {}),
    "charges": ("/v1/charges", {}),
    "invoices": ("/v1/invoices", {}),
    "subscriptions": ("/v1/subscriptions", {"status": "all"}),
    "events": ("/v1/events", {}),
}
SCHEMAS: dict[str, StructType] = {
    "customers": struct(id=STRING, object=STRING, email=STRING, name=STRING, description=STRING, balance=LONG,
                        currency=STRING, delinquent=BOOLEAN, livemode=BOOLEAN, metadata=struct(tier=STRING),
                        created=EPOCH_SECONDS, updated=EPOCH_SECONDS),
    "charges": struct(id=STRING, object=STRING, amount=LONG, currency=STRING, status=STRING, customer=STRING,
                      paid=BOOLEAN, refunded=BOOLEAN, description=STRING, livemode=BOOLEAN, created=EPOCH_SECONDS),
    "invoices": struct(id=STRING, object=STRING, customer=STRING, status=STRING, total=LONG, currency=STRING,
                       subscription=STRING, livemode=BOOLEAN, created=EPOCH_SECONDS),
    "subscriptions": struct(id=STRING, object=STRING, customer=STRING, status=STRING,
                            current_period_start=EPOCH_SECONDS, current_period_end=EPOCH_SECONDS, livemode=BOOLEAN,
                            created=EPOCH_SECONDS),
    "events": struct(id=STRING, object=STRING, type=STRING, api_version=STRING, livemode=BOOLEAN,
                     data=struct(object=struct(id=STRING, object=STRING)), created=EPOCH_SECONDS),
}


def _rate_limited(status: int, headers, body: str) -> str | None:
    """429 is retried (with backoff); so is any answer Stripe marks ``Stripe-Should-Retry: true``."""
    if status == 429 or headers.get("Stripe-Should-Retry") == "true":
        return "retry"
    return None


class StripeLakeflowConnect(HttpConnector, SupportsReadLimits):
    """Reads Stripe (see the module docstring)."""

    CONNECTION_OPTIONS = OptionSet(OPTIONS, HTTP_OPTIONS)
    METADATA, SCHEMAS = METADATA, SCHEMAS

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = OPTIONS.parse(self.options, owner="Stripe")
        self._key = parsed.api_key
        self.base_url = parsed.base_url.rstrip("/")
        self.page_size = parsed.page_size
        self.http = HttpSettings.from_options(self.options, owner="Stripe")

    def make_client(self) -> HttpClient:
        headers = {"Authorization": f"Bearer {self._key}", "Stripe-Version": API_VERSION}
        return HttpClient.from_settings(self.base_url, self.http, headers=headers, secrets=[self._key],
                                        retry=RetryPolicy(classify=_rate_limited))

    def _pages(self, table: str, params: dict) -> Iterator[list]:
        path, query = LISTINGS[table]
        return self.client.paginate(path, StartingAfterPaginator(limit=self.page_size), params={**query, **params})

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict | None]:
        kind = METADATA[self.check_table(table_name)]["ingestion_type"]
        if kind == "snapshot":
            return (record for page in self._pages(table_name, {}) for record in page), None
        if kind == "append":
            records, offset = self._events(start_offset, limits, {})
            return iter(records), offset
        if not start_offset:
            return self._all_customers(limits)
        events, offset = self._events(start_offset, limits, {"type": "customer.*"})
        changed = list(dict.fromkeys(e["data"]["object"]["id"] for e in events))
        return (c for c in map(self._customer, changed) if c is not None), offset

    def read_table_deletes(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                           limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        if METADATA[self.check_table(table_name)]["ingestion_type"] != "cdc_with_deletes":
            raise ConnectorError(f"Stripe table {table_name!r} has no delete flow: it is "
                                 f"{METADATA[table_name]['ingestion_type']}")
        events, offset = self._events(start_offset, limits, {"type": "customer.deleted"})
        return iter({"id": e["data"]["object"]["id"], "updated": e["created"]} for e in events), offset

    def _events(self, start_offset: Any, limits: ReadLimits, params: dict) -> tuple[list, dict]:
        """The events after the offset (``created[gte]`` its cursor, the ids read at it
        skipped), oldest first, bounded by the call's limits; and the next offset."""
        state = InclusiveCursor.parse(start_offset, "events")
        if state.since is not None:
            params = {**params, "created[gte]": int(state.since)}
        newest: dict = {}  # newest first; a page shift under concurrent writes may repeat one
        for page in self._pages("events", params):
            for record in page:
                newest.setdefault(record["id"], record)
        return state.read(newest.values(), lambda r: r["created"], lambda r: r["id"], "events", limits)

    def _all_customers(self, limits: ReadLimits) -> tuple[Iterator[dict], dict]:
        """Every customer, stamped with the moment the listing began; the offset starts the
        change feed there (inclusive: a change in that second is read again, never lost)."""
        began = _server_seconds(self.client.request("GET", LISTINGS["customers"][0], params={"limit": 1}))
        records = []
        for page in self._pages("customers", {}):
            records.extend({**c, "updated": began} for c in page)
        if limits.end_offset is not None:  # a replay of the first batch ends where it ended
            return iter(records), dict(limits.end_offset)
        return iter(records), {"cursor": began, "seen_at_cursor": []}

    def _customer(self, customer_id: str) -> dict | None:
        """The customer as it is now, stamped with the API's clock; ``None`` once deleted
        (the delete flow reports it)."""
        response = self.client.request("GET", f"/v1/customers/{customer_id}", ok_statuses=(404,))
        body = response.json()
        if response.status_code == 404 or body.get("deleted"):
            return None
        return {**body, "updated": _server_seconds(response)}


def _server_seconds(response) -> int:
    """The API's clock when it answered (the ``Date`` header), in epoch seconds."""
    date = response.headers.get("Date")
    if not date:
        raise ConnectorError(f"Stripe answered {response.request.method} {response.url} without a Date header; "
                             "the customers table needs the API's clock to order versions")
    return int(parsedate_to_datetime(date).timestamp())
