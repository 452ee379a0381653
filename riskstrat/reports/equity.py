"""Section 3 figures: risk and listing by group, listing relative to need, deprivation gradient.

Listing to need = (group's share of the people listed) / (group's share of expected
admissions). It is computed from the *published* listed counts (rounded, suppressed), so the
ratio and its interval tell nothing the count column does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from riskstrat.reports.frames import register_column, tidy, tidy_protected
from riskstrat.reports.intervals import poisson_ratio, z_value
from riskstrat.reports.population import EQUITY_SLICES, _derived, published, published_total
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.suppression import TOTAL, protect
from riskstrat.reports.tables import count_table, group_sums
from riskstrat.slices import slice_categories

SECTION = "equity"
#: IMD quintile labels in order, most deprived first (riskstrat.slices.imd_quintile).
QUINTILES = ("1 (most deprived)", "2", "3", "4", "5 (least deprived)")


def _listing_table(
    group_type: str,
    labels: pd.Series,
    cohort: pd.DataFrame,
    *,
    totals: tuple[float, float],
    config: ReportConfig,
    row_total: bool,
) -> list[dict[str, object]]:
    """People, listed, listing rate, expected admissions and listing to need per group.

    totals: (published number listed, expected admissions) of the whole population.
    """
    listed = cohort["listed"].astype(bool).to_numpy()
    risk = cohort["risk"].to_numpy(dtype=float)
    counts = count_table(labels, listed, columns=[True, False])
    counts.columns = ["listed", "not_listed"]
    table = protect(counts, rule=config.suppression, row_total=row_total)
    kinds = {"cell": group_type, "total": group_type}
    # `not_listed` is protected (it is the row's other cell) but not published: a third count
    # rounded on its own beside listed and people, with listed + not_listed = people, let an
    # attacker undo the rounding (the demo's report: 18 shown counts pinned to two values,
    # e.g. people on the dementia register 266-267 for 267; tests/reports/
    # test_reports_rounding_attack.py).
    rows = tidy_protected(
        table,
        section=SECTION,
        measures={"listed": "listed", TOTAL: "people"},
        group_types=kinds,
    )
    exp = group_sums(labels, {"sum": risk, "var": risk * (1 - risk)}, index=counts.index)
    known = pd.Series(labels).notna().to_numpy()
    exp.loc[TOTAL] = [risk[known].sum(), (risk * (1 - risk))[known].sum()]
    rows += _derived(SECTION, kinds, table, exp, config=config, people_col=TOTAL)
    total_listed, total_exp = totals
    for group in table.values.index:
        gt = kinds[table.kind[group]]
        k, n = published(table, group, "listed"), published(table, group, TOTAL)
        rate = k / n if np.isfinite(k) and n else np.nan
        rows.append(
            tidy(SECTION, "listing_rate", gt, group, rate, suppressed=not np.isfinite(rate))
        )
        need = total_listed * exp.at[group, "sum"] / total_exp if total_exp else np.nan
        ok = np.isfinite(k) and np.isfinite(need) and need > 0
        ratio, lo, hi = poisson_ratio(
            np.array([k if ok else 0.0]),
            np.array([need if ok else 1.0]),
            level=config.interval_level,
        )
        # The whole area's listing to need is 1 by definition (its listed count is the total
        # the need counts are scaled to): an interval around it (the demo: 0.84 to 1.19) reads
        # as uncertainty about something that is not estimated.
        whole = group == TOTAL
        rows.append(
            tidy(
                SECTION,
                "listing_to_need",
                gt,
                group,
                ratio[0],
                lower=np.nan if whole else lo[0],
                upper=np.nan if whole else hi[0],
                suppressed=not ok,
            )
        )
    return rows


def gradient(
    rows: list[dict[str, object]], *, totals: tuple[float, float], config: ReportConfig
) -> list[dict[str, object]]:
    """Test for trend in listing to need across IMD quintiles (Poisson regression of the
    published listed counts on quintile, offset by the count need predicts).

    Returns the per-quintile ratio (exp of the slope; > 1: less deprived listed more relative to
    need) with its interval, and the Wald p-value; nothing if any quintile is suppressed.
    """
    by = {
        (r["group"], r["measure"]): r
        for r in rows
        if r["dimension"] == "imd_quintile" and r["section"] == SECTION
    }
    k, need = [], []
    total_listed, total_exp = totals
    for q in QUINTILES:
        listed, expected = by.get((q, "listed")), by.get((q, "expected_admissions"))
        if listed is None or expected is None or listed["suppressed"] or not total_exp:
            return []
        k.append(float(listed["value"]))
        need.append(total_listed * float(expected["value"]) / total_exp)
    k_arr, e_arr = np.array(k), np.array(need)
    if not np.all(np.isfinite(e_arr)) or k_arr.sum() == 0:
        return []
    slope, se = poisson_trend(k_arr, e_arr)
    if not np.isfinite(se):
        return []
    z = z_value(config.interval_level)
    p_value = float(2 * stats.norm.sf(abs(slope / se))) if se > 0 else np.nan
    return [
        tidy(
            SECTION,
            "gradient_per_quintile",
            "imd_quintile",
            TOTAL,
            float(np.exp(slope)),
            lower=float(np.exp(slope - z * se)),
            upper=float(np.exp(slope + z * se)),
        ),
        tidy(SECTION, "gradient_p_value", "imd_quintile", TOTAL, p_value),
    ]


def poisson_trend(counts: np.ndarray, offsets: np.ndarray) -> tuple[float, float]:
    """Slope and its standard error of log(mu) = log(offset) + a + b x, x = 0..n-1 (IRLS).

    Groups with a zero offset carry no information and are dropped.
    """
    keep = offsets > 0
    y, off = counts[keep], np.log(offsets[keep])
    x = np.arange(len(counts), dtype=float)[keep]
    design = np.column_stack([np.ones_like(x), x])
    beta = np.array([np.log(max(y.sum(), 0.5) / np.exp(off).sum()), 0.0])
    info = np.eye(2)
    for _ in range(50):
        mu = np.exp(off + design @ beta)
        info = design.T @ (design * mu[:, None])
        step = np.linalg.solve(info, design.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return float(beta[1]), np.nan
    return float(beta[1]), float(np.sqrt(max(cov[1, 1], 0.0)))


def equity(cohort: pd.DataFrame, *, config: ReportConfig) -> list[dict[str, object]]:
    """Section 3: risk and listing by slice (from riskstrat.slices) and by key register."""
    slices = slice_categories(cohort, names=EQUITY_SLICES)
    listed = published_total(int(cohort["listed"].astype(bool).sum()), config=config)
    totals = (listed, float(cohort["risk"].sum()))
    rows: list[dict[str, object]] = []
    for name in EQUITY_SLICES:
        rows += _listing_table(
            name, slices[name], cohort, totals=totals, config=config, row_total=True
        )
    rows += gradient(rows, totals=totals, config=config)
    on_register = []
    for code in config.registers:
        col = register_column(code)
        flags = cohort[col].fillna(False).astype(bool) if col in cohort else None
        if flags is not None:
            on_register.append(cohort[flags].assign(_g=code))
    if on_register:
        stacked = pd.concat(on_register, ignore_index=True)
        rows += _listing_table(
            "register", stacked["_g"], stacked, totals=totals, config=config, row_total=False
        )
    return rows
