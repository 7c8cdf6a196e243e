"""The HubSpot CRM sandbox server (see the package docstring for the full guide).

``HubSpotSandbox`` is assembled from one mixin per API family: ``store`` (records, ids, the
clock, the search index: every record is created, updated and archived there), ``limits``
(auth, scopes, rate limits, hooks, 414), ``objects``, ``search``, ``properties`` (and
schemas), ``owners``, ``associations`` and ``scenarios`` (truth, scenarios, demo, seeding,
test helpers). Routes are the ``@route`` methods of the mixins."""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

from sources.toolkit.sandbox.server import Request, Response, SandboxServer
from sources.hubspot.sandbox.associations import AssociationsMixin
from sources.hubspot.sandbox.catalog import (
    AssociationType, ObjectType, hubspot_defined_association_types, standard_object_types,
)
from sources.hubspot.sandbox.limits import ALL_SCOPES, MAX_URL_LENGTH, LimitsMixin, RateLimitConfig
from sources.hubspot.sandbox.objects import ObjectsMixin
from sources.hubspot.sandbox.owners import OwnersMixin
from sources.hubspot.sandbox.properties import PropertiesMixin
from sources.hubspot.sandbox.scenarios import ScenariosMixin
from sources.hubspot.sandbox.search import SearchMixin
from sources.hubspot.sandbox.store import StoreMixin, _Store


class HubSpotSandbox(LimitsMixin, ObjectsMixin, SearchMixin, PropertiesMixin, OwnersMixin, AssociationsMixin,
                     ScenariosMixin, StoreMixin, SandboxServer):
    """A stateful HubSpot CRM v3/v4 API on 127.0.0.1 (see the package docstring)."""

    name = "hubspot"
    portal_id = 12345678

    def __init__(
        self,
        token: str = "sandbox-token",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        rate_limits: bool | RateLimitConfig = True,
        ten_second_limit: int = 190,
        search_per_second: int = 5,
        search_index_delay: float = 0.0,
        clock: Callable[[], int] | None = None,
    ):
        super().__init__(host=host, port=port, latency=latency)
        self.token = token
        self._tokens: dict[str, set[str] | None] = {token: ALL_SCOPES}
        if isinstance(rate_limits, RateLimitConfig):
            self.rate_limits = rate_limits
        else:
            self.rate_limits = RateLimitConfig(enabled=bool(rate_limits), ten_second_limit=ten_second_limit,
                                               search_per_second=search_per_second)
        self.retry_after_on_429: bool | float = False
        self.search_index_delay = float(search_index_delay)
        self.max_url_length = MAX_URL_LENGTH
        self.uri_too_long_count = 0
        self.clock: Callable[[], int] = clock or (lambda: int(time.time() * 1000))
        self._last_ms = 0
        self._next_id = 1001
        self._seq = 0
        self._types: dict[str, ObjectType] = standard_object_types()
        self._aliases: dict[str, str] = {}
        self._stores: dict[str, _Store] = {}
        for obj in self._types.values():
            self._register_type(obj)
        self._custom_counter = 10_001
        self._assoc_types: dict[int, AssociationType] = {}
        self._assoc_by_pair: dict[tuple[str, str], list[AssociationType]] = {}
        for at in hubspot_defined_association_types():
            self._add_assoc_type(at)
        self._next_assoc_type_id = 1_000
        # (type, id) -> {to_type: {to_id: set(typeIds)}}
        self._assoc: dict[tuple[str, int], dict[str, dict[int, set[int]]]] = {}
        self._owners: list[dict[str, Any]] = []
        self._windows: dict[str, deque] = {}
        self._search_windows: dict[str, deque] = {}
        self._daily: dict[str, int] = {}
        #: arrivals per token in the rolling windows, and their maxima (max_window_count)
        self._seen: dict[str, deque] = {}
        self._seen_search: dict[str, deque] = {}
        self._max_windows: dict[str, int] = {}
        self._max_search_windows: dict[str, int] = {}
        #: 429s the rate limits answered (injected faults not included)
        self.served_429 = 0
        self._request_hooks: list[Callable[[str, Request, Response], None]] = []
        self._nth_hooks: list[list[Any]] = []      # [endpoint, n, fn, fired]
        if seed:
            self._seed(seed)

    def start(self) -> "HubSpotSandbox":
        # The base server sets TCP_NODELAY, a 128-connection backlog and a 50 ms shutdown
        # poll; HubSpot adds only the 414 check on the raw request line.
        super().start()
        self._guard_uri_length()
        return self

    def connection_options(self) -> dict[str, str]:
        return {"base_url": self.url, "access_token": self.token}


__all__ = ["HubSpotSandbox", "RateLimitConfig"]
