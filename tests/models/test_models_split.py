"""Split rules: relative to the extract, label windows never overlap, patients disjoint."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from riskstrat.models.config import SplitRules
from riskstrat.models.split import (
    NO_TRAINING_PERIOD,
    as_of_grid,
    assign_split,
    cap_rows,
    patient_unit,
    periods,
)

START, END = date(2023, 1, 2), date(2025, 12, 28)


def test_crisis_periods_and_grid() -> None:
    rules = SplitRules(calibration_days=56, step_days=28)
    p = periods(start=START, end=END, horizon_days=90, rules=rules, kind="crisis")
    assert p.test == (END - timedelta(days=89), END - timedelta(days=89))
    # the test's label window [T, T + 89] ends exactly on the extract date
    assert p.test[1] + timedelta(days=89) == END
    # calibration labels end before the test window starts; training labels before calibration's
    assert p.calib[1] + timedelta(days=89) < p.test[0]
    assert p.train[1] + timedelta(days=89) < p.calib[0]
    assert p.train[0] == START + timedelta(days=365)
    grid = as_of_grid(p, step_days=28)
    assert grid["test"] == [p.test[1]]
    assert all(p.calib[0] <= d <= p.calib[1] for d in grid["calib"]) and grid["calib"]
    assert all(d <= p.train[1] for d in grid["train"]) and len(grid["train"]) >= 10
    assert all((b - a).days == 28 for a, b in zip(grid["train"], grid["train"][1:], strict=False))


def test_readmission_periods_shift_with_the_extract() -> None:
    rules = SplitRules(test_days=182, calibration_days=182)
    p1 = periods(start=START, end=END, horizon_days=30, rules=rules, kind="discharge")
    p2 = periods(
        start=START + timedelta(days=7),
        end=END + timedelta(days=7),
        horizon_days=30,
        rules=rules,
        kind="discharge",
    )
    assert (p1.test[1] - p1.test[0]).days == 181
    assert p2.test[1] - p1.test[1] == timedelta(days=7)
    assert p1.calib[1] + timedelta(days=29) < p1.test[0]


def test_too_short_extract_is_refused() -> None:
    with pytest.raises(ValueError) as err:
        periods(
            start=date(2025, 1, 1), end=END, horizon_days=365, rules=SplitRules(), kind="crisis"
        )
    assert str(err.value).startswith(NO_TRAINING_PERIOD.split("{")[0])


def test_assign_split_is_patient_disjoint_and_deterministic() -> None:
    rules = SplitRules(calibration_days=56)
    p = periods(start=START, end=END, horizon_days=90, rules=rules, kind="crisis")
    grid = as_of_grid(p, step_days=28)
    dates = [d for v in grid.values() for d in v]
    ids = [f"P{i}" for i in range(3000)]
    index = pd.DataFrame(
        [(i, pd.Timestamp(d)) for d in dates for i in ids], columns=["patient_id", "index_date"]
    )
    split = assign_split(index, p=p, rules=rules, seed=7)
    by = {s: set(index.loc[split == s, "patient_id"]) for s in ("train", "valid", "calib", "test")}
    assert by["test"].isdisjoint(by["train"] | by["valid"] | by["calib"])
    assert by["valid"].isdisjoint(by["calib"])
    assert len(by["test"]) / len(ids) == pytest.approx(0.4, abs=0.04)
    assert split.equals(assign_split(index, p=p, rules=rules, seed=7))
    assert not split.equals(assign_split(index, p=p, rules=rules, seed=8))
    capped = cap_rows(split, name="train", max_rows=1000, seed=1)
    assert (capped == "train").sum() == 1000
    assert ((capped != split) & (capped != "")).sum() == 0


def test_patient_unit_is_stable() -> None:
    ids = pd.Series(["a", "b", "a"])
    u = patient_unit(ids, seed=1)
    assert u[0] == u[2] and u.min() >= 0 and u.max() < 1
    np.testing.assert_array_equal(u, patient_unit(ids, seed=1))
