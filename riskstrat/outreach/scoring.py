"""Scoring with each task's champion: crisis for every eligible patient at as_of, readmission for
the discharges since the previous working day (or a configured look-back).

`score_matrix` is the pure core (a feature matrix in, scores out) so a run can build features once
and pass them in; `score` is the standalone wrapper that builds the index and features from the
store and keeps the scores in the store's `scores` table (replacing that task and as_of, so a
re-run is idempotent, keeping other dates so week-on-week change is known).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.config import Settings
from riskstrat.explain.protocols import RiskModel
from riskstrat.logs import log_event, timed
from riskstrat.outreach.calendar import previous_working_day
from riskstrat.outreach.config import OutreachConfig, load_outreach_config, load_pathways
from riskstrat.outreach.store_io import (
    SCORE_RUNS_DDL,
    SCORE_RUNS_TABLE,
    SCORES_COLUMNS,
    SCORES_DDL,
    SCORES_TABLE,
    has_table,
)

RISK_OUT_OF_RANGE = "model {model} returned {count} risks outside [0, 1] or NaN for task {task}"
READMISSION_PREFIX = "readmission"


#: The post-discharge list covers the discharges since the task's previous scoring when that was
#: at most this many days ago (a missed or bank-holiday day is covered by the next run, nobody
#: twice); otherwise since the previous working day.
CATCH_UP_MAX_DAYS = 14


def readmission_window(
    as_of: date, *, config: OutreachConfig, last_run: date | None = None
) -> tuple[date, date]:
    """[start, as_of): discharges the post-discharge list covers on as_of.

    last_run: the as-of of the previous readmission scoring (before as_of), if any.
    """
    if config.readmission_lookback_days is not None:
        return as_of - timedelta(days=config.readmission_lookback_days), as_of
    if last_run is not None and as_of - timedelta(days=CATCH_UP_MAX_DAYS) <= last_run < as_of:
        return last_run, as_of
    return previous_working_day(as_of, holidays=config.bank_holidays), as_of


def last_scored(con: duckdb.DuckDBPyConnection, task: str, *, before: date) -> date | None:
    """The as-of of `task`'s latest scoring before `before` (None if never)."""
    if not has_table(con, SCORE_RUNS_TABLE):
        return None
    return con.execute(
        f"SELECT max(as_of) FROM {SCORE_RUNS_TABLE} WHERE task = ? AND as_of < ?", [task, before]
    ).fetchall()[0][0]


def score_matrix(
    matrix: pd.DataFrame,
    *,
    model: RiskModel,
    task: str,
    as_of: date,
    scored_at: datetime | None = None,
) -> pd.DataFrame:
    """SCORES_COLUMNS for every row of the feature matrix (keys + features).

    The matrix goes to the model as it is (the model takes its own feature columns): no copy of
    the feature columns is made before predicting."""
    risk = np.asarray(model.predict_risk(matrix) if len(matrix) else [], dtype="float64")
    bad = ~((risk >= 0) & (risk <= 1))
    if bad.any():
        raise ValueError(
            RISK_OUT_OF_RANGE.format(model=model.name, count=int(bad.sum()), task=task)
        )
    spell = matrix.get("index_spell_id")
    return pd.DataFrame(
        {
            "task": task,
            "as_of": pd.Timestamp(as_of),
            "patient_id": _values(matrix["patient_id"]),
            "index_date": pd.to_datetime(matrix["index_date"]).to_numpy(),
            "index_spell_id": _values(spell) if spell is not None else None,
            "risk": risk,
            "model_name": str(model.name),
            "model_version": str(model.version),
            "scored_at": pd.Timestamp(scored_at or datetime.now()).floor("s"),
        },
        columns=list(SCORES_COLUMNS),
    )


def _values(column: pd.Series) -> object:
    """A column's values for a new frame: a `str` column's own Arrow-backed array (to_numpy
    would build one Python string per row, and the frame would parse them back)."""
    return column.array if isinstance(column.dtype, pd.StringDtype) else column.to_numpy()


def store_scores(
    con: duckdb.DuckDBPyConnection,
    scores: pd.DataFrame,
    *,
    task: str,
    as_of: date,
    model: RiskModel,
    matrix: pd.DataFrame | None = None,
) -> int:
    """Replace `task`'s scores for `as_of` in one transaction and record that it was scored.

    The record in SCORE_RUNS_TABLE is written even when `scores` is empty, so a day with nobody
    to score reads as "scored, nobody eligible" rather than "never scored". matrix: the feature
    matrix the scores came from (same rows): its slicing inputs are kept beside the scores
    (riskstrat.scored), in the same transaction, for the report and monitoring one horizon
    later; without it that date's inputs are dropped (rebuilt when needed). Returns rows written.
    """
    from riskstrat.scored import KEEP_EXTRA_DAYS, replace_inputs
    from riskstrat.tasks import load_task

    label = load_task(task).label
    keep_days = label.gap_days + label.horizon_days + KEEP_EXTRA_DAYS
    con.execute(SCORES_DDL)
    con.execute(SCORE_RUNS_DDL)
    day = pd.Timestamp(as_of).date()
    with timed("score.store", rows=len(scores)):
        con.execute("BEGIN TRANSACTION")
        try:
            for table in (SCORES_TABLE, SCORE_RUNS_TABLE):
                con.execute(f"DELETE FROM {table} WHERE task = ? AND as_of = ?", [task, day])
            if len(scores):
                # as Arrow: string columns cross into DuckDB without Python objects
                con.register(
                    "new_scores",
                    pa.Table.from_pandas(scores[list(SCORES_COLUMNS)], preserve_index=False),
                )
                con.execute(f"INSERT INTO {SCORES_TABLE} SELECT * FROM new_scores")
                con.unregister("new_scores")
            con.execute(
                f"INSERT INTO {SCORE_RUNS_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                [task, day, str(model.name), str(model.version), len(scores),
                 datetime.now().replace(microsecond=0)],
            )  # fmt: skip
            replace_inputs(con, matrix, task=task, as_of=day, keep_days=keep_days)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return len(scores)


def task_index(
    con: duckdb.DuckDBPyConnection, task: str, *, as_of: date, config: OutreachConfig
) -> pd.DataFrame:
    """Index rows to score: everyone eligible at as_of (crisis), or the window's discharges."""
    from riskstrat.tasks import build_index, load_task

    spec = load_task(task)
    if not task.startswith(READMISSION_PREFIX):
        return build_index(con, spec, as_of_dates=[as_of])
    start, end = readmission_window(
        as_of, config=config, last_run=last_scored(con, task, before=as_of)
    )
    index = build_index(con, spec, start=start, end=end)
    day = pd.to_datetime(index["index_date"])
    return index[(day >= pd.Timestamp(start)) & (day < pd.Timestamp(end))].reset_index(drop=True)


def score(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    settings: Settings,
    tasks: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Score every task the configured pathways use (or `tasks`) and store the scores."""
    from riskstrat.features import build_features
    from riskstrat.models.registry import load_model

    config = load_outreach_config()
    tasks = tasks or tuple(sorted({p.task for p in load_pathways(config).values()}))
    frames = []
    for task in tasks:
        with timed("score", task=task, as_of=as_of) as extra:
            model = load_model(task, alias="champion", tracking_uri=settings.paths.mlflow_uri)
            index = task_index(con, task, as_of=as_of, config=config)
            matrix = build_features(con, index, task=task)
            with timed("score.predict", task=task, rows=len(matrix)):
                scores = score_matrix(matrix, model=model, task=task, as_of=as_of)
            from riskstrat.models.recalibrate import check_population

            check_population(con, matrix, scores["risk"].to_numpy(), model=model, task=task)
            store_scores(con, scores, task=task, as_of=as_of, model=model, matrix=matrix)
            frames.append(scores)
            extra.update(rows=len(matrix), model=model.name, version=model.version)
    scores = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    log_event("score.stored", rows=len(scores), as_of=as_of)
    return scores
