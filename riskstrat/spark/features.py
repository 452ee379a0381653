"""The feature matrix on Spark, from the same feature SQL as DuckDB (features/*.sql).

Public API (keyword-only; stable for the Spark weekly run):

    spark = local_session()                                   # riskstrat.spark.session
    register_tables(spark, root=EXPORT_DIR)                   # riskstrat.spark.tables
    matrix = build_features_spark(spark, task="crisis", as_of=date(2025, 6, 2))
    # or, with an index from build_index_spark (riskstrat.spark.tasks):
    matrix = build_features_spark(spark, task=task, index=index)
    frame = collect_matrix(matrix)                            # pandas, as the DuckDB path

`build_features_spark` returns a Spark DataFrame with the DuckDB path's columns in its order:
the task's keys (patient_id string, index_date date[, index_spell_id string]), practice_code
(string), then every feature of the task in catalogue order as double (NULL where DuckDB has
NaN), categoricals encoded with the codebook exactly as riskstrat.features.runner does (the same
`encoded_sql`, transpiled by riskstrat.spark.dialect). Rows are ordered as the DuckDB matrix
(by row_id, which is dropped). With check=True (default) the result is persisted and checked in
one pass: one row per index row from every group, and the YAML data tests (not_null, min, max),
failing with the DuckDB path's messages.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskstrat.features.catalogue import Catalogue, FeatureGroup, load_catalogue
from riskstrat.features.runner import (
    GROUP_ROWS_MISMATCH,
    TEST_FAILED,
    check_group_columns,
    encoded_sql,
)
from riskstrat.logs import log_event, timed
from riskstrat.spark.dialect import to_spark
from riskstrat.spark.tasks import ROW_ID, build_index_spark, index_view
from riskstrat.tasks.relation import INDEX_RELATION
from riskstrat.tasks.spec import TaskSpec, resolve_task

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

AS_OF_OR_INDEX = "build_features_spark needs exactly one of as_of= or index="
#: The practice of each index row (riskstrat.features.runner.PRACTICE_SQL, keyed by row_id).
PRACTICE_SQL = """
SELECT i.row_id, p.practice_code
FROM index_rows AS i
LEFT JOIN patients AS p ON p.patient_id = i.patient_id
"""


def _marker(group: FeatureGroup) -> str:
    return f"_rows_{group.name}"


def group_frame(spark: SparkSession, group: FeatureGroup) -> DataFrame:
    """One group's encoded query over the `index_rows` view; its columns checked against YAML."""
    from pyspark.sql import functions as F

    what = f"feature group {group.name!r} ({group.sql_path.name})"
    bound = spark.sql(to_spark(f"SELECT * FROM ({group.sql}) AS g LIMIT 0", what=what)).columns
    check_group_columns(group, bound)
    frame = spark.sql(to_spark(encoded_sql(group), what=what))
    return frame.withColumn(_marker(group), F.lit(1))


def build_features_spark(
    spark: SparkSession,
    *,
    task: TaskSpec | str,
    as_of: date | str | None = None,
    index: DataFrame | None = None,
    catalogue: Catalogue | None = None,
    check: bool = True,
) -> DataFrame:
    """Keys, practice_code, then every feature of `task` (double, catalogue order), on Spark.

    Pass `as_of` (the task's index at that date is built) or `index` (a DataFrame with row_id
    and the task's keys, from build_index_spark). Registry views must be registered first.
    """
    from pyspark.sql import functions as F

    if (as_of is None) == (index is None):
        raise ValueError(AS_OF_OR_INDEX)
    task = resolve_task(task)
    catalogue = catalogue or load_catalogue()
    if index is None:
        index = build_index_spark(spark, task=task, as_of_dates=[as_of])
    groups = catalogue.groups_for(task)
    names = catalogue.columns(task)
    rows = index_view(index, task=task).persist()
    rows.createOrReplaceTempView(INDEX_RELATION)
    try:
        practice = spark.sql(to_spark(PRACTICE_SQL, what="the practice of each index row"))
        matrix = index.select(ROW_ID, *task.keys).join(practice, on=ROW_ID, how="left")
        for group in groups:
            matrix = matrix.join(group_frame(spark, group), on=ROW_ID, how="left")
    finally:
        spark.catalog.dropTempView(INDEX_RELATION)
    markers = [_marker(g) for g in groups]
    matrix = matrix.select(ROW_ID, *task.keys, "practice_code", *names, *markers)
    if check:
        matrix = matrix.persist()
        with timed("features.check", task=task.name, engine="spark") as extra:
            extra["rows"] = n = rows.count()
            _check(matrix, groups=groups, n=n)
    matrix = matrix.orderBy(ROW_ID).select(
        *task.keys, F.col("practice_code").cast("string").alias("practice_code"), *names
    )
    log_event("features.matrix", task=task.name, engine="spark", features=len(names))
    return matrix


def _check(matrix: DataFrame, *, groups: tuple[FeatureGroup, ...], n: int) -> None:
    """One pass over the persisted matrix: one row per index row from every group, and the
    YAML data tests. Only count/min/max aggregates (cheap to compile); the number of values
    outside a bound is counted in a second pass, only when a test fails."""
    from pyspark.sql import functions as F

    aggs: list[Column] = [F.count(F.lit(1)).alias("_n")]
    aggs += [F.count(_marker(g)).alias(_marker(g)) for g in groups]
    specs = [s for g in groups for s in g.features]
    for i, spec in enumerate(specs):
        col, tests = F.col(spec.column), spec.tests
        if tests.not_null:
            aggs.append(F.count(col).alias(f"_count{i}"))
        if tests.min is not None:
            aggs.append(F.min(col).alias(f"_lowest{i}"))
        if tests.max is not None:
            aggs.append(F.max(col).alias(f"_highest{i}"))
    result = matrix.agg(*aggs).collect()[0].asDict()
    for group in groups:
        if result["_n"] != n or result[_marker(group)] != n:
            rows = result["_n"] if result["_n"] != n else result[_marker(group)]
            raise ValueError(GROUP_ROWS_MISMATCH.format(group=group.name, rows=rows, expected=n))

    def outside(column: str, condition: Column) -> int:
        return matrix.filter(condition).count()

    for i, spec in enumerate(specs):
        tests, column = spec.tests, spec.column

        def fail(test: str, detail: str, spec=spec) -> None:
            raise ValueError(
                TEST_FAILED.format(group=spec.group, column=spec.column, test=test, detail=detail)
            )

        if tests.not_null and result[f"_count{i}"] != n:
            fail("not_null", f"{n - result[f'_count{i}']} null value(s)")
        lowest = result.get(f"_lowest{i}")
        if tests.min is not None and lowest is not None and lowest < tests.min:
            below = outside(column, F.col(column) < tests.min)
            fail("min", f"{below} value(s) below {tests.min:g} (lowest {lowest:g})")
        highest = result.get(f"_highest{i}")
        if tests.max is not None and highest is not None and highest > tests.max:
            above = outside(column, F.col(column) > tests.max)
            fail("max", f"{above} value(s) above {tests.max:g} (highest {highest:g})")


def collect_matrix(matrix: DataFrame) -> pd.DataFrame:
    """A Spark feature matrix (or index / labels frame) on the driver with the DuckDB path's
    dtypes: str keys, datetime64 index_date, float64 features with NaN for NULL, Int8 label.
    Goes through Arrow (no pandas conversion inside Spark)."""
    table = matrix.toArrow()
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if name == "index_date":
            out[name] = pd.to_datetime(pd.Series(column.to_pylist(), dtype="object"))
        elif name == "label":
            out[name] = pd.array(column.to_pylist(), dtype="Int8")
        elif name == ROW_ID:
            out[name] = np.asarray(column.to_numpy(), dtype=np.int64)
        elif name in ("patient_id", "index_spell_id", "practice_code"):
            out[name] = pd.array(column.to_pylist(), dtype="str")
        else:
            out[name] = column.to_numpy(zero_copy_only=False).astype("float64")
    return pd.DataFrame(out)
