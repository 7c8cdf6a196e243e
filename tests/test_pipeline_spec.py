"""Pipeline specs: shape errors and source errors, each named, before any Spark work."""

from __future__ import annotations

import textwrap

import pytest

from harness.pipeline.spec import SpecError, load_spec, parse_spec, resolve
from sources.example.sandbox import ExampleSandbox
from sources.example import ExampleLakeflowConnect
from tests.toy_connectors import PagedLakeflowConnect

BASE = {"name": "p", "source": "example", "destination": {"schema": "s"}}


@pytest.fixture(scope="module")
def connector():
    with ExampleSandbox() as sandbox:
        yield ExampleLakeflowConnect(sandbox.connection_options())


def _spec(**changes):
    return parse_spec({**BASE, **changes})


def test_unknown_keys_are_named():
    with pytest.raises(SpecError, match=r"destinaton: unknown key"):
        parse_spec({**BASE, "destinaton": {}})
    with pytest.raises(SpecError, match=r"tables\[1\]\.scd: unknown key"):
        _spec(tables=[{"source_table": "customers"}, {"source_table": "orders", "scd": 2}])


def test_shape_errors_are_named():
    with pytest.raises(SpecError, match=r"tables\[0\]\.scd_type"):
        _spec(tables=[{"source_table": "customers", "scd_type": 3}])
    with pytest.raises(SpecError, match=r"destination: .*exactly one of 'schema'"):
        _spec(destination={"schema": "s", "path": "/tmp/x"})
    with pytest.raises(SpecError, match=r"source: required key is missing"):
        parse_spec({"name": "p", "destination": {"schema": "s"}})
    with pytest.raises(SpecError, match=r"both land in 'customers'"):
        _spec(tables=[{"source_table": "customers"}, {"source_table": "customers"}])


def test_yaml_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent("""
        name: p
        source: example
        destination: {path: ./out}
        tables:
          - source_table: events
            options: {page_size: 500, verbose: true}
    """))
    spec = load_spec(path)
    assert spec.tables[0].options == {"page_size": "500", "verbose": "true"}
    path.write_text("name: [unclosed")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)
    with pytest.raises(SpecError, match="cannot read pipeline spec"):
        load_spec(tmp_path / "missing.yaml")


def test_the_same_table_twice_under_two_names(connector):
    spec = _spec(tables=[{"source_table": "orders"},
                         {"source_table": "orders", "destination_table": "orders_history", "scd_type": 2,
                          "options": {"page_size": "50"}}])
    plans = resolve(spec, connector)
    assert [(p.destination, p.scd_type, p.with_deletes, p.options) for p in plans] == [
        ("orders", 1, True, {}), ("orders_history", 2, True, {"page_size": "50"})]


def test_source_errors_are_collected_and_named(connector):
    spec = _spec(tables=[
        {"source_table": "invoices"},
        {"source_table": "events", "scd_type": 2},
        {"source_table": "customers", "sequence_by": "no_such_column"},
    ])
    with pytest.raises(SpecError) as err:
        resolve(spec, connector)
    text = str(err.value)
    assert "tables[0] ('invoices'): source 'example' has no table 'invoices'; its tables: products, customers, orders, events" in text
    assert "tables[1] ('events'): scd_type 2 needs changes by primary key, but 'events' is an append table" in text
    assert "tables[2] ('customers'): sequence_by 'no_such_column' is not a column (or a dotted path through struct fields) of the table's schema" in text


class _NoKeyConnector(PagedLakeflowConnect):
    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": [], "cursor_field": "id", "ingestion_type": "cdc"}


def test_cdc_without_a_primary_key(connector):
    spec = parse_spec({**BASE, "tables": [{"source_table": "items"}]})
    with pytest.raises(SpecError, match=r"tables\[0\] \('items'\): ingestion type 'cdc' needs a primary key; set primary_keys"):
        resolve(spec, _NoKeyConnector({}))
    fixed = parse_spec({**BASE, "tables": [{"source_table": "items", "primary_keys": ["id"]}]})
    assert resolve(fixed, _NoKeyConnector({}))[0].primary_keys == ["id"]


def test_omitted_tables_mean_every_table(connector):
    plans = resolve(_spec(), connector)
    assert [p.destination for p in plans] == ["products", "customers", "orders", "events"]
    assert [p.kind for p in plans] == ["snapshot scd1", "cdc scd1", "cdc scd1 +deletes", "append"]
