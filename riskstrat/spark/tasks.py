"""Index rows and labels on Spark, from the same SQL as the DuckDB path (riskstrat.tasks).

`build_index_spark` runs `riskstrat.tasks.index`'s POPULATION_SQL / `discharge_sql` transpiled
(riskstrat.spark.dialect) and adds `row_id`: the row's position in the DuckDB path's frame
(sorted by index_date, patient_id[, index_spell_id]), so row i here is row i there.
`attach_labels_spark` runs `riskstrat.tasks.labels.label_sql` over a temp view `label_index`.
Registry tables must be registered first (riskstrat.spark.tables.register_tables).

Columns: row_id bigint, patient_id string, index_date date, [index_spell_id string], then
label tinyint (null while the window is not wholly inside the extract).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from riskstrat.spark.dialect import to_spark
from riskstrat.tasks.index import POPULATION_NEEDS_DATES, POPULATION_SQL, discharge_sql
from riskstrat.tasks.labels import label_sql
from riskstrat.tasks.relation import INDEX_MISSING_COLUMN
from riskstrat.tasks.spec import TaskSpec, resolve_task

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW_ID = "row_id"
AS_OF_VIEW = "as_of_dates"
LABEL_VIEW = "label_index"


def index_order(task: TaskSpec) -> list[str]:
    """The DuckDB index frame's row order (its SQL's ORDER BY)."""
    return ["index_date", "patient_id"] + (["index_spell_id"] if task.has_index_spell else [])


def _as_of_view(spark: SparkSession, dates: Sequence[date | str]) -> None:
    days = sorted({pd.Timestamp(d).date() for d in dates})
    values = ", ".join(f"(DATE '{d.isoformat()}')" for d in days)
    spark.sql(f"SELECT d AS index_date FROM VALUES {values} AS t(d)").createOrReplaceTempView(
        AS_OF_VIEW
    )


def build_index_spark(
    spark: SparkSession,
    *,
    task: TaskSpec | str,
    as_of_dates: Sequence[date | str] | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
) -> DataFrame:
    """Index rows of `task`, as riskstrat.tasks.build_index, with `row_id` first."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    task = resolve_task(task)
    if task.index.kind == "population":
        if not as_of_dates:
            raise ValueError(POPULATION_NEEDS_DATES.format(task=task.name))
        sql, params = POPULATION_SQL, []
    else:
        sql, params = discharge_sql(task, with_dates=bool(as_of_dates), start=start, end=end)
    if as_of_dates:
        _as_of_view(spark, as_of_dates)
    try:
        query = to_spark(sql, what=f"the index of task {task.name!r}")
        frame = spark.sql(query, args=params or None)
    finally:
        spark.catalog.dropTempView(AS_OF_VIEW)
    order = index_order(task)
    frame = frame.select(
        F.col("patient_id").cast("string").alias("patient_id"),
        F.col("index_date").cast("date").alias("index_date"),
        *([F.col("index_spell_id").cast("string")] if task.has_index_spell else []),
    )
    row_id = (F.row_number().over(Window.orderBy(*order)) - 1).cast("bigint").alias(ROW_ID)
    return frame.select(row_id, *task.keys)


def index_view(index: DataFrame, *, task: TaskSpec) -> DataFrame:
    """row_id, patient_id, index_date, index_spell_id (null for population tasks): the index
    relation the feature and label SQL join (riskstrat.tasks.relation on DuckDB)."""
    from pyspark.sql import functions as F

    needed = [ROW_ID, *task.keys]
    for column in needed:
        if column not in index.columns:
            raise ValueError(
                INDEX_MISSING_COLUMN.format(column=column, task=task.name, needed=needed)
            )
    spell = (
        F.col("index_spell_id").cast("string")
        if task.has_index_spell
        else F.lit(None).cast("string")
    )
    return index.select(
        F.col(ROW_ID).cast("bigint").alias(ROW_ID),
        F.col("patient_id").cast("string").alias("patient_id"),
        F.col("index_date").cast("date").alias("index_date"),
        spell.alias("index_spell_id"),
    )


def attach_labels_spark(
    spark: SparkSession,
    *,
    task: TaskSpec | str,
    index: DataFrame,
    extract_date: date | str,
) -> DataFrame:
    """`index` plus `label` (tinyint): 1/0, or null when the window ends after extract_date."""
    from pyspark.sql import functions as F

    task = resolve_task(task)
    index_view(index, task=task).createOrReplaceTempView(LABEL_VIEW)
    try:
        labels = spark.sql(
            to_spark(label_sql(task), what=f"the labels of task {task.name!r}"),
            args=[pd.Timestamp(extract_date).date()],
        )
    finally:
        spark.catalog.dropTempView(LABEL_VIEW)
    labels = labels.select(F.col(ROW_ID), F.col("label").cast("tinyint").alias("label"))
    return index.join(labels, on=ROW_ID, how="left")
