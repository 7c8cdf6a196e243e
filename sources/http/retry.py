"""When to retry an HTTP call, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Mapping
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring ``Retry-After``.

    Retries 429 and the 5xx statuses in ``retry_statuses`` and connection errors, never
    other 4xx. ``max_attempts`` counts the first try.

    >>> p = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=False)
    >>> [p.delay(attempt) for attempt in (1, 2, 3, 4, 5)]
    [1.0, 2.0, 4.0, 8.0, 8.0]
    >>> p.delay(1, retry_after="3")
    3.0
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )
    #: Cap on a server-sent Retry-After, so a misbehaving server cannot park a job for hours.
    max_retry_after: float = 120.0
    #: A connector's own reading of a response: ``classify(status, headers, body)`` returns
    #: ``"retry"`` (wait — ``Retry-After`` if sent, else backoff — and try again), ``"fail"``,
    #: or ``None`` to fall back to ``retry_statuses``. For APIs that signal rate limits with
    #: other statuses, e.g. GitHub's secondary limit: 403 with ``Retry-After``::
    #:
    #:     RetryPolicy(classify=lambda status, headers, body:
    #:                 "retry" if status == 403 and "Retry-After" in headers else None)
    classify: Callable[[int, Mapping[str, str], str], str | None] | None = None

    def should_retry(self, status: int, headers: Mapping[str, str] | None = None, body: str = "") -> bool:
        """Whether a response with this status (headers, body) is worth another attempt."""
        if self.classify is not None:
            verdict = self.classify(status, headers or {}, body)
            if verdict in ("retry", "fail"):
                return verdict == "retry"
        return status in self.retry_statuses

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        server = parse_retry_after(retry_after)
        if server is not None:
            return min(server, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if not self.jitter:
            return ceiling
        # "Equal jitter": at least half the exponential delay, so retries still spread out.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else ``None``."""
    if value is None or str(value).strip() == "":
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
