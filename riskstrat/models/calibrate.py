"""Calibration of the raw model score into an absolute risk, fitted on held-out rows.

A calibrator is a small, JSON-serialisable monotone map:

- `centred_isotonic` (the crisis model's): centred isotonic regression (Oron & Flournoy 2017,
  "Centered isotonic regression") on the logit scale. The isotonic (PAVA) fit's blocks become
  knots at each block's centre (mean logit of its raw scores, logit of its observed rate); the
  map interpolates linearly between knots and extrapolates beyond the end knots with the Platt
  slope. So it is strictly increasing in the raw score (no plateaus: a list is ordered by the
  model, not by the tie-break), never exactly 0 or 1, and the top block's rows are spread around
  its observed rate instead of being flattened below it (isotonic under-predicts the top 1 %).
- `isotonic`: the plain step fit (piecewise linear through the isotonic thresholds, clipped at
  the ends). Kept for comparison (benchmarks/calibration.py) and for old bundles.
- `platt`: logistic on the logit of the score (or on the points of a rule).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression

from riskstrat.models.metrics import logistic_fit, logit

UNKNOWN_METHOD = "calibration method {method!r} is not isotonic, centred_isotonic or platt"
METHODS = ("isotonic", "centred_isotonic", "platt")
#: The centred map takes the logit of scores clipped this close to 0 and 1 only (metrics.logit
#: clips at 1e-6, which would tie the most extreme scores).
LOGIT_EPS = 1e-15
#: Risk logits beyond +-SOFT_LOGIT are squashed smoothly (tanh) towards +-2 x SOFT_LOGIT: still
#: strictly increasing, and the risk can never round to exactly 0 or 1 in float64.
SOFT_LOGIT = 15.0
#: Pseudo-rows at the overall rate added to each isotonic block (centred_knots).
PRIOR_ROWS = 1.0
#: Extrapolation slope (logit per logit) beyond the end knots when Platt's is not positive.
MIN_TAIL_SLOPE = 0.1

Method = Literal["isotonic", "centred_isotonic", "platt"]


@dataclass(frozen=True)
class Calibrator:
    method: Method
    x: tuple[float, ...] = ()  # isotonic thresholds (raw); centred: knot logits of the raw score
    y: tuple[float, ...] = ()  # isotonic values; centred: knot logits of the risk
    a: float = 0.0  # platt intercept
    b: float = 1.0  # platt slope; centred: the tail slope beyond the end knots
    #: platt on the logit of a probability; a rule's points or counts are used as they are
    on_logit: bool = True

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.method == "isotonic":
            return np.interp(raw, self.x, self.y)
        if self.method == "centred_isotonic":
            lp = fine_logit(raw) if self.on_logit else raw
            return _expit(_centred_logit(lp, knots_x=self.x, knots_y=self.y, tail=self.b))
        lp = logit(raw) if self.on_logit else raw
        return _expit(self.a + self.b * lp)

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


def _expit(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _centred_logit(
    lp: np.ndarray, *, knots_x: tuple[float, ...], knots_y: tuple[float, ...], tail: float
) -> np.ndarray:
    """Linear between knots, slope `tail` beyond them (one knot: a line through it)."""
    kx, ky = np.asarray(knots_x), np.asarray(knots_y)
    out = np.interp(lp, kx, ky)
    out = np.where(lp < kx[0], ky[0] + tail * (lp - kx[0]), out)
    out = np.where(lp > kx[-1], ky[-1] + tail * (lp - kx[-1]), out)
    return soft_bound(out)


def soft_bound(z: np.ndarray, *, knee: float = SOFT_LOGIT) -> np.ndarray:
    """Identity on [-knee, knee]; beyond it knee + knee * tanh((|z| - knee) / knee), signed."""
    over = np.abs(z) > knee
    squashed = np.sign(z) * (knee + knee * np.tanh((np.abs(z) - knee) / knee))
    return np.where(over, squashed, z)


def centred_knots(
    score: np.ndarray, y: np.ndarray, *, prior_rows: float = PRIOR_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """Knots of centred isotonic regression: (mean score, rate) of each PAVA block.

    Blocks are the runs of equal fitted values of the isotonic fit. Each block's rate is shrunk
    towards the overall rate by `prior_rows` pseudo-rows ((events + prior_rows x overall) /
    (rows + prior_rows)), so a tiny end block of 2 events in 2 rows is not a risk of 100 % and an
    eventless block is not 0 %; a second weighted PAVA pass restores monotonicity, and blocks
    with equal rates are merged, so both coordinates of the knots strictly increase.
    """
    order = np.argsort(score, kind="stable")
    s, t = score[order], y[order]
    fitted = IsotonicRegression(increasing=True).fit_transform(s, t)
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) != 0])
    rows = np.diff(np.r_[starts, len(s)]).astype(float)
    sums, events = np.add.reduceat(s, starts), np.add.reduceat(t, starts)
    overall = float(t.mean()) if len(t) else 0.5
    rate = (events + prior_rows * overall) / (rows + prior_rows)
    weight = rows + prior_rows
    rate = IsotonicRegression(increasing=True).fit_transform(
        np.arange(len(rate)), rate, sample_weight=weight
    )
    floor = 0.5 / max(len(t), 1)
    rate = np.clip(rate, floor, 1 - floor)
    merged = np.flatnonzero(np.r_[True, np.diff(rate) != 0])
    return np.add.reduceat(sums, merged) / np.add.reduceat(rows, merged), rate[merged]


def fit_calibrator(raw: np.ndarray, y: np.ndarray, *, method: str) -> Calibrator:
    raw, y = np.asarray(raw, dtype=float), np.asarray(y, dtype=float)
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return Calibrator(
            method="isotonic",
            x=tuple(float(v) for v in iso.X_thresholds_),
            y=tuple(float(v) for v in iso.y_thresholds_),
        )
    if method not in ("platt", "centred_isotonic"):
        raise ValueError(UNKNOWN_METHOD.format(method=method))
    on_logit = bool(np.all((raw >= 0) & (raw <= 1)))
    lp = logit(raw) if on_logit else raw
    a, b = logistic_fit(y, lp, np.zeros_like(lp))
    if method == "platt":
        return Calibrator(method="platt", a=float(a), b=float(b), on_logit=on_logit)
    kx, rate = centred_knots(fine_logit(raw) if on_logit else raw, y)
    return Calibrator(
        method="centred_isotonic",
        x=tuple(float(v) for v in kx),
        y=tuple(float(v) for v in fine_logit(rate)),
        b=float(max(b, MIN_TAIL_SLOPE)),
        on_logit=on_logit,
    )


def fine_logit(p: np.ndarray) -> np.ndarray:
    """logit clipped only at LOGIT_EPS, so distinct scores keep distinct logits."""
    p = np.clip(np.asarray(p, dtype=float), LOGIT_EPS, 1 - LOGIT_EPS)
    return np.log(p / (1 - p))
