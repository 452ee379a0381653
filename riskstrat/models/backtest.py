"""Rolling-origin backtest and the stale-score check.

Rolling origin: pretend the extract ended `origin_step_days` earlier, again and again; at each
origin retrain with the same split rules and evaluate on that origin's test period. Stale
scores (crisis): the model of the earliest origin scores its test patients with features as of
T (stale) and as of T + k (recomputed), both judged against the labels of the index at T + k.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.features import build_features
from riskstrat.logs import log_event, progress
from riskstrat.models import metrics as m
from riskstrat.models.config import ModelConfig, load_model_config
from riskstrat.models.core import Fitted
from riskstrat.models.data import NO_EXTRACT, TaskData, load_task_data
from riskstrat.models.evaluate import MODEL
from riskstrat.models.intervals import bootstrap_scores
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import ensure_experiment, model_name, use_tracking
from riskstrat.models.split import patient_unit
from riskstrat.registry.store import connect, latest_extract
from riskstrat.tasks import attach_labels, build_index

#: Columns of the backtest table, in order (CSV, printed table, MLflow's backtest.csv).
COLUMNS = ["kind", "origin", "test_start", "lag_days", "judged_at", "score", "n", "events",
           "auroc", "auroc_lo", "auroc_hi", "auroc_delta", "auroc_delta_lo", "auroc_delta_hi",
           "auprc", "ece", "brier"]  # fmt: skip


def scored_rows(
    y: np.ndarray, scores: dict[str, np.ndarray], *, reference: str, config: ModelConfig
) -> list[dict[str, object]]:
    """Metrics per score on the same rows: AUROC with its 95% bootstrap interval and, for every
    score but `reference`, `auroc_delta` = reference - score with its paired interval (the same
    resamples for all scores, as in training's test table)."""
    ci = bootstrap_scores(
        y,
        scores,
        n_boot=config.evaluation.bootstrap,
        seed=config.seed,
        ece_bins=config.evaluation.ece_bins,
        reference=reference,
    )
    rows = []
    for name, p in scores.items():
        auroc = m.auroc(y, p)
        delta = np.nan if name == reference else m.auroc(y, scores[reference]) - auroc
        rows.append(
            {
                "score": name,
                "n": len(y),
                "events": int(y.sum()),
                "auroc": auroc,
                "auroc_lo": ci[name].get("auroc_lo", np.nan),
                "auroc_hi": ci[name].get("auroc_hi", np.nan),
                "auroc_delta": delta,
                "auroc_delta_lo": ci[name].get("auroc_delta_lo", np.nan),
                "auroc_delta_hi": ci[name].get("auroc_delta_hi", np.nan),
                "auprc": m.auprc(y, p),
                "ece": m.ece(y, p),
                "brier": m.brier(y, p),
            }
        )
    return rows


def origin_row(
    data: TaskData, fitted: Fitted, *, origin: date, config: ModelConfig
) -> list[dict[str, object]]:
    """The origin's model and baselines on its test rows (`auroc_delta`: model - baseline)."""
    test = data.dataset[data.dataset["split"] == "test"]
    y = test["label"].to_numpy(dtype=float)
    scores = {MODEL: fitted.predict(test)} | fitted.baseline_scores(test)
    return [
        {"kind": "origin", "origin": str(origin), "test_start": str(data.periods.test[0])} | row
        for row in scored_rows(y, scores, reference=MODEL, config=config)
    ]


def stale_rows(
    data: TaskData,
    fitted: Fitted,
    *,
    store_path,
    config: ModelConfig,
    end: date,
    origin: date,
) -> list[dict[str, object]]:
    """Score at T evaluated at T + k vs recomputed at T + k, on the same patients and labels.
    `origin` is the extract end the model was trained at; T its test date (`test_start`);
    T + k is `judged_at`."""
    task, t0 = data.task, data.periods.test[1]
    h = task.label.horizon_days
    out = []
    with connect(store_path) as con:
        for lag in config.backtest.stale_lags_days:
            later = t0 + timedelta(days=lag)
            if later + timedelta(days=h - 1) > end:
                continue
            idx = build_index(con, task, as_of_dates=[later])
            held = (
                patient_unit(idx["patient_id"], seed=config.seed) < config.split.test_patient_share
            )
            then = build_index(con, task, as_of_dates=[t0])
            idx = idx[held & idx["patient_id"].isin(then["patient_id"]).to_numpy()]
            lab = attach_labels(con, task, idx.reset_index(drop=True), extract_date=end)
            lab = lab[lab["label"].notna()].reset_index(drop=True)
            fresh = build_features(con, lab[task.keys], task=task)
            stale_idx = lab[task.keys].assign(index_date=pd.Timestamp(t0))
            stale = build_features(con, stale_idx, task=task).set_index("patient_id")
            stale = stale.loc[fresh["patient_id"]].reset_index()  # the same row order
            y = lab.set_index("patient_id").loc[fresh["patient_id"], "label"].to_numpy(float)
            scores = {"recomputed": fitted.predict(fresh), "stale": fitted.predict(stale)}
            for row in scored_rows(y, scores, reference="recomputed", config=config):
                out.append(
                    {
                        "kind": row.pop("score"),  # auroc_delta on `stale`: recomputed - stale
                        "origin": str(origin),
                        "test_start": str(t0),
                        "lag_days": lag,
                        "judged_at": str(later),
                        "score": MODEL,
                    }
                    | row
                )
    return out


#: Logged per row of the table as `<scorer>/<metric>` (step: the origin's date).
BACKTEST_METRICS = ("auroc", "auroc_lo", "auroc_hi", "auroc_delta", "auroc_delta_lo",
                    "auroc_delta_hi", "auprc", "brier", "ece")  # fmt: skip


def step_of(day: str) -> int:
    """An as-of date as an MLflow step: YYYYMMDD (ordered, readable on the chart's axis)."""
    return int(day.replace("-", ""))


def backtest_task(
    task_name: str, *, settings: Settings, overrides: dict | None = None
) -> pd.DataFrame:
    from riskstrat.models.train import fit_task

    config = load_model_config(task_name, overrides=overrides)
    store = settings.paths.store
    latest = latest_extract(store)
    if latest is None:  # the same one-line error as `riskstrat train` (was a TypeError)
        raise FileNotFoundError(NO_EXTRACT.format(store=store))
    end = latest["extract_date"]
    rows: list[dict[str, object]] = []
    earliest: tuple[TaskData, Fitted, date] | None = None
    origins = [
        end - timedelta(days=i * config.backtest.origin_step_days)
        for i in range(config.backtest.origins)
    ]
    for origin in progress(origins, label="backtest origins"):
        data = load_task_data(task_name, store_path=store, config=config, extract_date=origin)
        fitted = fit_task(data, config=config).fitted
        rows += origin_row(data, fitted, origin=origin, config=config)
        earliest = (data, fitted, origin)
    if earliest and not earliest[0].task.has_index_spell:
        data, fitted, origin = earliest
        rows += stale_rows(data, fitted, store_path=store, config=config, end=end, origin=origin)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table["lag_days"] = table["lag_days"].astype("Int64")
    _record(table, task=task_name, uri=settings.paths.mlflow_uri)
    log_event("models.backtest", task=task_name, origins=len(origins), rows=len(table))
    return table


def _record(table: pd.DataFrame, *, task: str, uri: str) -> None:
    with quiet():
        client = use_tracking(uri)
        exp = ensure_experiment(model_name(task), client=client, uri=uri)
        with mlflow.start_run(experiment_id=exp, run_name=f"backtest-{task}"):
            mlflow.set_tags({"task": task, "kind": "backtest"})
            mlflow.log_text(table.to_csv(index=False), "backtest.csv")  # log_table warns on str
            for r in table.itertuples():
                scorer = r.score if r.kind == "origin" else f"{r.score}_{r.kind}_{int(r.lag_days)}d"
                for metric in BACKTEST_METRICS:
                    value = float(getattr(r, metric))
                    if np.isfinite(value):
                        mlflow.log_metric(f"{scorer}/{metric}", value, step=step_of(r.origin))
