"""Pipelines: land every table of a source in Delta with its ingestion type's semantics.

``load_spec`` → ``resolve`` (before any Spark work) → ``PipelineRunner(...).run()``;
``render_databricks`` writes the same spec as a Spark Declarative Pipelines file.
"""

from harness.pipeline.spec import PipelineSpec, SpecError, TablePlan, load_spec, parse_spec, resolve

__all__ = ["PipelineSpec", "SpecError", "TablePlan", "load_spec", "parse_spec", "resolve"]
