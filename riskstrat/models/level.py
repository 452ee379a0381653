"""The calendar level of emergency admissions: forecast at training, a logit offset at scoring.

A model is calibrated on the label windows of its calibration rows; it is scored on later
windows. When the admission rate changes with the calendar (winter season, a secular trend),
the calibrated risk is right for the calibration windows' level, not the scored one's. The
level model (docs/models.md "Level forecast") is a Poisson GLM of the store's own weekly
emergency admissions per registered person-week, fitted only on weeks before the training
cutoff:

    log E[admissions] = log(person-weeks) + age band + trend * years + sum_k (c_k cos + s_k sin)

with `harmonics` annual harmonics. The age bands only standardise the rate (an ageing list is
not a calendar effect: the booster sees age); the calendar multiplier is the rest,
m(t) = exp(trend * years(t) + season(t)), the same for every age band. A row's level is the mean
of m over its label window; its offset is log(level) minus the mean log level over the
calibration rows (`reference`). The offset is applied with the model's `link`:

- `cloglog` (new fits): the level is a multiplier of the admission *rate*, and a risk over a
  window is P = 1 - exp(-H) of the cumulative hazard H, so scaling H by exp(offset) gives
  P' = 1 - (1 - P)^exp(offset) (complementary log-log scale). Exact for a proportional hazard;
  it moves a high risk more than a logit shift does (at P = 0.23 by 1.14x), which is where the
  old and the top of a list are.
- `logit` (bundles fitted before `link` existed, which have no such field): the offset is added
  to the calibrated risk's logit; the same as cloglog for small risks.

All pure functions over frames and arrays; riskstrat.models.level_data reads the weekly counts
from the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.linear_model import PoissonRegressor

from riskstrat.models.calibrate import LOGIT_EPS, fine_logit, soft_bound

DAYS_PER_YEAR = 365.25
WEEK_COLUMNS = ("week_start", "age_band", "admissions", "person_days")
AFTER_CUTOFF = (
    "level model: {count} week(s) of admissions end after the training cutoff {cutoff} "
    "(the last starts {last}): the level fit may only see admissions before the cutoff"
)
TOO_FEW_WEEKS = (
    "level model: {weeks} full week(s) of admissions before the cutoff {cutoff}; at least "
    "{needed} are needed (set `level: {{enabled: false}}` in configs/models/<task>.yaml)"
)
MISSING_WEEK_COLUMNS = "level model: the weekly counts lack column(s) {missing}"
UNKNOWN_LINK = "level model: link {link!r} is not one of {links}"
#: How the offset is applied: logit shift, or hazard multiplier (complementary log-log).
LINKS = ("logit", "cloglog")
NO_REFERENCE = "level model: no reference level yet (set it from the calibration rows' dates)"


@dataclass(frozen=True)
class LevelModel:
    """The fitted calendar multiplier and the label window it is averaged over."""

    origin: str  # ISO date: years are counted from it (the cutoff)
    cutoff: str  # ISO date: the fit saw only admissions before it
    trend: float  # log rate per year
    cos: tuple[float, ...]  # harmonic k's cosine coefficient (k = 1..)
    sin: tuple[float, ...]
    gap_days: int
    horizon_days: int
    weeks: int  # weeks the fit used
    use_trend: bool = True  # False: the forecast is the season only (the trend is still fitted)
    reference: float | None = None  # mean log level over the calibration rows
    #: how the offset moves a risk (LINKS); bundles saved without the field used "logit"
    link: str = "logit"

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ValueError(UNKNOWN_LINK.format(link=self.link, links=", ".join(LINKS)))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LevelModel:
        return cls(
            origin=str(data["origin"]),
            cutoff=str(data["cutoff"]),
            trend=float(data["trend"]),
            cos=tuple(float(v) for v in data["cos"]),
            sin=tuple(float(v) for v in data["sin"]),
            gap_days=int(data["gap_days"]),
            horizon_days=int(data["horizon_days"]),
            weeks=int(data["weeks"]),
            use_trend=bool(data.get("use_trend", True)),
            reference=None if data.get("reference") is None else float(data["reference"]),
            link=str(data.get("link", "logit")),
        )


def _days(values: object) -> np.ndarray:
    """Dates (any pandas-parsable form) as int64 days since 1970-01-01."""
    stamps = pd.to_datetime(pd.Series(np.asarray(values).ravel()))
    return stamps.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _design(days: np.ndarray, *, origin: int, harmonics: int) -> np.ndarray:
    """Columns: years since origin, then cos/sin of each annual harmonic (day of year)."""
    days = np.asarray(days, dtype=float)
    cols = [(days - origin) / DAYS_PER_YEAR]
    phase = 2 * np.pi * days / DAYS_PER_YEAR
    for k in range(1, harmonics + 1):
        cols += [np.cos(k * phase), np.sin(k * phase)]
    return np.column_stack(cols)


def fit_level(
    weeks: pd.DataFrame,
    *,
    cutoff: date,
    gap_days: int,
    horizon_days: int,
    harmonics: int = 1,
    min_weeks: int = 52,
    use_trend: bool = True,
    link: str = "cloglog",
) -> LevelModel:
    """Fit the Poisson GLM on weekly counts (WEEK_COLUMNS, one row per week and age band).

    Refuses weeks that end after `cutoff` (no admission on or after it may inform the fit)."""
    missing = [c for c in WEEK_COLUMNS if c not in weeks.columns]
    if missing:
        raise KeyError(MISSING_WEEK_COLUMNS.format(missing=", ".join(missing)))
    start = _days(weeks["week_start"])
    cut = int(_days([cutoff])[0])
    late = start + 7 > cut
    if late.any():
        raise ValueError(
            AFTER_CUTOFF.format(
                count=len(set(start[late])),
                cutoff=cutoff,
                last=str(np.datetime64(int(start.max()), "D")),
            )
        )
    n_weeks = len(set(start))
    if n_weeks < min_weeks:
        raise ValueError(TOO_FEW_WEEKS.format(weeks=n_weeks, cutoff=cutoff, needed=min_weeks))
    exposure = weeks["person_days"].to_numpy(dtype=float)
    keep = exposure > 0
    bands = pd.get_dummies(weeks["age_band"].astype(str)).to_numpy(dtype=float)
    # the week's middle day carries its calendar position
    x = np.column_stack([_design(start + 3.5, origin=cut, harmonics=harmonics), bands[:, 1:]])[keep]
    rate = weeks["admissions"].to_numpy(dtype=float)[keep] / exposure[keep]
    glm = PoissonRegressor(alpha=0.0, max_iter=1000, tol=1e-10)
    glm.fit(x, rate, sample_weight=exposure[keep])
    coef = glm.coef_
    return LevelModel(
        origin=str(np.datetime64(cut, "D")),
        cutoff=str(cutoff),
        trend=float(coef[0]),
        cos=tuple(float(coef[1 + 2 * k]) for k in range(harmonics)),
        sin=tuple(float(coef[2 + 2 * k]) for k in range(harmonics)),
        gap_days=gap_days,
        horizon_days=horizon_days,
        weeks=n_weeks,
        use_trend=use_trend,
        link=link,
    )


def log_multiplier(model: LevelModel, days: np.ndarray) -> np.ndarray:
    """log m(t) on int64 days since 1970-01-01 (trend + season, no age, no intercept)."""
    x = _design(days, origin=int(_days([model.origin])[0]), harmonics=len(model.cos))
    beta = [model.trend if model.use_trend else 0.0]
    for c, s in zip(model.cos, model.sin, strict=True):
        beta += [c, s]
    return x @ np.asarray(beta)


def window_log_level(model: LevelModel, index_dates: object) -> np.ndarray:
    """log of the mean multiplier over each row's label window [d + gap, d + gap + horizon)."""
    days = _days(index_dates)
    uniq, inverse = np.unique(days, return_inverse=True)
    grid = uniq[:, None] + model.gap_days + np.arange(model.horizon_days)[None, :]
    level = np.exp(log_multiplier(model, grid.ravel())).reshape(grid.shape).mean(axis=1)
    return np.log(level)[inverse]


def with_reference(model: LevelModel, index_dates: object) -> LevelModel:
    """The model with `reference` = the mean log level over these (calibration) rows."""
    ref = float(window_log_level(model, index_dates).mean())
    return LevelModel(**{**asdict(model), "reference": ref})


def offset(model: LevelModel, index_dates: object) -> np.ndarray:
    """Per row: log level of its window minus the calibration rows' mean log level."""
    if model.reference is None:
        raise ValueError(NO_REFERENCE)
    return window_log_level(model, index_dates) - model.reference


def apply_offset(risk: np.ndarray, shift: np.ndarray, *, link: str = "logit") -> np.ndarray:
    """Risk moved by `shift` on the `link` scale: `logit` adds it to the logit, `cloglog`
    multiplies the cumulative hazard by exp(shift) (1 - (1 - risk)^exp(shift)). Strictly
    increasing in the risk either way (ranks within a date kept), never exactly 0 or 1."""
    shift = np.asarray(shift, dtype=float)
    if link == "cloglog":
        risk = np.clip(np.asarray(risk, dtype=float), 0.0, 1.0 - LOGIT_EPS)
        risk = -np.expm1(np.exp(shift) * np.log1p(-risk))
        shift = np.zeros_like(shift)
    elif link != "logit":
        raise ValueError(UNKNOWN_LINK.format(link=link, links=", ".join(LINKS)))
    z = soft_bound(fine_logit(risk) + shift)
    return 1 / (1 + np.exp(-z))
