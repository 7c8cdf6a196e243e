"""Databricks helpers of the harness; Unity Catalog connections are in :mod:`harness.databricks.uc`."""
