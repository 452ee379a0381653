"""Sections on the population at the as-of date: pyramid, geography, activity, outreach, trend
(equity in riskstrat.reports.equity). Pure functions over the frames in
riskstrat.reports.frames; they return tidy rows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskstrat.registry.contract import OUTREACH_OUTCOMES
from riskstrat.reports.frames import (
    PRACTICE_UNKNOWN,
    tidy,
    tidy_protected,
)
from riskstrat.reports.intervals import (
    expected_bed_days,
    expected_count,
    z_value,
)
from riskstrat.reports.rates import GEO_TYPES, standardised_rows
from riskstrat.reports.settings import EQUITY_SLICES, ReportConfig
from riskstrat.reports.suppression import TOTAL, Protected, protect, round_count
from riskstrat.reports.tables import count_table, group_sums

__all__ = ["EQUITY_SLICES"]


def assign_bands(risk: pd.Series, order_key: pd.Series, *, config: ReportConfig) -> pd.Series:
    """Pyramid band of each row by rank of risk (ties broken by `order_key`, so stable).

    Only ties straddling a band's cut need the key, so only those are sorted by it (fast at
    1M rows, where isotonic calibration makes large blocks of equal risk)."""
    n = len(risk)
    values = risk.to_numpy(dtype=float)
    order = np.argsort(-values, kind="stable")
    ranked = -values[order]  # ascending
    cuts = [int(np.floor(b.top_share * n + 0.5)) for b in config.pyramid]
    cuts[-1] = n
    for cut in cuts[:-1]:
        if 0 < cut < n and ranked[cut - 1] == ranked[cut]:
            lo, hi = (
                np.searchsorted(ranked, ranked[cut], side="left"),
                np.searchsorted(ranked, ranked[cut], side="right"),
            )
            block = order[lo:hi]
            keys = order_key.take(block).to_numpy().astype(str)  # the block's keys only
            order[lo:hi] = block[np.argsort(keys, kind="stable")]
    pos = np.empty(n, dtype=int)
    pos[order] = np.arange(n)
    band = np.searchsorted(np.array(cuts), pos, side="right")
    # A categorical of the band names: no 880k-string array to build, and each table that
    # counts by band factorises it for free.
    names = [b.name for b in config.pyramid]
    labels = list(dict.fromkeys(names))
    code = np.array([labels.index(name) for name in names], dtype=np.int8)
    return pd.Series(pd.Categorical.from_codes(code[band], categories=labels), index=risk.index)


def headline(
    cohort: pd.DataFrame, *, as_of: date, config: ReportConfig, bands: pd.Series | None = None
) -> dict[str, object]:
    """The week's headline figures (kept for the trend): people, expected admissions, threshold.

    bands: the rows' pyramid bands if already assigned. Without them the threshold (the lowest
    risk in the top band) is the k-th largest risk, found by one partition: the same value
    whichever of several equal risks the tie-break would have put in the band."""
    risk = cohort["risk"].to_numpy(dtype=float)
    if bands is not None:
        top = risk[(bands == config.pyramid[0].name).to_numpy()]
        threshold = float(top.min()) if len(top) else np.nan
    else:
        k = min(int(np.floor(config.pyramid[0].top_share * len(risk) + 0.5)), len(risk))
        threshold = float(-np.partition(-risk, k - 1)[k - 1]) if k > 0 else np.nan
    mean, lo, hi = expected_count(risk, level=config.interval_level)
    return {
        "as_of": pd.Timestamp(as_of),
        "population": len(cohort),
        "expected_admissions": mean,
        "expected_lower": lo,
        "expected_upper": hi,
        "case_management_threshold": threshold,
    }


def practice_groups(practices: pd.DataFrame) -> dict[str, list[str]]:
    """PCN code -> its practice codes (sorted): the geography hierarchy of every table."""
    ordered = practices.sort_values(["pcn_code", "practice_code"])
    return {
        str(pcn): [str(c) for c in g["practice_code"]]
        for pcn, g in ordered.groupby("pcn_code", sort=True)
    }


def _check_practices(frame: pd.DataFrame, practices: pd.DataFrame, *, name: str) -> None:
    present = {str(c) for c in pd.unique(frame["practice_code"])}
    unknown = sorted(present - set(practices["practice_code"]))
    if unknown:
        raise ValueError(PRACTICE_UNKNOWN.format(frame=name, codes=unknown[:10]))


def _geo_sums(frame: pd.DataFrame, groups: dict[str, list[str]], column: str) -> pd.DataFrame:
    """Per practice, PCN and ICS: sum of `column`, sum of its p(1-p), and mean."""
    p = frame[column].to_numpy(dtype=float)
    codes = [c for cs in groups.values() for c in cs]
    practice = group_sums(frame["practice_code"], {"sum": p, "var": p * (1 - p)}, index=codes)
    rows = {}
    for pcn, codes in groups.items():
        rows[pcn] = practice.reindex(codes).fillna(0).sum()
        for code in codes:
            rows[code] = practice.reindex([code]).fillna(0).iloc[0]
    rows[TOTAL] = practice.sum()
    return pd.DataFrame(rows).T


def published(table: Protected, group: str, column: str) -> float:
    """A table's published count (NaN where suppressed): derived figures use only these."""
    return float(table.values.at[group, column])


def _derived(
    section: str,
    group_type: dict[str, str] | str,
    table: Protected,
    sums: pd.DataFrame,
    *,
    config: ReportConfig,
    people_col: str,
) -> list[dict[str, object]]:
    """Expected admissions (interval) and per 1,000 of the published people count, per row;
    hidden wherever the people count is."""
    z = z_value(config.interval_level)
    out = []
    for group in table.values.index:
        gt = group_type if isinstance(group_type, str) else group_type[table.kind[group]]
        hidden = bool(table.suppressed.at[group, people_col])
        shown = published(table, group, people_col)
        total, var = float(sums.at[group, "sum"]), float(sums.at[group, "var"])
        lo, hi = max(0.0, total - z * np.sqrt(var)), total + z * np.sqrt(var)
        out.append(
            tidy(
                section,
                "expected_admissions",
                gt,
                group,
                total,
                suppressed=hidden,
                lower=lo,
                upper=hi,
            )
        )
        per = 1000 / shown if shown and np.isfinite(shown) else np.nan
        out.append(
            tidy(
                section,
                "expected_per_1000",
                gt,
                group,
                total * per,
                suppressed=hidden,
                lower=lo * per,
                upper=hi * per,
            )
        )
    return out


def published_total(count: int, *, config: ReportConfig) -> float:
    """A single count as published (NaN when it falls under primary suppression)."""
    rule = config.suppression
    if rule.min_count <= count <= rule.max_count:
        return np.nan
    return float(round_count(count, rule.rounding_base))


def pyramid_and_geography(
    cohort: pd.DataFrame, practices: pd.DataFrame, *, bands: pd.Series, config: ReportConfig
) -> list[dict[str, object]]:
    """Sections 1-2: people per band by practice, PCN and ICS, with expected admissions and
    age-sex standardised rates per 1,000. bands: each row's pyramid band (assign_bands)."""
    _check_practices(cohort, practices, name="cohort")
    groups = practice_groups(practices)
    names = [b.name for b in config.pyramid]
    codes = [c for cs in groups.values() for c in cs]
    counts = count_table(cohort["practice_code"], bands, index=codes, columns=names)
    table = protect(counts, rule=config.suppression, row_groups=groups)
    measures = {name: f"people_{name}" for name in names} | {TOTAL: "people"}
    rows = tidy_protected(table, section="geography", measures=measures, group_types=GEO_TYPES)
    sums = _geo_sums(cohort, groups, "risk")
    rows += _derived("geography", GEO_TYPES, table, sums, config=config, people_col=TOTAL)
    rows += standardised_rows(cohort, groups, table, config=config)
    z = z_value(config.interval_level)
    for band in config.pyramid:
        risk = cohort["risk"][bands == band.name].to_numpy(dtype=float)
        hidden = bool(table.suppressed.at[TOTAL, band.name])
        rows.append(
            tidy(
                "pyramid",
                "people",
                "band",
                band.name,
                table.values.at[TOTAL, band.name],
                suppressed=hidden,
            )
        )
        half = z * float(np.sqrt((risk * (1 - risk)).sum()))
        rows.append(
            tidy(
                "pyramid",
                "expected_admissions",
                "band",
                band.name,
                float(risk.sum()),
                lower=max(0.0, float(risk.sum()) - half),
                upper=float(risk.sum()) + half,
                suppressed=hidden,
            )
        )
        for measure, value in _band_ends(band.name, config):
            rows.append(
                tidy(
                    "pyramid",
                    measure,
                    "band",
                    band.name,
                    value(risk) if len(risk) else np.nan,
                    suppressed=hidden,
                )
            )
    return rows


def _band_ends(name: str, config: ReportConfig) -> list[tuple[str, object]]:
    """The band's risk range ends that are published: not the top band's highest risk nor the
    bottom band's lowest, each one person's risk (the demo's top band read "0.1445 to 0.7915":
    the risk of the single highest-risk person in the area). Every other end lies at a cut,
    beside the next band's entry threshold."""
    bands = [b.name for b in config.pyramid]
    ends: list[tuple[str, object]] = []
    if name != bands[-1]:
        ends.append(("risk_from", np.min))
    if name != bands[0]:
        ends.append(("risk_to", np.max))
    return ends


def activity(
    cohort: pd.DataFrame, *, bed_days: pd.Series | None, config: ReportConfig
) -> list[dict[str, object]]:
    """Section 4: expected emergency admissions (people) and bed days over the horizon."""
    risk = cohort["risk"].to_numpy(dtype=float)
    level = config.interval_level
    mean, lo, hi = expected_count(risk, level=level)
    rows = [tidy("activity", "expected_admissions", "ics", TOTAL, mean, lower=lo, upper=hi)]
    people = published_total(len(risk), config=config)
    per = 1000 / people if people else np.nan
    rows.append(
        tidy(
            "activity",
            "expected_per_1000",
            "ics",
            TOTAL,
            mean * per,
            lower=lo * per,
            upper=hi * per,
            suppressed=not np.isfinite(people),
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
    flags = cohort["listed"].astype(bool).to_numpy()
    listed = count_table(cohort["practice_code"], flags, index=codes, columns=[True])
    listed.columns = ["listed"]
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
