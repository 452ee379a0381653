"""The simulation's shortcut is safe: the per-block bound is never below the exact daily
probability of an event, so evaluating only below it changes no outcome."""

from __future__ import annotations

import numpy as np
import pytest

from riskstrat.synth import params as P
from riskstrat.synth.hazard import Calendar, daily_probs, upper_bound


@pytest.mark.parametrize(
    "world",
    [P.World(), P.World(season_amplitude=0.2, trend_per_year=-0.05),
     P.World(trend_per_year=0.08, ward_from=19_690, ward_effect=0.4)],
)  # fmt: skip
def test_synth_bound_covers_daily_probability(world):
    rng = np.random.default_rng(0)
    n, day0 = 50_000, 19_000
    calendar = Calendar.of(world, day0=day0, day1=day0 + 1000)
    dob = day0 - rng.integers(-400, 110 * 365, n)
    lb, lm = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n)
    g, gm = rng.uniform(0, 0.002, n), rng.uniform(0, 0.002, n)
    amp = rng.choice([0.0, *P.BUMP_AMP.values()], n)
    first = day0 + 700
    last = first + 27
    bound = upper_bound(first, last, day0=day0, dob=dob, lb=lb, g=g, lm=lm, gm=gm, bump_amp=amp,
                        calendar=calendar)  # fmt: skip
    for t in range(first, last + 1):
        since = rng.integers(1, 400, n)
        pa, pd = daily_probs(t, day0=day0, dob=dob, lb=lb, g=g, lm=lm, gm=gm,
                             bump_day=t - since, bump_amp=amp, calendar=calendar)  # fmt: skip
        assert np.all(pa + (1 - pa) * pd <= bound)


def test_synth_calendar_season_trend_and_ward():
    """January is ~12 % above August, the trend is centred, the ward lowers only later bumps."""
    jan15, aug15 = (
        int(np.datetime64(d, "D").astype(np.int64)) for d in ("2025-01-15", "2025-08-15")
    )
    cal = Calendar.of(P.World(trend_per_year=0.0), day0=jan15 - 400, day1=jan15 + 400)
    ratio = cal.factor(jan15) / cal.factor(aug15)
    assert 1.10 <= ratio <= 1.15
    days = np.arange(jan15, jan15 + 3 * 365)
    assert abs(cal.factor(days).mean() - 1.0) < 0.001  # the season keeps the yearly volume
    trend = Calendar.of(P.World(season_amplitude=0.0, trend_per_year=0.02), day0=0, day1=730)
    assert trend.factor(365) == 1.0
    assert np.isclose(trend.factor(365 + 365.2425) / trend.factor(365), np.exp(0.02))
    ward = Calendar.of(P.World(ward_from=100, ward_effect=0.3), day0=0, day1=200)
    assert np.allclose(ward.ward(np.array([99, 100, 150])), [1.0, 0.7, 0.7])
