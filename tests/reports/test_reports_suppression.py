"""Suppression: the NHS rule, and an attacker who must fail to recover any suppressed cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from riskstrat.reports.settings import Suppression
from riskstrat.reports.suppression import (
    GROUPS_NOT_PARTITION,
    NEGATIVE_COUNT,
    TOTAL,
    protect,
    round_count,
    suppressed_rate,
)

NHS = Suppression()
EXACT = Suppression(rounding_base=1)  # no rounding: secondary suppression alone must protect


def attack(values: pd.DataFrame, kind: pd.Series, groups: dict | None, rule: Suppression):
    """Bounds on every suppressed cell from the published table alone (independent of the code).

    The attacker knows the rule: a shown value v stands for counts that round to v and are not
    in min..max; a `*` is any count >= 0; every margin is the sum of its parts.
    """
    shown = values.to_numpy(dtype=float)
    n_rows, n_cols = shown.shape
    labels = list(values.index)
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols)]
    bounds = []
    for i, j in cells:
        v = shown[i, j]
        if np.isnan(v):
            bounds.append((0, None))
            continue
        cand = np.arange(max(0, v - rule.rounding_base), v + rule.rounding_base + 1)
        ok = cand[(round_count(cand, rule.rounding_base) == v)
                  & ~((cand >= rule.min_count) & (cand <= rule.max_count))]  # fmt: skip
        bounds.append((ok.min(), ok.max()))
    eqs = []
    data_cols = range(n_cols - 1) if values.columns[-1] == TOTAL else None
    if data_cols is not None:
        for i in range(n_rows):
            eqs.append({(i, j): 1 for j in data_cols} | {(i, n_cols - 1): -1})
    top = [labels.index(g) for g in groups] if groups else [
        i for i, k in enumerate(kind) if k == "cell"]  # fmt: skip
    for j in range(n_cols):
        for g, members in (groups or {}).items():
            eqs.append({(labels.index(m), j): 1 for m in members} | {(labels.index(g), j): -1})
        if TOTAL in labels:
            eqs.append({(i, j): 1 for i in top} | {(labels.index(TOTAL), j): -1})
    a = np.zeros((len(eqs), len(cells)))
    for k, eq in enumerate(eqs):
        for (i, j), coef in eq.items():
            a[k, i * n_cols + j] = coef
    out = {}
    for i, j in zip(*np.nonzero(np.isnan(shown)), strict=True):
        ends = []
        for sign in (1, -1):
            c = np.zeros(len(cells))
            c[i * n_cols + j] = sign
            res = linprog(c, A_eq=a, b_eq=np.zeros(len(eqs)), bounds=bounds, method="highs")
            assert res.status in (0, 3)  # 3: unbounded, the cell has no upper bound at all
            ends.append(sign * res.fun if res.status == 0 else np.inf)
        out[(labels[i], values.columns[j])] = (ends[0], ends[1])
    return out


def assert_unrecoverable(counts, rule, groups=None, **kw) -> None:
    table = protect(counts, rule=rule, row_groups=groups, **kw)
    ranges = attack(table.values, table.kind, groups, rule)
    for cell, (lo, hi) in ranges.items():
        assert np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) >= 1, f"{cell} recovered: {lo}..{hi}"


def test_primary_rule_and_rounding_word_for_word() -> None:
    counts = pd.DataFrame({"a": [0, 1, 7, 8, 12, 13], "b": [100] * 6},
                          index=list("uvwxyz"))  # fmt: skip
    table = protect(counts, rule=NHS)
    shown = table.values["a"]
    assert shown["u"] == 0 and np.isnan(shown["v"]) and np.isnan(shown["w"])
    assert shown["x"] == 10 and shown["y"] == 10 and shown["z"] == 15
    assert table.values.at[TOTAL, "b"] == 600 and table.values.at["u", TOTAL] == 100
    assert table.kind[TOTAL] == "total"
    with pytest.raises(ValueError) as err:
        protect(counts.assign(a=-1), rule=NHS)
    assert str(err.value) == NEGATIVE_COUNT.format(value=-1.0)
    with pytest.raises(ValueError) as err:
        protect(counts, rule=NHS, row_groups={"G": ["u", "v"]})
    assert str(err.value) == GROUPS_NOT_PARTITION.format(rows=["w", "x", "y", "z"])


def test_single_suppressed_cell_gets_a_partner_in_row_and_column() -> None:
    counts = pd.DataFrame({"a": [3, 40, 50], "b": [20, 30, 60], "c": [12, 22, 100]},
                          index=["x", "y", "z"])  # fmt: skip
    table = protect(counts, rule=EXACT)
    mask = table.suppressed
    for label in mask.index:
        assert mask.loc[label].sum() != 1
    for col in mask.columns:
        assert mask[col].sum() != 1
    assert mask.at["x", "c"]  # next smallest in row x is 12
    assert_unrecoverable(counts, EXACT)


def test_without_secondary_suppression_the_attack_succeeds() -> None:
    """The attacker is real: a table with only primary suppression is broken by it."""
    counts = pd.DataFrame({"a": [3, 40], "b": [20, 30]}, index=["x", "y"])
    values = counts.astype(float).copy()
    values["Total"] = counts.sum(axis=1)
    values.loc[TOTAL] = values.sum()
    values.at["x", "a"] = np.nan
    ranges = attack(values, pd.Series(["cell", "cell", "total"], index=values.index), None, EXACT)
    assert ranges[("x", "a")] == pytest.approx((3, 3))


def test_hierarchy_subtotals_protected() -> None:
    counts = pd.DataFrame({"a": [5, 90, 80, 70], "b": [60, 55, 3, 40]},
                          index=["p1", "p2", "p3", "p4"])  # fmt: skip
    groups = {"N": ["p1", "p2"], "S": ["p3", "p4"]}
    for rule in (NHS, EXACT):
        assert_unrecoverable(counts, rule, groups)


def test_rates_from_suppressed_counts_are_hidden() -> None:
    rate, hidden = suppressed_rate(pd.Series([3, 50]), pd.Series([100, 200]),
                                   pd.Series([True, False]))  # fmt: skip
    assert np.isnan(rate[0]) and rate[1] == 0.25 and hidden.tolist() == [True, False]


counts_strategy = st.integers(2, 5).flatmap(
    lambda rows: st.integers(2, 4).flatmap(
        lambda cols: st.lists(
            st.lists(st.one_of(st.integers(0, 9), st.integers(0, 60)), min_size=cols,
                     max_size=cols),
            min_size=rows, max_size=rows)))  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=counts_strategy, exact=st.booleans(), grouped=st.booleans())
def test_property_no_suppressed_cell_recoverable(cells, exact, grouped) -> None:
    counts = pd.DataFrame(cells, index=[f"r{i}" for i in range(len(cells))],
                          columns=[f"c{j}" for j in range(len(cells[0]))])  # fmt: skip
    rows = list(counts.index)
    groups = {"G1": rows[: len(rows) // 2 or 1], "G2": rows[len(rows) // 2 or 1 :]}
    groups = {g: m for g, m in groups.items() if m} if grouped else None
    rule = EXACT if exact else NHS
    table = protect(counts, rule=rule, row_groups=groups)
    true = counts.to_numpy()
    # primary rule: every count in 1..7 is hidden, every shown count is rounded
    assert not np.any((true >= 1) & (true <= 7) & ~table.suppressed.loc[rows, counts.columns])
    shown = table.values.to_numpy()
    assert np.all(np.isnan(shown) | (shown % rule.rounding_base == 0))
    assert_unrecoverable(counts, rule, groups)


@pytest.mark.parametrize("rule", [NHS, EXACT], ids=["nhs", "exact"])
def test_many_small_practices_protected(rule: Suppression) -> None:
    """The Synthea shape: about one person per practice, most cells 0 or 1, PCN subtotals."""
    rng = np.random.default_rng(7)
    codes = [f"P{i:03d}" for i in range(40)]
    counts = pd.DataFrame(0, index=codes, columns=["a", "b", "c"])
    for k in range(44):
        counts.iloc[k % 40, rng.choice(3, p=[0.05, 0.25, 0.7])] += 1
    groups = {f"N{g}": codes[g::5] for g in range(5)}
    assert_unrecoverable(counts, rule, groups)


def test_outreach_shaped_table_protected() -> None:
    """Many outcome columns, mostly zero: each hidden cell still has room to move."""
    rng = np.random.default_rng(8)
    codes = [f"P{i:03d}" for i in range(25)]
    counts = pd.DataFrame(rng.poisson(0.6, size=(25, 6)), index=codes,
                          columns=[f"o{j}" for j in range(6)])  # fmt: skip
    counts.iloc[:3] = rng.integers(10, 40, size=(3, 6))
    groups = {f"N{g}": codes[g::4] for g in range(4)}
    assert_unrecoverable(counts, NHS, groups)
