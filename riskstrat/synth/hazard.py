"""The daily hazards of the generating process: one function the simulation and the oracle share.

Between a person's events every term is deterministic (age steps at 365-day birthdays, frailty
drifts linearly, the post-discharge bump decays), so the oracle can replay the exact daily
probabilities the simulation drew from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskstrat.synth import params as P

ADMISSION_LUT = P.age_lut(P.ADMISSION_AGE_KNOTS, P.ADMISSION_AGE_RATE)
_DEATH_AGES = np.arange(ADMISSION_LUT.size, dtype=np.float64)
DEATH_LUT = np.log(
    np.maximum(P.DEATH_RATE_50 * np.exp(P.DEATH_GOMPERTZ * (_DEATH_AGES - 50)), P.DEATH_CHILD)
)
NEVER = -(10**6)  # bump_day for people never discharged: no bump


@dataclass(frozen=True)
class Calendar:
    """Calendar-time factors of the admission hazard (season, trend, a virtual ward), for one
    period: shared by the simulation and the oracle like everything else here."""

    world: P.World
    centre: float  # day the trend is centred on (middle of the period)

    @classmethod
    def of(cls, world: P.World, *, day0: int, day1: int) -> Calendar:
        return cls(world=world, centre=(day0 + day1) / 2)

    def factor(self, t: np.ndarray | int) -> np.ndarray:
        """Multiplier of the admission hazard on day t (season x trend)."""
        w = self.world
        phase = 2 * np.pi * (np.asarray(t) - P.SEASON_PEAK_DAY) / P.DAYS_PER_YEAR
        season = 1.0 + w.season_amplitude * np.cos(phase)
        return season * np.exp(w.trend_per_year * (np.asarray(t) - self.centre) / P.DAYS_PER_YEAR)

    def factor_max(self, first: int, last: int) -> float:
        """An upper bound of factor over [first, last]."""
        w = self.world
        trend = max(w.trend_per_year * (d - self.centre) for d in (first, last))
        return (1.0 + abs(w.season_amplitude)) * float(np.exp(trend / P.DAYS_PER_YEAR))

    def ward(self, bump_day: np.ndarray) -> np.ndarray:
        """Share of the post-discharge bump left after the virtual ward (1 before it)."""
        w = self.world
        if w.ward_from is None:
            return np.ones(np.shape(bump_day))
        return np.where(bump_day >= w.ward_from, 1.0 - w.ward_effect, 1.0)


STATIONARY = Calendar(world=P.World(season_amplitude=0.0, trend_per_year=0.0), centre=0.0)


def age_years(t: np.ndarray | int, dob: np.ndarray) -> np.ndarray:
    """Whole years of age on day t (365-day years), capped to the lookup tables."""
    return np.clip((t - dob) // 365, 0, ADMISSION_LUT.size - 1)


def bump(t: np.ndarray | int, bump_day: np.ndarray, bump_amp: np.ndarray) -> np.ndarray:
    """Post-discharge multiplier minus one: amp * exp(-days / tau) for up to BUMP_HORIZON days."""
    days = t - bump_day
    return np.where(days <= P.BUMP_HORIZON, bump_amp * np.exp(-days / P.BUMP_TAU), 0.0)


def daily_probs(
    t: np.ndarray | int,
    *,
    day0: int,
    dob: np.ndarray,
    lb: np.ndarray,
    g: np.ndarray,
    lm: np.ndarray,
    gm: np.ndarray,
    bump_day: np.ndarray,
    bump_amp: np.ndarray,
    calendar: Calendar,
) -> tuple[np.ndarray, np.ndarray]:
    """P(emergency admission on day t), P(out-of-hospital death on day t | no admission).

    lb/lm: log yearly admission/death rate offsets (everything but age, drift and the bump);
    g/gm: their drift per day since day0 (latent frailty rising with age).
    """
    age = age_years(t, dob)
    dt = t - day0
    e = bump(t, bump_day, bump_amp) * calendar.ward(bump_day)  # amp x exp(-days / tau)
    base = np.exp(lb + g * dt + ADMISSION_LUT[age]) * calendar.factor(t)
    ha = (base * (1.0 + e) + P.BUMP_ADD * e) / 365.0
    hd = np.exp(lm + gm * dt + DEATH_LUT[age]) / 365.0
    return -np.expm1(-ha), -np.expm1(-hd)


def upper_bound(
    first: int,
    last: int,
    *,
    day0: int,
    dob: np.ndarray,
    lb: np.ndarray,
    g: np.ndarray,
    lm: np.ndarray,
    gm: np.ndarray,
    bump_amp: np.ndarray,
    calendar: Calendar,
) -> np.ndarray:
    """A bound on P(admission) + P(death) on every day of [first, last] (at most 365 days, no
    event in between). The simulation only evaluates daily_probs where its uniform falls below
    it: the same draws give the same outcomes, at a fraction of the cost."""
    young, old = age_years(first, dob), age_years(last, dob)
    drift = np.maximum(first - day0, last - day0)
    la = (
        lb
        + np.maximum(g * (first - day0), g * drift)
        + np.maximum(ADMISSION_LUT[young], ADMISSION_LUT[old])
    )
    ld = (
        lm
        + np.maximum(gm * (first - day0), gm * drift)
        + np.maximum(DEATH_LUT[young], DEATH_LUT[old])
    )
    ha = np.exp(la) * calendar.factor_max(first, last) * (1.0 + bump_amp) + P.BUMP_ADD * bump_amp
    return (ha + np.exp(ld)) / 365.0
