"""``HttpConnector``: the plumbing every connector of one HTTP API repeats, written once.

A subclass implements :meth:`make_client` (the ``HttpClient`` with its auth, limits and retry
rules) and gets:

* ``self.client``, created on first use, so the connector pickles without it (Spark ships
  connectors to its Python workers) — :meth:`__getstate__` drops it;
* a ``repr`` that shows the options with secret values masked;
* :meth:`check_table`, the unknown-table check every method starts with;
* for a connector whose tables are fixed, ``list_tables``, ``get_table_schema`` and
  ``read_table_metadata`` from its class attributes ``METADATA`` (table -> metadata) and
  ``SCHEMAS`` (table -> ``StructType``);
* the option declarations ``CONNECTION_OPTIONS`` (the shared client's :data:`HTTP_OPTIONS`;
  a subclass adds its own: ``OptionSet(OWN, HTTP_OPTIONS)``) and ``TABLE_OPTIONS`` (none),
  which ``lakeflow uc`` reads to build a Unity Catalog connection.

    class ShopConnector(HttpConnector):
        def list_tables(self):
            return ["orders"]

        def make_client(self):
            return HttpClient.from_settings(self.base_url, HttpSettings.from_options(self.options),
                                            headers={"Authorization": f"Bearer {self.token}"},
                                            secrets=[self.token])
"""

from __future__ import annotations

from pyspark.sql.types import StructType

from sources.http import HttpClient, redact_mapping
from sources.interface import LakeflowConnect, UnknownTableError
from sources.toolkit.options import HTTP_OPTIONS, OptionSet


class HttpConnector(LakeflowConnect):
    """Base of connectors that read one HTTP API (see the module docstring)."""

    _client: HttpClient | None = None
    #: The connection options a connection may hold (README "Connection parameters").
    CONNECTION_OPTIONS: OptionSet = HTTP_OPTIONS
    #: The per-table options (README "Table options"): what a connection lets through.
    TABLE_OPTIONS: OptionSet = OptionSet()
    #: Fixed tables: table -> ``{"primary_keys", "cursor_field", "ingestion_type"}``, and its schema.
    METADATA: dict[str, dict] = {}
    SCHEMAS: dict[str, StructType] = {}

    def list_tables(self) -> list[str]:
        if not self.METADATA:
            raise NotImplementedError(f"{type(self).__name__}: declare its tables in METADATA and SCHEMAS, "
                                      "or implement list_tables, get_table_schema and read_table_metadata")
        return list(self.METADATA)

    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> StructType:
        return self.SCHEMAS[self.check_table(table_name)]

    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        return dict(self.METADATA[self.check_table(table_name)])

    def make_client(self) -> HttpClient:
        raise NotImplementedError(f"{type(self).__name__}.make_client() must build the HttpClient")

    @property
    def client(self) -> HttpClient:
        """The HTTP client, created on first use."""
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_client": None}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(options={redact_mapping(self.options)!r})"

    def check_table(self, table_name: str) -> str:
        """``table_name`` if :meth:`list_tables` has it, else an ``UnknownTableError`` listing them."""
        tables = self.list_tables()
        if table_name not in tables:
            raise UnknownTableError(table_name, tables)
        return table_name
