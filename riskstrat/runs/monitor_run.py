"""Monitoring inside a run: the I/O edge around the pure functions of riskstrat.runs.monitoring.

Per scored task: PSI of each feature and of the score vs the champion's training reference, the
mean risk vs the previous scored as-of, and performance of the scores made one horizon ago now
that their labels have matured. Writes `monitoring/*.csv|json` into the run folder (aggregates
only) and adds the warnings to the run, so they reach the manifest and the commissioner report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import pandas as pd

from riskstrat.outreach.store_io import SCORES_TABLE, has_table
from riskstrat.runs import monitoring as mon
from riskstrat.runs.state import RunState, TaskData

MONITORING_DIR = "monitoring"
#: Slice inputs of the matured rows, decoded from what they were scored with.
SLICE_INPUTS = ("age", "sex", "ethnicity", "imd_decile", "ltc_count", "practice_code")


def matured_as_of(
    con: duckdb.DuckDBPyConnection,
    *,
    task: str,
    horizon_days: int,
    extract_date: date,
    as_of: date,
    slack_days: int,
) -> date | None:
    """The latest earlier scoring date whose label window has wholly passed by the extract date,
    no older than one horizon plus `slack_days` before as_of."""
    if not has_table(con, SCORES_TABLE):
        return None
    row = con.execute(
        f"SELECT max(as_of) FROM {SCORES_TABLE} WHERE task = ? AND as_of <= ? AND as_of >= ?",
        [
            task,
            extract_date - timedelta(days=horizon_days - 1),
            as_of - timedelta(days=horizon_days + slack_days),
        ],
    ).fetchall()[0]
    return row[0] if row else None


def shared_matured(state: RunState, data: TaskData, scored_on: date) -> pd.DataFrame:
    """The task's rows scored on `scored_on` with their labels now (reports.loader.matured_rows),
    made once per run and kept in `state.matured` for every step that needs them (the score
    step's population check, monitoring, the report)."""
    from riskstrat.reports.loader import matured_rows

    key = (data.name, scored_on)
    if key not in state.matured:
        state.matured[key] = matured_rows(
            state.con, task=data.spec, scored_on=scored_on, extract=state.extract_date
        )
    return state.matured[key]


def previous_scores(state: RunState) -> Callable[..., tuple[object, pd.DataFrame | None]]:
    """outreach.store_io.load_previous for this run's store, each (task, max_days) read once
    (select compares rises with it, monitoring the mean risk)."""
    from riskstrat.outreach.store_io import load_previous

    def load(con: object, *, task: str, as_of: object, max_days: int) -> tuple[object, object]:
        key = (task, max_days)
        if key not in state.previous:
            state.previous[key] = load_previous(con, task=task, as_of=as_of, max_days=max_days)
        return state.previous[key]

    return load


def matured_frame(
    state: RunState, data: TaskData, *, slack_days: int
) -> tuple[date | None, pd.DataFrame]:
    """Scores made one horizon ago with their labels (null = not yet mature) and the slice
    inputs they were scored with. The rows (labels included) are kept in `state.matured` for the
    report, which reads the same matured scores: labels are computed once per run."""
    from riskstrat.features import decode

    then = matured_as_of(
        state.con,
        task=data.name,
        horizon_days=data.spec.label.horizon_days,
        extract_date=state.extract_date,
        as_of=state.as_of,
        slack_days=slack_days,
    )
    if then is None:
        return None, pd.DataFrame()
    rows = shared_matured(state, data, then)
    decoded = decode(rows)  # same index as rows: joined without per-row Python strings
    return then, rows[[*data.spec.keys, "risk", "label"]].join(decoded[list(SLICE_INPUTS)])


def monitor(state: RunState) -> dict[str, int]:
    params = mon.load_monitoring_config()
    folder = state.run_dir / MONITORING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    summary_path = folder / "summary.json"
    # A subset run (say, post-discharge only) keeps the other tasks' entries of the same day.
    summary: dict[str, object] = (
        json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    )
    warnings: list[str] = []
    counts = {}
    for task, data in state.tasks.items():
        reference = getattr(data.model, "reference", None) or {}
        features = reference.get("features", {}) if len(data.matrix) else {}
        drift = mon.feature_psi(data.matrix, reference=features, params=params.psi)
        prev_as_of, previous = previous_scores(state)(
            state.con, task=task, as_of=state.as_of, max_days=params.score.previous_max_days
        )
        shift = mon.score_shift(
            data.scores["risk"].to_numpy(),
            reference=reference.get("score"),
            previous=None if previous is None else previous["risk"].to_numpy(),
            params=params.psi,
        )
        shift["previous_as_of"] = str(prev_as_of) if prev_as_of else None
        task_warnings = mon.drift_warnings(drift, shift, params=params)
        then, matured = matured_frame(state, data, slack_days=params.performance.slack_days)
        perf = mon.matured_performance(matured) if len(matured) else pd.DataFrame()
        if len(perf):
            task_warnings += mon.performance_warnings(
                perf, task=task, as_of=then, params=params.performance
            )
        drift.assign(task=task).to_csv(folder / f"{task}_drift.csv", index=False)
        if len(perf):
            perf.assign(task=task, scored_on=then).to_csv(
                folder / f"{task}_performance.csv", index=False
            )
        warnings += [f"{task}: {w}" for w in task_warnings]
        overall = perf[perf["slice"] == "overall"].iloc[0].to_dict() if len(perf) else {}
        summary[task] = {
            "score": shift,
            "features_drifting": int(
                ((drift["psi"] > params.psi.warn) & (drift["status"] != "few")).sum()
            ),
            "max_feature_psi": float(drift["psi"].max()) if len(drift) else None,
            "matured_scored_on": str(then) if then else None,
            "matured": {k: _plain(v) for k, v in overall.items() if k not in ("slice", "group")},
        }
        counts[f"{task}_matured_rows"] = int(overall.get("n", 0))
    summary_path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    state.warnings.extend(warnings)
    state.manifest.monitoring = {t: summary[t] for t in state.tasks}
    counts["warnings"] = len(warnings)
    return counts


def _plain(value: object) -> object:
    if value is None or isinstance(value, str | int):
        return value
    try:
        return round(float(value), 6)
    except (TypeError, ValueError):
        return str(value)
