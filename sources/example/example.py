"""``ExampleLakeflowConnect``: the connector of the fictional example "shop" API.

It is the reference connector: small, complete, and run against
:class:`sources.example.sandbox.ExampleSandbox`. The API is described in
``example_api_doc.md`` next to this file; users read ``README.md``.

Tables and how they are read:

* ``products`` (snapshot): every page in one call, offset ``None``.
* ``customers`` (cdc), ``orders`` (cdc_with_deletes), ``events`` (append): keyset reads on
  ``(cursor, id)``; the offset is ``{"cursor": <cursor as the API sent it>, "id": <id>}``
  of the last record returned, and one call returns at most one page.
* ``events`` also reads through partitions (:class:`SupportsPartitionedStream`): id ranges
  ``{"since_id": a, "until_id": b}`` meaning ``a < event_id <= b``.

Records are returned raw (decimal strings, ISO strings, epoch milliseconds); the runtime
converts them to the schema.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import chain
from typing import Any, Iterator

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sources.http import HttpClient, HttpError, HttpSettings, RateLimiter
from sources.interface import (
    ConnectorError,
    ReadLimits,
    SupportsPartitionedStream,
    SupportsReadLimits,
    UnknownTableError,
)
from sources.interface.options import option
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import (
    HTTP_OPTIONS,
    HttpConnector,
    KeysetOffset,
    KeysetPaginator,
    Opt,
    OptionSet,
    PageNumberPaginator,
    SinglePage,
    Windows,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 500
DEFAULT_PARTITION_SIZE = 1000

#: The connector's own connection options; the shared client's (``connect_timeout`` …) are
#: read by :meth:`HttpSettings.from_options`.
OPTIONS = OptionSet(
    Opt("access_token", secret=True, required=True,
        doc="the bearer token of the example API (for the sandbox: the --token it was started with)"),
    Opt("base_url", default=DEFAULT_BASE_URL),
    Opt("page_size", int, default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE),
    Opt("max_requests_per_second", int, default=50, low=1),
    # ``request_timeout`` is this connector's older name of the shared ``read_timeout``.
    Opt("request_timeout", float, default=60.0, low=0.001),
)
TABLE_OPTION_SET = OptionSet(Opt("partition_size", int, default=DEFAULT_PARTITION_SIZE, low=1))


_MONEY = DecimalType(18, 2)


def _f(name: str, data_type, nullable: bool = True) -> StructField:
    return StructField(name, data_type, nullable)


SCHEMAS: dict[str, StructType] = {
    "products": StructType([
        _f("product_id", LongType(), False),
        _f("name", StringType()),
        _f("price", _MONEY),
        _f("tags", ArrayType(StringType())),
        _f("attributes", StructType([_f("color", StringType()), _f("weight_kg", DoubleType())])),
        _f("active", BooleanType()),
        _f("launched_on", DateType()),
    ]),
    "customers": StructType([
        _f("customer_id", LongType(), False),
        _f("email", StringType()),
        _f("name", StringType()),
        _f("tier", StringType()),
        _f("credit_limit", _MONEY),
        _f("address", StructType([_f("street", StringType()), _f("city", StringType()), _f("country", StringType())])),
        _f("created_at", TimestampType()),
        _f("updated_at", TimestampType(), False),
    ]),
    "orders": StructType([
        _f("order_id", LongType(), False),
        _f("customer_id", LongType()),
        _f("status", StringType()),
        _f("total", _MONEY),
        _f("items", ArrayType(StructType([
            _f("sku", StringType()), _f("quantity", LongType()), _f("unit_price", _MONEY)]))),
        # Keys are arbitrary (user-defined), so a map rather than a struct.
        _f("metadata", MapType(StringType(), StringType())),
        _f("updated_at", TimestampType(), False),
    ]),
    "events": StructType([
        _f("event_id", LongType(), False),
        _f("customer_id", LongType()),
        _f("type", StringType()),
        _f("payload", StructType([_f("source", StringType()), _f("value", DoubleType())])),
        # Epoch milliseconds on the wire.
        _f("occurred_at", TimestampType()),
    ]),
}

METADATA: dict[str, dict] = {
    "products": {"primary_keys": ["product_id"], "cursor_field": None, "ingestion_type": "snapshot"},
    "customers": {"primary_keys": ["customer_id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "orders": {"primary_keys": ["order_id"], "cursor_field": "updated_at", "ingestion_type": "cdc_with_deletes"},
    "events": {"primary_keys": ["event_id"], "cursor_field": "event_id", "ingestion_type": "append"},
}

TABLES = list(SCHEMAS)

_HINTS = {
    400: "the request was rejected; check the page_size option and that the offset came from this connector",
    401: "check access_token (the API answered 'unauthorized')",
    403: "the access_token lacks permission for this table",
    404: "check base_url and the table name",
    405: "this operation is not allowed on this table",
    409: "the record conflicts with an existing one",
    429: "the API kept throttling after all retries; lower max_requests_per_second or retry later",
}


class ExampleApiError(ConnectorError):
    """An example-API call that failed for good; names the endpoint, the status and a hint."""

    def __init__(self, message: str, endpoint: str, status: int | None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class ExampleLakeflowConnect(HttpConnector, SupportsPartitionedStream, SupportsReadLimits):
    """Reads the example shop API.

    Connection options (strings):

    * ``access_token`` (required): the bearer token.
    * ``base_url`` (default ``http://127.0.0.1:8765``, where ``lakeflow sandbox example`` listens).
    * ``page_size`` (default 200, 1–500): records per request.
    * ``max_requests_per_second`` (default 50): client-side rate limit.
    * the shared client's options (:mod:`sources.http.settings`): ``connect_timeout`` (10 s),
      ``read_timeout`` (60 s; ``request_timeout`` is its older name here),
      ``retry_max_attempts`` (8), ``retry_base_delay`` (0.5 s), ``retry_max_delay`` (30 s),
      ``request_deadline`` (300 s): backoff on 429/5xx/connection errors, ``Retry-After``
      honoured, and a bound on one request's total time.

    Table option: ``partition_size`` (events ids per partition, default 1000).

    Read limits (:class:`~sources.interface.SupportsReadLimits`): ``limits.max_records``
    caps one keyset page and the advance of ``latest_offset``; ``limits.end_offset`` bounds
    a replay (``until_cursor`` = its cursor, and records after its ``(cursor, id)`` are not
    returned).
    """

    CONNECTION_OPTIONS = OptionSet(OPTIONS, HTTP_OPTIONS)
    TABLE_OPTIONS = TABLE_OPTION_SET

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = OPTIONS.parse(self.options)
        self._token = parsed.access_token
        if not parsed.base_url.startswith(("http://", "https://")):
            raise ConnectorError(f"Option 'base_url' must start with http:// or https://, got {parsed.base_url!r}.")
        self.base_url = parsed.base_url.rstrip("/")
        self.page_size = parsed.page_size
        self.max_requests_per_second = parsed.max_requests_per_second
        self.http = HttpSettings.from_options(self.options, HttpSettings(read_timeout=parsed.request_timeout))
        #: Upper bound (``until_cursor``) of the current read cycle, per table.
        self._windows = Windows()

    # -- plumbing --------------------------------------------------------------------------
    def make_client(self) -> HttpClient:
        return HttpClient.from_settings(
            self.base_url,
            self.http,
            headers={"Authorization": f"Bearer {self._token}"},
            limiters=[RateLimiter(self.max_requests_per_second, 1.0)],
            secrets=[self._token, *OPTIONS.secrets(self.options)],
        )

    @contextmanager
    def _api(self, endpoint: str) -> Iterator[None]:
        """Turns a failed call into an :class:`ExampleApiError` naming endpoint, status and fix."""
        try:
            yield
        except HttpError as exc:
            hint = _HINTS.get(exc.status) if exc.status is not None else None
            if hint is None:
                hint = ("check base_url: is the API (or `lakeflow sandbox example`) running and reachable?"
                        if exc.status is None else "the API failed; retry later")
            raise ExampleApiError(f"Example API: {exc}. Hint: {hint}.", endpoint, exc.status) from None

    def request(self, method: str, path: str, *, params: dict | None = None, body: Any = None) -> Any:
        """Send one API request (with retries); return the decoded JSON (``None`` for an
        empty body). Failures raise :class:`ExampleApiError` naming endpoint, status and fix."""
        endpoint = f"{method} {path}"
        with self._api(endpoint):
            response = self.client.request(method, path, params=params, json=body)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ExampleApiError(
                f"Example API: {endpoint} returned HTTP {response.status_code} with a body that is not JSON.",
                endpoint, response.status_code) from None

    def _pages(self, path: str, paginator: Any, params: dict) -> Iterator[list]:
        """The pages of a listing (``client.paginate``: a page without its 'data' list is
        retried, then fails), errors as :class:`ExampleApiError`."""
        pages = self.client.paginate(path, paginator, params=params)
        while True:
            with self._api(f"GET {path}"):
                page = next(pages, None)
            if page is None:
                return
            yield page

    def _page(self, path: str, params: dict) -> list:
        """The records of one page: the one request of a keyset read."""
        return next(self._pages(path, SinglePage(), params))

    def _stats(self, table: str) -> dict:
        body = self.request("GET", f"/api/v1/{table}/stats")
        if not isinstance(body, dict) or "max_id" not in body:
            raise ExampleApiError(f"Example API: GET /api/v1/{table}/stats returned a malformed body.",
                                  f"GET /api/v1/{table}/stats", 200)
        return body

    def _check(self, table_name: str) -> str:
        if table_name not in SCHEMAS:
            raise UnknownTableError(table_name, TABLES)
        return table_name

    # -- LakeflowConnect -------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        return list(TABLES)

    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> StructType:
        return SCHEMAS[self._check(table_name)]

    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        meta = METADATA[self._check(table_name)]
        return {"primary_keys": list(meta["primary_keys"]), "cursor_field": meta["cursor_field"],
                "ingestion_type": meta["ingestion_type"]}

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        self._check(table_name)
        if table_name == "products":
            return self._read_snapshot(table_name), None
        return self._read_keyset(table_name, start_offset, table_options or {}, limits, deletes=False)

    def read_table_deletes(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                           limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        self._check(table_name)
        if METADATA[table_name]["ingestion_type"] != "cdc_with_deletes":
            raise ConnectorError(
                f"Table {table_name!r} has ingestion type {METADATA[table_name]['ingestion_type']!r}; "
                "deleted records are only available for 'orders'."
            )
        return self._read_keyset(table_name, start_offset, table_options or {}, limits, deletes=True)

    # -- snapshot ----------------------------------------------------------------------------
    def _read_snapshot(self, table: str) -> Iterator[dict]:
        pages = self._pages(f"/api/v1/{table}", PageNumberPaginator(size=self.page_size, has_more_path="has_more"), {})
        first = next(pages)  # fail fast (auth, URL)
        return chain(first, chain.from_iterable(pages))

    # -- keyset reads ----------------------------------------------------------------------
    @staticmethod
    def _no_old_cap(table_options: dict[str, str]) -> None:
        if option(table_options, "max_records_per_batch") is not None:
            raise ConnectorError(
                "Option 'max_records_per_batch' was replaced by the runtime's 'maxRecordsPerBatch' "
                "(.option('maxRecordsPerBatch', '1000')), which reaches the connector as its read limit.")

    @staticmethod
    def _after_end(table: str, cursor: Any, rid: Any, end: tuple[Any, Any]) -> bool:
        """Whether ``(cursor, rid)`` comes after a replay's end ``(cursor, id)`` in keyset order
        (timestamps compare as instants)."""
        return KeysetOffset(cursor, rid) > KeysetOffset(*end)

    def _fetch_upper(self, table: str) -> Any:
        """The cursor bound of a new read cycle: the API's current maximum (``None``: empty)."""
        stats = self._stats(table)
        return stats.get("max_cursor") if stats.get("count") else None

    def _read_keyset(self, table: str, start_offset: Any, table_options: dict, limits: ReadLimits,
                     deletes: bool) -> tuple[Iterator[dict], dict]:
        self._no_old_cap(table_options)
        since = KeysetOffset.parse(start_offset, table)
        until = KeysetOffset.parse(limits.end_offset, table)
        unchanged = dict(start_offset) if start_offset else {}
        page_size = min(self.page_size, limits.max_records) if limits.max_records else self.page_size
        params: dict[str, Any] = {"page_size": page_size, "page": 1}
        if since is not None:
            params["since_cursor"], params["since_id"] = since.cursor, since.id
        id_field = METADATA[table]["primary_keys"][0]
        if deletes:
            path, cursor_field = f"/api/v1/{table}/deleted", "deleted_at"
        else:
            path, cursor_field = f"/api/v1/{table}", METADATA[table]["cursor_field"]
        if until is not None:
            # A replay: the range ends at the checkpointed offset, not at this cycle's bound.
            params["until_cursor"] = until.cursor
        elif not deletes:
            # A cycle starts when no bound is cached and ends when a read returns nothing; the
            # fixed bound makes it finish under a constant stream of writes.
            window = self._windows.open(table, lambda: self._fetch_upper(table),
                                         None if since is None else since.cursor)
            if window is None:
                return iter(()), unchanged
            params["until_cursor"] = window.upper
        records = self._page(path, params)
        if until is not None:
            records = [r for r in records if not KeysetOffset.of(r, cursor_field, id_field) > until]
        if not records:
            if not deletes and until is None:
                self._windows.close(table)
            return iter(()), unchanged
        last = records[-1]
        end = KeysetOffset(last.get(cursor_field), last.get(id_field))
        if end.cursor is None or end.id is None or (since is not None and not end > since):
            raise ExampleApiError(
                f"Example API: GET {path} returned a record without {cursor_field}/{id_field} or did not move "
                f"past the offset {unchanged}; cannot continue without risking a skipped record.",
                f"GET {path}", 200)
        if deletes:
            records = [self._tombstone_record(table, t) for t in records]
        return iter(records), end.to_offset()

    @staticmethod
    def _tombstone_record(table: str, tombstone: dict) -> dict:
        record = {field.name: None for field in SCHEMAS[table].fields}
        id_field = METADATA[table]["primary_keys"][0]
        record[id_field] = tombstone.get(id_field)
        record[METADATA[table]["cursor_field"]] = tombstone.get("deleted_at")
        return record

    # -- partitions (events) -----------------------------------------------------------------
    def is_partitioned(self, table_name: str) -> bool:
        return self._check(table_name) == "events"

    def _require_partitioned(self, table: str, method: str) -> None:
        self._check(table)
        if not self.is_partitioned(table):
            raise ConnectorError(f"{method}: table {table!r} is not partitioned (is_partitioned() is False); read it with read_table.")

    @staticmethod
    def _event_id(offset: Any, what: str) -> int:
        if offset is None or offset == {}:
            return 0
        value = offset.get("id", offset.get("cursor")) if isinstance(offset, dict) else None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConnectorError(f"Invalid {what} offset for table 'events': {offset!r}; expected {{\"cursor\": <event_id>, \"id\": <event_id>}}.")
        return value

    def latest_offset(self, table_name: str, table_options: dict[str, str], start_offset: dict | None = None, *,
                      limits: ReadLimits = NO_LIMITS) -> dict:
        self._require_partitioned(table_name, "latest_offset")
        self._no_old_cap(table_options or {})
        start_id = self._event_id(start_offset, "start")
        latest = self._stats(table_name).get("max_id") or 0
        cap = limits.max_records
        end = min(latest, start_id + cap) if cap else latest
        if end <= start_id:
            return dict(start_offset or {})
        return {"cursor": end, "id": end}

    def get_partitions(self, table_name: str, table_options: dict[str, str],
                       start_offset: dict | None = None, end_offset: dict | None = None) -> list[dict]:
        self._require_partitioned(table_name, "get_partitions")
        size = TABLE_OPTION_SET.parse(table_options).partition_size
        if start_offset is None and end_offset is None:
            stats = self._stats(table_name)
            if not stats.get("count"):
                return []
            low, high = stats["min_id"] - 1, stats["max_id"]
        else:
            low = self._event_id(start_offset, "start")
            high = self._event_id(end_offset, "end") if end_offset is not None else (self._stats(table_name).get("max_id") or 0)
        return [{"since_id": a, "until_id": min(a + size, high)} for a in range(low, high, size)]

    def read_partition(self, table_name: str, partition: dict, table_options: dict[str, str]) -> Iterator[dict]:
        self._require_partitioned(table_name, "read_partition")
        try:
            low, high = int(partition["since_id"]), int(partition["until_id"])
        except (KeyError, TypeError, ValueError):
            raise ConnectorError(f"Invalid partition for table 'events': {partition!r}; expected since_id and until_id.") from None
        if low >= high:
            return iter(())
        params = {"page_size": self.page_size, "page": 1, "since_cursor": low, "since_id": low, "until_cursor": high}
        pager = KeysetPaginator("event_id", "event_id", has_more_path="has_more")
        return chain.from_iterable(self._pages(f"/api/v1/{table_name}", pager, params))
