"""A client-side sliding-window rate limiter."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """Allow at most ``max_calls`` in any ``period`` seconds; ``acquire()`` blocks until a
    slot is free. Thread-safe. One limiter is shared by every request it should govern.

    >>> limiter = RateLimiter(max_calls=5, period=1.0)   # e.g. HubSpot search: 5 per second
    >>> limiter.acquire()   # returns at once while under budget
    0.0
    """

    def __init__(self, max_calls: int, period: float, clock=time.monotonic, sleep=time.sleep):
        if max_calls < 1 or period <= 0:
            raise ValueError("RateLimiter needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one slot, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._calls and now - self._calls[0] >= self.period:
                    self._calls.popleft()
                if len(self._calls) < self.max_calls:
                    self._calls.append(now)
                    return waited
                pause = self.period - (now - self._calls[0])
            pause = max(pause, 0.001)
            self._sleep(pause)
            waited += pause

    def __repr__(self) -> str:
        return f"RateLimiter(max_calls={self.max_calls}, period={self.period})"
