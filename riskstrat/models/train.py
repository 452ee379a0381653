"""Train a task end to end: data -> LightGBM + calibration -> baselines -> evaluation -> MLflow.

`train_task` is the public entry (CLI `riskstrat train`, training/train.py); `train_on_data`
does the work on already-built data, so backtests and tests can reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event, timed
from riskstrat.models.bundle import Bundle
from riskstrat.models.config import ModelConfig, load_model_config
from riskstrat.models.core import Fitted, fit_all
from riskstrat.models.data import TaskData, load_task_data
from riskstrat.models.evaluate import MODEL, ORACLE, EvalResult, evaluate_scores
from riskstrat.models.manifest import build_manifest
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.reference import build_reference
from riskstrat.models.registry import (
    CHALLENGER,
    CHAMPION,
    ensure_experiment,
    log_bundle,
    model_name,
    use_tracking,
)
from riskstrat.models.tracking import fail_stale_runs, flat_params, log_evaluation, process_tags

#: Training rows the drift reference is computed from at most (a seeded sample).
REFERENCE_MAX_ROWS = 200_000


@dataclass
class TrainResult:
    task: str
    run_id: str
    model_name: str
    version: str | None
    alias: str | None
    metrics: dict[str, float]
    evaluation: EvalResult
    fitted: Fitted


def train_task(
    task_name: str,
    *,
    settings: Settings,
    truth_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
    register: bool = True,
) -> TrainResult:
    """Train, evaluate and register the model of `task_name` from the store in `settings`."""
    config = load_model_config(task_name, overrides=overrides)
    data = load_task_data(task_name, store_path=settings.paths.store, config=config)
    return train_on_data(
        data,
        config=config,
        truth_dir=truth_dir,
        tracking_uri=settings.paths.mlflow_uri,
        register=register,
    )


def oracle_scores(truth_dir: Path, data: TaskData, frame: pd.DataFrame) -> np.ndarray:
    """The generator's true risk for `frame`'s index rows (synthetic data only)."""
    from riskstrat.synth import oracle

    keys = frame[data.task.keys].reset_index(drop=True)
    if data.task.has_index_spell:
        return np.asarray(oracle.readmission_risk(truth_dir, keys), dtype=float)
    return np.asarray(
        oracle.crisis_risk(
            truth_dir,
            keys,
            horizon_days=data.task.label.horizon_days,
            count_death=data.task.label.count_death,
        ),
        dtype=float,
    )


def score_test(
    fitted: Fitted, data: TaskData, *, truth_dir: Path | None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    mask = (data.dataset["split"] == "test").to_numpy()
    test = data.dataset[mask]
    scores = {MODEL: fitted.predict(test)} | fitted.baseline_scores(test)
    if truth_dir is not None:
        scores[ORACLE] = oracle_scores(Path(truth_dir), data, test)
    return test, scores


def train_on_data(
    data: TaskData,
    *,
    config: ModelConfig,
    truth_dir: Path | None,
    tracking_uri: str,
    register: bool = True,
    experiment: str | None = None,
) -> TrainResult:
    fitted = fit_all(data.dataset, features=data.features, config=config)
    test, scores = score_test(fitted, data, truth_dir=truth_dir)
    mask = (data.dataset["split"] == "test").to_numpy()
    y = test["label"].to_numpy(dtype=float)
    with timed("models.evaluate", rows=len(test)):
        ev = evaluate_scores(
            y,
            scores,
            practice=test["practice_code"].to_numpy(),
            groups=data.groups[mask],
            params=config.evaluation,
            seed=config.seed,
        )
    bundle = make_bundle(fitted, data, config=config)
    sample = test.sample(n=min(len(test), config.evaluation.shap_sample), random_state=config.seed)
    contrib = bundle.contributions(sample)
    counts = data.dataset["split"].value_counts()
    manifest = build_manifest(
        config=config,
        data_hash=data.data_hash,
        extract_date=data.extract_date,
        codebook_version=data.codebook_version,
        periods=data.periods.as_dict(),
        rows={k: int(counts.get(k, 0)) for k in ("train", "valid", "calib", "test")},
        horizon_days=data.task.label.horizon_days,
    )
    with quiet():
        run_id, version, alias = _record(
            data,
            config=config,
            fitted=fitted,
            ev=ev,
            y=y,
            scores=scores,
            bundle=bundle,
            sample=sample,
            contrib=contrib,
            manifest=manifest,
            tracking_uri=tracking_uri,
            register=register,
            experiment=experiment,
        )
    metrics = ev.flat_metrics()
    log_event(
        "models.trained",
        task=config.task,
        version=version,
        alias=alias,
        auroc=round(metrics["auroc"], 4),
        ece=round(metrics["ece"], 4),
    )
    return TrainResult(
        task=config.task,
        run_id=run_id,
        model_name=model_name(config.task),
        version=version,
        alias=alias,
        metrics=metrics,
        evaluation=ev,
        fitted=fitted,
    )


def _record(
    data: TaskData,
    *,
    config: ModelConfig,
    fitted: Fitted,
    ev: EvalResult,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    bundle: Bundle,
    sample: pd.DataFrame,
    contrib: pd.DataFrame,
    manifest: dict,
    tracking_uri: str,
    register: bool,
    experiment: str | None,
) -> tuple[str, str | None, str | None]:
    """The MLflow run: tags, params, evaluation, and (register) the model version + alias."""
    client = use_tracking(tracking_uri)
    exp_id = ensure_experiment(
        experiment or model_name(config.task), client=client, uri=tracking_uri
    )
    fail_stale_runs(client, experiment_id=exp_id)  # runs left RUNNING by a killed train
    with mlflow.start_run(experiment_id=exp_id, run_name=f"train-{config.task}") as run:
        mlflow.set_tags(process_tags())
        mlflow.set_tags(
            {
                "task": config.task,
                "data_snapshot_hash": data.data_hash,
                "config_hash": manifest["config_hash"],
                "git_sha": manifest["git_sha"] or "unknown",
                "extract_date": str(data.extract_date),
            }
        )
        mlflow.log_params(
            flat_params(config)
            | {
                "best_iteration": fitted.booster.best_iteration,
                "n_features": len(data.features),
                **{f"period.{k}": v for k, v in data.periods.as_dict().items()},
                **{f"rows.{k}": v for k, v in manifest["rows"].items()},
            }
        )
        log_evaluation(
            ev, y=y, scores=scores, contrib=contrib, features=data.features, manifest=manifest
        )
        version = log_bundle(bundle, sample=sample, client=client) if register else None
    alias = None
    if version is not None:
        aliases = client.get_model_version(model_name(config.task), version).aliases
        alias = CHAMPION if CHAMPION in aliases else CHALLENGER
    return run.info.run_id, version, alias


def make_bundle(fitted: Fitted, data: TaskData, *, config: ModelConfig) -> Bundle:
    train = data.dataset[data.dataset["split"] == "train"]
    if len(train) > REFERENCE_MAX_ROWS:
        train = train.sample(n=REFERENCE_MAX_ROWS, random_state=config.seed)
    names = [f.name for f in data.features]
    reference = build_reference(
        train, fitted.predict(train), features=names, bins=config.evaluation.reference_bins
    )
    meta = {
        "features": [
            {"name": f.name, "monotone": f.monotone, "categorical": f.categorical}
            for f in data.features
        ],
        "codebook_version": data.codebook_version,
        "horizon_days": data.task.label.horizon_days,
        "extract_date": str(data.extract_date),
        "data_snapshot_hash": data.data_hash,
    }
    return Bundle(
        task=config.task,
        booster=fitted.booster,
        calibrator=fitted.calibrator,
        reference=reference,
        meta=meta,
    )
