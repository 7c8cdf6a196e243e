"""Schema field metadata the runtime reads: how a connector says what its raw values mean
without converting them (records stay as the API sent them).

``EPOCH_UNIT``: on a ``timestamp`` field, the unit of the epoch numbers the API sends.
``"seconds"`` reads ``1704067200`` as 2024-01-01T00:00:00Z; without it a number is epoch
milliseconds (and one below 1e11 is refused as ambiguous). ISO-8601 text is read either way::

    StructField("created", TimestampType(), True, {EPOCH_UNIT: "seconds"})

``sources.toolkit.schema.EPOCH_SECONDS`` writes that field in ``struct(created=EPOCH_SECONDS)``.
"""

EPOCH_UNIT = "lakeflow.epoch_unit"
