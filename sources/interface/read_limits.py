"""``SupportsReadLimits``: a connector told how far one call may read.

The runtime bounds a read in two ways, and both reach a connector through one named
keyword argument, ``limits`` (a :class:`ReadLimits`), of ``read_table`` and
``read_table_deletes`` — for connectors that declare the mixin:

* ``max_records``: the records still wanted by the current micro-batch (Spark's
  ``maxRecordsPerBatch``, default 100,000, minus what earlier calls of the batch returned).
  A connector may return fewer (one API page, say) and should not return many more; the
  runtime ends the micro-batch after the call that reaches it.
* ``end_offset``: set when Spark replays a checkpointed micro-batch after a restart
  (``readBetweenOffsets(start, end)``). The connector returns **only records at or before
  ``end_offset``** and never an offset past it. The replay then delivers each record of the
  checkpointed range once, even when records inside the range changed since (they moved
  past ``end_offset`` and are read by the next micro-batch), instead of reading on to the
  end of the table.

A connector without the mixin keeps the three-argument signature. Its replays are read with
``max_records`` as the only bound, and a replay that does not land on the checkpointed end
is logged as a warning (its last page may repeat records the next micro-batch reads again).

Example::

    class MyConnector(LakeflowConnect, SupportsReadLimits):
        def read_table(self, table_name, start_offset, table_options, *, limits=ReadLimits()):
            page_size = min(100, limits.max_records or 100)
            ...
            if limits.end_offset is not None:
                records = [r for r in records if position(r) <= position(limits.end_offset)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReadLimits:
    """How far one ``read_table`` / ``read_table_deletes`` call may read.

    Attributes:
        max_records: records still wanted by the micro-batch (``None``: no cap, a batch read).
        end_offset: a replay's checkpointed end; return nothing past it (``None``: no bound).
    """

    max_records: int | None = None
    end_offset: Any = None


NO_LIMITS = ReadLimits()


class SupportsReadLimits:
    """Mixin: ``read_table`` and ``read_table_deletes`` accept ``limits=ReadLimits(...)``
    as a keyword argument and honour it (see the module docstring)."""
