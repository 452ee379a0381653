"""Label builder: the outcome in the window after each index date, null while immature."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from riskstrat.tasks.relation import index_relation
from riskstrat.tasks.spec import TaskSpec, resolve_task

LABEL_SQL = """
WITH w AS (
  SELECT
    row_id,
    patient_id,
    index_spell_id,
    CAST(index_date + INTERVAL '{gap}' DAY AS DATE) AS w_start,
    CAST(index_date + INTERVAL '{end}' DAY AS DATE) AS w_end
  FROM label_index
),
admitted AS (
  SELECT DISTINCT w.row_id
  FROM w
  JOIN spells AS s ON s.patient_id = w.patient_id
  WHERE s.admission_method = 'emergency'
    AND s.admission_date >= w.w_start
    AND s.admission_date < w.w_end
    AND ({keep_index_spell} OR w.index_spell_id IS NULL OR s.spell_id <> w.index_spell_id)
),
died AS (
  SELECT w.row_id
  FROM w
  JOIN patients AS p ON p.patient_id = w.patient_id
  WHERE {count_death} AND p.date_of_death >= w.w_start AND p.date_of_death < w.w_end
)
SELECT
  w.row_id,
  CASE
    WHEN w.w_end > CAST(? AS DATE) + INTERVAL '1' DAY THEN NULL
    WHEN a.row_id IS NOT NULL OR d.row_id IS NOT NULL THEN 1
    ELSE 0
  END AS label
FROM w
LEFT JOIN admitted AS a ON a.row_id = w.row_id
LEFT JOIN died AS d ON d.row_id = w.row_id
ORDER BY w.row_id
"""


def label_sql(task: TaskSpec) -> str:
    """The label query: reads only [index_date + gap, index_date + gap + horizon)."""
    lab = task.label
    return LABEL_SQL.format(
        gap=lab.gap_days,
        end=lab.gap_days + lab.horizon_days,
        keep_index_spell="FALSE" if lab.exclude_index_spell else "TRUE",
        count_death="TRUE" if lab.count_death else "FALSE",
    )


def attach_labels(
    con: duckdb.DuckDBPyConnection,
    task: TaskSpec | str,
    index: pd.DataFrame,
    *,
    extract_date: date | str,
) -> pd.DataFrame:
    """`index` plus `label` (Int8): 1/0, or null when the window ends after `extract_date`."""
    task = resolve_task(task)
    with index_relation(con, index, task=task, name="label_index"):
        result = con.execute(label_sql(task), [pd.Timestamp(extract_date).date()]).df()
    out = index.copy()
    out["label"] = result["label"].astype("Int8").array
    return out
