"""The measurement behind docs/spark.md's dialect decision: DuckDB SQL on Spark as written,
and transpiled by sqlglot with and without the DOUBLE-literal rule, against DuckDB's values.

    python benchmarks/spark_dialect.py --store STORE --export DIR [--as-of 2025-06-02]

STORE: a DuckDB store; DIR: its `riskstrat export --format parquet` folder. Prints one line per
feature group and task query: runs as written on Spark? transpiled? transpile time, and the
largest difference from DuckDB over the group's float columns without the DOUBLE rule.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import sqlglot

from riskstrat.features.catalogue import load_catalogue
from riskstrat.features.runner import encoded_sql, run_group
from riskstrat.registry.store import connect
from riskstrat.spark.dialect import to_spark
from riskstrat.spark.session import SMALL_DATA_CONF, local_session
from riskstrat.spark.tables import register_tables
from riskstrat.spark.tasks import build_index_spark, index_view
from riskstrat.tasks import build_index, load_task
from riskstrat.tasks.index import POPULATION_SQL, discharge_sql
from riskstrat.tasks.labels import label_sql
from riskstrat.tasks.relation import INDEX_RELATION, index_relation


def runs(spark, sql: str, args: list | None = None) -> str:
    try:
        spark.sql(sql, args=args or None).limit(1).collect()
        return "yes"
    except Exception as exc:  # a measurement: report any failure
        return "NO (" + str(exc).splitlines()[0][:90] + ")"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--export", required=True)
    parser.add_argument("--as-of", default="2025-06-02")
    args = parser.parse_args()
    spark = local_session(app_name="dialect-measurement", conf=SMALL_DATA_CONF)
    register_tables(spark, root=args.export)
    con = connect(args.store)
    task = load_task("readmission_30d")
    index = build_index(con, task, start=date(2024, 1, 1), end=date.fromisoformat(args.as_of))
    window = {"start": date(2024, 1, 1), "end": date.fromisoformat(args.as_of)}
    rows = build_index_spark(spark, task=task, **window)  # row i = DuckDB's row i (tests/spark)
    index_view(rows, task=task).createOrReplaceTempView(INDEX_RELATION)
    index_view(rows, task=task).createOrReplaceTempView("label_index")
    spark.sql("SELECT DATE'2025-06-02' AS index_date").createOrReplaceTempView("as_of_dates")
    print(f"{len(index)} readmission index rows; sqlglot {sqlglot.__version__}")
    print(
        "query | runs on Spark as written | transpiled runs | transpile ms | max |diff| "
        "of floats without the DOUBLE rule"
    )
    with index_relation(con, index, task=task) as n:
        for group in load_catalogue().groups:
            sql = encoded_sql(group)
            start = time.perf_counter()
            to_spark.cache_clear()
            spark_sql = to_spark(sql)
            ms = (time.perf_counter() - start) * 1000
            plain = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
            duck = run_group(con, group, n=n, check=False)
            floats = [f.column for f in group.features if f.dtype == "float"]
            diff = "-"
            if floats:
                got = spark.sql(plain).orderBy("row_id").toArrow()
                diff = max(
                    float(
                        np.nanmax(
                            np.abs(
                                got.column(c).to_numpy(zero_copy_only=False).astype(float) - duck[c]
                            ),
                            initial=0.0,
                        )
                    )
                    for c in floats
                )
                diff = f"{diff:.2e}"
            print(
                f"{group.sql_path.name} | {runs(spark, group.sql)} | {runs(spark, spark_sql)} | "
                f"{ms:.1f} | {diff}"
            )
    discharges, params = discharge_sql(task, with_dates=True, start=None, end=None)
    for name, sql, bound in (
        ("index: population", POPULATION_SQL, []),
        ("index: discharges", discharges, params),
        ("labels", label_sql(task), [date.fromisoformat(args.as_of)]),
    ):
        print(f"{name} | {runs(spark, sql, bound)} | {runs(spark, to_spark(sql), bound)} | - | -")
    spark.stop()


if __name__ == "__main__":
    main()
