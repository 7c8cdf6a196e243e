"""``LakeflowConnectWriteBackTests``: write to the source, read it back incrementally.

Mixed into a connector's test class together with
:class:`~harness.conformance.suite.LakeflowConnectTests` (which sets up the options, the
sandbox and ``_utils``). Reads back with a **fresh** connector from an offset saved before
the write, polling with a deadline, and deletes only rows it created.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pytest

from harness.conformance.reading import get_path, key_of, poll, read_all


def same_value(written: Any, read: Any) -> bool:
    """Equal as written and read back: exact, or equal as numbers, or as strings."""
    if written == read:
        return True
    try:
        return Decimal(str(written)) == Decimal(str(read))
    except (InvalidOperation, ValueError):
        pass
    return str(written).strip().lower() == str(read).strip().lower()


class LakeflowConnectWriteBackTests:
    def _require_utils(self):
        if self._utils is None:
            pytest.skip("no test_utils_class: write-back is not tested for this connector")
        return self._utils

    def test_insertable_tables_are_listed(self):
        utils = self._require_utils()
        tables = set(self.connector.list_tables())
        unknown = [t for t in utils.list_insertable_tables() if t not in tables]
        assert not unknown, f"insertable tables not in list_tables(): {unknown}"
        unknown = [t for t in utils.list_deletable_tables() if t not in tables]
        assert not unknown, f"deletable tables not in list_tables(): {unknown}"

    def test_written_rows_read_back_incrementally(self):
        utils = self._require_utils()
        for table in utils.list_insertable_tables():
            meta = self.metadata(table)
            saved = read_all(self.connector.read_table, table, self.opts(table)).final_offset
            ok, rows, mapping = utils.generate_rows_and_write(table, self.rows_to_write)
            assert ok and len(rows) == self.rows_to_write, f"{table}: write-back wrote {len(rows)} rows"
            keys = meta["primary_keys"]
            wanted = {key_of(r, keys): r for r in rows}

            def found():
                fresh = self.fresh_connector()  # a new process would know only the offset
                start = None if meta["ingestion_type"] == "snapshot" else saved
                got = read_all(fresh.read_table, table, self.opts(table), start=start).records
                by_key = {key_of(r, keys): r for r in got}
                return by_key if set(wanted) <= set(by_key) else None

            by_key = poll(found, self.write_visibility_deadline, what=f"{table}: {len(wanted)} written rows")
            for key, written in wanted.items():
                read = by_key[key]
                for write_name, read_path in mapping.items():
                    assert same_value(get_path(written, write_name), get_path(read, read_path)), (
                        f"{table}: {write_name} -> {read_path}: wrote {get_path(written, write_name)!r}, "
                        f"read {get_path(read, read_path)!r}"
                    )

    def test_deletes_show_up_in_read_table_deletes(self):
        utils = self._require_utils()
        for table in utils.list_deletable_tables():
            meta = self.metadata(table)
            assert meta["ingestion_type"] == "cdc_with_deletes", f"{table}: deletable but not cdc_with_deletes"
            saved = read_all(self.connector.read_table_deletes, table, self.opts(table)).final_offset
            ok, deleted, _ = utils.delete_rows(table, self.rows_to_write)
            assert ok and deleted, f"{table}: delete_rows failed"
            keys = meta["primary_keys"]
            wanted = {key_of(r, keys) for r in deleted}

            def found():
                got = read_all(self.fresh_connector().read_table_deletes, table, self.opts(table), start=saved).records
                return {key_of(r, keys) for r in got} >= wanted

            poll(found, self.write_visibility_deadline, what=f"{table}: deletes of {len(wanted)} rows")
