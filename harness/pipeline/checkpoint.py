"""A streaming checkpoint that a killed run left half-written.

Spark writes each offset-log and commit-log entry to a hidden temporary file
(``offsets/.0.<uuid>.tmp`` plus its ``.crc``) and renames it into place. A run killed
between the two leaves the temporary file behind and no entry. On the next start the query
has no batch to resume from, so Spark treats it as new and, since 4.x, refuses to start
because the directory is not empty (``STATE_STORE_CHECKPOINT_LOCATION_NOT_EMPTY``), which
would leave the table stuck until someone deletes the checkpoint by hand.

Before a query starts, :func:`clear_unfinished_first_batch` removes those leftovers, and
only when no log entry exists yet: a checkpoint with a committed offset is left to Spark,
and a file that is not a temporary file makes Spark's own check fail as before.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("lakeflow.pipeline")

LOG_DIRS = ("offsets", "commits")


def _is_entry(path: Path) -> bool:
    return path.name.isdigit()


def _is_unfinished_write(path: Path) -> bool:
    return path.name.startswith(".") and (path.name.endswith(".tmp") or path.name.endswith(".tmp.crc"))


def clear_unfinished_first_batch(checkpoint: Path) -> list[Path]:
    """Remove temporary files a killed run left before the query's first log entry."""
    dirs = [checkpoint / name for name in LOG_DIRS if (checkpoint / name).is_dir()]
    if any(_is_entry(p) for d in dirs for p in d.iterdir()):
        return []
    removed = [p for d in dirs for p in d.iterdir() if _is_unfinished_write(p)]
    for path in removed:
        path.unlink()
        log.info("checkpoint %s: removed %s, left by a run stopped while writing its first batch",
                 checkpoint, path.name)
    return removed
