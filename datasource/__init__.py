"""The Spark runtime: any ``LakeflowConnect`` connector as a PySpark Python Data Source.

>>> from datasource import register
>>> fmt = register(spark, "hubspot")                      # doctest: +SKIP
>>> spark.read.format(fmt).option("tableName", "contacts").load()   # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import sys

from datasource.arrow_convert import ArrowConverter, ConversionError
from datasource.options import METADATA_TABLE, OptionError
from datasource.registry import available_sources, connector_class, source_name_of
from datasource.source import LakeflowDataSource, data_source_for
from sources.interface import LakeflowConnect

__all__ = [
    "ArrowConverter",
    "ConversionError",
    "LakeflowDataSource",
    "METADATA_TABLE",
    "OptionError",
    "available_sources",
    "data_source_class",
    "register",
]


def data_source_class(source: str | type[LakeflowConnect], name: str | None = None) -> type[LakeflowDataSource]:
    """The Data Source class for ``source`` without registering it."""
    if isinstance(source, str):
        cls = connector_class(source)
        source_name = source
    elif isinstance(source, type) and issubclass(source, LakeflowConnect):
        cls = source
        source_name = source_name_of(source)
    else:
        raise TypeError(f"register() takes a source name or a LakeflowConnect subclass, not {type(source).__name__}")
    format_name = name or f"lakeflow_{source_name}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", format_name):
        raise ValueError(f"Format name {format_name!r} is not valid: use letters, digits and _.")
    return data_source_for(cls, format_name)


def register(spark, source: str | type[LakeflowConnect], name: str | None = None) -> str:
    """Register ``source`` with ``spark`` and return its format name.

    Args:
        spark: a ``SparkSession`` (classic or Spark Connect).
        source: a source name (``"example"``, ``"hubspot"``) or a ``LakeflowConnect``
            subclass.
        name: the format name to register under; default ``lakeflow_<source>`` (for a class,
            ``<source>`` is derived from its name: ``HubSpotLakeflowConnect`` → ``hubspot``).

    On a classic session with ``PYSPARK_PYTHON`` unset, Spark's Python workers are pointed at
    this interpreter (see :func:`use_this_python`).
    """
    ds = data_source_class(source, name)
    use_this_python(spark)
    spark.dataSource.register(ds)
    return ds.format_name


def use_this_python(spark) -> None:
    """Make Spark's Python workers run this interpreter (the one that imports this package)
    when ``PYSPARK_PYTHON`` is unset; otherwise they run ``python3`` from ``PATH``, which
    may not have the package (``ModuleNotFoundError: No module named 'datasource'``). Does
    nothing on Spark Connect, where the server's environment decides."""
    if os.environ.get("PYSPARK_PYTHON"):
        return
    try:
        sc = spark.sparkContext  # classic sessions only
    except Exception:  # Spark Connect has no SparkContext
        return
    os.environ["PYSPARK_PYTHON"] = sys.executable
    if getattr(sc, "pythonExec", None) in (None, "python3", "python"):
        sc.pythonExec = sys.executable
