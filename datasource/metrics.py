"""Requests per read, for the pipeline's progress.

Connector code runs in Spark's Python workers, other processes than the one that started
the read. When a read has the option ``lakeflowMetricsDir`` (the pipeline runner sets it;
users need not), every reader call appends the number of HTTP requests it made
(:func:`sources.http.client.requests_sent` before and after) to
``<dir>/requests-<pid>.jsonl``; :func:`total_requests` adds them up. Without the option
nothing is written.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

from sources.http.client import requests_sent

from datasource.options import METRICS_DIR  # noqa: F401  (the option's name)


@contextlib.contextmanager
def metered(directory: str | None):
    if not directory:
        yield
        return
    before = requests_sent()
    try:
        yield
    finally:
        count = requests_sent() - before
        if count:
            path = Path(directory) / f"requests-{os.getpid()}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps({"requests": count}) + "\n")


def metered_iter(directory: str | None, items: Iterator) -> Iterator:
    with metered(directory):
        yield from items


def total_requests(directory: str | os.PathLike) -> int:
    total = 0
    for path in Path(directory).glob("requests-*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                total += int(json.loads(line)["requests"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash
    return total
