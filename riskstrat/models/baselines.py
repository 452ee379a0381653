"""Baselines scored on the same rows as the model: what a new model has to beat.

Each returns a raw score (higher = riskier); the caller calibrates every score on the same
calibration rows, so Brier and calibration compare like with like. A baseline whose input
features are absent from the matrix is skipped (the caller logs which and why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from riskstrat.models.booster import FeatureInfo


def prior_utilisation(x: pd.DataFrame, *, feature: str) -> np.ndarray:
    """The traditional rule: rank by emergency admissions in the last year (missing = 0)."""
    return x[feature].fillna(0).to_numpy(dtype=float)


def lace_points(x: pd.DataFrame, *, column: str) -> np.ndarray:
    """LACE index (van Walraven 2010): the feature library computes L + A + C + E points."""
    return x[column].fillna(0).to_numpy(dtype=float)


def hospital_like(x: pd.DataFrame, *, columns: Mapping[str, Sequence[str]]) -> np.ndarray:
    """HOSPITAL score (Donze 2013) from what the registry holds: Oncology (2), Index admission
    urgent (1), Admissions in the last 12 months (2-5: 2, >5: 5), Length of stay >= 5 days (2).
    Haemoglobin, sodium and procedures are not in the registry, so they score 0."""

    def total(part: str) -> np.ndarray:
        return x[list(columns[part])].fillna(0).to_numpy(dtype=float).sum(axis=1)

    adm = total("admissions")
    adm_pts = np.select([adm <= 1, adm <= 5], [0, 2], 5)
    return (
        2 * (total("oncology") > 0)
        + 1 * (total("index_urgent") > 0)
        + adm_pts
        + 2 * (total("los") >= 5)
    )


def fit_logistic(
    x: pd.DataFrame, y: np.ndarray, *, features: Sequence[FeatureInfo], max_iter: int, seed: int
) -> Pipeline:
    """Standardised, median-imputed (with missing indicators) logistic regression; categorical
    codes one-hot encoded."""
    numeric = [f.name for f in features if not f.categorical]
    cats = [f.name for f in features if f.categorical]
    prep = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numeric,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                cats,
            ),
        ]
    )
    model = Pipeline(
        [("prep", prep), ("lr", LogisticRegression(max_iter=max_iter, random_state=seed))]
    )
    return model.fit(x[numeric + cats], np.asarray(y, dtype=int))


def logistic_score(model: Pipeline, x: pd.DataFrame) -> np.ndarray:
    cols = list(model.named_steps["prep"].feature_names_in_)
    return model.predict_proba(x[cols])[:, 1]
