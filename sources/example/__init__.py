"""The example connector: a fictional "shop" API, served locally by ``lakeflow sandbox example``."""

from sources.example.example import ExampleApiError, ExampleLakeflowConnect

__all__ = ["ExampleApiError", "ExampleLakeflowConnect"]
