"""A destination table's pipeline state: its checkpoint file, and the offsets Delta holds.

The offsets a batch reached are written **in the Delta commit of its rows** (the commit's
``userMetadata``, see :func:`~harness.pipeline.delta_target.committing`), so rows and
offsets land together or not at all. The checkpoint file
``<home>/pipelines/<pipeline>/<table>/checkpoint.json`` mirrors them so that a run can start
without asking Delta:

* ``writeId`` — Delta's idempotent-write id for the table's commits
  (``lakeflow:<pipeline>:<table>``, ``…:r<N>`` after the N-th full refresh);
* ``batch`` / ``offsets`` — the last batch committed and the offsets it reached (or, after
  a read that found nothing new, the offsets that read reached);
* ``pending`` — a batch about to be committed: set before the commit, cleared after it. A
  run that finds it set (a crash in between) asks Delta whether that batch landed;
* ``refresh`` — set while a full refresh builds the new table beside the old one;
* ``primaryKeys`` / ``sequenceBy`` — what the table was built with (a change of either is an
  error naming the fix).

The file is written before the table's first commit. A table with commits but no checkpoint
(deleted by hand, or another home) is detected and fails with the fix instead of reading the
source from the start again (which would append an append table's rows twice).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

CHECKPOINT_FILE = "checkpoint.json"
#: Folders of the stream-per-table runner (Spark streaming checkpoints) that came before.
LEGACY_CHECKPOINT = "checkpoint"


class StateError(RuntimeError):
    """A table whose state cannot be trusted; the message names the fix."""


@dataclass(frozen=True)
class TableState:
    writeId: str
    generation: int = 0
    batch: int = 0
    offsets: dict = field(default_factory=dict)
    pending: int | None = None
    refresh: dict | None = None
    primaryKeys: list = field(default_factory=list)
    sequenceBy: str | None = None

    def committed(self, batch: int, offsets: dict) -> "TableState":
        return replace(self, batch=batch, offsets=dict(offsets), pending=None)

    def advanced(self, offsets: dict) -> "TableState":
        """Offsets a read reached without finding records (nothing to commit)."""
        return replace(self, offsets=dict(offsets))

    def with_pending(self, batch: int) -> "TableState":
        return replace(self, pending=batch)


class Checkpoint:
    """``checkpoint.json`` of one destination table, or nowhere (``directory=None``: a run on
    a remote Spark Connect server whose home this machine cannot see keeps its state in the
    Delta commits only)."""

    def __init__(self, directory: Path | None):
        self.directory = directory

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / CHECKPOINT_FILE

    @property
    def kept(self) -> bool:
        return self.directory is not None

    def legacy(self) -> bool:
        """Whether the stream-per-table runner's Spark checkpoint is here instead."""
        return self.directory is not None and (self.directory / LEGACY_CHECKPOINT / "offsets").is_dir()

    def load(self) -> TableState | None:
        if self.path is None or not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return TableState(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise StateError(f"checkpoint {self.path} cannot be read ({exc}); move it away and rebuild the table "
                             "with --full-refresh") from None

    def save(self, state: TableState) -> None:
        """Write atomically (a temporary file renamed over the old one, synced first)."""
        if self.path is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".checkpoint.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(state), out, sort_keys=True, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
