"""``harness.spark.await_termination``: a stream's end is awaited in short, bounded waits (over
Spark Connect each wait is one server request), its failure raised, its timeout reported."""

from __future__ import annotations

import pytest

from harness.spark import await_termination


class _Stream:
    """A stand-in for a StreamingQuery that ends after ``waits`` waits (or fails)."""

    def __init__(self, waits: int, error: Exception | None = None):
        self.waits, self.error, self.calls = waits, error, []

    def awaitTermination(self, timeout=None):
        self.calls.append(timeout)
        if len(self.calls) >= self.waits:
            if self.error:
                raise self.error
            return True
        return False


def test_waits_in_short_bounded_requests_until_the_stream_ends():
    stream = _Stream(waits=4)
    assert await_termination(stream, poll_seconds=0.01) is True
    assert stream.calls == [0.01] * 4  # never one unbounded wait


def test_a_failed_stream_raises_and_a_timeout_says_false():
    with pytest.raises(RuntimeError, match="boom"):
        await_termination(_Stream(waits=2, error=RuntimeError("boom")), poll_seconds=0.01)
    assert await_termination(_Stream(waits=10**9), timeout=0.05, poll_seconds=0.01) is False
