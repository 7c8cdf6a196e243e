"""One pipeline run per Lakeflow home at a time.

A home holds one embedded Derby metastore (one Spark process at a time) and the tables'
checkpoints; two runs on it would race on both. :func:`home_lock` takes an exclusive
``flock`` on ``<home>/lakeflow.lock`` for the run's lifetime and writes the holder's PID and
command into it; a second run fails at once, naming them. The operating system releases the
lock when the holder exits, however it exits (a SIGKILL included), so a crash never leaves a
home locked.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = "lakeflow.lock"


class HomeInUse(RuntimeError):
    """Another process holds the home; the message names it and the fix."""


@contextlib.contextmanager
def home_lock(home: Path, command: str):
    """Hold ``home`` for ``command`` (e.g. ``"pipeline run hubspot_demo"``)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_FILE
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock (documented in the README)
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise HomeInUse(
                f"the Lakeflow home {home} is in use by process {holder.get('pid', '?')} "
                f"({holder.get('command', 'another lakeflow command')}, since {holder.get('since', '?')}); wait for it "
                f"to finish (or stop it), or give this run another --home") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command,
                                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        value = json.loads(data.decode() or "{}")
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}
