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
from riskstrat.models.dates_data import evaluate_dates
from riskstrat.models.evaluate import MODEL, ORACLE, ORACLE_NO_FORESIGHT, with_notes
from riskstrat.models.manifest import build_manifest
from riskstrat.models.mlflow_import import quiet
from riskstrat.models.registry import CHALLENGER, model_name, same_as_champion, use_tracking
from riskstrat.tasks.spec import TaskSpec


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
    #: the champion's version when this one was trained on the same data, config and code
    same_as: str | None = None


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
    if truth_dir is not None:
        check_truth(truth_dir)
    data = load_task_data(task_name, store_path=settings.paths.store, config=config)
    return train_on_data(
        data,
        config=config,
        truth_dir=truth_dir,
        tracking_uri=settings.paths.mlflow_uri,
        register=register,
        store_path=settings.paths.store,
    )


#: Files the no-foresight oracle reads beyond the full oracle's (truth folders written before
#: it existed lack them).
NO_FORESIGHT_FILES = ("laws.parquet", "medicines.parquet")
SKIP_OLD_TRUTH = "truth folder {path} has no {file} (written by an older generator): regenerate it"
SKIP_DEATH = "the no-foresight oracle counts admissions only, the task's label also counts deaths"


def check_truth(truth_dir: Path) -> None:
    """Read the ground truth before anything is fitted: a mistyped `--truth` folder fails in
    seconds, not after the fit (the oracle reads the same cached truth later)."""
    from riskstrat.synth.truth import load_truth

    load_truth(truth_dir)


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


def no_foresight_scores(
    truth_dir: Path, task: TaskSpec, frame: pd.DataFrame, *, draws: int, seed: int
) -> tuple[np.ndarray, np.ndarray] | str:
    """The no-foresight oracle for `frame`'s index rows: (mean over `draws` Monte Carlo
    replays, per-row standard error), or the reason it cannot be computed (never raises for a
    truth folder it cannot use: the full oracle and the model are still evaluated)."""
    from riskstrat.synth import noforesight

    for name in NO_FORESIGHT_FILES:
        if not (truth_dir / name).is_file():
            return SKIP_OLD_TRUTH.format(path=truth_dir, file=name)
    if task.label.count_death:
        return SKIP_DEATH
    keys = frame[task.keys].reset_index(drop=True)
    try:
        if task.has_index_spell:
            p, se = noforesight.readmission_risk_no_foresight(
                truth_dir, keys, draws=draws, seed=seed
            )
        else:
            p, se = noforesight.crisis_risk_no_foresight(
                truth_dir,
                keys,
                horizon_days=task.label.horizon_days,
                draws=draws,
                seed=seed,
            )
    except (KeyError, OSError, ValueError) as exc:  # e.g. a register the old laws lack
        return f"{type(exc).__name__}: {exc}"
    return np.asarray(p, dtype=float), np.asarray(se, dtype=float)


def reference_scores(
    truth_dir: Path, data: TaskData, frame: pd.DataFrame, *, config: ModelConfig
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Both oracles on `frame` (-> scores by name, Monte Carlo notes for the overall table);
    the no-foresight one is left out, with a logged reason, when it cannot be computed."""
    scores = {ORACLE: oracle_scores(truth_dir, data, frame)}
    draws = config.evaluation.oracle_draws
    with timed("models.oracle_no_foresight", rows=len(frame), draws=draws):
        got = no_foresight_scores(truth_dir, data.task, frame, draws=draws, seed=config.seed)
    if isinstance(got, str):
        log_event("models.oracle_no_foresight.skipped", task=config.task, reason=got)
        return scores, {}
    p, se = got
    scores[ORACLE_NO_FORESIGHT] = p
    notes = {"mc_draws": float(draws), "mc_se_mean": float(se.mean()) if se.size else 0.0}
    notes["mc_se_max"] = float(se.max()) if se.size else 0.0
    return scores, notes


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
        level=data.level,
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
    store_path: Path | None = None,
) -> TrainResult:
    model = fit_task(data, config=config)
    mask = (data.dataset[SPLIT] == "test").to_numpy()
    test = model.rows("test")
    extra, notes = (
        reference_scores(Path(truth_dir), data, test, config=config) if truth_dir else ({}, {})
    )
    with timed("models.evaluate", rows=len(test)):
        ev = model.evaluate(
            subgroups=data.groups[mask].reset_index(drop=True),
            baselines=extra,
            practice="practice_code",
        )
    if notes:
        ev.overall = with_notes(ev.overall, score=ORACLE_NO_FORESIGHT, notes=notes)
    if truth_dir:
        ev.dates = evaluate_dates(
            model,
            data,
            config=config,
            truth_dir=Path(truth_dir),
            store_path=store_path,
            test_evaluation=ev,
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
    same_as = None
    if logged.alias == CHALLENGER:
        with quiet():
            same_as = same_as_champion(
                use_tracking(tracking_uri), logged.model_name, version=str(logged.version)
            )
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
        same_as=same_as,
    )
