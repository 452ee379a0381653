"""HTML sections 3-4: risk and listing by group (equity) and expected activity."""

from __future__ import annotations

import numpy as np

from riskstrat.reports.charts import bar_chart
from riskstrat.reports.figures import SLICE_TITLES, Figures, group_label, section, table
from riskstrat.reports.population import EQUITY_SLICES
from riskstrat.reports.suppression import TOTAL

EQUITY_NOTE = (
    "Listing to need compares each group's share of the people listed this "
    "week with its share of expected emergency admissions (the need)."
)
ACTIVITY_NOTE = (
    "Sums of calibrated risks; intervals from the Poisson-binomial normal approximation."
)


def _bound(f: Figures, gt: str, group: str, end: str) -> float:
    row = f.get("equity", "listing_to_need", gt, group)
    return np.nan if row is None or row.suppressed else float(getattr(row, end))


def equity_block(f: Figures, gt: str) -> dict:
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
                f.fmt("equity", "mean_risk", gt, g, kind="risk"),
                f.fmt("equity", "expected_admissions", gt, g, kind="num"),
                f.fmt("equity", "listing_to_need", gt, g, kind="ratio", interval=True),
            ],
        )
        for g in groups
    ]
    title = SLICE_TITLES[gt]
    chart = bar_chart(
        [group_label(g, gt) for g in body],
        [f.value("equity", "listing_to_need", gt, g) for g in body],
        lower=[_bound(f, gt, g, "lower") for g in body],
        upper=[_bound(f, gt, g, "upper") for g in body],
        reference=1.0,
        value_format="{:.2f}",
        title=f"Listing relative to need by {title.lower()}",
        desc="Share of people listed divided by share of expected admissions, per group, with "
        "95% intervals; 1 means listed in proportion to need, below 1 under-served.",
    )
    shown = table(
        f"Risk and listing by {title.lower()}",
        [
            title,
            "People",
            "Listed",
            "Listing rate",
            "Mean risk",
            "Expected admissions",
            "Listing to need (95% interval)",
        ],
        rows,
    )
    return {
        "heading": title,
        "chart": chart,
        "caption": f"Listing to need by {title.lower()}.",
        "table": shown,
    }


def equity(f: Figures) -> dict:
    blocks = [equity_block(f, gt) for gt in (*EQUITY_SLICES, "register") if f.groups("equity", gt)]
    return section("equity", "Equity: risk and listing by group", blocks, notes=[EQUITY_NOTE])


def activity(f: Figures) -> dict:
    source = f.groups("activity", "source")
    rows = [
        ("Expected emergency admissions (people admitted)", "expected_admissions", "ics", TOTAL),
        ("Expected per 1,000 population", "expected_per_1000", "ics", TOTAL),
    ]
    if source:
        rows += [
            ("Expected emergency bed days", "expected_bed_days", "ics", TOTAL),
            (
                f"Bed days per admitted person ({source[0]})",
                "bed_days_per_admitted_person",
                "source",
                source[0],
            ),
        ]
    shown = table(
        "Expected activity over the horizon (95% intervals)",
        ["Measure", "Value"],
        [
            ("cell", [label, f.fmt("activity", m, gt, g, kind="num", interval=gt == "ics")])
            for label, m, gt, g in rows
        ],
    )
    return section("activity", "Expected activity", [{"table": shown}], notes=[ACTIVITY_NOTE])
