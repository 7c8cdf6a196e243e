"""Crash points for the pipeline's crash tests: kill this process at a named point.

``LAKEFLOW_CRASH_AT="<point>:<table>:<batch>[:<delay_ms>]"`` makes the process SIGKILL itself
when ``<table>``'s micro-batch ``<batch>`` (the Nth non-empty batch of this run, from 1)
reaches ``<point>``: ``before_write`` (the batch is read, nothing written), ``during_write``
(a timer fires ``delay_ms`` after the Delta write starts, while Spark is executing it),
``after_write`` (Delta committed, Spark's checkpoint not yet). Unset: no effect. Only tests
set it; it is a kill, exactly as an OOM killer or a power cut would deliver one.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "LAKEFLOW_CRASH_AT"


def _die() -> None:
    # The whole process group: this Python process and the Spark JVM it started, at once.
    os.killpg(os.getpgrp(), signal.SIGKILL)


def reach(point: str, table: str, batch_number: int) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    parts = spec.split(":")
    if len(parts) < 3 or parts[0] != point or parts[1] != table or int(parts[2]) != batch_number:
        return
    delay = int(parts[3]) / 1000 if len(parts) > 3 else 0.0
    if delay:
        threading.Timer(delay, _die).start()
    else:
        _die()
