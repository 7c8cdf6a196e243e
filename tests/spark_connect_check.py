"""Run as a script: read a toy connector and the example source through Spark Connect.

Used by ``tests/test_spark_connect.py`` in a subprocess (one JVM per process)."""

import json
import sys

from datasource import register
from harness.spark import connect_session
from tests.toy_connectors import PagedLakeflowConnect


def main() -> None:
    spark = connect_session(sys.argv[1] if len(sys.argv) > 1 else "local[2]")
    out = {"connect": type(spark).__module__}
    fmt = register(spark, PagedLakeflowConnect)
    df = spark.read.format(fmt).option("tableName", "items").option("rows", "123").option("page", "50").load()
    out["items"] = df.count()
    out["sum"] = int(df.selectExpr("sum(id)").collect()[0][0])
    spark.stop()
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
