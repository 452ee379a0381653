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


class SaidWithText(Protocol):
    column: str  # the time since the later event (the last discharge)
    same_stay: str  # equals `column` when the two events are one stay
    same_value: str  # the wording when the stay ended the same day
    stay_nights: str  # when both times read the same: "{nights} night{s} in hospital"


class FeatureText(Protocol):
    column: str
    dtype: str  # "flag" features are reasons only when set (value 1)
    reason: str  # plain-English template, formatted with {value}
    modifiable: bool
    categories: list[str] | None
    role: str  # "reason" or "context" (never a reason slot)
    event: str | None  # "planned" / "unplanned" care, or None
    when: str | None  # "days_ago" / "years_ago": the value is the time since an event
    said_with: SaidWithText | None  # said together with the time since this event's end

    @property
    def concept_name(self) -> str:
        """Features sharing a concept describe one fact: one reason per row."""
        ...

    def facts(self, values: np.ndarray) -> np.ndarray:
        """Per value: is it a fact worth saying (not missing, not context, not a bare zero)."""
        ...

    def age_days(self, value: float) -> float | None:
        """How long ago the fact happened (a count: its window), None when timeless."""
        ...

    def label(self, value: float) -> str: ...

    def reason_text(self, value: float, *, after_discharge: bool = False) -> str:
        """The reason for a row's value (unit and rounding are the catalogue's)."""
        ...
