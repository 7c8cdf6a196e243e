"""A small HTTP toolkit every connector shares: one class per concern.

* :class:`HttpClient` — a ``requests`` session with timeouts, retries and rate limiting;
* :class:`RetryPolicy` — exponential backoff with jitter on 429/5xx and connection errors,
  honouring ``Retry-After``;
* :class:`RateLimiter` — a client-side sliding-window limiter;
* :class:`SharedRateLimiter` — the same, shared through a lock file by every process of the
  machine that uses the same key (one API budget across Spark's Python workers);
* :class:`HttpSettings` — the timeouts, attempts and deadline every connector accepts as
  connection options, under the same names;
* :mod:`sources.http.redact` — keeps secrets out of errors, logs and reprs.
"""

from sources.http.client import HttpClient, HttpError
from sources.http.rate_limit import RateLimiter, SharedRateLimiter
from sources.http.redact import is_secret_name, redact_mapping, redact_text
from sources.http.retry import RetryPolicy
from sources.http.settings import HttpSettings

__all__ = [
    "HttpClient",
    "HttpError",
    "HttpSettings",
    "RateLimiter",
    "RetryPolicy",
    "SharedRateLimiter",
    "is_secret_name",
    "redact_mapping",
    "redact_text",
]
