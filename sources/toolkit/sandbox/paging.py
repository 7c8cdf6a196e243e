"""Paging styles of a declared sandbox: each cuts a filtered, ordered listing into the page a
request asks for and says what goes with it (body values such as a next token or a total,
and headers such as ``Link``). ``sandbox.fail`` builds the API's own error."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from sources.toolkit.sandbox.fields import get_path
from sources.toolkit.sandbox.server import Request


def int_arg(sandbox, request: Request, name: str, default: int) -> int:
    try:
        return request.int_arg(name, default)
    except ValueError as exc:
        raise sandbox.fail(sandbox.validation_status, str(exc)) from None


def encode_position(position) -> str:
    """An opaque page token for a position in a listing (the last record's cursor and key):
    a seek token, stable while records are written, as an export cursor or a Jira
    ``nextPageToken`` behaves."""
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


def decode_position(sandbox, token: str, param: str) -> list:
    """The position :func:`encode_position` made; the API's validation error otherwise."""
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, list):
        raise sandbox.fail(sandbox.validation_status, f"{param} is not a token this API issued")
    return position


@dataclass(frozen=True)
class SizedPaging:
    """The base of paging styles with a page size: ``size_param`` (1 to ``max_size``, else
    the API's validation error; ``clamp`` cuts larger sizes instead). Subclass it for a style
    of your own and implement ``page(sandbox, request, records, table) -> (records of the
    page, body values by dotted path, headers)``."""

    size_param: str = "limit"
    default_size: int = 100
    max_size: int = 100
    #: Sizes above ``max_size`` are cut to it (GitHub) rather than refused with an error.
    clamp: bool = False

    def size(self, sandbox, request: Request) -> int:
        size = int_arg(sandbox, request, self.size_param, self.default_size)
        if size < 1 or (size > self.max_size and not self.clamp):
            raise sandbox.fail(sandbox.validation_status, f"{self.size_param} must be between 1 and {self.max_size}")
        return min(size, self.max_size)


@dataclass(frozen=True)
class NoPaging:
    """Every record in one response."""

    def page(self, sandbox, request, records, table):
        return records, {}, {}


@dataclass(frozen=True)
class PageNumberPaging(SizedPaging):
    """``?page=N&per_page=M`` (pages from 1); with ``link_header``, a ``Link`` header with
    ``first``/``prev``/``next``/``last`` as GitHub sends."""

    page_param: str = "page"
    size_param: str = "per_page"
    default_size: int = 30
    link_header: bool = False

    def page(self, sandbox, request, records, table):
        size, page = self.size(sandbox, request), int_arg(sandbox, request, self.page_param, 1)
        if page < 1:
            raise sandbox.fail(sandbox.validation_status, f"{self.page_param} must be 1 or more")
        chunk = records[(page - 1) * size: page * size]
        if not self.link_header:
            return chunk, {}, {}
        last = max(1, -(-len(records) // size))
        args = {k: v[-1] for k, v in request.query.items()}
        links = {"first": 1, "prev": page - 1, "next": page + 1, "last": last}
        header = ", ".join(f'<{sandbox.url}{request.path}?{urlencode({**args, self.page_param: p})}>; rel="{rel}"'
                           for rel, p in links.items() if 1 <= p <= last and (rel not in ("first", "last") or page != p))
        return chunk, {}, ({"Link": header} if header else {})


@dataclass(frozen=True)
class OffsetPaging(SizedPaging):
    """``?offset=N&limit=M``; ``total_key`` (a body path) carries the record count."""

    offset_param: str = "offset"
    total_key: str | None = None

    def page(self, sandbox, request, records, table):
        size, start = self.size(sandbox, request), int_arg(sandbox, request, self.offset_param, 0)
        if start < 0:
            raise sandbox.fail(sandbox.validation_status, f"{self.offset_param} must be 0 or more")
        return records[start:start + size], ({self.total_key: len(records)} if self.total_key else {}), {}


@dataclass(frozen=True)
class TokenPaging(SizedPaging):
    """``?after=<token>&limit=M`` with the next token in the body at ``next_path`` (HubSpot's
    ``paging.next.after``), absent on the last page."""

    token_param: str = "after"
    next_path: str = "paging.next.after"

    def page(self, sandbox, request, records, table):
        size = self.size(sandbox, request)
        token = request.arg(self.token_param) or "0"
        if not token.isdigit():
            raise sandbox.fail(sandbox.validation_status, f"{self.token_param} is not a token this API issued")
        start = int(token)
        end = start + size
        return records[start:end], ({self.next_path: str(end)} if end < len(records) else {}), {}


@dataclass(frozen=True)
class KeysetPaging(SizedPaging):
    """``?since_cursor=<cursor>&since_id=<key>``: the records after that (cursor, key) pair
    in (cursor, key) order, as many as ``limit``; the client sends the last record's pair back
    (the toolkit's ``KeysetPaginator``). With the cursor alone, records at that value are
    included. Needs the table's cursor and its default ascending order."""

    cursor_param: str = "since_cursor"
    key_param: str = "since_id"

    def page(self, sandbox, request, records, table):
        size, since, after = self.size(sandbox, request), request.arg(self.cursor_param), request.arg(self.key_param)
        if since:
            bound = sandbox._comparable(table, table.cursor, since)
            key_kind = table.fields[table.primary_key].type
            after_key = None if after is None else (int_arg(sandbox, request, self.key_param, 0)
                                                    if key_kind == "integer" else after)

            def later(r: dict) -> bool:
                at = sandbox._comparable(table, table.cursor, get_path(r, table.cursor))
                return at > bound or (at == bound and (after_key is None or r[table.primary_key] > after_key))
            records = [r for r in records if later(r)]
        return records[:size], {}, {}


@dataclass(frozen=True)
class StartingAfterPaging(SizedPaging):
    """``?starting_after=<id>&limit=M`` (Stripe): the page after the record with that id in
    the listing's order, and ``has_more`` (at ``has_more_path``) in the body, with Stripe's
    ``"object": "list"`` and ``url``. An id that is not in the listing answers the API's
    validation error."""

    param: str = "starting_after"
    has_more_path: str = "has_more"
    default_size: int = 10

    def page(self, sandbox, request, records, table):
        size, after = self.size(sandbox, request), request.arg(self.param)
        start = 0
        if after:
            ids = [str(r[table.primary_key]) for r in records]
            if after not in ids:
                raise sandbox.fail(sandbox.validation_status, f"No such object: '{after}'")
            start = ids.index(after) + 1
        chunk = records[start:start + size]
        return chunk, {"object": "list", "url": request.path, self.has_more_path: start + size < len(records)}, {}
