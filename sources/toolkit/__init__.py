"""Building blocks shared by connectors: paginators (walked by ``HttpClient.paginate``),
cursors and offsets of incremental reads, declared options, and schema helpers."""

from sources.toolkit.cursors import (
    CursorError,
    InclusiveCursor,
    KeysetOffset,
    Window,
    Windows,
    cursor_key,
    parse_instant,
    same_cursor,
)
from sources.toolkit.http_connector import HttpConnector
from sources.toolkit.options import HTTP_OPTIONS, Opt, OptionSet
from sources.toolkit.schema import (
    BOOLEAN, DATE, DOUBLE, EPOCH_SECONDS, LONG, STRING, TIMESTAMP, array_of, money, struct,
)
from sources.http.paginators import (
    BodyTokenPaginator,
    BodyUrlPaginator,
    KeysetPaginator,
    LinkHeaderPaginator,
    OffsetPaginator,
    Page,
    PageError,
    PageNumberPaginator,
    Paginator,
    SinglePage,
    StartingAfterPaginator,
    records_at,
    value_at,
)

__all__ = [
    "BodyTokenPaginator", "BodyUrlPaginator", "CursorError", "InclusiveCursor", "KeysetOffset", "KeysetPaginator", "LinkHeaderPaginator",
    "OffsetPaginator", "Opt", "OptionSet", "Page", "PageError", "PageNumberPaginator", "Paginator", "SinglePage", "StartingAfterPaginator",
    "Window", "Windows", "cursor_key", "parse_instant", "records_at", "same_cursor", "value_at",
    "HttpConnector", "HTTP_OPTIONS", "BOOLEAN", "DATE", "DOUBLE", "EPOCH_SECONDS", "LONG", "STRING", "TIMESTAMP", "array_of", "money", "struct",
]
