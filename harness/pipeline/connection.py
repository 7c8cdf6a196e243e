"""A pipeline's ``connection`` resolved to connector options, locally: now
:mod:`harness.connection_settings` (``LAKEFLOW_<NAME>_<OPTION>`` over ``dev_config.json``).

Kept so that pipeline files rendered before the move, which import
``harness.pipeline.connection.connection_options``, still run.
"""

from harness.connection_settings import ConnectionSettingsError as ConnectionError_
from harness.connection_settings import connection_options

__all__ = ["ConnectionError_", "connection_options"]
