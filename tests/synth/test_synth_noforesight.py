"""The no-foresight oracle: the true hazard with the schedules redrawn by Monte Carlo.

It is a probability under the generator's own laws, so it must be calibrated against the
simulated outcomes (within deciles), agree with the full oracle on the expected number of events,
and rank worse than the full oracle (it does not know the schedules)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.models.metrics import auroc
from riskstrat.synth.noforesight import BAD_DRAWS, crisis_risk_no_foresight
from riskstrat.synth.oracle import MISSING_INDEX_COLUMN, crisis_risk


@pytest.fixture(scope="module")
def latest(synth_population):
    truth = synth_population[0] / "truth"
    c = pd.read_parquet(truth / "crisis.parquet")
    c = c[(c["index_date"] == c["index_date"].max()) & (c["horizon_days"] == 90)]
    c = c.reset_index(drop=True)
    nf, se = crisis_risk_no_foresight(truth, c, horizon_days=90, draws=10, seed=3)
    return truth, c, nf, se


def test_no_foresight_oracle_is_calibrated_against_outcomes(latest):
    _, c, nf, _ = latest
    y = c["label"].to_numpy(float)
    bins = pd.qcut(nf, 10, labels=False, duplicates="drop")
    for b in np.unique(bins):
        m = bins == b
        expected, sd = nf[m].sum(), np.sqrt((nf[m] * (1 - nf[m])).sum())
        assert abs(y[m].sum() - expected) < 3.5 * sd, (b, y[m].sum(), expected, sd)


def test_no_foresight_agrees_on_volume_and_ranks_below_the_full_oracle(latest):
    truth, c, nf, se = latest
    full = crisis_risk(truth, c, horizon_days=90)
    y = c["label"].to_numpy(float)
    assert abs(nf.sum() - full.sum()) < 0.03 * full.sum()
    assert auroc(y, nf) < auroc(y, full)
    assert np.all(se >= 0) and se.mean() < 0.005
    assert np.all((nf >= 0) & (nf <= 1))


def test_no_foresight_is_seeded_and_checks_its_arguments(latest):
    truth, c, *_ = latest
    again, _ = crisis_risk_no_foresight(truth, c.head(500), horizon_days=90, draws=10, seed=3)
    other, _ = crisis_risk_no_foresight(truth, c.head(500), horizon_days=90, draws=10, seed=4)
    assert np.array_equal(again, crisis_risk_no_foresight(
        truth, c.head(500), horizon_days=90, draws=10, seed=3)[0])  # fmt: skip
    assert not np.array_equal(again, other)
    with pytest.raises(ValueError, match=BAD_DRAWS.format(value=1)):
        crisis_risk_no_foresight(truth, c, horizon_days=90, draws=1)
    with pytest.raises(KeyError, match=MISSING_INDEX_COLUMN.format(column="index_date")):
        crisis_risk_no_foresight(truth, c[["patient_id"]], horizon_days=90)


def test_no_foresight_readmission_is_calibrated_and_below_the_full_oracle(synth_population):
    from riskstrat.synth.noforesight import readmission_risk_no_foresight

    truth = synth_population[0] / "truth"
    r = pd.read_parquet(truth / "readmission.parquet")
    r = r[r["eligible"] & r["mature"]].reset_index(drop=True)
    nf, se = readmission_risk_no_foresight(truth, r, draws=10, seed=2)
    y = r["label"].to_numpy(float)
    bins = pd.qcut(nf, 5, labels=False, duplicates="drop")
    for b in np.unique(bins):
        m = bins == b
        expected, sd = nf[m].sum(), np.sqrt((nf[m] * (1 - nf[m])).sum())
        assert abs(y[m].sum() - expected) < 3.5 * sd, (b, y[m].sum(), expected, sd)
    full = r["p_readmission"].to_numpy()
    assert abs(nf.sum() - full.sum()) < 0.03 * full.sum()
    assert auroc(y, nf) <= auroc(y, full) + 0.002 and se.mean() < 0.01
