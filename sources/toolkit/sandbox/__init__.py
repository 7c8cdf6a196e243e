"""The sandbox kit: what every source's sandbox is built from.

* :class:`DeclaredSandbox` (``declared.py``): a sandbox declared as tables (fields, keys,
  cursor, filters, sort, paging, auth, error bodies, writes) with seed data, truth, scenarios
  and rate limits included; field types and seed data in ``fields.py``, paging styles in
  ``paging.py``, auth schemes in ``auth.py``;
* :class:`SandboxServer` (``server.py``): the HTTP server underneath, for APIs written by hand
  with ``@route``: routing, request counts, latency, fault injection, the truth endpoint;
* :class:`TableTruth` (``truth.py``): what a sandbox holds, that the suite compares reads with;
* ``silent.py``: a server that accepts connections and never answers.

A source's sandbox lives beside its connector, in ``sources/<name>/sandbox.py`` (or a
``sandbox`` package), and defines one ``SandboxServer`` subclass.
"""

from sources.toolkit.sandbox.auth import ApiKeyAuth, BasicAuth, BearerAuth, NoAuth
from sources.toolkit.sandbox.declared import DeclaredSandbox, Filter, Sort, Table
from sources.toolkit.sandbox.paging import (
    KeysetPaging, NoPaging, OffsetPaging, PageNumberPaging, SizedPaging, StartingAfterPaging, TokenPaging,
)
from sources.toolkit.sandbox.fields import (
    BOOLEAN, DATE, EPOCH_SECONDS, INTEGER, NUMBER, STRING, TIMESTAMP, Field, array_of, derived, maybe, obj, one_of,
    timestamp_as,
)
from sources.toolkit.sandbox.server import Fault, Request, Response, SandboxError, SandboxServer, route
from sources.toolkit.sandbox.truth import TRUTH_PATH, TableTruth, key_text

__all__ = [
    "ApiKeyAuth", "BasicAuth", "BearerAuth", "DeclaredSandbox", "Filter", "KeysetPaging", "NoAuth", "NoPaging", "OffsetPaging",
    "PageNumberPaging", "SizedPaging", "Sort", "StartingAfterPaging", "Table", "TokenPaging", "BOOLEAN", "DATE",
    "EPOCH_SECONDS", "INTEGER", "NUMBER", "STRING", "TIMESTAMP", "Field",
    "array_of", "derived", "maybe", "obj", "one_of", "timestamp_as", "Fault", "Request", "Response", "SandboxError",
    "SandboxServer", "route", "TRUTH_PATH", "TableTruth", "key_text",
]
