"""The harness: conformance suite, sandboxes, Spark targets and the ``lakeflow`` CLI."""
