"""Train a task end to end: store -> data -> the public API's recipe -> evaluation -> MLflow.

`train_task` is the CLI's entry (`riskstrat train`, training/train.py); `train_on_data` does the
work on already-built data. Both go through `riskstrat.models.fit` (riskstrat.models.api): the
project's training is the public API with the task's data, baselines, subgroups and lineage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event, timed
from riskstrat.models.api import SPLIT, Evaluation, FittedModel, fit
from riskstrat.models.config import ModelConfig, load_model_config
from riskstrat.models.core import Fitted, config_baselines
from riskstrat.models.data import TaskData, load_task_data
from riskstrat.models.evaluate import MODEL, ORACLE
from riskstrat.models.manifest import build_manifest
from riskstrat.models.registry import model_name


@dataclass
class TrainResult:
    task: str
    run_id: str
    run_name: str
    model_name: str
    version: str | None
    alias: str | None
    metrics: dict[str, float]  # `<scorer>/<metric>`, as logged to MLflow
    evaluation: Evaluation
    fitted: Fitted
    model: FittedModel
    card_path: str | None


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


def fit_task(data: TaskData, *, config: ModelConfig) -> FittedModel:
    """The public API's fit on a task's data: its split column, catalogue features (monotone
    directions, categorical codes) and the config's rule baselines."""
    scorers, skipped = config_baselines(config, columns=list(data.dataset.columns))
    model = fit(
        data.dataset,
        label="label",
        task=config.task,
        features=data.features,
        split=SPLIT,
        baselines=scorers,
        logistic=config.baselines.logistic,
        config=config,
        data_hash=data.data_hash,
    )
    model.skipped = skipped  # logged with the run (a baseline is never silently absent)
    return model


def train_on_data(
    data: TaskData,
    *,
    config: ModelConfig,
    truth_dir: Path | None,
    tracking_uri: str,
    register: bool = True,
    experiment: str | None = None,
) -> TrainResult:
    model = fit_task(data, config=config)
    mask = (data.dataset[SPLIT] == "test").to_numpy()
    test = model.rows("test")
    extra = {ORACLE: oracle_scores(Path(truth_dir), data, test)} if truth_dir else {}
    with timed("models.evaluate", rows=len(test)):
        ev = model.evaluate(
            subgroups=data.groups[mask].reset_index(drop=True),
            baselines=extra,
            practice="practice_code",
        )
    manifest = build_manifest(
        config=config,
        data_hash=data.data_hash,
        extract_date=data.extract_date,
        codebook_version=data.codebook_version,
        periods=data.periods.as_dict(),
        rows=model.split_counts,
        horizon_days=data.task.label.horizon_days,
    )
    logged = model.log_to_mlflow(
        tracking_uri=tracking_uri,
        evaluation=ev,
        experiment=experiment,
        register=register,
        manifest=manifest,
        tags={
            "config_hash": str(manifest["config_hash"]),
            "git_sha": str(manifest["git_sha"] or "unknown"),
            "extract_date": str(data.extract_date),
        },
        bundle_meta={
            "codebook_version": data.codebook_version,
            "horizon_days": data.task.label.horizon_days,
            "extract_date": str(data.extract_date),
        },
        description=(
            f"Training of {config.task} on the extract of {data.extract_date} "
            f"(data {data.data_hash[:12]}): {model.split_counts['train']} training rows, "
            f"{model.split_counts['test']} test rows."
        ),
    )
    metrics = ev.flat_metrics()
    log_event(
        "models.trained",
        task=config.task,
        version=logged.version,
        alias=logged.alias,
        auroc=round(metrics[f"{MODEL}/auroc"], 4),
        ece=round(metrics[f"{MODEL}/ece"], 4),
    )
    return TrainResult(
        task=config.task,
        run_id=logged.run_id,
        run_name=logged.run_name,
        model_name=model_name(config.task),
        version=logged.version,
        alias=logged.alias,
        metrics=metrics,
        evaluation=ev,
        fitted=model.fitted,
        model=model,
        card_path=logged.card_path,
    )
