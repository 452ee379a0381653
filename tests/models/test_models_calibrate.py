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
