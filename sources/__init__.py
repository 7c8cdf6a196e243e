"""Connectors: one package per source, all implementing :mod:`sources.interface`."""
