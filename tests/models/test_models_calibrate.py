"""Calibrators keep the ranking of any score: probabilities and rule points alike."""

import numpy as np
import pytest

from riskstrat.models import metrics as m
from riskstrat.models.calibrate import Calibrator, fit_calibrator


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibrating_rule_points_keeps_their_ranking(method: str) -> None:
    rng = np.random.default_rng(5)
    points = rng.integers(0, 20, 20_000).astype(float)  # a LACE-like total, not a probability
    y = (rng.random(len(points)) < 1 / (1 + np.exp(-(-4 + 0.25 * points)))).astype(float)
    cal = fit_calibrator(points, y, method=method)
    risk = cal(points)
    # Platt is strictly monotone; isotonic may pool neighbouring points into ties
    tolerance = 1e-9 if method == "platt" else 0.002
    assert m.auroc(y, risk) == pytest.approx(m.auroc(y, points), abs=tolerance)
    assert abs(risk.mean() - y.mean()) < 0.005
    again = Calibrator.from_dict(cal.to_dict())
    np.testing.assert_allclose(again(points), risk)


def test_platt_on_probabilities_uses_their_logit() -> None:
    rng = np.random.default_rng(6)
    p = rng.beta(1, 12, 50_000)
    y = (rng.random(len(p)) < p).astype(float)
    cal = fit_calibrator(p, y, method="platt")
    assert cal.on_logit and cal.b == pytest.approx(1, abs=0.1) and abs(cal.a) < 0.15


def _toy(seed: int = 8, n: int = 60_000) -> tuple[np.ndarray, np.ndarray]:
    """A boosted-tree-like raw score: miscalibrated (slope 0.8, shifted) and heavily tied."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-4.2, 1.2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    raw = 1 / (1 + np.exp(-(0.8 * np.round(z, 2) + 0.3)))
    return raw, y


def test_centred_isotonic_is_strictly_monotone_and_never_0_or_1() -> None:
    raw, y = _toy()
    cal = fit_calibrator(raw, y, method="centred_isotonic")
    grid = np.unique(
        np.r_[
            np.logspace(-14, -1, 3000), np.linspace(0.1, 0.9, 50_000), 1 - np.logspace(-1, -9, 300)
        ]
    )
    risk = cal(grid)
    assert np.all(np.diff(risk) > 0)
    assert np.all((risk > 0) & (risk < 1))
    ends = cal(np.array([0.0, 1.0]))
    assert 0 < ends[0] < ends[1] < 1
    # plain isotonic, by contrast, has plateaus and reaches 0
    iso = fit_calibrator(raw, y, method="isotonic")(grid)
    assert np.any(np.diff(iso) == 0) and iso.min() == 0


def test_centred_isotonic_calibrates_overall_and_the_top_percent() -> None:
    raw, y = _toy()
    risk = fit_calibrator(raw, y, method="centred_isotonic")(raw)
    assert abs(risk.mean() - y.mean()) < 0.002
    assert m.ece(y, risk) < 0.005
    top = risk >= np.quantile(risk, 0.99)
    assert abs(risk[top].mean() - y[top].mean()) < 0.03
    # keeps the ranking of the raw score exactly (ties only where the raw score ties)
    assert m.auroc(y, risk) == pytest.approx(m.auroc(y, raw), abs=1e-12)
    assert len(np.unique(risk)) == len(np.unique(raw))


def test_centred_knots_are_block_centres_shrunk_towards_the_overall_rate() -> None:
    from riskstrat.models.calibrate import centred_knots

    score = np.array([0.0, 1, 2, 3, 4, 5, 6, 7])
    y = np.array([0.0, 0, 0, 0, 1, 0, 1, 1])
    x, rate = centred_knots(score, y, prior_rows=1.0)
    # PAVA blocks: four zeros, (1, 0) pooled, two ones; each gets one pseudo-row at 3/8
    np.testing.assert_allclose(x, [1.5, 4.5, 6.5])
    np.testing.assert_allclose(rate, [0.375 / 5, 1.375 / 3, 2.375 / 3])
    # without shrinkage the end blocks would be exactly 0 and 1; clipping still keeps them inside
    x0, rate0 = centred_knots(score, y, prior_rows=0.0)
    assert 0 < rate0[0] < rate0[-1] < 1 and len(x0) == 3


def test_centred_isotonic_round_trips_and_rejects_unknown_methods() -> None:
    raw, y = _toy(n=5_000)
    cal = fit_calibrator(raw, y, method="centred_isotonic")
    np.testing.assert_allclose(Calibrator.from_dict(cal.to_dict())(raw), cal(raw))
    with pytest.raises(ValueError) as err:
        fit_calibrator(raw, y, method="spline")
    from riskstrat.models.calibrate import UNKNOWN_METHOD

    assert str(err.value) == UNKNOWN_METHOD.format(method="spline")
