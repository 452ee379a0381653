"""The oracle is right: within bins of its probability the simulated frequency matches (binomial
standard error), its AUROC lands in the intended range, and it is exact from the start date
(replicate simulations of the same population)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.synth.oracle import BAD_HORIZON, UNKNOWN_PATIENT, crisis_risk, readmission_risk

Z_LIMIT = 3.5  # per bin; 10 bins


def _binned_z(p: np.ndarray, y: np.ndarray, bins: int) -> np.ndarray:
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    z = []
    for b in range(bins):
        m = which == b
        mean = p[m].mean()
        z.append((y[m].mean() - mean) / np.sqrt(mean * (1 - mean) / m.sum()))
    return np.array(z)


def test_synth_crisis_oracle_calibrated_by_bins(synth_population):
    crisis = pd.read_parquet(synth_population[0] / "truth" / "crisis.parquet")
    for h in (90, 365):
        one = crisis[crisis["horizon_days"] == h]
        one = one[one["index_date"] == one["index_date"].max()]  # one date: independent rows
        z = _binned_z(one["p_admission"].to_numpy(), one["label"].to_numpy(), 10)
        assert np.all(np.abs(z) < Z_LIMIT), (h, z.round(2))
        z = _binned_z(one["p_admission_or_death"].to_numpy(), one["label_or_death"].to_numpy(), 10)
        assert np.all(np.abs(z) < Z_LIMIT), (h, "death", z.round(2))


def test_synth_readmission_oracle_calibrated_by_bins(synth_population):
    readm = pd.read_parquet(synth_population[0] / "truth" / "readmission.parquet")
    readm = readm[readm["mature"] & readm["eligible"]]
    z = _binned_z(readm["p_readmission"].to_numpy(), readm["label"].to_numpy(), 5)
    assert np.all(np.abs(z) < Z_LIMIT), z.round(2)


def test_synth_oracle_auroc_in_range(synth_population):
    oracle = synth_population[1].oracle
    assert 0.78 <= oracle["oracle_auroc_crisis_90d"] <= 0.90
    assert 0.70 <= oracle["oracle_auroc_readmission_30d"] <= 0.84


def test_synth_oracle_arbitrary_rows_match_precomputed(synth_population):
    truth = synth_population[0] / "truth"
    crisis = pd.read_parquet(truth / "crisis.parquet")
    rows = crisis[crisis["horizon_days"] == 90].sample(500, random_state=1)
    got = crisis_risk(truth, rows[["patient_id", "index_date"]], horizon_days=90)
    np.testing.assert_allclose(got, rows["p_admission"], rtol=1e-9)
    got = crisis_risk(truth, rows[["patient_id", "index_date"]], horizon_days=90, count_death=True)
    np.testing.assert_allclose(got, rows["p_admission_or_death"], rtol=1e-9)
    readm = pd.read_parquet(truth / "readmission.parquet").sample(300, random_state=2)
    got = readmission_risk(truth, readm[["index_spell_id"]])
    np.testing.assert_allclose(got, readm["p_readmission"], rtol=1e-9)


def test_synth_oracle_longer_window_never_lower(synth_population):
    truth = synth_population[0] / "truth"
    persons = pd.read_parquet(truth / "persons.parquet", columns=["patient_id"]).head(2000)
    index = persons.assign(index_date=pd.Timestamp("2024-06-03"))
    p30 = crisis_risk(truth, index, horizon_days=30)
    p90 = crisis_risk(truth, index, horizon_days=90)
    p90d = crisis_risk(truth, index, horizon_days=90, count_death=True)
    assert np.all(p30 <= p90 + 1e-12) and np.all(p90 <= p90d + 1e-12)
    assert np.all((p90 >= 0) & (p90d <= 1))


def test_synth_oracle_rejects_bad_input(synth_population):
    truth = synth_population[0] / "truth"
    index = pd.DataFrame({"patient_id": ["nobody"], "index_date": [pd.Timestamp("2024-01-01")]})
    with pytest.raises(KeyError) as err:
        crisis_risk(truth, index, horizon_days=90)
    assert UNKNOWN_PATIENT.format(count=1) in str(err.value)
    with pytest.raises(ValueError, match=BAD_HORIZON.format(value=0)):
        crisis_risk(truth, index, horizon_days=0)


def test_synth_oracle_exact_from_start_by_replication(tmp_path):
    """At the start date no history exists, so the oracle's probability is the same for any
    simulation seed: the mean outcome over replicate simulations must match it."""
    from datetime import date

    from riskstrat.synth.generate import STREAMS, synthesize
    from riskstrat.synth.hazard import Calendar
    from riskstrat.synth.params import World
    from riskstrat.synth.population import (
        make_people,
        make_practices,
        onset_events,
        planned_admissions,
    )
    from riskstrat.synth.simulate import EMERGENCY, simulate

    start, end, seed, n = date(2024, 1, 1), date(2024, 12, 29), 5, 8000
    synthesize(patients=n, practices=2, start=start, end=end, seed=seed, out_dir=tmp_path)
    persons = pd.read_parquet(tmp_path / "truth" / "persons.parquet")
    index = persons[["patient_id"]].assign(index_date=pd.Timestamp(start))
    p = crisis_risk(tmp_path / "truth", index, horizon_days=90)
    day0 = int(np.datetime64(start, "D").astype(np.int64))
    day1 = int(np.datetime64(end, "D").astype(np.int64))
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(STREAMS))]
    rng = dict(zip(STREAMS, rngs, strict=True))
    prac = make_practices(rng["practices"], patients=n, practices=2)
    pop = make_people(rng["people"], practices=prac, day0=day0, day1=day1)
    onsets = onset_events(pop, day0=day0)
    planned = planned_admissions(rng["planned"], pop, day0=day0, day1=day1)
    reps, hits = 8, 0
    for r in range(reps):
        hist = simulate(np.random.default_rng(1000 + r), pop, day0=day0, day1=day0 + 89,
                        onsets=onsets, planned=planned,
                        calendar=Calendar.of(World(), day0=day0, day1=day1))  # fmt: skip
        hits += np.unique(hist.person[hist.method == EMERGENCY]).size
    expected, se = p.sum() * reps, np.sqrt((p * (1 - p)).sum() * reps)
    assert abs(hits - expected) < 3.5 * se, (hits, expected, se)
