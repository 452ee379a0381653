"""What explain and outreach need from a model and a feature catalogue (duck-typed).

riskstrat.models.registry.RiskModel and riskstrat.features.catalogue.FeatureSpec satisfy these;
tests can pass a real LightGBM model wrapped the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd


class RiskModel(Protocol):
    name: str
    version: str | int
    feature_names: Sequence[str]

    def predict_risk(self, X: pd.DataFrame) -> np.ndarray: ...

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """pred_contrib log-odds, one column per feature plus `bias`."""
        ...


class FeatureText(Protocol):
    column: str
    dtype: str  # "flag" features are reasons only when set (value 1)
    reason: str  # plain-English template, formatted with {value}
    modifiable: bool

    def reason_text(self, value: float) -> str:
        """The reason for a row's value (unit and rounding are the catalogue's)."""
        ...
