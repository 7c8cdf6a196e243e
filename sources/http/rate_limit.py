"""Client-side sliding-window rate limiters: :class:`RateLimiter` (one process) and
:class:`SharedRateLimiter` (every process of the machine that uses the same key)."""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
import time
from collections import deque
from typing import Callable

try:
    import fcntl
except ImportError:  # Windows: SharedRateLimiter is unavailable, RateLimiter works
    fcntl = None


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


class SharedRateLimiter:
    """A sliding-window limiter shared by every process on this machine that uses the same
    ``key``: at most ``max_calls`` in any ``period`` seconds across all of them (all of
    Spark's Python workers, every thread in each), with the same ``acquire()`` as
    :class:`RateLimiter`.

    The window lives in one small file per key, named by the SHA-256 hex digest of the key
    (so a key holding a base URL and a token never appears on disk, in a path or a
    ``repr``), in ``directory``, else ``$LAKEFLOW_RATE_LIMIT_DIR``, else
    ``<tempdir>/lakeflow-rate-limits`` (created ``0700``; ``…-<uid>`` if another user owns
    it). ``fcntl.flock`` on the file excludes other processes, a ``threading.Lock`` other
    threads; each ``acquire`` is one flock, two small reads and two small writes on an
    open descriptor (reopened after a fork, whose inherited descriptor would share the
    parent's lock), and any wait is slept outside both locks.

    The file holds a ring of the wall-clock times (``time.time()``: processes share no
    monotonic clock) of the last ``max_calls`` calls, as packed doubles: a call is allowed
    when the ``max_calls``-th most recent one is at least ``period`` old. Limiters of one
    key with different ``max_calls`` share the history, each enforcing its own limit (the
    ring grows to the largest). A time more than ``period`` in the future (the wall clock
    was set back) counts as expired. Only one machine is covered: processes on other hosts
    keep their own files.

    >>> import tempfile
    >>> limiter = SharedRateLimiter(5, 1.0, key="https://api.example.com|token", directory=tempfile.mkdtemp())
    >>> limiter.acquire()
    0.0
    >>> limiter
    SharedRateLimiter(max_calls=5, period=1.0)
    """

    _HEADER = struct.Struct("<4sIQ")   # magic, ring capacity, calls taken so far
    _SLOT = struct.Struct("<d")
    _MAGIC = b"LKR1"
    ENV = "LAKEFLOW_RATE_LIMIT_DIR"

    def __init__(self, max_calls: int, period: float, key: str | bytes | tuple, directory: str | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        if max_calls < 1 or period <= 0:
            raise ValueError("SharedRateLimiter needs max_calls >= 1 and period > 0")
        if fcntl is None:
            raise NotImplementedError("SharedRateLimiter needs fcntl.flock (Linux or macOS)")
        self.max_calls = int(max_calls)
        self.period = float(period)
        self._name = hashlib.sha256(_key_bytes(key)).hexdigest()
        explicit = directory or os.environ.get(self.ENV)
        self._directories = [explicit] if explicit else _default_directories()
        self.path: str | None = None   # known once the file is open
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def acquire(self) -> float:
        """Take one slot, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                pause = self._take()
            if pause is None:
                return waited
            pause = max(pause, 0.001)
            self._sleep(pause)
            waited += pause

    def _take(self) -> float | None:
        """Record a call and return ``None``, or return how long to wait (under the lock)."""
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            now = self._clock()
            header = os.pread(fd, self._HEADER.size, 0)
            capacity, count = self.max_calls, 0
            if len(header) == self._HEADER.size:
                magic, stored_capacity, stored_count = self._HEADER.unpack(header)
                if magic == self._MAGIC and stored_capacity >= 1:
                    capacity, count = stored_capacity, stored_count
            if capacity < self.max_calls:
                capacity = self._grow(fd, capacity, count)
            if count >= self.max_calls:
                age = now - self._read_slot(fd, (count - self.max_calls) % capacity)
                if -self.period <= age < self.period:
                    return self.period - age
            os.pwrite(fd, self._SLOT.pack(now), self._HEADER.size + self._SLOT.size * (count % capacity))
            os.pwrite(fd, self._HEADER.pack(self._MAGIC, capacity, count + 1), 0)
            return None
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _read_slot(self, fd: int, slot: int) -> float:
        raw = os.pread(fd, self._SLOT.size, self._HEADER.size + self._SLOT.size * slot)
        return self._SLOT.unpack(raw)[0] if len(raw) == self._SLOT.size else 0.0

    def _grow(self, fd: int, capacity: int, count: int) -> int:
        """Re-lay the ring for ``self.max_calls`` slots, keeping the calls it holds (older
        calls it no longer knows are taken to be as recent as the oldest it kept)."""
        size = self.max_calls
        if count > capacity:
            raw = os.pread(fd, self._SLOT.size * capacity, self._HEADER.size)
            slots = [self._SLOT.unpack_from(raw, i * self._SLOT.size)[0] if (i + 1) * self._SLOT.size <= len(raw)
                     else 0.0 for i in range(capacity)]
            kept = {n: slots[n % capacity] for n in range(count - capacity, count)}
            oldest = kept[count - capacity]
            ring = [0.0] * size
            for n in range(max(0, count - size), count):
                ring[n % size] = kept.get(n, oldest)
            os.pwrite(fd, struct.pack(f"<{size}d", *ring), self._HEADER.size)
        # (count <= capacity: calls 0..count-1 sit in slots 0..count-1 under either size)
        os.pwrite(fd, self._HEADER.pack(self._MAGIC, size, count), 0)
        return size

    def _open(self) -> int:
        pid = os.getpid()
        if self._fd is not None and self._pid == pid:
            return self._fd
        # (a descriptor inherited through fork shares the parent's flock: open a new one)
        problems = []
        for directory in self._directories:
            path = os.path.join(directory, self._name)
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0),
                             0o600)
            except OSError as exc:
                problems.append(f"{directory}: {exc.strerror or exc}")
                continue
            self._fd, self._pid, self.path = fd, pid, path
            return fd
        raise OSError(f"SharedRateLimiter cannot open its lock file ({'; '.join(problems)}); set "
                      f"{self.ENV} to a directory this process can write")

    def close(self) -> None:
        """Close the file (the next ``acquire`` reopens it)."""
        with self._lock:
            fd, self._fd, self._pid = self._fd, None, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_fd", "_pid")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._fd = self._pid = None

    def __repr__(self) -> str:
        return f"SharedRateLimiter(max_calls={self.max_calls}, period={self.period})"


def _key_bytes(key: str | bytes | tuple) -> bytes:
    if isinstance(key, bytes):
        return key
    return (key if isinstance(key, str) else repr(tuple(key))).encode("utf-8")


def _default_directories() -> list[str]:
    base = os.path.join(tempfile.gettempdir(), "lakeflow-rate-limits")
    uid = getattr(os, "getuid", lambda: None)()
    return [base] if uid is None else [base, f"{base}-{uid}"]
