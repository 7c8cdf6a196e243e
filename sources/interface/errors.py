"""Errors a connector raises so that the runtime can report them clearly."""

from __future__ import annotations

from typing import Iterable


class ConnectorError(Exception):
    """A failure the user can act on: the message names what is wrong and the fix."""


class UnknownTableError(ConnectorError, ValueError):
    """Raised by every connector method given a table name the connector does not serve.

    >>> raise UnknownTableError("contcts", ["contacts", "deals"])
    Traceback (most recent call last):
    ...
    sources.interface.errors.UnknownTableError: Unknown table 'contcts'. Supported tables: contacts, deals
    """

    def __init__(self, table_name: str, supported: Iterable[str]):
        self.table_name = table_name
        self.supported = sorted(supported)
        super().__init__(
            f"Unknown table {table_name!r}. Supported tables: {', '.join(self.supported)}"
        )
