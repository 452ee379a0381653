"""The simulation's shortcut is safe: the per-block bound is never below the exact daily
probability of an event, so evaluating only below it changes no outcome."""

from __future__ import annotations

import numpy as np

from riskstrat.synth import params as P
from riskstrat.synth.hazard import daily_probs, upper_bound


def test_synth_bound_covers_daily_probability():
    rng = np.random.default_rng(0)
    n, day0 = 50_000, 19_000
    dob = day0 - rng.integers(-400, 110 * 365, n)
    lb, lm = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n)
    g, gm = rng.uniform(0, 0.002, n), rng.uniform(0, 0.002, n)
    amp = rng.choice([0.0, *P.BUMP_AMP.values()], n)
    first = day0 + 700
    last = first + 27
    bound = upper_bound(first, last, day0=day0, dob=dob, lb=lb, g=g, lm=lm, gm=gm, bump_amp=amp)
    for t in range(first, last + 1):
        since = rng.integers(1, 400, n)
        pa, pd = daily_probs(t, day0=day0, dob=dob, lb=lb, g=g, lm=lm, gm=gm,
                             bump_day=t - since, bump_amp=amp)  # fmt: skip
        assert np.all(pa + (1 - pa) * pd <= bound)
