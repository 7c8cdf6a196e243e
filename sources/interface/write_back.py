"""Write-back test utilities: the base class a connector's ``<name>_test_utils.py`` extends
(in ``sources.interface``: a source never imports the harness).

Method names and return shapes are those of the community ``LakeflowConnectWriteTestUtils``,
so existing test utils run here unchanged. Rules the suite relies on:

* rows written carry a unique marker so that a test never confuses them with other data;
* ``cleanup()`` deletes **only** rows this instance created (``created`` records them);
* the column mapping maps write-side names to read-side paths, dots for nesting
  (``{"email": "properties.email"}``).
"""

from __future__ import annotations

from typing import Any


class LakeflowConnectWriteTestUtils:
    """Override what the source supports; the defaults say "nothing is writable"."""

    def __init__(self, options: dict[str, str]) -> None:
        self.options = options
        #: (table, primary key value) of every row this instance created.
        self.created: list[tuple[str, Any]] = []

    def list_insertable_tables(self) -> list[str]:
        """Tables :meth:`generate_rows_and_write` can write to."""
        return []

    def generate_rows_and_write(self, table_name: str, number_of_rows: int) -> tuple[bool, list[dict], dict[str, str]]:
        """Write ``number_of_rows`` new rows; return ``(ok, rows_as_written, column_mapping)``.

        Each returned row includes the source-assigned primary key when the source assigns
        one, so that the suite can find it when reading back.
        """
        return False, [], {}

    def list_deletable_tables(self) -> list[str]:
        """Tables :meth:`delete_rows` can delete from (to test ``read_table_deletes``)."""
        return []

    def delete_rows(self, table_name: str, number_of_rows: int) -> tuple[bool, list[dict], dict[str, str]]:
        """Create ``number_of_rows`` rows, delete them, return ``(ok, deleted_rows, mapping)``."""
        return False, [], {}

    def cleanup(self) -> None:
        """Delete the rows this instance created and has not deleted yet."""
