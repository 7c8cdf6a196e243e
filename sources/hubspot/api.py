"""HubSpot HTTP access: :class:`HubSpotApi`, the connector's client (one per instance).

It is the shared :class:`sources.http.HttpClient` (Bearer token, retries on 429/5xx,
redaction) that turns HubSpot's failures into :class:`HubSpotApiError` messages a user can
act on:

* ``401`` → "HubSpot rejected the access_token (401) on <endpoint>: check the private app token";
* ``403`` → names the missing scope(s) from ``errors[].context.requiredGranularScopes`` (or
  ``requiredScopes``) and the endpoint;
* ``429`` with ``policyName: DAILY`` → stops at once (retrying cannot help until tomorrow);
  other 429s (``TEN_SECONDLY_ROLLING``, ``SECONDLY``), with or without ``Retry-After``, are
  retried with backoff by the client;
* any other failure names the endpoint, the status and HubSpot's message.

Rate limiting is the caller's choice per request (``limiters=[...]``): the connector passes
its 10-second budget limiter on every call and the per-second search limiter on searches.
Both come from :meth:`HubSpotApi.limiter`: a :class:`SharedRateLimiter` keyed on the portal's
base URL, the token and the limits, so every reader of that portal and token on the machine
(every table, partition, thread and Spark Python worker) takes from one budget, kept in a
lock file under ``$LAKEFLOW_RATE_LIMIT_DIR`` named by a hash (never the token in clear).
Listings that page with ``paging.next.after`` are walked by :meth:`HubSpotApi.pages`
(``HttpClient.paginate`` with the toolkit's :class:`BodyTokenPaginator`). The token never
appears in messages, logs or ``repr``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

import requests

from sources.http import HttpClient, HttpError, HttpSettings, RateLimiter, SharedRateLimiter
from sources.interface import ConnectorError
from sources.toolkit import BodyTokenPaginator, Page

DEFAULT_BASE_URL = "https://api.hubapi.com"
#: The shared client options' defaults for HubSpot (backoff capped at 20 s; a server-sent
#: Retry-After at 30 s).
HTTP_DEFAULTS = HttpSettings(max_delay=20.0)

_HINTS = {
    400: "HubSpot rejected the request as invalid",
    404: "not found: check base_url and that the object type / table exists in this portal",
    414: "the request URI is too long (too many properties in the query string)",
    429: "HubSpot kept answering 429 (rate limited) after all retries; lower ten_second_limit / "
         "search_per_second or run fewer reads in parallel",
}


class HubSpotApiError(ConnectorError):
    """A HubSpot call that failed for good. ``endpoint`` is ``"<METHOD> <path>"``."""

    def __init__(self, message: str, endpoint: str, status: int | None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


def _endpoint_of(response: requests.Response) -> str:
    method = response.request.method if response.request is not None else "?"
    return f"{method} {urlsplit(response.url).path}"


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def page_problem(response: requests.Response) -> str | None:
    """What is wrong with an answer that should be a page of ``results``, or ``None``.

    An answer without a ``results`` list is never read as "no more data", which would
    silently shorten a table (or, in a stream, move the offset past records never
    delivered): the client retries it like a 5xx, then fails naming the endpoint."""
    body = _json_or_none(response) if response.content else None
    if isinstance(body, dict) and isinstance(body.get("results"), list) and (
            body.get("paging") is None or isinstance(body.get("paging"), dict)):
        return None
    if not response.content:
        return "an empty body, no 'results' list"
    return "no 'results' list" if isinstance(body, dict) else "not a JSON object with a 'results' list"


def missing_scopes(body: Any) -> list[str]:
    """Scope names a 403 body says are required (newest field names first)."""
    found: list[str] = []
    if not isinstance(body, dict):
        return found
    contexts = [e.get("context") for e in body.get("errors") or [] if isinstance(e, dict)]
    contexts.append(body.get("context"))
    for context in contexts:
        if not isinstance(context, dict):
            continue
        for key in ("requiredGranularScopes", "requiredScopes", "requiredScopeSets"):
            for scope in context.get(key) or []:
                names = scope if isinstance(scope, list) else [scope]
                for name in names:
                    if isinstance(name, str) and name not in found:
                        found.append(name)
    return found


class HubSpotApi(HttpClient):
    """The ``HttpClient`` of one HubSpot portal and credential (see the module docstring)."""

    def __init__(self, base_url: str, token: str, settings: HttpSettings | None = None,
                 credential: str = "private app token"):
        settings = settings or HTTP_DEFAULTS
        super().__init__(base_url, {"Authorization": f"Bearer {token}"}, timeout=settings.timeout,
                         retry=settings.retry_policy(max_retry_after=30.0), deadline=settings.deadline,
                         secrets=[token], on_response=self._inspect)
        self.home = base_url.rstrip("/")   # as given, for messages (``self.base_url`` ends with "/")
        #: "Service Key" or "private app token": named in 401/403 errors and their fixes.
        self.credential = credential
        # Who shares a budget: this portal and credential (a digest: the token is not kept).
        self._budget_owner = hashlib.sha256(f"{self.home}\n{token}".encode()).hexdigest()
        self._limiters: dict[tuple[int, float], SharedRateLimiter] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HubSpotApi(base_url={self.home!r})"

    def limiter(self, max_calls: int, period: float) -> SharedRateLimiter:
        """The limiter of ``max_calls`` per ``period`` s shared by every request to this
        portal with this token on the machine: a :class:`SharedRateLimiter` keyed on (base
        URL, token, max_calls, period), one per instance and budget."""
        key = (max(1, int(max_calls)), float(period))
        with self._lock:
            if key not in self._limiters:
                self._limiters[key] = SharedRateLimiter(*key, key=("hubspot", self._budget_owner, *key))
            return self._limiters[key]

    # -- error inspection (runs on every raw response, before the retry decision) ----------
    def _inspect(self, response: requests.Response) -> None:
        status = response.status_code
        if status not in (401, 403, 429):
            return
        endpoint = _endpoint_of(response)
        body = _json_or_none(response)
        if status == 401:
            option = "service_key" if self.credential == "Service Key" else "access_token"
            raise HubSpotApiError(
                f"HubSpot rejected the {option} (401) on {endpoint}: check the {self.credential} "
                "(it may be mistyped, revoked or rotated).", endpoint, 401)
        if status == 403:
            scopes = missing_scopes(body)
            message = body.get("message") if isinstance(body, dict) else None
            owner = "Service Key" if self.credential == "Service Key" else "private app"
            if scopes:
                detail = f"the {owner} lacks the scope(s) {', '.join(scopes)}"
            else:
                detail = f"access denied ({self.redact(str(message or response.text[:200]))})"
            fix = ("Add the scope(s) to the Service Key (its page → Edit), then read again." if owner == "Service Key"
                   else "Add the scope(s) to the private app, then use its token.")
            raise HubSpotApiError(f"HubSpot refused {endpoint} (403 MISSING_SCOPES): {detail}. {fix}", endpoint, 403)
        if isinstance(body, dict) and str(body.get("policyName", "")).upper() == "DAILY":
            raise HubSpotApiError(
                f"HubSpot's daily API limit is exhausted ({endpoint} answered 429 with policy DAILY); "
                "retrying cannot succeed until the limit resets. Run again later.", endpoint, 429)

    # -- requests --------------------------------------------------------------------------
    def call(self, method: str, path: str, *, params: dict | None = None, body: Any = None,
             limiters: Iterable[RateLimiter] = (),
             expect: Callable[[requests.Response], str | None] | None = None) -> Any:
        """Send one request (retried per the policy); return decoded JSON or ``None``."""
        endpoint = f"{method} {path}"
        try:
            response = self.request(method, path, params=params, json=body, extra_limiters=limiters, expect=expect)
        except HttpError as exc:
            raise self._wrap(exc, endpoint) from None
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise HubSpotApiError(
                f"HubSpot {endpoint} answered HTTP {response.status_code} with a body that is not JSON "
                f"(check base_url {self.home!r}).", endpoint, response.status_code) from None

    def _wrap(self, exc: HttpError, endpoint: str) -> HubSpotApiError:
        if exc.status is None:
            return HubSpotApiError(
                f"Could not reach HubSpot at base_url {self.home!r} ({endpoint}): {exc}", endpoint, None)
        if 200 <= exc.status < 300:
            return HubSpotApiError(
                f"HubSpot {exc}. Refusing to treat it as the end of the data; if it persists, HubSpot's API "
                "changed.", endpoint, exc.status)
        message = exc.body
        try:
            parsed = json.loads(exc.body)
            if isinstance(parsed, dict) and parsed.get("message"):
                message = str(parsed["message"])
        except ValueError:
            pass
        hint = _HINTS.get(exc.status) or ("HubSpot failed; retry later" if exc.status >= 500 else "request rejected")
        return HubSpotApiError(
            f"HubSpot {endpoint} returned HTTP {exc.status}: {message[:400]} ({hint}).", endpoint, exc.status)

    def pages(self, path: str, params: dict | None = None, limiters: Iterable[RateLimiter] = ()) -> Iterator[Page]:
        """The pages of a GET listing, following ``paging.next.after`` (read lazily: stop
        iterating to stop reading); each must be a page (:func:`page_problem`)."""
        pages = self.paginate(path, BodyTokenPaginator(), params=params, extra_limiters=list(limiters),
                              expect=page_problem)
        while True:
            try:
                page = next(pages, None)
            except HttpError as exc:
                raise self._wrap(exc, f"GET {path}") from None
            if page is None:
                return
            yield page

    def post_page(self, path: str, body: Any, limiters: Iterable[RateLimiter] = ()) -> dict:
        """A POST (search, batch read: reads, safe to repeat) whose answer must be a page."""
        return self.call("POST", path, body=body, limiters=limiters, expect=page_problem)

    def post(self, path: str, body: Any, limiters: Iterable[RateLimiter] = ()) -> Any:
        return self.call("POST", path, body=body, limiters=limiters)
