"""Section 5 (and the funnel of section 2): did the predictions made one horizon ago come true?

Input: the matured frame (riskstrat.reports.frames.MATURED_COLUMNS): the risks scored at the
matured as-of date and each person's label over the following horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.reports.frames import tidy, tidy_protected
from riskstrat.reports.intervals import auroc_interval, funnel_limits, poisson_ratio
from riskstrat.reports.population import EQUITY_SLICES, practice_groups
from riskstrat.reports.rates import GEO_TYPES
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.suppression import TOTAL, Protected, protect
from riskstrat.reports.tables import calibration_slope, count_table, group_sums, sorted_auroc
from riskstrat.slices import code_positions, slice_categories

SECTION = "performance"
DECILES = 10


def _event_table(
    labels: pd.Series,
    y: np.ndarray,
    risk: np.ndarray,
    *,
    config: ReportConfig,
    index: list[str] | None,
    groups: dict[str, list[str]] | None = None,
) -> tuple[Protected, pd.DataFrame]:
    """Admitted / not admitted per group, protected; and the true counts and expected sums.

    labels: each row's group (categorical labels count fastest); y: label (1/0); risk."""
    # y as a categorical of its two labels: counted by its codes, not hashed (7 tables of 880k)
    outcome = pd.Categorical.from_codes(y, categories=[0, 1])
    counts = count_table(labels, outcome, index=index, columns=[1, 0])
    counts.columns = ["admitted", "not_admitted"]
    table = protect(counts, rule=config.suppression, row_groups=groups)
    true = pd.DataFrame(
        {
            "observed": counts["admitted"],
            "people": counts.sum(axis=1),
            "expected": group_sums(labels, {"e": risk}, index=counts.index)["e"],
        }
    )
    for group, members in (groups or {}).items():
        true.loc[group] = true.loc[members].sum()
    true.loc[TOTAL] = [counts["admitted"].sum(), len(y), risk.sum()]
    return table, true


def _ratio_rows(
    table: Protected,
    true: pd.DataFrame,
    kinds: dict[str, str],
    *,
    config: ReportConfig,
    funnel: bool,
) -> list[dict[str, object]]:
    """Observed/expected with its exact interval; for the funnel also the control limits.

    Both use the published (rounded) admitted count: the ratio must not recover the true one.
    """
    groups = list(table.values.index)
    hidden = table.suppressed["admitted"].to_numpy()
    o = np.where(hidden, 0.0, table.values["admitted"].to_numpy(dtype=float))
    e = true["expected"].reindex(groups).to_numpy(dtype=float)
    safe = np.where(e > 0, e, 1.0)
    ratio, lo, hi = poisson_ratio(o, safe, level=config.interval_level)
    limits = {lv: funnel_limits(safe, level=lv) for lv in config.funnel_limits} if funnel else {}
    rows = []
    for k, group in enumerate(groups):
        gt = kinds[table.kind[group]]
        rows.append(
            tidy(SECTION, "expected_admissions", gt, group, e[k],
                 suppressed=bool(table.suppressed.at[group, TOTAL]))
        )  # fmt: skip
        rows.append(
            tidy(SECTION, "observed_to_expected", gt, group, ratio[k], lower=lo[k], upper=hi[k],
                 suppressed=bool(hidden[k]) or e[k] <= 0)
        )  # fmt: skip
        if e[k] <= 0:
            continue
        for level, (flo, fhi) in limits.items():
            flag = float(o[k] > fhi[k]) - float(o[k] < flo[k])
            rows.append(
                tidy(SECTION, f"funnel_{level:g}", gt, group, flag, lower=flo[k] / e[k],
                     upper=fhi[k] / e[k], suppressed=bool(hidden[k]))
            )  # fmt: skip
    return rows


def _discrimination(
    y: np.ndarray, p: np.ndarray, gt: str, group: str, hidden: bool, *, config: ReportConfig
) -> list[dict[str, object]]:
    """AUROC (interval) and Brier score of rows sorted by risk."""
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0:
        return []
    auc = sorted_auroc(y, p)
    lo, hi = auroc_interval(auc, positives=pos, negatives=neg, level=config.interval_level)
    rows = [tidy(SECTION, "auroc", gt, group, auc, lower=lo, upper=hi, suppressed=hidden)]
    rows.append(tidy(SECTION, "brier", gt, group, float(np.mean((p - y) ** 2)), suppressed=hidden))
    return rows


def performance(
    matured: pd.DataFrame, practices: pd.DataFrame, *, config: ReportConfig
) -> list[dict[str, object]]:
    """Discrimination, calibration (overall, by decile, by slice) and the practice funnel."""
    rows: list[dict[str, object]] = []
    if matured.empty:
        return rows
    groups = practice_groups(practices)
    codes = [c for cs in groups.values() for c in cs]
    y_all = matured["label"].astype(int).to_numpy()
    p_all = matured["risk"].to_numpy(dtype=float)
    table, true = _event_table(
        matured["practice_code"].astype("category"), y_all, p_all, config=config, index=codes,
        groups=groups,
    )  # fmt: skip
    rows += tidy_protected(
        table,
        section=SECTION,
        measures={"admitted": "admitted", TOTAL: "people"},
        group_types=GEO_TYPES,
    )
    rows += _ratio_rows(table, true, GEO_TYPES, config=config, funnel=True)
    hidden_total = bool(table.suppressed.at[TOTAL, "admitted"])
    order = np.argsort(p_all, kind="stable")  # rank, ties in row order (as rank "first")
    y_sorted, p_sorted = y_all[order], p_all[order]
    rows += _discrimination(y_sorted, p_sorted, "ics", TOTAL, hidden_total, config=config)
    rows.append(
        tidy(
            SECTION,
            "calibration_slope",
            "ics",
            TOTAL,
            calibration_slope(y_all, p_all),
            suppressed=hidden_total,
        )
    )
    names = [f"{d:02d}" for d in range(1, DECILES + 1)]
    decile = np.empty(len(p_all), dtype=int)
    decile[order] = np.arange(len(p_all)) * DECILES // len(p_all)
    dtable, dtrue = _event_table(
        pd.Series(pd.Categorical.from_codes(decile, categories=names)), y_all, p_all,
        config=config, index=names,
    )  # fmt: skip
    kinds = {"cell": "risk_decile", "total": "ics"}
    for group in names:
        n = float(dtable.values.at[group, TOTAL])  # published counts only
        o = float(dtable.values.at[group, "admitted"])
        rate = o / n if n and np.isfinite(n) and np.isfinite(o) else np.nan
        rows.append(
            tidy(
                SECTION,
                "observed_rate",
                "risk_decile",
                group,
                rate,
                suppressed=not np.isfinite(rate),
            )
        )
        mean = dtrue.at[group, "expected"] / n if n and np.isfinite(n) else np.nan
        rows.append(
            tidy(SECTION, "mean_risk", "risk_decile", group, mean, suppressed=not np.isfinite(mean))
        )
    slices = slice_categories(matured, names=EQUITY_SLICES)
    for name in EQUITY_SLICES:
        stable, strue = _event_table(slices[name], y_all, p_all, config=config, index=None)
        kinds = {"cell": name, "total": name}
        rows += tidy_protected(
            stable,
            section=SECTION,
            measures={"admitted": "admitted", TOTAL: "people"},
            group_types=kinds,
        )
        rows += _ratio_rows(stable, strue, kinds, config=config, funnel=False)
        codes, uniques = pd.factorize(slices[name], sort=True)
        # each group's rows in risk order (ties in row order), from one sort of the codes
        # (as int16: NumPy's stable sort of small integers is a radix sort, ~7x an int64 sort)
        small = codes.astype(np.int16) if len(uniques) <= np.iinfo(np.int16).max else codes
        ranked = code_positions(small, n_groups=len(uniques), order=order)
        for group, at in zip(uniques, ranked, strict=True):
            hidden = bool(
                stable.suppressed.at[str(group), "admitted"]
                or stable.suppressed.at[str(group), "not_admitted"]
            )
            rows += _discrimination(y_all[at], p_all[at], name, str(group), hidden, config=config)
    return rows
