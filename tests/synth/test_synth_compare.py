"""Paired AUROC comparison: exact values, an interval that covers a known gap and excludes 0
when one score is clearly better, and one that straddles 0 for two equal scores."""

from __future__ import annotations

import numpy as np
import pytest

from riskstrat.models.metrics import auroc
from riskstrat.synth.compare import BAD_LENGTHS, mean_gap, paired_auroc


def test_paired_auroc_values_and_interval():
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 2)))).astype(float)
    good, noisy = x, x + rng.normal(0, 1.5, n)
    r = paired_auroc(y, noisy, good, n_boot=100, seed=1)
    assert r.auroc_a == pytest.approx(auroc(y, noisy))
    assert r.auroc_b == pytest.approx(auroc(y, good))
    assert 0 < r.low < r.difference < r.high
    same = paired_auroc(y, good, good + 1e-9 * rng.normal(size=n), n_boot=100, seed=1)
    assert same.low <= 0 <= same.high and abs(same.difference) < 1e-3


def test_paired_auroc_refuses_mismatched_rows_and_mean_gap():
    with pytest.raises(ValueError, match=BAD_LENGTHS.format(y=3, a=2, b=3)):
        paired_auroc(np.zeros(3), np.zeros(2), np.zeros(3))
    p, ref = np.array([0.1, 0.2, 0.5]), np.array([0.1, 0.3, 0.4])
    assert mean_gap(p, ref, np.array([False, True, True])) == pytest.approx(0.0)
    assert mean_gap(p, ref, np.array([False, True, False])) == pytest.approx(-0.1)
    assert np.isnan(mean_gap(p, ref, np.zeros(3, dtype=bool)))
