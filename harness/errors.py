"""Errors shared across the harness's modules (a leaf: it imports nothing of the harness)."""


class TargetUnavailable(RuntimeError):
    """A Spark target that cannot be reached here; the message names what is missing."""
