"""The interface every connector implements.

``LakeflowConnect`` is the core contract; ``SupportsPartition`` and
``SupportsPartitionedStream`` are optional mixins for connectors that can split a read
across Spark executors; ``SupportsReadLimits`` lets a connector honour the micro-batch cap
and a replay's end offset (``ReadLimits``).
"""

from sources.interface.errors import ConnectorError, UnknownTableError
from sources.interface.lakeflow_connect import INGESTION_TYPES, LakeflowConnect
from sources.interface.read_limits import ReadLimits, SupportsReadLimits
from sources.interface.supports_partition import SupportsPartition, SupportsPartitionedStream

__all__ = [
    "INGESTION_TYPES",
    "ConnectorError",
    "LakeflowConnect",
    "ReadLimits",
    "SupportsPartition",
    "SupportsPartitionedStream",
    "SupportsReadLimits",
    "UnknownTableError",
]
