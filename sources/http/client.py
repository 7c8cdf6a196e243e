"""``HttpClient``: the one way connectors talk HTTP."""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urljoin

import requests

from sources.http.paginators import NEXT_URL, Page, PageError, records_at
from sources.http.rate_limit import RateLimiter
from sources.http.redact import redact_text
from sources.http.retry import RetryPolicy
from sources.http.settings import HttpSettings

log = logging.getLogger("lakeflow.http")


class HttpError(Exception):
    """A request that failed for good: names the method, endpoint and status, never a secret.

    ``status`` is ``None`` for a connection failure. ``body`` holds the (redacted, shortened)
    response text.
    """

    def __init__(self, method: str, endpoint: str, status: int | None, message: str, body: str = ""):
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.body = body
        super().__init__(message)


_sent = itertools.count(1)
_sent_so_far = 0


def form_fields(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Form fields of a nested body, bracketed as Stripe and Rails read them; ``True`` and
    ``False`` as ``true``/``false``, ``None`` as an empty value (which clears a field).

    >>> form_fields({"email": "a@x.io", "metadata": {"tier": "pro"}, "tags": ["a", "b"], "live": True})
    [('email', 'a@x.io'), ('metadata[tier]', 'pro'), ('tags[0]', 'a'), ('tags[1]', 'b'), ('live', 'true')]
    """
    out: list[tuple[str, str]] = []

    def add(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                add(f"{name}[{key}]", inner)
        elif isinstance(value, (list, tuple)):
            for i, inner in enumerate(value):
                add(f"{name}[{i}]", inner)
        elif isinstance(value, bool):
            out.append((name, "true" if value else "false"))
        else:
            out.append((name, "" if value is None else str(value)))

    for key, value in data.items():
        add(str(key), value)
    return out


def requests_sent() -> int:
    """HTTP requests (retries included) every ``HttpClient`` of this process has sent; the
    runtime reports the difference around a read as that read's request count."""
    return _sent_so_far


def _count_request() -> None:
    global _sent_so_far
    _sent_so_far = next(_sent)  # itertools.count is atomic under the GIL


class HttpClient:
    """A ``requests`` session with a base URL, timeouts, retries, rate limits and redaction.

    >>> client = HttpClient("https://api.example.com", headers={"Authorization": "Bearer t0k3n"},
    ...                     secrets=["t0k3n"], limiters=[RateLimiter(10, 1.0)])
    >>> # client.request("GET", "/v1/items", params={"page": 1}).json()

    * ``timeout`` is ``(connect, read)`` seconds, applied to every attempt.
    * Retries follow ``retry`` (429/5xx and connection errors; ``Retry-After`` honoured).
    * ``deadline`` bounds one request's total time, retries and waits included: each
      attempt's timeouts are cut to what is left, and a retry that would end past it is not
      made (the error names the endpoint, the attempts and the time spent).
    * :meth:`from_settings` builds one from the shared connection options
      (:class:`~sources.http.settings.HttpSettings`).
    * Every request first takes a slot from each limiter in ``limiters``; a call may add
      ``extra_limiters`` (say, a stricter per-endpoint budget).
    * ``secrets`` are masked in every error message and log line.
    * ``on_response`` (optional) sees every raw response, e.g. to read rate-limit headers.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
        limiters: Iterable[RateLimiter] = (),
        secrets: Iterable[str] = (),
        on_response: Callable[[requests.Response], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.deadline = deadline
        self.limiters = list(limiters)
        self._secrets = [s for s in secrets if s]
        self._on_response = on_response
        self._sleep = sleep
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **dict(headers or {})})
        self.request_count = 0
        self.retry_count = 0

    @classmethod
    def from_settings(cls, base_url: str, settings: HttpSettings, headers: Mapping[str, str] | None = None,
                      retry: RetryPolicy | None = None, **kwargs: Any) -> "HttpClient":
        """A client with the timeouts, attempts and deadline of ``settings`` (``retry``, if
        given, keeps its own status rules but takes the settings' attempts and delays)."""
        policy = settings.retry_policy() if retry is None else RetryPolicy(
            max_attempts=settings.max_attempts, base_delay=settings.base_delay, max_delay=settings.max_delay,
            jitter=retry.jitter, retry_statuses=retry.retry_statuses, max_retry_after=retry.max_retry_after,
            classify=retry.classify)
        return cls(base_url, headers, timeout=settings.timeout, retry=policy, deadline=settings.deadline, **kwargs)

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self.base_url!r})"

    def redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        extra_limiters: Iterable[RateLimiter] = (),
        ok_statuses: Iterable[int] = (),
        expect: Callable[[requests.Response], str | None] | None = None,
    ) -> requests.Response:
        """Send a request, retrying per the policy. Returns the response when its status is
        2xx or in ``ok_statuses``; raises :class:`HttpError` otherwise.

        ``expect(response)`` (for reads, which are safe to repeat) checks an accepted answer
        and returns what is wrong with it, or ``None``: an unexpected body (``{}`` where a
        page was due, an error object with status 200) is retried like a 5xx, then fails
        naming the endpoint — it is never handed back as if it were data.

        ``data`` is sent form-encoded (``application/x-www-form-urlencoded``, as Stripe takes
        writes); nested values are flattened by :func:`form_fields`."""
        url = self.url(path)
        endpoint = f"{method.upper()} {path.split('?')[0]}"
        limiters = [*self.limiters, *extra_limiters]
        accepted = set(ok_statuses)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            for limiter in limiters:
                limiter.acquire()
            try:
                self.request_count += 1
                _count_request()
                response = self.session.request(
                    method, url, params=params, json=json, data=None if data is None else form_fields(data),
                    timeout=self._timeout(started)
                )
            except requests.RequestException as exc:  # connection refused, reset, timeout
                failure = f"{type(exc).__name__}: {exc}"
                pause = self.retry.delay(attempt)
                if attempt >= self.retry.max_attempts or self._past_deadline(started, pause):
                    raise HttpError(method, path, None, self.redact(
                        f"{endpoint} failed after {attempt} attempt(s) in {time.monotonic() - started:.1f}s"
                        f"{self._limits_text()}: {failure}")) from None
                self._wait(endpoint, attempt, pause, type(exc).__name__)
                continue
            if self._on_response is not None:
                self._on_response(response)
            status = response.status_code
            if 200 <= status < 300 or status in accepted:
                problem = expect(response) if expect is not None else None
                if problem is None:
                    return response
                pause = self.retry.delay(attempt)
                if attempt < self.retry.max_attempts and not self._past_deadline(started, pause):
                    self._wait(endpoint, attempt, pause, f"HTTP {status} with an unexpected body ({problem})")
                    continue
                body = self.redact(response.text)[:500]
                raise HttpError(method, path, status, (
                    f"{endpoint} answered HTTP {status} with an unexpected body ({problem}) after {attempt} "
                    f"attempt(s) in {time.monotonic() - started:.1f}s{self._limits_text()}: {body}"), body)
            retryable = self.retry.should_retry(status, response.headers, response.text)
            pause = self.retry.delay(attempt, response.headers.get("Retry-After")) if retryable else 0.0
            if retryable and attempt < self.retry.max_attempts and not self._past_deadline(started, pause):
                self._wait(endpoint, attempt, pause, f"HTTP {status}")
                continue
            body = self.redact(response.text)[:500]  # redact first: a cut could split a secret
            hint = (f" (gave up after {attempt} attempt(s) in {time.monotonic() - started:.1f}s"
                    f"{self._limits_text()})" if retryable else "")
            raise HttpError(method, path, status, f"{endpoint} returned HTTP {status}{hint}: {body}", body)

    def _timeout(self, started: float) -> tuple[float, float]:
        if self.deadline is None:
            return self.timeout
        left = max(self.deadline - (time.monotonic() - started), 0.001)
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def _past_deadline(self, started: float, pause: float) -> bool:
        return self.deadline is not None and time.monotonic() - started + pause >= self.deadline

    def _limits_text(self) -> str:
        deadline = f", request_deadline {self.deadline:g}s" if self.deadline is not None else ""
        return (f"; limits: retry_max_attempts {self.retry.max_attempts}, read_timeout {self.timeout[1]:g}s"
                f"{deadline}")

    def _wait(self, endpoint: str, attempt: int, pause: float, reason: str) -> None:
        self.retry_count += 1
        log.info("%s: %s, retry %d in %.2fs", endpoint, reason, attempt, pause)
        self._sleep(pause)

    def close(self) -> None:
        self.session.close()

    def paginate(self, path: str, paginator: Any, *, params: Mapping[str, Any] | None = None,
                 records_path: str | None = None, method: str = "GET", **request_kwargs: Any):
        """THE paging loop: yield each page's records (a :class:`~sources.http.paginators.Page`,
        a list) of the listing at ``path``, as ``paginator`` (:mod:`sources.http.paginators`)
        walks it, until the paginator answers ``None`` for the next request.

        * Every page goes through :meth:`request` with an ``expect`` check: a 200 whose records
          are not at ``records_path`` (default: the paginator's) is retried, then fails naming
          the endpoint — it never ends the listing quietly. An ``expect`` passed here runs too.
        * A next request equal to one already sent in this read (a token or link that
          repeats) fails naming the endpoint instead of reading the same pages forever.
        * A next link to another host than ``base_url`` is refused (it would carry the
          credentials elsewhere).
        * Pages are read lazily: stop iterating to stop reading.
        """
        import json as _json
        from urllib.parse import urlsplit


        where = paginator.records_path if records_path is None else records_path
        extra_expect = request_kwargs.pop("expect", None)
        endpoint = f"{method.upper()} {path.split('?')[0]}"
        home = urlsplit(self.base_url)[:2]
        wanted = paginator.first_request(dict(params or {}))
        seen: set[str] = set()
        status: int | None = None
        while True:
            target = wanted.get(NEXT_URL, path)
            sent = {k: v for k, v in wanted.items() if k != NEXT_URL}
            if urlsplit(self.url(target))[:2] != home:
                raise HttpError(method, path, status, self.redact(
                    f"{endpoint}: the next page is on another host ({target}); refusing to follow it"))
            key = _json.dumps([self.url(target), sent], sort_keys=True, default=str)
            if key in seen:
                raise HttpError(method, path, status, self.redact(
                    f"{endpoint}: the paging cycles: the request for page {len(seen) + 1} ({key}) repeats an "
                    "earlier one of this read, so the listing would never end. Check the API's next-page token."))
            seen.add(key)
            decoded: list = []

            def expect(response: requests.Response) -> str | None:
                try:
                    body = response.json()
                except ValueError:
                    return "not JSON"
                problem = paginator.check(body, where)
                if problem is None and extra_expect is not None:
                    problem = extra_expect(response)
                if problem is None:
                    decoded[:] = [body]
                return problem

            response = self.request(method, target, params=sent, expect=expect, **request_kwargs)
            status = response.status_code
            body = decoded[0]
            try:
                records = records_at(body, where)
                following = paginator.next_request(dict(wanted), body, response)
            except PageError as exc:
                raise HttpError(method, path, status, self.redact(f"{endpoint}: {exc}")) from None
            yield Page(records, sent, following)
            if following is None:
                return
            wanted = dict(following)
