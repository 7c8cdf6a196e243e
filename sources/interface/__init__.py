"""The interface every connector implements.

``LakeflowConnect`` is the core contract; ``SupportsPartition`` and
``SupportsPartitionedStream`` are optional mixins for connectors that can split a read
across Spark executors.
"""

from sources.interface.errors import ConnectorError, UnknownTableError
from sources.interface.lakeflow_connect import INGESTION_TYPES, LakeflowConnect
from sources.interface.supports_partition import SupportsPartition, SupportsPartitionedStream

__all__ = [
    "INGESTION_TYPES",
    "ConnectorError",
    "LakeflowConnect",
    "SupportsPartition",
    "SupportsPartitionedStream",
    "UnknownTableError",
]
