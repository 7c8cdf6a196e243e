"""Run as a script against a Spark Connect server (in a container): read every example table,
and stream ``customers`` into a Delta table on the server's ``/data`` volume.

    python -m tests.container_check sc://host:port http://sandbox:8765 TOKEN read|stream

Prints ``RESULT <json>``. Used by ``tests/test_container.py`` in a subprocess."""

from __future__ import annotations

import json
import sys

from datasource import register
from harness.spark import connect_session

KEYS = {"customers": "customer_id", "orders": "order_id", "products": "product_id", "events": "event_id"}


def main() -> int:
    remote, base_url, token, phase = sys.argv[1:5]
    spark = connect_session(remote)
    fmt = register(spark, "example")
    options = {"base_url": base_url, "access_token": token}
    out: dict = {"session": type(spark).__module__}
    if phase == "read":
        for table, key in KEYS.items():
            df = spark.read.format(fmt).options(**options).option("tableName", table).load()
            out[table] = sorted(r[0] for r in df.select(key).collect())
    else:
        query = (spark.readStream.format(fmt).options(**options).option("tableName", "customers").load()
                 .writeStream.format("delta").option("checkpointLocation", "/data/checkpoints/customers")
                 .trigger(availableNow=True).start("/data/tables/customers"))
        query.awaitTermination(300)
        out["exception"] = str(query.exception()) if query.exception() else None
        out["batches"] = len(query.recentProgress)
    spark.stop()
    print("RESULT " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
