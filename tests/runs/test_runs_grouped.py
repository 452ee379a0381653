"""Grouped statistics (issue 19, finding 1): one factorisation per slice gives exactly what the
old loop of full-array masks gave, to the last digit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.models import metrics
from riskstrat.runs import monitoring as mon
from riskstrat.slices import SLICES, assign_slices, code_positions, group_positions


def _frame(n: int, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "risk": rng.uniform(0.01, 0.4, n),
            "age": rng.integers(0, 100, n),
            "sex": rng.choice(["F", "M", "U"], n),
            "practice_code": rng.choice([f"P{k}" for k in range(12)], n),
        }
    )
    label = (rng.uniform(size=n) < frame["risk"]).astype(float)
    label[rng.uniform(size=n) < 0.1] = np.nan  # immature rows
    return frame.assign(label=label)


def _old_matured_performance(frame: pd.DataFrame) -> pd.DataFrame:
    """The loop this replaced: one full-array comparison per (slice, group)."""
    mature = frame[frame["label"].notna()]
    label = mature["label"].to_numpy(dtype=float)
    risk = mature["risk"].to_numpy(dtype=float)
    names = tuple(s.name for s in SLICES if s.column in mature.columns)
    groups = assign_slices(mature, names=names)
    rows = [mon._perf_row("overall", "all", label, risk)]
    for name in names:
        keys = groups[name].to_numpy()
        for group in sorted(set(keys)):
            mask = keys == group
            rows.append(mon._perf_row(name, group, label[mask], risk[mask]))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matured_performance_equals_the_masked_loop(seed: int) -> None:
    frame = _frame(5000, seed=seed)
    new, old = mon.matured_performance(frame), _old_matured_performance(frame)
    assert len(new) > 20
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_subgroup_table_equals_the_masked_loop() -> None:
    frame = _frame(3000, seed=5).dropna(subset=["label"])
    y, p = frame["label"].to_numpy(), frame["risk"].to_numpy()
    groups = assign_slices(frame, names=("age_band", "sex", "practice"))
    new = metrics.subgroup_table(y, p, groups, n_boot=20, min_rows=200, seed=3)
    rows = [metrics._group_row("overall", "all", y, p, n_boot=20, min_rows=200, seed=3)]
    for name in groups.columns:
        keys = groups[name].to_numpy()
        for group in sorted(set(keys)):
            mask = keys == group
            rows.append(
                metrics._group_row(name, group, y[mask], p[mask], n_boot=20, min_rows=200, seed=3)
            )
    pd.testing.assert_frame_equal(new, pd.DataFrame(rows), check_exact=True)


def test_group_positions_are_sorted_groups_of_ascending_rows() -> None:
    keys = np.array(["b", "a", "c", "a", "b", "a"], dtype=object)
    got = [(g, at.tolist()) for g, at in group_positions(keys)]
    assert got == [("a", [1, 3, 5]), ("b", [0, 4]), ("c", [2])]
    assert group_positions(np.array([], dtype=object)) == []


@pytest.mark.parametrize("seed", [0, 1])
def test_monitoring_auroc_is_sklearns_with_ties(seed: int) -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    risk = np.round(rng.uniform(0, 0.3, 4000), 2)  # many ties
    label = (rng.uniform(size=4000) < risk).astype(float)
    assert mon._auroc(label, risk) == pytest.approx(roc_auc_score(label, risk), abs=1e-12)
    assert mon._auroc(np.zeros(5), risk[:5]) is None


@pytest.mark.parametrize("seed", [3, 4])
def test_matured_performance_equals_the_masked_loop_with_ties_and_unknowns(seed: int) -> None:
    """Rounded risks (blocks of ties: the rank order within a group must be the row order, as a
    stable sort of the group alone gives) and missing slice inputs (the Unknown groups)."""
    frame = _frame(6000, seed=seed)
    rng = np.random.default_rng(seed)
    frame["risk"] = np.round(frame["risk"], 2)
    frame["ethnicity"] = rng.choice(["A", "B", None], len(frame))
    frame["ltc_count"] = rng.choice([0.0, 1.0, 5.0, np.nan], len(frame))
    frame.loc[rng.uniform(size=len(frame)) < 0.05, "age"] = np.nan
    new, old = mon.matured_performance(frame), _old_matured_performance(frame)
    assert {"Unknown"} <= set(new["group"])
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_matured_performance_with_nothing_mature() -> None:
    frame = _frame(50, seed=1).assign(label=np.nan)
    perf = mon.matured_performance(frame)
    assert perf[["slice", "group", "n", "events"]].to_dict("records") == [
        {"slice": "overall", "group": "all", "n": 0, "events": 0}
    ]


def test_code_positions_in_row_order_and_in_a_given_order() -> None:
    codes = np.array([1, 0, 1, 2, 0, 1])
    assert [p.tolist() for p in code_positions(codes, n_groups=3)] == [[1, 4], [0, 2, 5], [3]]
    order = np.array([5, 4, 3, 2, 1, 0])  # e.g. rows by descending risk
    ranked = code_positions(codes, n_groups=3, order=order)
    assert [p.tolist() for p in ranked] == [[4, 1], [5, 2, 0], [3]]
    assert code_positions(np.array([], dtype=np.int64), n_groups=0) == []
