"""Index builders: the rows (patient_id, index_date[, index_spell_id]) a task predicts for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from riskstrat.db import fetch_frame
from riskstrat.tasks.spec import TaskSpec, resolve_task

POPULATION_NEEDS_DATES = "task {task!r} indexes a population at as-of dates: pass as_of_dates"
POPULATION_SQL = """
SELECT p.patient_id, d.index_date
FROM as_of_dates AS d
JOIN patients AS p
  ON p.registered_from < d.index_date
 AND (p.registered_to IS NULL OR p.registered_to >= d.index_date)
 AND (p.date_of_death IS NULL OR p.date_of_death >= d.index_date)
ORDER BY d.index_date, p.patient_id
"""


def _as_of_table(con: duckdb.DuckDBPyConnection, dates: Sequence[date | str]) -> None:
    frame = pd.DataFrame({"index_date": pd.to_datetime(list(dates)).unique()})
    con.register("_as_of_source", frame)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE as_of_dates AS "
        "SELECT CAST(index_date AS DATE) AS index_date FROM _as_of_source"
    )
    con.unregister("_as_of_source")


def discharge_sql(task: TaskSpec, *, with_dates: bool, start: object, end: object) -> tuple:
    """The discharge index query and its parameters (also run on Spark: riskstrat.spark.tasks)."""
    spec = task.index
    where = ["s.discharge_date IS NOT NULL"]
    params: list[object] = []
    if spec.exclude_admission_methods:
        where.append(
            f"s.admission_method NOT IN ({', '.join('?' * len(spec.exclude_admission_methods))})"
        )
        params += list(spec.exclude_admission_methods)
    if spec.exclude_destinations:
        marks = ", ".join("?" * len(spec.exclude_destinations))
        where.append(
            f"(s.discharge_destination IS NULL OR s.discharge_destination NOT IN ({marks}))"
        )
        params += list(spec.exclude_destinations)
    if spec.exclude_death_on_discharge:
        where.append("(p.date_of_death IS NULL OR p.date_of_death > s.discharge_date)")
    if spec.exclude_pregnancy_diagnoses:
        where.append("(s.primary_diagnosis IS NULL OR s.primary_diagnosis NOT LIKE 'O%')")
    if start is not None:
        where.append("s.discharge_date >= ?")
        params.append(pd.Timestamp(start).date())
    if end is not None:
        where.append("s.discharge_date <= ?")
        params.append(pd.Timestamp(end).date())
    join = ""
    if with_dates:
        join = (
            "JOIN as_of_dates AS d ON s.discharge_date < d.index_date AND s.discharge_date >= "
            f"CAST(d.index_date - INTERVAL '{spec.as_of_window_days}' DAY AS DATE)"
        )
    sql = f"""
SELECT DISTINCT s.patient_id, s.discharge_date AS index_date, s.spell_id AS index_spell_id
FROM spells AS s
JOIN patients AS p ON p.patient_id = s.patient_id
{join}
WHERE {" AND ".join(where)}
ORDER BY index_date, s.patient_id, index_spell_id
"""
    return sql, params


def build_index(
    con: duckdb.DuckDBPyConnection,
    task: TaskSpec | str,
    *,
    as_of_dates: Sequence[date | str] | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
) -> pd.DataFrame:
    """Index rows of `task`.

    population: every registered, living patient at each of `as_of_dates`.
    discharge: eligible discharges dated in [start, end] (both optional) and, with as_of_dates,
    in the `as_of_window_days` before each as-of date.
    """
    task = resolve_task(task)
    if task.index.kind == "population":
        if not as_of_dates:
            raise ValueError(POPULATION_NEEDS_DATES.format(task=task.name))
        _as_of_table(con, as_of_dates)
        frame = fetch_frame(con, POPULATION_SQL)
    else:
        if as_of_dates:
            _as_of_table(con, as_of_dates)
        sql, params = discharge_sql(task, with_dates=bool(as_of_dates), start=start, end=end)
        frame = fetch_frame(con, sql, list(params) or None)
    con.execute("DROP TABLE IF EXISTS as_of_dates")
    frame["patient_id"] = frame["patient_id"].astype("str")
    frame["index_date"] = pd.to_datetime(frame["index_date"])
    if task.has_index_spell:
        frame["index_spell_id"] = frame["index_spell_id"].astype("str")
    return frame.reset_index(drop=True)
