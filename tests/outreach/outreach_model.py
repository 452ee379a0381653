"""A real, small LightGBM model wrapped like riskstrat.models.registry.RiskModel, for tests that
must not wait on (or mock) the registry."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.features.catalogue import FeatureSpec

FEATURES = ("emerg_adm_365d", "distinct_drugs_90d", "lives_alone", "age", "reg_copd")
SPECS = {
    "emerg_adm_365d": FeatureSpec(
        column="emerg_adm_365d", dtype="int", description="d", rationale="r",
        reason="{value} emergency admissions in the last year", modifiable=False, monotone=1,
    ),
    "distinct_drugs_90d": FeatureSpec(
        column="distinct_drugs_90d", dtype="int", description="d", rationale="r",
        reason="{value} different medicines in the last 90 days", modifiable=True,
    ),
    "lives_alone": FeatureSpec(
        column="lives_alone", dtype="flag", description="d", rationale="r",
        reason="Lives alone", modifiable=True,
    ),
    "age": FeatureSpec(
        column="age", dtype="float", description="d", rationale="r",
        reason="Aged {value}", modifiable=False,
    ),
    "reg_copd": FeatureSpec(
        column="reg_copd", dtype="flag", description="d", rationale="r",
        reason="On the COPD register", modifiable=False,
    ),
}  # fmt: skip


def frame(n: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "emerg_adm_365d": rng.poisson(0.4, n).astype("float64"),
            "distinct_drugs_90d": rng.poisson(4, n).astype("float64"),
            "lives_alone": rng.integers(0, 2, n).astype("float64"),
            "age": rng.uniform(18, 95, n).round(0),
            "reg_copd": (rng.uniform(size=n) < 0.1).astype("float64"),
        }
    )


class TinyModel:
    """LightGBM on FEATURES; risk = the booster's probability (calibration is not at issue)."""

    name = "crisis"
    version = "1"
    feature_names = FEATURES

    def __init__(self, seed: int = 0) -> None:
        X = frame(3000, seed=seed)
        logit = (
            -3 + 0.9 * X["emerg_adm_365d"] + 0.15 * X["distinct_drugs_90d"]
            + 0.5 * X["lives_alone"] + 0.03 * (X["age"] - 60) + 0.8 * X["reg_copd"]
        )  # fmt: skip
        y = np.random.default_rng(seed + 1).uniform(size=len(X)) < 1 / (1 + np.exp(-logit))
        self.booster = lgb.train(
            {"objective": "binary", "verbose": -1, "num_leaves": 8, "seed": seed},
            lgb.Dataset(X, label=y.astype(int)),
            num_boost_round=40,
        )

    def predict_risk(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(X[list(FEATURES)])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        values = self.booster.predict(X[list(FEATURES)], pred_contrib=True)
        return pd.DataFrame(values, columns=[*FEATURES, "bias"], index=X.index)
