"""Sections on the population at the as-of date: pyramid, geography, equity, activity, outreach,
trend. Pure functions over the frames in riskstrat.reports.frames; they return tidy rows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskstrat.registry.contract import OUTREACH_OUTCOMES
from riskstrat.reports.frames import (
    PRACTICE_UNKNOWN,
    register_column,
    tidy,
    tidy_protected,
)
from riskstrat.reports.intervals import (
    expected_bed_days,
    expected_count,
    poisson_ratio,
    z_value,
)
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.suppression import TOTAL, Protected, protect
from riskstrat.slices import assign_slices

#: Slices shown in the equity section (practice has its own section).
EQUITY_SLICES = ("imd_quintile", "ethnicity", "age_band", "sex", "ltc_count")
GEO_TYPES = {"cell": "practice", "subtotal": "pcn", "total": "ics"}


def assign_bands(risk: pd.Series, order_key: pd.Series, *, config: ReportConfig) -> pd.Series:
    """Pyramid band of each row by rank of risk (ties broken by `order_key`, so stable)."""
    n = len(risk)
    order = pd.DataFrame({"r": -risk.to_numpy(dtype=float), "k": order_key.to_numpy()})
    pos = np.empty(n, dtype=int)
    pos[order.sort_values(["r", "k"], kind="stable").index.to_numpy()] = np.arange(n)
    cuts = [int(np.floor(b.top_share * n + 0.5)) for b in config.pyramid]
    cuts[-1] = n
    band = np.searchsorted(np.array(cuts), pos, side="right")
    names = np.array([b.name for b in config.pyramid])
    return pd.Series(names[band], index=risk.index)


def headline(cohort: pd.DataFrame, *, as_of: date, config: ReportConfig) -> dict[str, object]:
    """The week's headline figures (kept for the trend): people, expected admissions, threshold."""
    bands = assign_bands(cohort["risk"], cohort["patient_id"], config=config)
    top = cohort["risk"][bands == config.pyramid[0].name]
    mean, lo, hi = expected_count(cohort["risk"].to_numpy(), level=config.interval_level)
    return {
        "as_of": pd.Timestamp(as_of),
        "population": len(cohort),
        "expected_admissions": mean,
        "expected_lower": lo,
        "expected_upper": hi,
        "case_management_threshold": float(top.min()) if len(top) else np.nan,
    }


def practice_groups(practices: pd.DataFrame) -> dict[str, list[str]]:
    """PCN code -> its practice codes (sorted): the geography hierarchy of every table."""
    ordered = practices.sort_values(["pcn_code", "practice_code"])
    return {
        str(pcn): [str(c) for c in g["practice_code"]]
        for pcn, g in ordered.groupby("pcn_code", sort=True)
    }


def _check_practices(frame: pd.DataFrame, practices: pd.DataFrame, *, name: str) -> None:
    unknown = sorted(set(frame["practice_code"].astype(str)) - set(practices["practice_code"]))
    if unknown:
        raise ValueError(PRACTICE_UNKNOWN.format(frame=name, codes=unknown[:10]))


def _geo_sums(frame: pd.DataFrame, groups: dict[str, list[str]], column: str) -> pd.DataFrame:
    """Per practice, PCN and ICS: sum of `column`, sum of its p(1-p), and mean."""
    by = frame.groupby(frame["practice_code"].astype(str))[column]
    practice = pd.DataFrame({"sum": by.sum(), "var": by.agg(lambda p: float((p * (1 - p)).sum()))})
    rows = {}
    for pcn, codes in groups.items():
        rows[pcn] = practice.reindex(codes).fillna(0).sum()
        for code in codes:
            rows[code] = practice.reindex([code]).fillna(0).iloc[0]
    rows[TOTAL] = practice.sum()
    return pd.DataFrame(rows).T


def _derived(
    section: str,
    group_type: dict[str, str] | str,
    table: Protected,
    sums: pd.DataFrame,
    people: pd.Series,
    *,
    config: ReportConfig,
    people_col: str,
) -> list[dict[str, object]]:
    """Mean risk and expected admissions per row, hidden wherever the people count is."""
    z = z_value(config.interval_level)
    out = []
    for group in table.values.index:
        gt = group_type if isinstance(group_type, str) else group_type[table.kind[group]]
        hidden = bool(table.suppressed.at[group, people_col])
        n = float(people.get(group, 0))
        total, var = float(sums.at[group, "sum"]), float(sums.at[group, "var"])
        half = z * np.sqrt(var)
        out.append(
            tidy(
                section,
                "expected_admissions",
                gt,
                group,
                total,
                suppressed=hidden,
                lower=max(0.0, total - half),
                upper=total + half,
            )
        )
        out.append(
            tidy(section, "mean_risk", gt, group, total / n if n else np.nan, suppressed=hidden)
        )
    return out


def pyramid_and_geography(
    cohort: pd.DataFrame, practices: pd.DataFrame, *, config: ReportConfig
) -> list[dict[str, object]]:
    """Sections 1-2: people per band by practice, PCN and ICS, with expected admissions."""
    _check_practices(cohort, practices, name="cohort")
    groups = practice_groups(practices)
    bands = assign_bands(cohort["risk"], cohort["patient_id"], config=config)
    names = [b.name for b in config.pyramid]
    codes = [c for cs in groups.values() for c in cs]
    counts = (
        pd.crosstab(cohort["practice_code"].astype(str), bands)
        .reindex(index=codes, columns=names)
        .fillna(0)
        .astype(int)
    )
    table = protect(counts, rule=config.suppression, row_groups=groups)
    measures = {name: f"people_{name}" for name in names} | {TOTAL: "people"}
    rows = tidy_protected(table, section="geography", measures=measures, group_types=GEO_TYPES)
    true_people = counts.sum(axis=1)
    for pcn, cs in groups.items():
        true_people[pcn] = true_people[cs].sum()
    true_people[TOTAL] = len(cohort)
    sums = _geo_sums(cohort, groups, "risk")
    rows += _derived(
        "geography", GEO_TYPES, table, sums, true_people, config=config, people_col=TOTAL
    )
    for band in config.pyramid:
        risk = cohort["risk"][bands == band.name]
        rows.append(
            tidy(
                "pyramid",
                "people",
                "band",
                band.name,
                table.values.at[TOTAL, band.name],
                suppressed=table.suppressed.at[TOTAL, band.name],
            )
        )
        rows.append(
            tidy(
                "pyramid",
                "share",
                "band",
                band.name,
                len(risk) / max(len(cohort), 1),
                suppressed=table.suppressed.at[TOTAL, band.name],
            )
        )
        rows.append(
            tidy(
                "pyramid",
                "mean_risk",
                "band",
                band.name,
                risk.mean() if len(risk) else np.nan,
                suppressed=table.suppressed.at[TOTAL, band.name],
            )
        )
        rows.append(
            tidy(
                "pyramid",
                "risk_from",
                "band",
                band.name,
                risk.min() if len(risk) else np.nan,
                suppressed=table.suppressed.at[TOTAL, band.name],
            )
        )
    return rows


def _listing_table(
    section: str,
    group_type: str,
    labels: pd.Series,
    cohort: pd.DataFrame,
    *,
    config: ReportConfig,
    row_total: bool,
) -> list[dict[str, object]]:
    """People, listed, listing rate, expected admissions and listing-to-need ratio per group."""
    listed = cohort["listed"].astype(bool)
    frame = pd.DataFrame(
        {
            "g": labels.to_numpy(),
            "listed": listed.to_numpy(),
            "risk": cohort["risk"].to_numpy(dtype=float),
        }
    )
    frame = frame[frame["g"].notna()]
    counts = (
        pd.crosstab(frame["g"], frame["listed"]).reindex(columns=[True, False]).fillna(0)
    ).astype(int)
    counts.columns = ["listed", "not_listed"]
    table = protect(counts, rule=config.suppression, row_total=row_total)
    kinds = {"cell": group_type, "total": group_type}
    rows = tidy_protected(
        table,
        section=section,
        measures={"listed": "listed", "not_listed": "not_listed", TOTAL: "people"},
        group_types=kinds,
    )
    true = counts.assign(people=counts.sum(axis=1))
    if row_total:
        true.loc[TOTAL] = true.sum()
    exp = frame.groupby("g")["risk"].agg(sum="sum", var=lambda p: float((p * (1 - p)).sum()))
    exp.loc[TOTAL] = [frame["risk"].sum(), float((frame["risk"] * (1 - frame["risk"])).sum())]
    rows += _derived(section, kinds, table, exp, true["people"], config=config, people_col=TOTAL)
    total_listed, total_exp = int(listed.sum()), float(cohort["risk"].sum())
    for group in table.values.index:
        gt = kinds[table.kind[group]]
        hide_rate = bool(table.suppressed.at[group, "listed"] or table.suppressed.at[group, TOTAL])
        n, k = true.at[group, "people"], true.at[group, "listed"]
        rows.append(
            tidy(section, "listing_rate", gt, group, k / n if n else np.nan, suppressed=hide_rate)
        )
        share_need = exp.at[group, "sum"] / total_exp if total_exp else np.nan
        expected_listed = total_listed * share_need
        ratio, lo, hi = poisson_ratio(
            np.array([k]), np.array([expected_listed]), level=config.interval_level
        )
        rows.append(
            tidy(
                section,
                "listing_to_need",
                gt,
                group,
                ratio[0],
                lower=lo[0],
                upper=hi[0],
                suppressed=bool(table.suppressed.at[group, "listed"]) or not total_listed,
            )
        )
    return rows


def equity(cohort: pd.DataFrame, *, config: ReportConfig) -> list[dict[str, object]]:
    """Section 3: risk and listing by slice (from riskstrat.slices) and by key register."""
    slices = assign_slices(cohort, names=EQUITY_SLICES)
    rows = []
    for name in EQUITY_SLICES:
        rows += _listing_table("equity", name, slices[name], cohort, config=config, row_total=True)
    on_register = []
    for code in config.registers:
        col = register_column(code)
        flags = cohort[col].fillna(False).astype(bool) if col in cohort else None
        if flags is not None:
            on_register.append(cohort[flags].assign(_g=code))
    if on_register:
        stacked = pd.concat(on_register, ignore_index=True)
        rows += _listing_table(
            "equity", "register", stacked["_g"], stacked, config=config, row_total=False
        )
    return rows


def activity(
    cohort: pd.DataFrame, *, bed_days: pd.Series | None, config: ReportConfig
) -> list[dict[str, object]]:
    """Section 4: expected emergency admissions (people) and bed days over the horizon."""
    risk = cohort["risk"].to_numpy(dtype=float)
    level = config.interval_level
    mean, lo, hi = expected_count(risk, level=level)
    rows = [tidy("activity", "expected_admissions", "ics", TOTAL, mean, lower=lo, upper=hi)]
    rows.append(
        tidy(
            "activity",
            "expected_per_1000",
            "ics",
            TOTAL,
            1000 * mean / max(len(risk), 1),
            lower=1000 * lo / max(len(risk), 1),
            upper=1000 * hi / max(len(risk), 1),
        )
    )
    conf = config.bed_days
    if conf.mean_per_admission is not None:
        los, sd, source = conf.mean_per_admission, conf.sd_per_admission or 0.0, "configured"
    elif bed_days is not None and len(bed_days) >= 2:
        observed = bed_days.to_numpy(dtype=float)
        los, sd, source = float(observed.mean()), float(observed.std(ddof=1)), "observed"
    else:
        return rows
    centre, blo, bhi = expected_bed_days(risk, mean=los, sd=sd, level=level)
    rows.append(tidy("activity", "expected_bed_days", "ics", TOTAL, centre, lower=blo, upper=bhi))
    rows.append(tidy("activity", "bed_days_per_admitted_person", "source", source, los))
    return rows


def outreach(
    cohort: pd.DataFrame,
    outcomes: pd.DataFrame,
    practices: pd.DataFrame,
    *,
    as_of: date,
    config: ReportConfig,
) -> list[dict[str, object]]:
    """Section 6: listed this run and feedback outcomes (last lookback window) by practice."""
    groups = practice_groups(practices)
    codes = [c for cs in groups.values() for c in cs]
    listed = (
        cohort[cohort["listed"].astype(bool)]
        .groupby(cohort["practice_code"].astype(str))
        .size()
        .reindex(codes, fill_value=0)
        .to_frame("listed")
    )
    table = protect(listed, rule=config.suppression, row_groups=groups, col_total=False)
    rows = tidy_protected(
        table, section="outreach", measures={"listed": "listed"}, group_types=GEO_TYPES
    )
    start = pd.Timestamp(as_of - timedelta(days=config.outreach_lookback_days))
    listed_on = pd.to_datetime(outcomes["listed_on"])
    window = outcomes[(listed_on > start) & (listed_on <= pd.Timestamp(as_of))]
    _check_practices(window, practices, name="outreach_outcomes")
    counts = (
        pd.crosstab(window["practice_code"].astype(str), window["outcome"])
        .reindex(index=codes, columns=list(OUTREACH_OUTCOMES))
        .fillna(0)
        .astype(int)
    )
    table = protect(counts, rule=config.suppression, row_groups=groups)
    measures = {o: f"feedback_{o}" for o in OUTREACH_OUTCOMES} | {TOTAL: "feedback_returned"}
    return rows + tidy_protected(
        table, section="outreach", measures=measures, group_types=GEO_TYPES
    )


def trend(
    current: dict[str, object], history: pd.DataFrame, *, config: ReportConfig
) -> list[dict[str, object]]:
    """Section 7: the headline figures of the last `trend_weeks` as-of dates, oldest first."""
    frame = pd.concat([history, pd.DataFrame([current])], ignore_index=True)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame = frame.drop_duplicates("as_of", keep="last").sort_values("as_of")
    frame = frame.tail(config.trend_weeks).reset_index(drop=True)
    labels = frame["as_of"].dt.strftime("%Y-%m-%d")
    people = protect(
        pd.DataFrame({"population": frame["population"].astype(int).to_numpy()}, index=labels),
        rule=config.suppression,
        row_total=False,
        col_total=False,
    )
    rows = []
    for i, label in enumerate(labels):
        hidden = bool(people.suppressed.at[label, "population"])
        rows.append(
            tidy(
                "trend",
                "population",
                "as_of",
                label,
                people.values.at[label, "population"],
                suppressed=hidden,
            )
        )
        rows.append(
            tidy(
                "trend",
                "expected_admissions",
                "as_of",
                label,
                frame.at[i, "expected_admissions"],
                lower=frame.at[i, "expected_lower"],
                upper=frame.at[i, "expected_upper"],
                suppressed=hidden,
            )
        )
        rows.append(
            tidy(
                "trend",
                "case_management_threshold",
                "as_of",
                label,
                frame.at[i, "case_management_threshold"],
                suppressed=hidden,
            )
        )
    return rows
