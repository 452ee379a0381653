"""Bootstrap intervals from row counts equal the metrics of the resampled rows; the card's
limitations are generated from the evaluation (and differ when the evaluation does)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.models import metrics as m
from riskstrat.models.card_text import (
    BEATEN_BY,
    GENERIC_LIMITATIONS,
    MISCALIBRATED_SUBGROUP,
    NOT_BEATEN,
    SMALL_TEST,
    TOP_BIN,
    WEAK_SUBGROUP,
    limitations,
)
from riskstrat.models.config import Card
from riskstrat.models.intervals import bootstrap_scores, weighted_metrics


@pytest.fixture
def yp() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    p = np.round(rng.beta(1, 8, 3000), 3)  # ties, as calibrated scores have
    y = (rng.random(3000) < p).astype(float)
    return y, p


def test_weighted_metrics_equal_the_resampled_rows(yp) -> None:
    y, p = yp
    at = weighted_metrics(y, p, ece_bins=10)
    ones = at(np.ones(len(y)))
    assert ones["auroc"] == pytest.approx(m.auroc(y, p))
    assert ones["auprc"] == pytest.approx(m.auprc(y, p))
    assert ones["brier"] == pytest.approx(m.brier(y, p))
    assert ones["ece"] == pytest.approx(m.ece(y, p), abs=1e-12)
    assert ones["calibration_slope"] == pytest.approx(m.calibration_slope(y, p), rel=1e-5)
    i = np.random.default_rng(1).integers(0, len(y), len(y))
    w = at(np.bincount(i, minlength=len(y)).astype(float))
    assert w["auroc"] == pytest.approx(m.auroc(y[i], p[i]))
    assert w["auprc"] == pytest.approx(m.auprc(y[i], p[i]))
    assert w["brier"] == pytest.approx(m.brier(y[i], p[i]))
    assert w["calibration_slope"] == pytest.approx(m.calibration_slope(y[i], p[i]), rel=1e-4)
    # a repeated row's copies share one bin here, so ECE is close, not identical
    assert w["ece"] == pytest.approx(m.ece(y[i], p[i]), abs=0.01)


def _auroc_by_tie_groups(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """The earlier weighted AUROC (sums over tie groups), kept here as the reference."""
    order = np.argsort(p, kind="mergesort")
    ys, ps, ws = y[order], p[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]
    cum_pos, cum_neg = np.cumsum(ws * ys)[last], np.cumsum(ws * (1 - ys))[last]
    pos, neg = np.diff(np.r_[0.0, cum_pos]), np.diff(np.r_[0.0, cum_neg])
    if cum_pos[-1] == 0 or cum_neg[-1] == 0:
        return float("nan")
    return float(np.sum(pos * (cum_neg - neg + 0.5 * neg)) / (cum_pos[-1] * cum_neg[-1]))


def test_weighted_auroc_is_exactly_the_tie_group_sums(yp) -> None:
    y, p = yp
    fn = m.weighted_auroc(np.argsort(p, kind="mergesort"), y, p)
    rng = np.random.default_rng(6)
    for _ in range(20):
        counts = np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y))
        assert fn(counts) == _auroc_by_tie_groups(y, p, counts.astype(float))  # bit for bit
        assert fn(counts.astype(float)) == fn(counts)
    ones = np.ones(len(y))
    assert fn(ones) == _auroc_by_tie_groups(y, p, ones) == pytest.approx(m.auroc(y, p))
    assert np.isnan(fn(np.where(y == 1, 0.0, 1.0)))  # no positive drawn


def _ece_by_bincount(y: np.ndarray, p: np.ndarray, w: np.ndarray, bins: int) -> float:
    """The earlier weighted ECE (each row's bin, then np.bincount), kept as the reference."""
    order = np.argsort(p, kind="mergesort")
    ya, pa, wa = y[order], p[order], w[order]
    total = wa.sum()
    before = np.cumsum(wa) - wa
    at = np.minimum((before * bins) // max(total, 1), bins - 1).astype(int)
    obs = np.bincount(at, weights=wa * ya, minlength=bins)
    pred = np.bincount(at, weights=wa * pa, minlength=bins)
    return float(np.sum(np.abs(obs - pred)) / total)


@pytest.mark.parametrize("bins", [3, 10, 40])
def test_weighted_ece_is_exactly_the_bincount_one(yp, bins: int) -> None:
    y, p = yp
    at = weighted_metrics(y, p, ece_bins=bins)
    rng = np.random.default_rng(8)
    weights = [np.ones(len(y)), np.where(np.arange(len(y)) < 2000, 0.0, 1.0)]
    weights += [np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)) for _ in range(10)]
    for w in weights:
        w = np.asarray(w, dtype=float)
        assert at(w)["ece"] == _ece_by_bincount(y, p, w, bins)  # bit for bit


def test_weighted_slope_is_the_resampled_rows_maximum_likelihood(yp) -> None:
    y, p = yp
    _assert_resampled_slopes_are_row_fits(y, p, draws=np.random.default_rng(7), resamples=5)


def _assert_resampled_slopes_are_row_fits(y, p, *, draws, resamples: int) -> None:
    """Each resample's weighted slope equals the plain fit on the drawn rows."""
    at = weighted_metrics(y, p, ece_bins=10)
    for _ in range(resamples):
        i = draws.integers(0, len(y), len(y))
        got = at(np.bincount(i, minlength=len(y)).astype(float))["calibration_slope"]
        assert got == pytest.approx(m.calibration_slope(y[i], p[i]), rel=1e-9)


def test_weighted_slope_falls_back_to_the_start_from_zero(monkeypatch) -> None:
    """A rule score at 0 and 1 on wrong labels: its clipped logits (+-13.8) dominate, and
    Newton from the full sample's fit diverges on some resamples (no overflow warning
    escapes; the value is the resampled rows' fit all the same)."""
    import riskstrat.models.intervals as intervals

    rng = np.random.default_rng(18)
    p = rng.choice([0.05, 0.1, 0.12, 0.2, 0.3, 0.5], 400)
    y = (rng.random(400) < p).astype(float)
    p[:4] = rng.choice([0.0, 1.0], 4)
    y[:4] = 1 - p[:4]
    starts = []
    newton = intervals._newton
    monkeypatch.setattr(
        intervals, "_newton", lambda *a, **k: starts.append(k["start"]) or newton(*a, **k)
    )
    _assert_resampled_slopes_are_row_fits(y, p, draws=np.random.default_rng(1), resamples=20)
    assert (0.0, 0.0) in starts  # the fallback ran


def test_paired_interval_of_a_difference(yp) -> None:
    y, p = yp
    noise = np.random.default_rng(2).random(len(y))
    out = bootstrap_scores(
        y, {"model": p, "same": p, "noise": noise}, n_boot=50, seed=3, ece_bins=10,
        reference="model",
    )  # fmt: skip
    assert out["same"]["auroc_delta_lo"] == out["same"]["auroc_delta_hi"] == 0.0
    assert out["noise"]["auroc_delta_lo"] > 0.1  # the model beats noise beyond doubt
    assert out["model"]["auroc_lo"] < m.auroc(y, p) < out["model"]["auroc_hi"]


def _evaluation(*, weak: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    overall = pd.DataFrame(
        [
            {"score": "model", "n": 900 if weak else 20_000, "events": 60 if weak else 900,
             "auroc": 0.70, "auroc_lo": 0.64, "auroc_hi": 0.76},
            {"score": "prior", "n": 900, "events": 60, "auroc": 0.69, "auroc_delta": 0.01,
             "auroc_delta_lo": -0.02 if weak else 0.004, "auroc_delta_hi": 0.04},
            {"score": "logistic", "n": 900, "events": 60, "auroc": 0.74, "auroc_delta": -0.04,
             "auroc_delta_lo": -0.07 if weak else 0.01, "auroc_delta_hi": -0.01 if weak else 0.05},
        ]
    )  # fmt: skip
    subgroups = pd.DataFrame(
        [
            {"slice": "overall", "group": "all", "n": 900, "events": 60, "observed": 0.066,
             "predicted": 0.066, "gap": 0.0, "auroc": 0.70, "auroc_lo": 0.64, "auroc_hi": 0.76},
            {"slice": "age_band", "group": "18-44", "n": 400, "events": 12, "observed": 0.03,
             "predicted": 0.03 if not weak else 0.06, "gap": 0.0 if not weak else -0.03,
             "auroc": 0.55 if weak else 0.72, "auroc_lo": 0.45, "auroc_hi": 0.66},
        ]
    )  # fmt: skip
    top = 0.30 if weak else 0.21
    reliability = pd.DataFrame(
        {"bin": [0, 1], "n": [450, 450], "predicted": [0.02, top], "observed": [0.02, 0.20]}
    )
    return overall, subgroups, reliability


def test_limitations_are_generated_from_the_evaluation() -> None:
    bounds = Card()
    weak = limitations(*_evaluation(weak=True), bounds=bounds, synthetic=False)
    good = limitations(*_evaluation(weak=False), bounds=bounds, synthetic=False)
    assert good == GENERIC_LIMITATIONS
    generated = weak[: -len(GENERIC_LIMITATIONS)]
    starts = [t.split("{")[0] for t in (SMALL_TEST, NOT_BEATEN, WEAK_SUBGROUP, TOP_BIN)]
    for start in starts:
        assert any(line.startswith(start) for line in generated), start
    assert any(line.startswith("logistic is better than the model") for line in generated)
    assert BEATEN_BY.split("{")[1].startswith("name}")
    assert any("over-predicts in age_band 18-44" in line for line in generated)
    assert MISCALIBRATED_SUBGROUP.startswith("The model {verb}-predicts in {slice}")
    assert any("highest-risk tenth: mean predicted 30.0% vs observed 20.0%" in x for x in weak)


def test_a_small_top_bin_is_not_flagged_for_noise() -> None:
    overall, subgroups, _ = _evaluation(weak=False)
    noisy = pd.DataFrame(
        {"bin": [0, 1], "n": [20, 20], "predicted": [0.02, 0.30], "observed": [0.0, 0.20]}
    )
    assert limitations(overall, subgroups, noisy, bounds=Card(), synthetic=False) == (
        GENERIC_LIMITATIONS
    )
