"""A small HTTP toolkit every connector shares: one class per concern.

* :class:`HttpClient` — a ``requests`` session with timeouts, retries and rate limiting;
* :class:`RetryPolicy` — exponential backoff with jitter on 429/5xx and connection errors,
  honouring ``Retry-After``;
* :class:`RateLimiter` — a client-side sliding-window limiter;
* :mod:`sources.http.redact` — keeps secrets out of errors, logs and reprs.
"""

from sources.http.client import HttpClient, HttpError
from sources.http.rate_limit import RateLimiter
from sources.http.redact import is_secret_name, redact_mapping, redact_text
from sources.http.retry import RetryPolicy

__all__ = [
    "HttpClient",
    "HttpError",
    "RateLimiter",
    "RetryPolicy",
    "is_secret_name",
    "redact_mapping",
    "redact_text",
]
