"""Who may call and how often: tokens and scopes, rate limits and their headers, request
hooks, and the 414 on over-long request lines."""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sources.toolkit.sandbox.server import Request, Response, SandboxError
from sources.hubspot.sandbox.common import error

ALL_SCOPES = None  # a token registered with scopes=None may call everything
MAX_URL_LENGTH = 8_000
#: ``GET`` here answers :meth:`LimitsMixin.limit_stats` (for a sandbox in another process).
LIMITS_PATH = "/__limits__"

AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
SCOPES_MESSAGE = ("This app hasn't been granted all required scopes to make this call. Read more about required "
                  "scopes here: https://developers.hubspot.com/scopes.")


@dataclass
class RateLimitConfig:
    """Rate limits enforced per access token.

    ``ten_second_limit`` requests per rolling 10 s window (HubSpot: 100 free/starter, 190
    pro/enterprise); ``search_per_second`` search requests per rolling second (search requests
    count only there, and their responses carry no ``X-HubSpot-RateLimit-*`` headers);
    ``daily_limit`` requests per sandbox lifetime ("day")."""

    enabled: bool = True
    ten_second_limit: int = 190
    search_per_second: int = 5
    daily_limit: int = 500_000
    interval_ms: int = 10_000


def _is_search(endpoint: str) -> bool:
    return endpoint.endswith("/search")


def _bearer(request: Request) -> str | None:
    header = request.header("authorization") or ""
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


class LimitsMixin:
    """Auth, scopes, rate limits and hooks (``_tokens``, ``rate_limits``, the windows and the
    hook lists are set up by ``HubSpotSandbox.__init__``)."""

    # -- the 414 check on the raw request line, before routing --------------------------
    def _guard_uri_length(self) -> None:
        """Wrap the started server's handler: request lines longer than ``max_url_length``
        get 414 (counted in ``uri_too_long_count``) and are never routed."""
        base = self._httpd.RequestHandlerClass
        sandbox = self

        class HubSpotHandler(base):
            def _guarded(self):
                if len(self.path) > sandbox.max_url_length:
                    length = int(self.headers.get("Content-Length") or 0)
                    if length:
                        self.rfile.read(length)
                    with sandbox.lock:
                        sandbox.uri_too_long_count += 1
                    body = b"<html><body><h1>414 Request-URI Too Large</h1></body></html>"
                    self.send_response(414)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                base._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _guarded

        self._httpd.RequestHandlerClass = HubSpotHandler

    # -- tokens and scopes -------------------------------------------------------------
    def add_token(self, token: str, scopes: Iterable[str] | None = None) -> None:
        """Accept ``token`` too; ``scopes=None`` grants everything, a list restricts it."""
        with self.lock:
            self._tokens[token] = None if scopes is None else set(scopes)

    def add_service_key(self, scopes: Iterable[str] | None = None) -> str:
        """A new Service Key (``pat-na2-<uuid>``, the shape third-party notes report) that
        authenticates as ``Authorization: Bearer`` like a private-app token; ``scopes=None``
        grants everything."""
        key = f"pat-na2-{uuid.uuid4()}"
        self.add_token(key, scopes)
        return key

    def remove_token(self, token: str) -> None:
        with self.lock:
            self._tokens.pop(token, None)

    def authenticate(self, request: Request) -> Response | None:
        token = _bearer(request)
        with self.lock:
            known = token is not None and token in self._tokens
        if not known:
            return error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        return None

    def before_handle(self, request: Request, endpoint: str) -> Response | None:
        token = _bearer(request) or ""
        limited = self._check_rate_limit(token, endpoint)
        if limited is not None:
            return limited
        with self.lock:
            granted = self._tokens.get(token)
        if granted is not None:
            needed = self._required_scopes(request, endpoint)
            for alternatives in needed:
                if not granted.intersection(alternatives):
                    return error(403, SCOPES_MESSAGE, "MISSING_SCOPES", errors=[{
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": [alternatives[0]]},
                    }])
        return None

    def _required_scopes(self, request: Request, endpoint: str) -> list[list[str]]:
        """A list of requirements; each is a list of alternative scopes (any one suffices)."""
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        try:
            if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4:
                obj = self._resolve(parts[3])
                read = method == "GET" or endpoint.endswith("/search") or endpoint.endswith("/batch/read")
                return [obj.read_scopes if read else obj.write_scopes]
            if parts[:3] == ["crm", "v3", "properties"] and len(parts) >= 4:
                obj = self._resolve(parts[3])
                return [obj.schema_read_scopes if method == "GET" else obj.schema_write_scopes]
            if (parts[:3] == ["crm", "v3", "schemas"]) or parts[:1] == ["crm-object-schemas"]:
                return [["crm.schemas.custom.read"] if method == "GET" else ["crm.schemas.custom.write"]]
            if parts[:3] == ["crm", "v3", "owners"]:
                return [["crm.objects.owners.read"]]
            if parts[:3] == ["crm", "v4", "associations"] and len(parts) >= 5:
                a, b = self._resolve(parts[3]), self._resolve(parts[4])
                if method == "GET" or endpoint.endswith("/batch/read"):
                    return [a.read_scopes, b.read_scopes]
                return [a.write_scopes, b.read_scopes]
            if parts[:3] == ["crm", "v4", "objects"] and len(parts) >= 7 and parts[5] == "associations":
                to_name = parts[7] if parts[6] == "default" and len(parts) > 7 else parts[6]
                a, b = self._resolve(parts[3]), self._resolve(to_name)
                if method == "GET":
                    return [a.read_scopes, b.read_scopes]
                return [a.write_scopes, b.read_scopes]
        except (SandboxError, IndexError):
            return []   # the handler answers the unknown object type
        return []

    # -- hooks -------------------------------------------------------------------------
    def after_handle(self, request: Request, endpoint: str, response: Response) -> Response:
        if not _is_search(endpoint):
            response.headers.update(self._rate_headers(_bearer(request) or ""))
        for hook in list(self._request_hooks):
            hook(endpoint, request, response)
        with self.lock:
            due = []
            for entry in self._nth_hooks:
                ep, n, fn, fired = entry
                if not fired and ep == endpoint and self.request_counts[endpoint] >= n:
                    entry[3] = True
                    due.append(fn)
        for fn in due:
            fn()
        return response

    def on_request(self, callback: Callable[[str, Request, Response], None]) -> Callable[[], None]:
        """Call ``callback(endpoint, request, response)`` after every handled request (before
        the response is sent). Returns a function that removes the hook."""
        self._request_hooks.append(callback)
        return lambda: self._request_hooks.remove(callback) if callback in self._request_hooks else None

    def after_nth_request(self, endpoint: str, n: int, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` once, right after the ``n``-th request (by ``request_counts``) to
        ``endpoint`` has been handled and before its response is sent."""
        with self.lock:
            self._nth_hooks.append([endpoint, n, fn, False])

    # -- rate limits -------------------------------------------------------------------
    def _record_arrival(self, token: str, endpoint: str, now: float) -> None:
        """Count the request in its rolling window of *arrivals* (accepted or not, limits
        enforced or not) and keep the window's maximum (:meth:`max_window_count`)."""
        search = _is_search(endpoint)
        horizon = 1.0 if search else self.rate_limits.interval_ms / 1000.0
        windows, maxima = ((self._seen_search, self._max_search_windows) if search
                           else (self._seen, self._max_windows))
        with self.lock:
            window = windows.setdefault(token, deque())
            while window and window[0] <= now - horizon:
                window.popleft()
            window.append(now)
            maxima[token] = max(maxima.get(token, 0), len(window))

    def _check_rate_limit(self, token: str, endpoint: str) -> Response | None:
        cfg = self.rate_limits
        now = time.monotonic()
        self._record_arrival(token, endpoint, now)
        if not cfg.enabled:
            return None
        with self.lock:
            if _is_search(endpoint):
                window = self._search_windows.setdefault(token, deque())
                while window and window[0] <= now - 1.0:
                    window.popleft()
                if len(window) >= cfg.search_per_second:
                    wait = 1.0 - (now - window[0])
                    return self._too_many("secondly", "SECONDLY", wait, {})
                window.append(now)
                return None
            window = self._windows.setdefault(token, deque())
            horizon = cfg.interval_ms / 1000.0
            while window and window[0] <= now - horizon:
                window.popleft()
            if self._daily.get(token, 0) >= cfg.daily_limit:
                return self._too_many("daily", "DAILY", 60.0, self._rate_headers_locked(token))
            if len(window) >= cfg.ten_second_limit:
                wait = horizon - (now - window[0])
                return self._too_many("ten_secondly_rolling", "TEN_SECONDLY_ROLLING", wait,
                                      self._rate_headers_locked(token))
            window.append(now)
            self._daily[token] = self._daily.get(token, 0) + 1
        return None

    def _too_many(self, limit_name: str, policy: str, wait: float, headers: dict[str, str]) -> Response:
        with self.lock:
            self.served_429 += 1
        body = {
            "status": "error",
            "message": f"You have reached your {limit_name} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": f"publicapi:private-app:{self.portal_id}",
        }
        headers = dict(headers)
        if self.retry_after_on_429 is not False and self.retry_after_on_429 is not None:
            if self.retry_after_on_429 is True:
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
            else:
                headers["Retry-After"] = f"{float(self.retry_after_on_429):g}"
        return Response.json(body, status=429, headers=headers)

    def _rate_headers(self, token: str) -> dict[str, str]:
        if not self.rate_limits.enabled:
            return {}
        with self.lock:
            return self._rate_headers_locked(token)

    def _rate_headers_locked(self, token: str) -> dict[str, str]:
        cfg = self.rate_limits
        used = len(self._windows.get(token, ()))
        daily = self._daily.get(token, 0)
        return {
            "X-HubSpot-RateLimit-Max": str(cfg.ten_second_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, cfg.ten_second_limit - used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(cfg.interval_ms),
            "X-HubSpot-RateLimit-Daily": str(cfg.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, cfg.daily_limit - daily)),
        }

    def max_window_count(self, token: str | None = None, search: bool = False) -> int:
        """The most requests that arrived in any rolling window since the start (or the last
        :meth:`reset_rate_limits`): the 10 s window of ``ten_second_limit`` (non-search
        requests), or with ``search=True`` the 1 s window of search requests; for
        ``token``, or the most of any token. Requests answered 429 count too, and the
        record is kept with rate limits disabled, so ``max_window_count() <=
        ten_second_limit`` shows the readers kept within the limit on their own (with
        ``served_429 == 0``: none was turned away)."""
        with self.lock:
            counts = self._max_search_windows if search else self._max_windows
            if token is not None:
                return counts.get(token, 0)
            return max(counts.values(), default=0)

    def limit_stats(self) -> dict[str, Any]:
        """The rate-limit record, also served at ``GET /__limits__`` (no auth, not counted):
        ``{"ten_second_limit", "search_per_second", "max_window_count",
        "max_search_window_count", "served_429"}`` (the maxima over all tokens)."""
        with self.lock:
            return {"ten_second_limit": self.rate_limits.ten_second_limit,
                    "search_per_second": self.rate_limits.search_per_second,
                    "max_window_count": self.max_window_count(),
                    "max_search_window_count": self.max_window_count(search=True),
                    "served_429": self.served_429}

    def dispatch(self, request: Request) -> Response:
        if request.method == "GET" and request.path.rstrip("/") == LIMITS_PATH:
            return Response.json(self.limit_stats())
        return super().dispatch(request)

    def reset_rate_limits(self) -> None:
        """Empty the windows and the daily count; zero the maxima and ``served_429``."""
        with self.lock:
            self._windows.clear()
            self._search_windows.clear()
            self._daily.clear()
            self._seen.clear()
            self._seen_search.clear()
            self._max_windows.clear()
            self._max_search_windows.clear()
            self.served_429 = 0
