"""Paginators: one small class per way an API splits a listing into pages.

A paginator only decides *what to ask next*; :meth:`HttpClient.paginate
<sources.http.client.HttpClient.paginate>` is the one loop that sends the requests (with
the client's retries, deadline and rate limits), checks each page and yields its records.
The protocol is three methods, all free of state so one paginator serves any number of
reads at once:

* ``first_request(params) -> params``: the query of the first page;
* ``next_request(params, body, response) -> params | None``: the query of the page after
  the one just read (``params`` asked for it, ``body`` is its decoded JSON), or ``None``
  when that page was the last;
* ``check(body, records_path) -> str | None``: what is wrong with a 200 answer, or
  ``None``. A page whose records are not where they belong (``{}`` in the middle of a
  listing, an error object sent with status 200) is never taken for the end of the data:
  the client retries it like a 5xx and then fails naming the endpoint.

``records_path`` is a dotted path to the list of records in the body (``"data"``,
``"paging.results"``); ``""`` means the body itself is the list.

>>> client.paginate("/v1/items", PageNumberPaginator(size=100))   # doctest: +SKIP

A read that stops on an empty page costs one request more than one that knows the total,
but never stops early: a page shorter than asked is *not* taken as the last one, since
many APIs cap the page size below what a client asks for.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urljoin

import requests

#: The key a paginator sets in the next request's params to send it to another URL (a
#: ``Link`` header's target) instead of the listing's path; the client removes it.
NEXT_URL = "@url"

_MISSING = object()


class PageError(ValueError):
    """A page the paginator cannot continue from (the client adds the endpoint)."""


class Page(list):
    """One page's records, with the query that asked for it (``params``) and the one for
    the page after it (``next_params``, ``None`` after the last page): a connector that
    reads one page per call keeps ``next_params`` in its offset to resume from there."""

    def __init__(self, records, params: Mapping[str, Any] | None = None,
                 next_params: Mapping[str, Any] | None = None):
        super().__init__(records)
        self.params = dict(params or {})
        self.next_params = None if next_params is None else dict(next_params)


def value_at(body: Any, path: str | None, default: Any = _MISSING) -> Any:
    """The value at a dotted ``path`` in ``body`` (``""``/``None``: the body itself);
    ``default`` when a step is missing (``KeyError`` if no default is given)."""
    current = body
    for step in (path or "").split(".") if path else ():
        if isinstance(current, Mapping) and step in current:
            current = current[step]
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        elif default is _MISSING:
            raise KeyError(path)
        else:
            return default
    return current


def records_at(body: Any, records_path: str | None) -> list:
    """The list of records at ``records_path``; ``PageError`` when it is not a list."""
    found = value_at(body, records_path, None)
    if not isinstance(found, list):
        where = f"'{records_path}' list" if records_path else "JSON list body"
        raise PageError(f"the page has no {where} (got {type(found).__name__})")
    return found


def _whole(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PageError(f"'{path}' must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise PageError(f"'{path}' must be a whole number, got {value!r}") from None


def _flag(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PageError(f"'{path}' must be true or false, got {value!r}")


class Paginator:
    """The base: one request, no next page. Subclasses override :meth:`next_request`
    (and :meth:`first_request` / :meth:`check` when they need to)."""

    records_path: str = "data"
    #: Dotted paths the page must carry (checked by :meth:`check`), e.g. a total.
    required_paths: tuple[str, ...] = ()
    #: Dotted paths the page must carry as true/false (``has_more``, ``isLast``).
    flag_paths: tuple[str, ...] = ()

    def first_request(self, params: dict) -> dict:
        return dict(params)

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        return None

    def check(self, body: Any, records_path: str | None = None) -> str | None:
        """What is wrong with a page (``None``: nothing); the client retries a page that
        has a problem, then fails naming the endpoint and the problem."""
        try:
            records_at(body, self.records_path if records_path is None else records_path)
            for path in self.required_paths:
                value_at(body, path)
            for path in self.flag_paths:
                _flag(value_at(body, path), path)
        except PageError as exc:
            return str(exc)
        except KeyError as exc:
            return f"the page has no '{exc.args[0]}'"
        return None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class SinglePage(Paginator):
    """A listing answered in one response.

    >>> SinglePage(records_path="items").next_request({}, {"items": []}, None) is None
    True
    """

    def __init__(self, records_path: str = "data"):
        self.records_path = records_path


class _Counted(Paginator):
    """Shared stop rules of the page-number and offset styles: an empty page, a false
    ``has_more_path`` or a reached ``total_path`` ends the listing."""

    total_path: str | None
    has_more_path: str | None

    def _stop(self, body: Any, records: list) -> bool:
        if not records:
            return True
        return self.has_more_path is not None and not _flag(value_at(body, self.has_more_path), self.has_more_path)

    def _total(self, body: Any) -> int | None:
        return None if self.total_path is None else _whole(value_at(body, self.total_path), self.total_path)

    def check(self, body: Any, records_path: str | None = None) -> str | None:
        problem = super().check(body, records_path)
        if problem is None:
            try:
                self._total(body)
                if self.has_more_path is not None:
                    _flag(value_at(body, self.has_more_path), self.has_more_path)
            except PageError as exc:
                return str(exc)
            except KeyError as exc:
                return f"the page has no '{exc.args[0]}'"
        return problem


class PageNumberPaginator(_Counted):
    """``?page=1&page_size=100``, ``?page=2&page_size=100``, … until a page is empty, or
    ``has_more_path`` says false, or the page number reaches ``total_path`` (a count of
    *pages*, numbered from ``start``).

    >>> p = PageNumberPaginator(size=2, total_path="total_pages")
    >>> p.first_request({"q": "x"})
    {'q': 'x', 'page': 1, 'page_size': 2}
    >>> p.next_request({"page": 1}, {"data": [1, 2], "total_pages": 2}, None)
    {'page': 2}
    >>> p.next_request({"page": 2}, {"data": [3], "total_pages": 2}, None) is None
    True
    """

    def __init__(self, page_param: str = "page", size_param: str | None = "page_size", size: int | None = None,
                 start: int = 1, total_path: str | None = None, has_more_path: str | None = None,
                 records_path: str = "data"):
        self.page_param, self.size_param, self.size, self.start = page_param, size_param, size, start
        self.total_path, self.has_more_path, self.records_path = total_path, has_more_path, records_path

    def first_request(self, params: dict) -> dict:
        out = {**params, self.page_param: self.start}
        if self.size_param is not None and self.size is not None:
            out[self.size_param] = self.size
        return out

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        records = records_at(body, self.records_path)
        page = _whole(params.get(self.page_param, self.start), self.page_param)
        total = self._total(body)
        if self._stop(body, records) or (total is not None and page + 1 >= total + self.start):
            return None
        return {**params, self.page_param: page + 1}


class OffsetPaginator(_Counted):
    """``?offset=0&limit=100``, then the offset moves by the records *received* (not by
    ``limit``: a server that caps the limit would otherwise make the read skip records)
    until a page is empty, ``has_more_path`` is false or the offset reaches ``total_path``
    (a count of *records*).

    >>> p = OffsetPaginator(limit=2, total_path="total", records_path="items")
    >>> p.first_request({})
    {'offset': 0, 'limit': 2}
    >>> p.next_request({"offset": 0, "limit": 2}, {"items": [1, 2], "total": 3}, None)
    {'offset': 2, 'limit': 2}
    >>> p.next_request({"offset": 2, "limit": 2}, {"items": [3], "total": 3}, None) is None
    True
    """

    def __init__(self, offset_param: str = "offset", limit_param: str = "limit", limit: int = 100,
                 total_path: str | None = None, has_more_path: str | None = None, start: int = 0,
                 records_path: str = "data"):
        self.offset_param, self.limit_param, self.limit, self.start = offset_param, limit_param, limit, start
        self.total_path, self.has_more_path, self.records_path = total_path, has_more_path, records_path

    def first_request(self, params: dict) -> dict:
        return {**params, self.offset_param: self.start, self.limit_param: self.limit}

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        records = records_at(body, self.records_path)
        offset = _whole(params.get(self.offset_param, self.start), self.offset_param) + len(records)
        total = self._total(body)
        if self._stop(body, records) or (total is not None and offset >= total):
            return None
        return {**params, self.offset_param: offset}


class BodyTokenPaginator(Paginator):
    """An opaque token in the body names the next page (HubSpot: ``paging.next.after``,
    sent back as ``?after=``); no token (or an empty one) means the last page.

    >>> p = BodyTokenPaginator(records_path="results")
    >>> p.next_request({"limit": 2}, {"results": [1, 2], "paging": {"next": {"after": "2"}}}, None)
    {'limit': 2, 'after': '2'}
    >>> p.next_request({"limit": 2, "after": "2"}, {"results": [3]}, None) is None
    True
    """

    def __init__(self, token_path: str = "paging.next.after", param: str = "after", records_path: str = "results"):
        self.token_path, self.param, self.records_path = token_path, param, records_path

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        token = value_at(body, self.token_path, None)
        if token is None or token == "":
            return None
        if not isinstance(token, (str, int)) or isinstance(token, bool):
            raise PageError(f"'{self.token_path}' must be a string token, got {token!r}")
        return {**params, self.param: token}


class BodyUrlPaginator(Paginator):
    """The body names the next page's URL: Zendesk's ``next_page`` / ``after_url``, Jira's
    ``nextPage``. With ``done_path`` (``end_of_stream``, ``isLast``) that flag, which every
    page must carry, ends the listing, even when a next URL is given (Zendesk keeps one for
    polling on); then a page that is not the last but names no URL is an error, never the
    end. Without it, a missing or null URL is the last page. The URL is followed as given
    (relative ones resolved against the page), and the client refuses one on another host.

    >>> p = BodyUrlPaginator("next_page", "end_of_stream", records_path="organizations")
    >>> p.next_request({}, {"organizations": [], "next_page": "/x?start_time=5", "end_of_stream": True}, None) is None
    True
    """

    def __init__(self, url_path: str, done_path: str | None = None, records_path: str = "data"):
        self.url_path, self.done_path, self.records_path = url_path, done_path, records_path
        self.flag_paths = () if done_path is None else (done_path,)

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        if self.done_path is not None and _flag(value_at(body, self.done_path), self.done_path):
            return None
        target = value_at(body, self.url_path, None)
        if not target:
            if self.done_path is None:
                return None
            raise PageError(f"'{self.done_path}' is false but the page has no '{self.url_path}' to continue from; "
                            "stopping rather than taking it for the end")
        if not isinstance(target, str):
            raise PageError(f"'{self.url_path}' must be a URL, got {target!r}")
        return {NEXT_URL: urljoin(response.url, target)}


class LinkHeaderPaginator(Paginator):
    """The ``Link`` response header (RFC 8288) names the next page's URL, as GitHub does::

        Link: <https://api.github.com/repositories/1/issues?page=2>; rel="next", <…?page=5>; rel="last"

    The next request goes to that URL as given (its query already carries every
    parameter); a relative target is resolved against the page's URL. No link with
    ``rel`` means the last page. The client refuses a link to another host, so the
    credentials never leave the API.

    >>> LinkHeaderPaginator().records_path
    ''
    """

    def __init__(self, rel: str = "next", records_path: str = ""):
        self.rel, self.records_path = rel, records_path

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        # ``requests`` parses the header (RFC 8288 link-values) into ``response.links``.
        target = (response.links.get(self.rel) or {}).get("url")
        if not target:
            return None
        return {NEXT_URL: urljoin(response.url, target)}


class KeysetPaginator(Paginator):
    """Keyset ("seek") paging: the next page starts after the last record's
    ``(cursor_field, id_field)``, sent as ``since_cursor_param`` / ``since_id_param``;
    an empty page (or a false ``has_more_path``) is the last. Unlike page numbers this is
    stable while records are written, as long as the API sorts by ``(cursor, id)``.

    >>> p = KeysetPaginator("updated_at", "id")
    >>> p.next_request({"page_size": 2}, {"data": [{"id": 4, "updated_at": "t1"}]}, None)
    {'page_size': 2, 'since_cursor': 't1', 'since_id': 4}
    """

    def __init__(self, cursor_field: str, id_field: str, since_cursor_param: str = "since_cursor",
                 since_id_param: str = "since_id", has_more_path: str | None = None, records_path: str = "data"):
        self.cursor_field, self.id_field = cursor_field, id_field
        self.since_cursor_param, self.since_id_param = since_cursor_param, since_id_param
        self.has_more_path, self.records_path = has_more_path, records_path
        self.required_paths = () if has_more_path is None else (has_more_path,)

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        records = records_at(body, self.records_path)
        if not records or (self.has_more_path is not None
                           and not _flag(value_at(body, self.has_more_path), self.has_more_path)):
            return None
        last = records[-1]
        cursor = last.get(self.cursor_field) if isinstance(last, Mapping) else None
        rid = last.get(self.id_field) if isinstance(last, Mapping) else None
        if cursor is None or rid is None:
            raise PageError(f"the page's last record has no '{self.cursor_field}'/'{self.id_field}' to continue "
                            "from; stopping rather than risking skipped records")
        return {**params, self.since_cursor_param: cursor, self.since_id_param: rid}


class StartingAfterPaginator(Paginator):
    """Cursor paging by the last record's id (Stripe): ``?limit=100``, then
    ``?starting_after=<id of the page's last record>`` while ``has_more_path`` is true.

    >>> p = StartingAfterPaginator(limit=2)
    >>> p.first_request({"created[gte]": 1})
    {'created[gte]': 1, 'limit': 2}
    >>> p.next_request({"limit": 2}, {"data": [{"id": "ch_1"}, {"id": "ch_2"}], "has_more": True}, None)
    {'limit': 2, 'starting_after': 'ch_2'}
    >>> p.next_request({"limit": 2}, {"data": [{"id": "ch_3"}], "has_more": False}, None) is None
    True
    """

    def __init__(self, id_field: str = "id", param: str = "starting_after", has_more_path: str = "has_more",
                 limit_param: str | None = "limit", limit: int | None = 100, records_path: str = "data"):
        self.id_field, self.param, self.has_more_path = id_field, param, has_more_path
        self.limit_param, self.limit, self.records_path = limit_param, limit, records_path
        self.flag_paths = (has_more_path,)

    def first_request(self, params: dict) -> dict:
        if self.limit_param is None or self.limit is None:
            return dict(params)
        return {**params, self.limit_param: self.limit}

    def next_request(self, params: dict, body: Any, response: requests.Response) -> dict | None:
        records = records_at(body, self.records_path)
        if not _flag(value_at(body, self.has_more_path), self.has_more_path):
            return None
        last = records[-1] if records else None
        rid = last.get(self.id_field) if isinstance(last, Mapping) else None
        if rid is None:
            raise PageError(f"'{self.has_more_path}' is true but the page's last record has no '{self.id_field}' "
                            "to continue after; stopping rather than risking skipped records")
        return {**params, self.param: rid}
