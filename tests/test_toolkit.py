"""The connector toolkit (paginators + ``HttpClient.paginate``, cursors, declared options)
against a real loopback sandbox."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sources.toolkit.sandbox.server import Response, SandboxServer, route
from sources.http import HttpClient, HttpError, RetryPolicy
from sources.interface.errors import ConnectorError
from sources.toolkit import (
    BodyTokenPaginator,
    CursorError,
    InclusiveCursor,
    KeysetOffset,
    KeysetPaginator,
    LinkHeaderPaginator,
    OffsetPaginator,
    Opt,
    OptionSet,
    PageNumberPaginator,
    Window,
    Windows,
    parse_instant,
)

N = 250
T0 = datetime(2024, 1, 5, 10, 0, tzinfo=timezone.utc)


def _stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _records() -> list[dict]:
    # Bursts of 10 records share one updated_at, so keyset pages split bursts.
    return [{"id": i, "updated_at": _stamp(i // 10), "name": f"item {i}"} for i in range(1, N + 1)]


def _int(request, name, default):
    return int(request.arg(name, str(default)))


class PagingSandbox(SandboxServer):
    name = "paging"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.records = _records()
        self.broken_pages = 0  # how many more times /v1/flaky answers {} for page 3
        self.issues: list[dict] = []

    @route("GET", r"/v1/pages")
    def pages(self, request):
        page, size = _int(request, "page", 1), _int(request, "page_size", 10)
        data = self.records[(page - 1) * size: page * size]
        return Response.json({"data": data, "total_pages": -(-N // size), "has_more": page * size < N})

    @route("GET", r"/v1/offset")
    def offset(self, request):
        start, limit = _int(request, "offset", 0), min(_int(request, "limit", 10), 40)  # caps the limit
        return Response.json({"items": self.records[start:start + limit], "total": N})

    @route("GET", r"/v1/token")
    def token(self, request):
        after = request.arg("after")
        start = int(after[3:]) if after else 0
        limit = _int(request, "limit", 10)
        body = {"results": self.records[start:start + limit]}
        if start + limit < N:
            body["paging"] = {"next": {"after": f"tok{start + limit}", "link": "ignored"}}
        return Response.json(body)

    @route("GET", r"/v1/link")
    def link(self, request):
        page, size = _int(request, "page", 1), _int(request, "per_page", 30)
        links = []
        if page * size < N:
            links.append(f'<{self.url}/v1/link?page={page + 1}&per_page={size}>; rel="next"')
        if page > 1:
            links.append(f'</v1/link?page={page - 1}&per_page={size}>; rel="prev"')
        return Response.json(self.records[(page - 1) * size: page * size],
                             headers={"Link": ", ".join(links)} if links else {})

    @route("GET", r"/v1/offhost")
    def offhost(self, request):
        return Response.json([{"id": 1}], headers={"Link": '<http://elsewhere.invalid/v1/x?page=2>; rel="next"'})

    @route("GET", r"/v1/keyset")
    def keyset(self, request):
        size = _int(request, "page_size", 10)
        since = (request.arg("since_cursor"), int(request.arg("since_id", "0")))
        rows = [r for r in self.records if since[0] is None or (r["updated_at"], r["id"]) > since]
        return Response.json({"data": rows[:size]})

    @route("GET", r"/v1/flaky")
    def flaky(self, request):
        page = _int(request, "page", 1)
        if page == 3 and self.broken_pages > 0:
            self.broken_pages -= 1
            return Response.json({})
        return self.pages(request)

    @route("GET", r"/v1/cycle")
    def cycle(self, request):
        return Response.json({"results": [{"id": 1}], "paging": {"next": {"after": "same"}}})

    @route("GET", r"/v1/issues")
    def list_issues(self, request):
        """GitHub style: ``since`` is inclusive, sorted by updated_at then id, Link paging."""
        since, page, size = request.arg("since"), _int(request, "page", 1), _int(request, "per_page", 5)
        rows = sorted((i for i in self.issues if since is None or i["updated_at"] >= since),
                      key=lambda i: (i["updated_at"], i["id"]))
        headers = {}
        if page * size < len(rows):
            query = f"page={page + 1}&per_page={size}" + (f"&since={since}" if since else "")
            headers["Link"] = f'<{self.url}/v1/issues?{query}>; rel="next"'
        return Response.json(rows[(page - 1) * size: page * size], headers=headers)


@pytest.fixture(scope="module")
def sandbox():
    with PagingSandbox() as server:
        yield server


@pytest.fixture()
def client(sandbox):
    sandbox.reset_counts()
    sandbox.broken_pages = 0
    client = HttpClient(sandbox.url, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
                        sleep=lambda s: None)
    yield client
    client.close()


def read_all(client, path, paginator, **kwargs) -> list[dict]:
    out = []
    for page in client.paginate(path, paginator, **kwargs):
        out.extend(page)
    return out


ALL_IDS = list(range(1, N + 1))


# -- each paging style reads exactly every record, in order ------------------------------
@pytest.mark.parametrize("paginator, requests", [
    (PageNumberPaginator(size=30, total_path="total_pages"), 9),  # stops on the total: no empty page
    (PageNumberPaginator(size=30, has_more_path="has_more"), 9),
    (PageNumberPaginator(size=25), 11),  # no total: the empty 11th page ends it
])
def test_page_number(client, sandbox, paginator, requests):
    assert [r["id"] for r in read_all(client, "/v1/pages", paginator)] == ALL_IDS
    assert sandbox.request_counts["GET /v1/pages"] == requests


def test_offset_moves_by_records_received_when_the_server_caps_the_limit(client, sandbox):
    paginator = OffsetPaginator(limit=100, total_path="total", records_path="items")
    assert [r["id"] for r in read_all(client, "/v1/offset", paginator)] == ALL_IDS
    assert sandbox.request_counts["GET /v1/offset"] == 7  # 40 per page, not the 100 asked


def test_body_token(client, sandbox):
    pages = list(client.paginate("/v1/token", BodyTokenPaginator(), params={"limit": 100}))
    assert [r["id"] for page in pages for r in page] == ALL_IDS
    assert [p.params.get("after") for p in pages] == [None, "tok100", "tok200"]
    assert pages[0].next_params == {"limit": 100, "after": "tok100"} and pages[-1].next_params is None


def test_link_header(client, sandbox):
    assert [r["id"] for r in read_all(client, "/v1/link", LinkHeaderPaginator(), params={"per_page": 60})] == ALL_IDS
    assert sandbox.request_counts["GET /v1/link"] == 5


def test_link_to_another_host_is_refused(client):
    with pytest.raises(HttpError, match=r"GET /v1/offhost: the next page is on another host"):
        read_all(client, "/v1/offhost", LinkHeaderPaginator())


def test_keyset_across_bursts_of_equal_cursors(client, sandbox):
    paginator = KeysetPaginator("updated_at", "id")
    assert [r["id"] for r in read_all(client, "/v1/keyset", paginator, params={"page_size": 7})] == ALL_IDS
    assert sandbox.request_counts["GET /v1/keyset"] == 37  # 36 pages, then the empty one


# -- a page without its records is an error, never the end --------------------------------
def test_empty_object_mid_listing_is_retried_then_fails_naming_the_endpoint(client, sandbox):
    sandbox.broken_pages = 100
    with pytest.raises(HttpError) as info:
        read_all(client, "/v1/flaky", PageNumberPaginator(size=30))
    message = str(info.value)
    assert "GET /v1/flaky" in message and "unexpected body" in message and "'data' list" in message
    assert "after 3 attempt(s)" in message
    assert sandbox.request_counts["GET /v1/flaky"] == 2 + 3  # pages 1-2, then page 3 three times


def test_a_transient_empty_object_is_retried_and_nothing_is_lost(client, sandbox):
    sandbox.broken_pages = 1
    assert [r["id"] for r in read_all(client, "/v1/flaky", PageNumberPaginator(size=30))] == ALL_IDS
    assert client.retry_count == 1


def test_repeated_next_token_fails_naming_the_endpoint(client, sandbox):
    with pytest.raises(HttpError, match=r"GET /v1/cycle: the paging cycles"):
        for n, _ in enumerate(client.paginate("/v1/cycle", BodyTokenPaginator())):
            assert n < 5, "the repeated token was not detected"  # fail, don't hang
    assert sandbox.request_counts["GET /v1/cycle"] == 2  # the first page and the one token "same" names


# -- inclusive since: nothing lost, nothing repeated --------------------------------------
def _issue(i: int, minutes: int) -> dict:
    return {"id": i, "updated_at": _stamp(minutes)}


def _read_issues(client, offset):
    state = InclusiveCursor.parse(offset, "issues")
    params = {"per_page": 5} if state.since is None else {"per_page": 5, "since": state.since}
    got = []
    for page in client.paginate("/v1/issues", LinkHeaderPaginator(), params=params):
        got.extend(state.take(page, "updated_at", "id"))
    # The offset goes through a checkpoint as JSON.
    return got, json.loads(json.dumps(state.to_offset()))


def test_inclusive_cursor_over_equal_timestamps_across_pages_and_reads(client, sandbox):
    # 3 bursts of 8 records sharing one updated_at each (pages of 5 split them).
    sandbox.issues = [_issue(i, i // 8) for i in range(0, 24)]
    first, offset = _read_issues(client, None)
    assert [i["id"] for i in first] == list(range(24))
    assert offset == {"cursor": _stamp(2), "seen_at_cursor": list(range(16, 24))}
    # New writes between the reads: some at the bound's very instant, some later.
    sandbox.issues += [_issue(i, 2) for i in range(24, 31)] + [_issue(i, 3) for i in range(31, 37)]
    second, offset = _read_issues(client, offset)
    assert [i["id"] for i in second] == list(range(24, 37))
    ids = [i["id"] for i in first + second]
    assert sorted(ids) == list(range(37)) and len(ids) == len(set(ids))
    third, end = _read_issues(client, offset)
    assert third == [] and end == offset


def test_inclusive_cursor_compares_instants_not_text():
    state = InclusiveCursor.parse({"cursor": "2024-01-05T10:00:00Z", "seen_at_cursor": [1]}, "issues")
    fresh = state.take([{"id": 1, "updated_at": "2024-01-05T11:00:00+01:00"},
                        {"id": 2, "updated_at": "2024-01-05T10:00:00+00:00"},
                        {"id": 3, "updated_at": "2024-01-05T09:59:59Z"}], "updated_at", "id")
    assert [r["id"] for r in fresh] == [2]
    assert state.to_offset()["seen_at_cursor"] == [1, 2]
    assert InclusiveCursor.parse(None, "issues").to_offset() == {}  # an empty table's offset is a dict
    with pytest.raises(CursorError, match=r"table 'issues'.*seen_at_cursor"):
        InclusiveCursor.parse({"cursor": "2024-01-05T10:00:00Z", "seen_at_cursor": "1"}, "issues")


# -- cursors -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "2024-01-05T10:00:00Z", "2024-01-05T10:00:00z", "2024-01-05T11:00:00+01:00", "2024-01-05T05:00:00-05:00",
    "2024-01-05T10:00:00", "2024-01-05 10:00:00", 1704448800, 1704448800.0, "1704448800", 1704448800000,
    "1704448800000", datetime(2024, 1, 5, 10), datetime(2024, 1, 5, 11, tzinfo=timezone(timedelta(hours=1))),
])
def test_parse_instant_accepts(value):
    moment = parse_instant(value)
    assert moment == T0 and moment.tzinfo is timezone.utc


def test_parse_instant_details():
    assert parse_instant("2024-01-05T10:00:00.1234567Z") == T0 + timedelta(microseconds=123456)
    assert parse_instant("2024-01-05") == datetime(2024, 1, 5, tzinfo=timezone.utc)
    assert parse_instant(99_999_999_999) == datetime.fromtimestamp(99_999_999_999, tz=timezone.utc)  # seconds
    assert parse_instant(100_000_000_000) == datetime(1973, 3, 3, 9, 46, 40, tzinfo=timezone.utc)  # millis


@pytest.mark.parametrize("value", ["garbage", "", "2024-02-30T00:00:00Z", None, True, [1], float("nan"), 1e300])
def test_parse_instant_rejects_with_a_clear_error(value):
    with pytest.raises(CursorError) as info:
        parse_instant(value)
    assert repr(value)[:10] in str(info.value)


def test_keyset_offset():
    assert KeysetOffset.parse(None, "orders") is None and KeysetOffset.parse({}, "orders") is None
    a = KeysetOffset.parse({"cursor": "2024-01-05T11:00:00+01:00", "id": 9}, "orders")
    assert a == KeysetOffset("2024-01-05T10:00:00Z", 9) and a.to_offset() == {"cursor": "2024-01-05T11:00:00+01:00", "id": 9}
    assert KeysetOffset("2024-01-05T10:00:00Z", 8) < a < KeysetOffset("2024-01-05T10:00:01Z", 1)
    assert KeysetOffset(5, 5) < KeysetOffset(10, 1)  # numeric cursors compare as numbers, not text
    for bad in ({"cursor": "x"}, [1, 2], {"cursor": "not a time", "id": 1}):
        with pytest.raises(CursorError, match=r"Invalid offset for table 'orders'.*\"cursor\": \.\.\., \"id\""):
            KeysetOffset.parse(bad, "orders")


def test_windows_fix_the_upper_bound_per_cycle():
    windows, calls = Windows(), []

    def upper():
        calls.append(1)
        return _stamp(len(calls))

    first = windows.open("t", upper)
    assert first == Window(upper=_stamp(1)) and windows.open("t", upper, since=_stamp(0)).upper == _stamp(1)
    assert len(calls) == 1 and first.includes(_stamp(1)) and first.after(_stamp(2))
    assert windows.open("t", upper, since=_stamp(5)).upper == _stamp(2)  # started past it: a new cycle
    windows.close("t")
    assert windows.open("t", upper).upper == _stamp(3)
    assert windows.open("empty", lambda: None) is None


# -- declared options ------------------------------------------------------------------------
OPTIONS = OptionSet(
    Opt("access_token", secret=True, required=True, doc="a personal access token"),
    Opt("page_size", int, default=100, low=1, high=100),
    Opt("max_age_days", int, high=30),
    Opt("backoff", float, default=0.5, low=0.0),
    Opt("include_archived", bool, default=False),
    Opt("repositories", list, default=["a/b"]),
)


def test_options_parse_typed_values_case_insensitively():
    o = OPTIONS.parse({"ACCESS_TOKEN": " tok ", "Page_Size": "20", "backoff": "1.5", "include_archived": "TRUE",
                       "repositories": "x/y, ,z/w", "unrelated": "ignored"}, owner="GitHub")
    assert (o.access_token, o.page_size, o.max_age_days, o.backoff, o.include_archived, o.repositories) == \
        ("tok", 20, None, 1.5, True, ["x/y", "z/w"])
    assert OPTIONS.parse({"access_token": "t"}).repositories == ["a/b"]
    assert OPTIONS.names == ("access_token", "page_size", "max_age_days", "backoff", "include_archived", "repositories")
    assert set(OPTIONS.secrets({"Access_Token": " tok "})) == {" tok ", "tok"}


@pytest.mark.parametrize("options, message", [
    ({}, "GitHub option 'access_token' is required: a personal access token."),
    ({"page_size": "0"}, "GitHub option 'page_size' must be between 1 and 100, got 0."),
    ({"page_size": "101"}, "GitHub option 'page_size' must be between 1 and 100, got 101."),
    ({"page_size": "ten"}, "GitHub option 'page_size' must be a whole number, got 'ten'."),
    ({"max_age_days": "31"}, "GitHub option 'max_age_days' must be at most 30, got '31'."),
    ({"backoff": "-1"}, "GitHub option 'backoff' must be a finite number of at least 0.0, got '-1'."),
    ({"backoff": "soon"}, "GitHub option 'backoff' must be a number, got 'soon'."),
    ({"include_archived": "maybe"}, "GitHub option 'include_archived' must be true or false, got 'maybe'."),
])
def test_option_errors_name_the_option_and_the_expected_value(options, message):
    full = options if not options or "access_token" in options else {"access_token": "t", **options}
    with pytest.raises(ConnectorError) as info:
        OPTIONS.parse(full, owner="GitHub")
    assert str(info.value) == message


def test_an_option_given_empty_can_mean_something_else_than_absent():
    """``Opt(empty=...)``: HubSpot's ``associations=""`` means none, while an absent option
    means the table's default associations."""
    names = OptionSet(Opt("associations", list, empty=[]), Opt("fields", list, default=["a"]))
    assert names.parse({}).associations is None
    assert names.parse({"Associations": ""}).associations == names.parse({"associations": " , "}).associations == []
    assert names.parse({"associations": []}).associations == []
    assert names.parse({"associations": "deals, tickets"}).associations == ["deals", "tickets"]
    assert names.parse({"fields": ""}).fields == ["a"]   # without ``empty``, blank counts as absent


def test_inclusive_cursor_read_is_one_bounded_call_of_an_offset_loop():
    """``InclusiveCursor.read``: oldest first whatever the listing's order, at most
    ``max_records``, nothing past a replay's end, the same offset for ties in any order, and
    reading on from an offset returns only what is new (ties at the cursor included)."""
    from sources.interface import ReadLimits
    from sources.toolkit import InclusiveCursor

    rows = [{"id": i, "t": t} for i, t in [(5, 20), (3, 10), (4, 20), (1, 10), (2, 10), (6, 30)]]
    read = lambda state, recs, limits=None: state.read(recs, lambda r: r["t"], lambda r: r["id"], "t", limits)  # noqa: E731
    everything, final = read(InclusiveCursor(), rows)
    assert [r["id"] for r in everything] == [1, 2, 3, 4, 5, 6] and final == {"cursor": 30, "seen_at_cursor": [6]}
    first, offset = read(InclusiveCursor(), rows, ReadLimits(max_records=4))
    assert [r["id"] for r in first] == [1, 2, 3, 4] and offset == {"cursor": 20, "seen_at_cursor": [4]}
    _, same = read(InclusiveCursor(), list(reversed(rows)), ReadLimits(max_records=4))
    assert same == offset
    later = [r for r in rows if r["t"] >= 20] + [{"id": 7, "t": 20}]  # written at the cursor since
    rest, end = read(InclusiveCursor.parse(offset, "t"), later)
    assert [r["id"] for r in rest] == [5, 7, 6] and end == {"cursor": 30, "seen_at_cursor": [6]}
    replay, stop = read(InclusiveCursor(), rows + [{"id": 7, "t": 20}], ReadLimits(end_offset=offset))
    assert [r["id"] for r in replay] == [1, 2, 3, 4] and stop == offset  # 5 and 7 are past the batch's end
