"""Out-of-fold raw scores of the training rows, so the calibrator can be fitted on them too.

The readmission model has a few thousand calibration discharges; Platt's two parameters fitted
on them carry a sampling error (its level alone: ~3 % of the mean risk) comparable to the
calibration errors the issue asks to remove. Every training row can be a calibration row if its
raw score comes from a booster that did not see it: the training rows are split into `folds`
patient-disjoint folds (a seeded hash of patient_id; rows without one are hashed by position),
each fold is scored by a booster fitted on the other folds with the final booster's
parameters and early stopping on the same valid rows. docs/models.md "Cross-fitted
calibration" gives the measured effect. `cross_fit` also returns the fold boosters, which a
bagged model (`calibration.bag_folds`) keeps as members of its ensemble. With more training rows
than `calibration.cross_fit_max_rows`, only a seeded sample of whole patients is cross-fitted
(`cross_fit_sample`): the k boosters are what a large training run spends its time on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.models.booster import FeatureInfo, feature_levels, fit_booster, raw_score
from riskstrat.models.config import ModelConfig
from riskstrat.models.split import patient_unit

#: Salt offset of the fold hash (a different draw from the test/valid split's).
FOLD_SEED_OFFSET = 1
#: Salt offset of the cross-fit sample's hash (independent of the folds and the split).
SAMPLE_SEED_OFFSET = 2


def _unit(train: pd.DataFrame, *, seed: int) -> np.ndarray:
    """A seeded uniform per row, shared by a patient's rows (by position without patient_id)."""
    key = train["patient_id"] if "patient_id" in train.columns else pd.Series(range(len(train)))
    return patient_unit(key.reset_index(drop=True), seed=seed)


def fold_of(train: pd.DataFrame, *, folds: int, seed: int) -> np.ndarray:
    """Fold number (0..folds-1) per training row; a patient's rows share one fold."""
    u = _unit(train, seed=seed + FOLD_SEED_OFFSET)
    return np.minimum((u * folds).astype(int), folds - 1)


@dataclass(frozen=True)
class CrossFit:
    """The training rows' out-of-fold raw scores and the fold boosters that made them."""

    #: raw score of each training row from the booster fitted without its fold
    oof: np.ndarray
    #: booster k was fitted without fold k (None: fold k was empty)
    boosters: tuple[lgb.Booster | None, ...]
    #: each training row's fold
    fold: np.ndarray


def cross_fit_sample(train: pd.DataFrame, *, max_rows: int | None, seed: int) -> pd.DataFrame:
    """The training rows to cross-fit: `train` itself when it has at most `max_rows` rows (or
    no cap), else whole patients in the order of a seeded hash, as many as fit in `max_rows`
    rows (a patient's rows are all in or all out; the same rows on every run)."""
    if max_rows is None or len(train) <= max_rows:
        return train
    u = _unit(train, seed=seed + SAMPLE_SEED_OFFSET)
    units, rows = np.unique(u, return_counts=True)  # patients in hash order, their row counts
    kept = int(np.sum(np.cumsum(rows) <= max_rows))
    last = units[kept - 1] if kept else -1.0
    return train[u <= last]


def cross_fit(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    features: Sequence[FeatureInfo],
    config: ModelConfig,
    folds: int,
) -> CrossFit:
    """Fit one booster per fold without it and score the fold with it."""
    fold = fold_of(train, folds=folds, seed=config.seed)
    y, y_valid = train["label"].to_numpy(), valid["label"].to_numpy()
    out = np.full(len(train), np.nan)
    levels = feature_levels(features)
    boosters: list[lgb.Booster | None] = []
    for k in range(folds):
        held = fold == k
        if not held.any():
            boosters.append(None)
            continue
        booster = fit_booster(
            train[~held],
            y[~held],
            valid,
            y_valid,
            features=features,
            params=config.lightgbm,
            stopping=config.early_stopping,
            seed=config.seed + k + 1,
        )
        out[held] = raw_score(booster, train[held], levels=levels)
        boosters.append(booster)
    return CrossFit(oof=out, boosters=tuple(boosters), fold=fold)


def out_of_fold_raw(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    features: Sequence[FeatureInfo],
    config: ModelConfig,
    folds: int,
) -> np.ndarray:
    """Raw score of every training row from a booster fitted without its fold."""
    return cross_fit(train, valid, features=features, config=config, folds=folds).oof
