"""The shared client's connection options, the same names for every connector.

| option | default | meaning |
| --- | --- | --- |
| ``connect_timeout`` | 10 | seconds to open a connection |
| ``read_timeout`` | 60 | seconds to wait for a response once connected |
| ``retry_max_attempts`` | 8 | attempts per request, the first one included |
| ``retry_base_delay`` | 0.5 | first backoff in seconds (doubles each retry, with jitter) |
| ``retry_max_delay`` | 30 | longest backoff between two attempts |
| ``request_deadline`` | 300 | the most seconds one request may take, retries and waits included |

A server that accepts connections and never answers therefore fails a request after at most
``request_deadline`` seconds (each attempt's read timeout is cut to what is left), with an
error naming the endpoint. A connector may give other defaults (HubSpot waits at most 20 s
between attempts), never other names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sources.http.retry import RetryPolicy
from sources.interface.options import float_option, int_option

OPTION_NAMES = ("connect_timeout", "read_timeout", "retry_max_attempts", "retry_base_delay", "retry_max_delay",
                "request_deadline")


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float = 300.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None, defaults: "HttpSettings | None" = None,
                     owner: str = "") -> "HttpSettings":
        """The settings the options ask for; a bad value raises an error naming the option."""
        d = defaults or cls()
        return cls(
            connect_timeout=float_option(options, "connect_timeout", d.connect_timeout, low=0.001, owner=owner),
            read_timeout=float_option(options, "read_timeout", d.read_timeout, low=0.001, owner=owner),
            max_attempts=int_option(options, "retry_max_attempts", d.max_attempts, low=1, owner=owner),
            base_delay=float_option(options, "retry_base_delay", d.base_delay, owner=owner),
            max_delay=float_option(options, "retry_max_delay", d.max_delay, owner=owner),
            deadline=float_option(options, "request_deadline", d.deadline, low=0.001, owner=owner),
        )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def retry_policy(self, **overrides: Any) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, base_delay=self.base_delay, max_delay=self.max_delay,
                           **overrides)
