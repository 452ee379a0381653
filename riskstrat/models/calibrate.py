"""Calibration of the raw model score into an absolute risk, fitted on held-out rows.

A calibrator is a small, JSON-serialisable monotone map: isotonic (piecewise linear through the
isotonic fit's thresholds, clipped at the ends) or Platt (logistic on the logit of the score).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression

from riskstrat.models.metrics import logistic_fit, logit

UNKNOWN_METHOD = "calibration method {method!r} is not isotonic or platt"


@dataclass(frozen=True)
class Calibrator:
    method: Literal["isotonic", "platt"]
    x: tuple[float, ...] = ()  # isotonic thresholds (raw probability)
    y: tuple[float, ...] = ()  # isotonic values
    a: float = 0.0  # platt intercept
    b: float = 1.0  # platt slope
    #: platt on the logit of a probability; a rule's points or counts are used as they are
    on_logit: bool = True

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.method == "isotonic":
            return np.interp(raw, self.x, self.y)
        lp = logit(raw) if self.on_logit else raw
        return 1 / (1 + np.exp(-(self.a + self.b * lp)))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        return cls(
            method=data["method"],
            x=tuple(data.get("x", ())),
            y=tuple(data.get("y", ())),
            a=float(data.get("a", 0.0)),
            b=float(data.get("b", 1.0)),
            on_logit=bool(data.get("on_logit", True)),
        )


def fit_calibrator(raw: np.ndarray, y: np.ndarray, *, method: str) -> Calibrator:
    raw, y = np.asarray(raw, dtype=float), np.asarray(y, dtype=float)
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return Calibrator(
            method="isotonic",
            x=tuple(float(v) for v in iso.X_thresholds_),
            y=tuple(float(v) for v in iso.y_thresholds_),
        )
    if method == "platt":
        on_logit = bool(np.all((raw >= 0) & (raw <= 1)))
        lp = logit(raw) if on_logit else raw
        a, b = logistic_fit(y, lp, np.zeros_like(lp))
        return Calibrator(method="platt", a=float(a), b=float(b), on_logit=on_logit)
    raise ValueError(UNKNOWN_METHOD.format(method=method))
