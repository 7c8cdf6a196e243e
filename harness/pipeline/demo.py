"""``lakeflow demo``'s pipeline: which spec a source's demo runs, and its fresh start."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.spark import PROJECT_ROOT


def demo_spec(source: str) -> Path:
    """``configs/pipelines/<source>_demo.yaml``, else ``<source>.yaml``."""
    for name in (f"{source}_demo.yaml", f"{source}.yaml"):
        path = PROJECT_ROOT / "configs" / "pipelines" / name
        if path.exists():
            return path
    raise FileNotFoundError(f"no demo pipeline for source {source!r}: add configs/pipelines/{source}_demo.yaml")


def reset_demo_state(spark, prepared, home: Path) -> None:
    """The demo's sandbox is new on every run, so its tables, checkpoints and event log
    start over."""
    shutil.rmtree(Path(home) / "pipelines" / prepared.spec.name, ignore_errors=True)
    dest = prepared.spec.destination
    if dest.schema_:
        spark.sql(f"DROP SCHEMA IF EXISTS `{dest.schema_}` CASCADE")
    else:
        from harness.pipeline.events import EVENTS_TABLE

        for table in [*prepared.destinations, EVENTS_TABLE]:
            shutil.rmtree(Path(dest.path) / table, ignore_errors=True)


def query_example(prepared) -> str:
    dest = prepared.spec.destination
    first = prepared.plans[0].destination
    if dest.schema_:
        return (f"from harness.spark import local_session; local_session().sql("
                f"\"SELECT * FROM {dest.schema_}.{first} LIMIT 5\").show()")
    return f"from harness.spark import local_session; local_session().read.format('delta').load('{dest.path}/{first}').show()"
