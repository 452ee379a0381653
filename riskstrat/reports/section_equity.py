"""HTML sections 3-4: risk and listing by group (equity) and expected activity."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from riskstrat.reports.charts import ratio_axis, ratio_chart
from riskstrat.reports.figures import (
    SLICE_TITLES,
    Figures,
    block_id,
    group_label,
    in_sentence,
    over,
    section,
    table,
)
from riskstrat.reports.population import EQUITY_SLICES
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.suppression import TOTAL
from riskstrat.slices import UNKNOWN

EQUITY_NOTE = (
    "Listing to need compares each group's share of the people listed this week with its "
    "share of expected emergency admissions (its need): 1 means listed in proportion to need, "
    "below 1 listed less than need suggests. It compares shares and is not risk-adjusted. Lists "
    "take the people at highest predicted risk first, so a group whose members are "
    "individually at high risk (older ages, more long-term conditions, registers such as heart "
    "failure) is listed above 1, and one of many moderate risks below 1, by design. Lists are "
    "also drawn up per practice, within each practice's capacity, so a group living mostly "
    "where lists are short for the practice's need is listed below 1. Sex, ethnicity and "
    "deprivation groups are not defined by risk, but they too differ in how risk is spread "
    "and in which practices they are registered with: a ratio away from 1 among them is a "
    "question to look into, not on its own evidence of unequal listing. "
    "All charts in this section share one scale, "
    "centred on 1; an open circle or an arrow marks a value beyond the axis (small groups have "
    "wide intervals), and the table gives every figure."
)
ACTIVITY_NOTE = (
    "Expected admissions are the sum of every person's predicted risk; the interval shows how "
    "much the actual number could vary by chance if the risks are right (see Methods). It "
    "leaves out any error in the model itself (how its predictions compared with what "
    "happened: About this report and section 5)."
)
DIMENSIONS = (*EQUITY_SLICES, "register")


def _row(f: Figures, gt: str, g: str, measure: str) -> tuple[float, float, float]:
    row = f.get("equity", measure, gt, g)
    if row is None or row.suppressed:
        return np.nan, np.nan, np.nan
    return float(row.value), float(row.lower), float(row.upper)


def shared_axis(f: Figures, config: ReportConfig) -> float:
    """One log axis for every listing-to-need chart, set by groups large enough to be stable."""
    lows, highs = [], []
    for gt in DIMENSIONS:
        for g in f.groups("equity", gt):
            people = f.value("equity", "people", gt, g)
            if g in (TOTAL, UNKNOWN) or not people >= config.charts.axis_min_people:
                continue
            _, lo, hi = _row(f, gt, g, "listing_to_need")
            lows.append(lo)
            highs.append(hi)
    return ratio_axis(lows, highs, cap=config.charts.ratio_axis_max)


def equity_block(f: Figures, gt: str, half: float, horizon_days: int) -> dict:
    """One group type (a slice or the key registers): chart of listing to need and its table."""
    groups = f.groups("equity", gt)
    body = [g for g in groups if g != TOTAL]
    rows = [
        (
            "total" if g == TOTAL else "cell",
            [
                group_label(g, gt),
                f.fmt("equity", "people", gt, g),
                f.fmt("equity", "listed", gt, g),
                f.fmt("equity", "listing_rate", gt, g, kind="pct"),
                f.fmt("equity", "expected_per_1000", gt, g, kind="rate"),
                f.fmt("equity", "expected_admissions", gt, g, kind="num"),
                f.fmt("equity", "listing_to_need", gt, g, kind="ratio", interval=True),
            ],
        )
        for g in groups
    ]
    title = SLICE_TITLES[gt]
    ratios = [_row(f, gt, g, "listing_to_need") for g in body]
    chart = ratio_chart(
        [group_label(g, gt) for g in body],
        [r[0] for r in ratios],
        [r[1] for r in ratios],
        [r[2] for r in ratios],
        half=half,
        title=f"Listing relative to need by {in_sentence(title)}",
        desc="Share of people listed divided by share of expected admissions, per group, with "
        "95% intervals, on a log scale centred on 1: below 1 listed less than need suggests. "
        + "; ".join(
            f"{group_label(g, gt)}: {f.fmt('equity', 'listing_to_need', gt, g, kind='ratio')}"
            for g in body
        ),
    )
    shown = table(
        f"Risk and listing by {in_sentence(title)}",
        [
            title,
            "People",
            "Listed",
            "Listing rate",
            f"Expected admissions per 1,000 {over(horizon_days)}",
            f"Expected admissions {over(horizon_days)}",
            "Listing to need (95% interval)",
        ],
        rows,
    )
    block = {
        "id": block_id("equity", gt),
        "heading": title,
        "chart": chart,
        "caption": f"Listing to need by {in_sentence(title)}.",
        "table": shown,
    }
    if gt == "imd_quintile" and (p := f.get("equity", "gradient_per_quintile", gt, TOTAL)):
        p_value = f.value("equity", "gradient_p_value", gt, TOTAL)
        block["text"] = (
            f"Trend across quintiles: listing to need changes x{p.value:.2f} per step from "
            f"most to least deprived (95% interval {p.lower:.2f} to {p.upper:.2f}; p = "
            f"{p_value:.3f})."
        )
    return block


def equity(f: Figures, config: ReportConfig, horizon_days: int) -> dict:
    half = shared_axis(f, config)
    blocks = [
        equity_block(f, gt, half, horizon_days) for gt in DIMENSIONS if f.groups("equity", gt)
    ]
    return section("equity", "Equity: who is listed, relative to need", blocks, notes=[EQUITY_NOTE])


def activity(
    f: Figures, horizon_days: int, as_of: date | None = None, *, bias: str | None = None
) -> dict:
    """Section 4; `bias`: the model's overall calibration caveat (context.calibration_bias),
    said again where the expected admissions are read."""
    source = f.groups("activity", "source")
    where = source[0] if source else ""
    if where == "observed" and as_of is not None:  # riskstrat.reports.loader.bed_days
        first, last = as_of - timedelta(days=horizon_days), as_of - timedelta(days=1)
        where = f"observed: completed emergency spells admitted {first} to {last}"
    # Bed days are whole days (aggregates.csv holds them so): "7,516", not "7,516.0".
    rows = [
        ("Expected emergency admissions (people admitted)", "expected_admissions", "ics", TOTAL,
         "num"),
        ("Expected emergency admissions per 1,000 population", "expected_per_1000", "ics",
         TOTAL, "num"),
    ]  # fmt: skip
    if source:
        rows += [
            ("Expected emergency bed days", "expected_bed_days", "ics", TOTAL, "count"),
            (
                f"Bed days per admitted person ({where})",
                "bed_days_per_admitted_person",
                "source",
                source[0],
                "num",
            ),
        ]
    shown = table(
        f"Expected activity over the next {horizon_days} days (95% intervals)",
        ["Measure", "Value"],
        [
            ("cell", [label, f.fmt("activity", m, gt, g, kind=kind, interval=gt == "ics")])
            for label, m, gt, g, kind in rows
        ],
    )
    block = {"id": "activity-total", "table": shown}
    notes = [ACTIVITY_NOTE, bias] if bias else [ACTIVITY_NOTE]
    return section("activity", "Expected activity", [block], notes=notes)
