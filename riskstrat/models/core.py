"""Fit the model and its baselines on a split dataset (the recipe behind `models.fit`).

Pure over frames: `dataset` holds the feature columns, `label` (0/1) and `split` (train / valid /
calib / test / ""). Training reads train rows, early stopping the valid rows, calibration the
calib rows (every score, baselines included, is calibrated on the same rows by the same method),
and evaluation only the test rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.logs import log_event, progress_bar, timed
from riskstrat.models import baselines as bl
from riskstrat.models.booster import (
    FeatureInfo,
    check_outcomes,
    check_train_rows,
    ensemble_raw_score,
    feature_levels,
    fit_booster,
    matrix,
)
from riskstrat.models.calibrate import Calibrator, fit_calibrator
from riskstrat.models.config import ModelConfig
from riskstrat.models.crossfit import cross_fit, cross_fit_sample
from riskstrat.models.level import LevelModel, apply_offset, offset, with_reference

NO_INDEX_DATE = (
    "model {task!r} shifts its risk by the forecast admission level of each row's label window: "
    "the input needs an `index_date` column"
)
EMPTY_SPLIT = "split {split!r} has no rows: the extract cannot support this split ({detail})"
#: Rows the logistic baseline is fitted on at most (a seeded sample): it is a baseline.
LOGISTIC_MAX_ROWS = 200_000
LOGISTIC = "logistic"

Scorer = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class Fitted:
    booster: lgb.Booster
    calibrator: Calibrator
    features: list[FeatureInfo]
    #: baseline name -> (raw scorer, calibrator)
    baselines: dict[str, tuple[Scorer, Calibrator]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: calendar level forecast (its reference set on the calibration rows); None = no offset
    level: LevelModel | None = None
    #: `calibration.bag_folds`: the cross-fit's fold boosters, scored with `booster` as one
    #: ensemble (mean log-odds); empty = the booster alone
    members: tuple[lgb.Booster, ...] = ()

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        return feature_levels(self.features)

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        """What the raw score is the mean log-odds of: the booster and any members."""
        return (self.booster, *self.members)

    def raw(self, x: pd.DataFrame) -> np.ndarray:
        """Uncalibrated probability (riskstrat.models.booster.ensemble_raw_score)."""
        return ensemble_raw_score(self.boosters, x, levels=self.levels)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        risk = self.calibrator(self.raw(x))
        return level_shifted(risk, x, level=self.level, task="model")

    def baseline_scores(self, x: pd.DataFrame) -> dict[str, np.ndarray]:
        return {name: cal(scorer(x)) for name, (scorer, cal) in self.baselines.items()}


def level_shifted(
    risk: np.ndarray, x: pd.DataFrame, *, level: LevelModel | None, task: str
) -> np.ndarray:
    """`risk` with each row's level offset added to its logit (unchanged without a level)."""
    if level is None:
        return risk
    if "index_date" not in x.columns:
        raise KeyError(NO_INDEX_DATE.format(task=task))
    return apply_offset(risk, offset(level, x["index_date"]), link=level.link)


def rows(dataset: pd.DataFrame, split: str) -> pd.DataFrame:
    out = dataset[dataset["split"] == split]
    if out.empty:
        raise ValueError(EMPTY_SPLIT.format(split=split, detail=f"{len(dataset)} index rows"))
    return out


def fit_all(
    dataset: pd.DataFrame,
    *,
    features: Sequence[FeatureInfo],
    config: ModelConfig,
    baselines: Mapping[str, Scorer] | None = None,
    logistic: bool | None = None,
    level: LevelModel | None = None,
) -> Fitted:
    """LightGBM (early stopping on valid) + calibrator (calib) + every baseline calibrated on
    calib. `baselines`: name -> raw scorer of a frame; `logistic` (default: the config's) adds
    the logistic-regression baseline fitted on the train rows. With
    `config.calibration.cross_fit_folds` > 1 the model's calibrator is fitted on the train rows'
    out-of-fold raw scores (at most `cross_fit_max_rows` of them, whole patients) plus the
    calib rows' (riskstrat.models.crossfit); with `calibration.bag_folds` the fold boosters
    join the booster as one ensemble, which scores the calib rows (and every later row).
    `level`: the calendar level forecast; its reference is set on the rows the calibrator was
    fitted on."""
    train, valid, calib = (rows(dataset, s) for s in ("train", "valid", "calib"))
    check_outcomes(calib["label"].to_numpy(), split="calib")
    check_train_rows(len(train), min_child_samples=config.lightgbm.min_child_samples)
    rounds = config.lightgbm.n_estimators
    with (
        timed("models.fit", rows=len(train), features=len(features)) as info,
        progress_bar(total=rounds, label="boosting rounds") as bar,
    ):
        booster = fit_booster(
            train,
            train["label"].to_numpy(),
            valid,
            valid["label"].to_numpy(),
            features=features,
            params=config.lightgbm,
            stopping=config.early_stopping,
            seed=config.seed,
            callbacks=[lambda env: bar.update(1)],
        )
        info["best_iteration"] = booster.best_iteration
    y_cal = calib["label"].to_numpy(dtype=float)
    method = config.calibration.method
    y_fit, dates = y_cal, calib.get("index_date")
    folds, oof, members = config.calibration.cross_fit_folds, np.empty(0), ()
    if folds > 1:
        cap = config.calibration.cross_fit_max_rows
        crossed = cross_fit_sample(train, max_rows=cap, seed=config.seed)
        with timed("models.cross_fit", rows=len(crossed), of_rows=len(train), folds=folds):
            cf = cross_fit(crossed, valid, features=features, config=config, folds=folds)
        oof = cf.oof
        if config.calibration.bag_folds:
            members = tuple(b for b in cf.boosters if b is not None)
        y_fit = np.concatenate([crossed["label"].to_numpy(dtype=float), y_cal])
        if dates is not None:
            dates = pd.concat([crossed["index_date"], calib["index_date"]], ignore_index=True)
    if level is not None:
        if dates is None:
            raise KeyError(NO_INDEX_DATE.format(task=config.task))
        level = with_reference(level, dates)
    raw_cal = ensemble_raw_score((booster, *members), calib, levels=feature_levels(features))
    fitted = Fitted(
        booster=booster,
        calibrator=fit_calibrator(np.concatenate([oof, raw_cal]), y_fit, method=method),
        features=list(features),
        level=level,
        members=members,
    )
    scorers = dict(baselines or {})
    if config.baselines.logistic if logistic is None else logistic:
        scorers[LOGISTIC] = _logistic_scorer(train, features=features, config=config)
    for name, scorer in scorers.items():
        fitted.baselines[name] = (scorer, fit_calibrator(scorer(calib), y_cal, method=method))
    return fitted


def _logistic_scorer(
    train: pd.DataFrame, *, features: Sequence[FeatureInfo], config: ModelConfig
) -> Scorer:
    """Logistic regression on the model's own coded matrix (strings coded by their levels)."""
    names, levels = [f.name for f in features], feature_levels(features)

    def coded(x: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(matrix(x, names, levels=levels), columns=names, index=x.index)

    sample = train
    if len(train) > LOGISTIC_MAX_ROWS:
        sample = train.sample(n=LOGISTIC_MAX_ROWS, random_state=config.seed)
    with timed("models.fit_logistic", rows=len(sample)):
        model = bl.fit_logistic(
            coded(sample),
            sample["label"].to_numpy(),
            features=features,
            max_iter=config.baselines.logistic_max_iter,
            seed=config.seed,
        )
    return lambda x: bl.logistic_score(model, coded(x))


def config_baselines(
    config: ModelConfig, *, columns: Sequence[str]
) -> tuple[dict[str, Scorer], dict[str, str]]:
    """The task config's rule baselines (prior utilisation, LACE, HOSPITAL-like) as raw scorers,
    and the ones skipped because their feature columns are absent (name -> why)."""
    cfg = config.baselines
    out: dict[str, Scorer] = {}
    skipped: dict[str, str] = {}

    def available(name: str, needed: Sequence[str]) -> bool:
        missing = [c for c in needed if c not in columns]
        if missing:
            skipped[name] = f"features not in the matrix: {', '.join(missing)}"
            log_event("models.baseline_skipped", baseline=name, reason=skipped[name])
        return not missing

    if available("prior_utilisation", [cfg.prior_utilisation]):
        out["prior_utilisation"] = lambda x: bl.prior_utilisation(x, feature=cfg.prior_utilisation)
    if cfg.lace and available("lace", [cfg.lace]):
        out["lace"] = lambda x: bl.lace_points(x, column=cfg.lace)
    hospital_cols = [c for cols in (cfg.hospital or {}).values() for c in cols]
    if cfg.hospital and available("hospital", hospital_cols):
        out["hospital"] = lambda x: bl.hospital_like(x, columns=cfg.hospital)
    return out, skipped
