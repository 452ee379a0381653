"""An analyst's integer-programming attack on the rounding of the equity tables.

Counts other than 1-7 are rounded to the nearest 5, each on its own, so a shown 55 stands for
53-57. An attacker who knows that a slice table's groups add up to its total, that every slice
table counts the same people (one total listed, one total people) and, per group, that
listed + not listed = people, can intersect those intervals. With `not_listed` published as a
third independently rounded count, the demo's report of 2025-12-29 (its store and lists,
`narrowed` below) let the attack pin 18 shown counts to two values, each holding the truth:
people on the dementia register 266-267 (true 267) and listed 33-34 (33), atrial fibrillation
763-764 and 36-37, IMD quintile 3 5,661-5,662 and 8-9, ...; without it, 3 (total listed
113-114, women 51-52, men 61-62: sex's rounded parts, 50 + 60 + 0, fall 5 short of the rounded
total 115, which independent rounding allows). `not_listed` is therefore protected but not
published (riskstrat.reports.equity). Hidden cells are not at issue here (the LP attacker of
test_reports_suppression bounds them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reports_synthetic import inputs
from scipy.optimize import Bounds, LinearConstraint, milp

from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.frames import register_column
from riskstrat.reports.population import EQUITY_SLICES
from riskstrat.reports.settings import load_report_config
from riskstrat.reports.suppression import TOTAL, round_count
from riskstrat.slices import assign_slices

CONFIG = load_report_config()
RULE = CONFIG.suppression
BIG = 10**7
TABLES = (*EQUITY_SLICES, "register")


def _bounds(value: float, suppressed: bool) -> tuple[int, int]:
    """What a published cell tells the attacker: a hidden count is any (hidden by the rule or
    as a partner); a shown count its rounding interval, less 1-7 (those would be hidden)."""
    if suppressed:
        return 0, BIG
    v = int(value)
    if v == 0:
        return 0, 0
    half = RULE.rounding_base // 2
    return max(v - half, RULE.max_count + 1), v + half


def narrowed(frame: pd.DataFrame) -> list[tuple[str, str, str, int, int]]:
    """Shown counts of the slice and register tables whose feasible range holds fewer than 3
    values (the registers overlap, so they have no total: only their rows constrain)."""
    eq = frame[(frame.section == "equity") & frame.dimension.isin(TABLES)]
    measures = [m for m in ("listed", "not_listed", "people") if m in set(eq.measure)]
    index: dict[tuple[str, str, str], int] = {}
    lower, upper = [], []
    for r in eq[eq.measure.isin(measures)].itertuples(index=False):
        shared = r.group == TOTAL  # one total per measure, whichever table shows it
        key = ("*", TOTAL, r.measure) if shared else (r.dimension, r.group, r.measure)
        lo, hi = _bounds(r.value, r.suppressed)
        if key in index:  # the same total shown by several tables: intersect
            i = index[key]
            lower[i], upper[i] = max(lower[i], lo), min(upper[i], hi)
        else:
            index[key] = len(lower)
            lower.append(lo)
            upper.append(hi)

    def at(dim: str, group: str, measure: str) -> int:
        return index[("*", TOTAL, measure) if group == TOTAL else (dim, group, measure)]

    rows = []
    for dim in TABLES:
        groups = [g for g in dict.fromkeys(eq[eq.dimension == dim].group) if g != TOTAL]
        totals = [TOTAL] if dim in EQUITY_SLICES else []
        for measure in measures if totals else []:  # the groups add up to the total
            row = np.zeros(len(lower))
            row[[at(dim, g, measure) for g in groups]] = 1
            row[at(dim, TOTAL, measure)] -= 1
            rows.append(row)
        if "not_listed" in measures:  # listed + not listed = people, per group and total
            for g in [*groups, *totals]:
                row = np.zeros(len(lower))
                row[[at(dim, g, "listed"), at(dim, g, "not_listed")]] = 1
                row[at(dim, g, "people")] = -1
                rows.append(row)
    constraint = LinearConstraint(np.array(rows), 0, 0)
    bounds = Bounds(np.array(lower, float), np.array(upper, float))
    whole = np.ones(len(lower))
    out = []
    for key, i in index.items():
        if upper[i] - lower[i] < 2 or upper[i] >= BIG:
            continue  # hidden or already exact (0)
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(lower))
            c[i] = sign
            res = milp(c, constraints=constraint, integrality=whole, bounds=bounds)
            assert res.success, "the published figures must be consistent"
            ends.append(round(sign * res.fun))
        if ends[1] - ends[0] < 2:
            out.append((*key, ends[0], ends[1]))
    return out


def with_complement(agg: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """The same aggregates with `not_listed` published as before (rounded on its own, hidden
    where listed is)."""
    slices = assign_slices(cohort, names=EQUITY_SLICES)
    off = ~cohort["listed"].astype(bool)
    extra = []
    for dim in TABLES:
        if dim == "register":
            codes = sorted(set(agg.query("dimension == 'register'")["group"]))
            not_listed = pd.Series(
                {c: int((off & cohort[register_column(c)].fillna(False).astype(bool)).sum())
                 for c in codes}
            )  # fmt: skip
        else:
            not_listed = off.groupby(slices[dim].to_numpy()).sum()
            not_listed.loc[TOTAL] = int(off.sum())
        for group, n in not_listed.items():
            hidden = bool(
                agg.query("section == 'equity' and dimension == @dim and group == @group "
                          "and measure == 'listed'")["suppressed"].iloc[0]
            )  # fmt: skip
            value = np.nan if hidden else float(round_count(int(n), RULE.rounding_base))
            extra.append(("equity", dim, str(group), "not_listed", value, hidden))
    cols = ["section", "dimension", "group", "measure", "value", "suppressed"]
    return pd.concat([agg[cols], pd.DataFrame(extra, columns=cols)], ignore_index=True)


@pytest.fixture(scope="module")
def case() -> tuple[pd.DataFrame, pd.DataFrame]:
    args = inputs()
    return args["cohort"], build_aggregates(**args, config=CONFIG)


def test_equity_tables_publish_listed_and_people_only(case) -> None:
    _, agg = case
    counts = agg[(agg.section == "equity") & ~agg.measure.isin(
        ["expected_admissions", "expected_per_1000", "listing_rate", "listing_to_need",
         "gradient_per_quintile", "gradient_p_value"])]  # fmt: skip
    assert set(counts["measure"]) == {"listed", "people"}


def test_complement_let_the_rounding_be_undone(case) -> None:
    """The attack is real: with the complement published it pins more shown counts to two
    values than without it."""
    cohort, agg = case
    now = narrowed(agg)
    before = narrowed(with_complement(agg, cohort))
    assert len(before) > len(now), (before, now)
    truth = assign_slices(cohort, names=EQUITY_SLICES)
    for dim, group, measure, lo, hi in before:  # and it pins the truth
        if measure == "not_listed" or group == TOTAL:
            continue
        if dim == "register":
            part = cohort[cohort[register_column(group)].fillna(False).astype(bool)]
        else:
            part = cohort[truth[dim].to_numpy() == group]
        n = len(part) if measure == "people" else int(part["listed"].sum())
        assert lo <= n <= hi
