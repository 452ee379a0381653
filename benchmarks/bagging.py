"""Bagging the cross-fit's fold boosters (issue #14): what the seed studies need beyond
riskstrat.models.booster.ensemble_raw_score (benchmarks/readmission_calibration.py and
crisis_calibration.py `--variants bagging`).

An ensemble's raw score is the logistic of its members' mean log-odds margin. A training row's
fold booster is the only member that did not see it, so its out-of-fold score is a single
booster's; `pair_oof` gives each training row an out-of-fold *ensemble* score instead: for
folds j < k a booster fitted without both, and a row of fold k scored by the mean of the four
pair boosters without k (10 boosters on 3/5 of the rows for 5 folds).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

#: Seed offset of the pair boosters (beyond the fold boosters' seed + 1 .. seed + folds).
PAIR_SEED_OFFSET = 100


def pair_oof(train, valid, *, fold: np.ndarray, features, config) -> np.ndarray:
    """Out-of-fold ensemble raw score of every training row (module doc)."""
    from riskstrat.models.booster import feature_levels, fit_booster, raw_margin

    folds = int(fold.max()) + 1
    levels = feature_levels(features)
    y, y_valid = train["label"].to_numpy(), valid["label"].to_numpy()
    sums, counts = np.zeros(len(train)), np.zeros(len(train))
    for n, (j, k) in enumerate(combinations(range(folds), 2)):
        out = (fold == j) | (fold == k)
        booster = fit_booster(
            train[~out], y[~out], valid, y_valid,
            features=features, params=config.lightgbm, stopping=config.early_stopping,
            seed=config.seed + PAIR_SEED_OFFSET + n,
        )  # fmt: skip
        sums[out] += raw_margin(booster, train[out], levels=levels)
        counts[out] += 1
    return 1.0 / (1.0 + np.exp(-sums / counts))
