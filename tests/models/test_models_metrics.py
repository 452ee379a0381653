"""Metrics against sklearn and against hand-worked cases."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from riskstrat.models import metrics as m


@pytest.fixture(scope="module")
def yp():
    rng = np.random.default_rng(0)
    p = rng.beta(1, 12, 4000)
    p[:200] = np.round(p[:200], 2)  # ties
    y = (rng.random(4000) < p).astype(float)
    return y, p


def test_auroc_auprc_brier_match_sklearn(yp) -> None:
    y, p = yp
    assert m.auroc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m.auprc(y, p) == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m.brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_degenerate_labels_give_nan() -> None:
    assert np.isnan(m.auroc(np.zeros(5), np.linspace(0, 1, 5)))
    assert np.isnan(m.calibration_slope(np.ones(5), np.linspace(0.1, 0.9, 5)))


def test_calibration_of_true_probabilities_is_near_ideal() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(2, 8, 200_000)
    y = (rng.random(len(p)) < p).astype(float)
    assert m.calibration_slope(y, p) == pytest.approx(1.0, abs=0.03)
    assert m.calibration_intercept(y, p) == pytest.approx(0.0, abs=0.02)
    assert m.ece(y, p) < 0.005
    # doubling the odds is detected: intercept ~ -ln 2, slope still ~ 1
    odds = 2 * p / (1 - p)
    assert m.calibration_intercept(y, odds / (1 + odds)) == pytest.approx(-np.log(2), abs=0.03)
    # over-confident scores (logit x 2) have slope ~ 0.5
    lp = 2 * m.logit(p)
    assert m.calibration_slope(y, 1 / (1 + np.exp(-lp))) == pytest.approx(0.5, abs=0.03)


def test_ece_worked_example() -> None:
    y = np.array([0, 0, 1, 1], dtype=float)
    p = np.array([0.1, 0.1, 0.5, 0.5])
    # two equal-count bins: |0 - 0.1| and |1 - 0.5|, each half the rows
    assert m.ece(y, p, n_bins=2) == pytest.approx(0.3)


def test_top_listed_per_practice() -> None:
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 1], dtype=float)
    p = np.array([0.9, 0.8, 0.1, 0.1, 0.2, 0.7, 0.6, 0.1, 0.1, 0.05])
    practice = np.array(["A"] * 5 + ["B"] * 5)
    out = m.top_listed(y, p, practice, fractions=[0.2, 0.4])
    # 20 %: one per practice -> A's 0.9 (event), B's 0.7 (no event)
    assert out.loc[0, "listed"] == 2 and out.loc[0, "ppv"] == 0.5
    assert out.loc[0, "sensitivity"] == pytest.approx(1 / 3)
    assert out.loc[1, "listed"] == 4 and out.loc[1, "ppv"] == 0.25


def test_intervals_from_shared_resamples_equal_their_own_calls(yp) -> None:
    y, p = yp
    fns = (m.auroc, m.calibration_gap, m.brier)
    shared = m.bootstrap_intervals(y, p, fns, n_boot=40, seed=3)
    assert shared == [m.bootstrap_interval(y, p, fn, n_boot=40, seed=3) for fn in fns]
    rng = np.random.default_rng(3)  # the plain percentile bootstrap over resampled rows
    draws = [rng.integers(0, len(y), len(y)) for _ in range(40)]
    for fn, interval in zip(fns, shared, strict=True):
        stats = [fn(y[i], p[i]) for i in draws]
        plain = (np.quantile(stats, 0.025), np.quantile(stats, 0.975))
        assert interval == pytest.approx(plain, rel=1e-12)
    assert m.bootstrap_intervals(y, p, fns, n_boot=0, seed=3)[1] == pytest.approx(
        (np.nan, np.nan), nan_ok=True
    )


def test_subgroup_table_and_bootstrap(yp) -> None:
    y, p = yp
    groups = pd.DataFrame({"sex": np.where(np.arange(len(y)) % 2, "F", "M")})
    table = m.subgroup_table(y, p, groups, n_boot=30, min_rows=100, seed=0)
    assert list(table["group"]) == ["all", "F", "M"]
    assert table["n"].tolist() == [4000, 2000, 2000]
    overall = table.iloc[0]
    assert overall["auroc_lo"] < overall["auroc"] < overall["auroc_hi"]
    assert overall["gap"] == pytest.approx(y.mean() - p.mean())
    small = m.subgroup_table(y[:50], p[:50], groups[:50], n_boot=30, min_rows=100, seed=0)
    assert small["auroc_lo"].isna().all()  # too small for an interval
