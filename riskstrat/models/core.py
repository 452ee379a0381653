"""Fit the model and its baselines on a split dataset, and score the test rows with all of them.

Pure over frames: `dataset` holds the key columns, `practice_code`, the feature columns, `label`
(0/1) and `split` (train / valid / calib / test / ""). Training reads train rows, early stopping
the valid rows, calibration the calib rows (every score, baselines included, is calibrated on the
same rows by the same method), and evaluation only the test rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.logs import log_event, timed
from riskstrat.models import baselines as bl
from riskstrat.models.calibrate import Calibrator, fit_calibrator
from riskstrat.models.config import ModelConfig
from riskstrat.models.fit import FeatureInfo, check_outcomes, fit_booster, raw_score

EMPTY_SPLIT = "split {split!r} has no rows: the extract cannot support this split ({detail})"
#: Rows the logistic baseline is fitted on at most (a seeded sample): it is a baseline.
LOGISTIC_MAX_ROWS = 200_000

Scorer = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class Fitted:
    booster: lgb.Booster
    calibrator: Calibrator
    features: list[FeatureInfo]
    #: baseline name -> (raw scorer, calibrator)
    baselines: dict[str, tuple[Scorer, Calibrator]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return self.calibrator(raw_score(self.booster, x))

    def baseline_scores(self, x: pd.DataFrame) -> dict[str, np.ndarray]:
        return {name: cal(scorer(x)) for name, (scorer, cal) in self.baselines.items()}


def rows(dataset: pd.DataFrame, split: str) -> pd.DataFrame:
    out = dataset[dataset["split"] == split]
    if out.empty:
        raise ValueError(EMPTY_SPLIT.format(split=split, detail=f"{len(dataset)} index rows"))
    return out


def fit_all(
    dataset: pd.DataFrame, *, features: Sequence[FeatureInfo], config: ModelConfig
) -> Fitted:
    train, valid, calib = (rows(dataset, s) for s in ("train", "valid", "calib"))
    check_outcomes(calib["label"].to_numpy(), split="calib")
    with timed("models.fit", rows=len(train), features=len(features)) as info:
        booster = fit_booster(
            train,
            train["label"].to_numpy(),
            valid,
            valid["label"].to_numpy(),
            features=features,
            params=config.lightgbm,
            stopping=config.early_stopping,
            seed=config.seed,
        )
        info["best_iteration"] = booster.best_iteration
    y_cal = calib["label"].to_numpy(dtype=float)
    method = config.calibration.method
    fitted = Fitted(
        booster=booster,
        calibrator=fit_calibrator(raw_score(booster, calib), y_cal, method=method),
        features=list(features),
    )
    for name, scorer in _baseline_scorers(train, features=features, config=config, fitted=fitted):
        fitted.baselines[name] = (scorer, fit_calibrator(scorer(calib), y_cal, method=method))
    for name, why in fitted.skipped.items():
        log_event("models.baseline_skipped", baseline=name, reason=why)
    return fitted


def _baseline_scorers(
    train: pd.DataFrame, *, features: Sequence[FeatureInfo], config: ModelConfig, fitted: Fitted
) -> list[tuple[str, Scorer]]:
    cfg = config.baselines
    out: list[tuple[str, Scorer]] = []

    def available(name: str, columns: Sequence[str]) -> bool:
        missing = [c for c in columns if c not in train.columns]
        if missing:
            fitted.skipped[name] = f"features not in the matrix: {', '.join(missing)}"
        return not missing

    if available("prior_utilisation", [cfg.prior_utilisation]):
        out.append(
            ("prior_utilisation", lambda x: bl.prior_utilisation(x, feature=cfg.prior_utilisation))
        )
    if cfg.lace and available("lace", [cfg.lace]):
        out.append(("lace", lambda x: bl.lace_points(x, column=cfg.lace)))
    hospital_cols = [c for cols in (cfg.hospital or {}).values() for c in cols]
    if cfg.hospital and available("hospital", hospital_cols):
        out.append(("hospital", lambda x: bl.hospital_like(x, columns=cfg.hospital)))
    if cfg.logistic:
        sample = train
        if len(train) > LOGISTIC_MAX_ROWS:
            sample = train.sample(n=LOGISTIC_MAX_ROWS, random_state=config.seed)
        with timed("models.fit_logistic", rows=len(sample)):
            model = bl.fit_logistic(
                sample,
                sample["label"].to_numpy(),
                features=features,
                max_iter=cfg.logistic_max_iter,
                seed=config.seed,
            )
        out.append(("logistic", lambda x: bl.logistic_score(model, x)))
    return out
