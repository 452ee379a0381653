"""HTML sections 6-7: outreach activity by practice and the week-on-week trend."""

from __future__ import annotations

from riskstrat.registry.contract import OUTREACH_OUTCOMES
from riskstrat.reports.charts import bar_chart
from riskstrat.reports.figures import AREA_KINDS, Figures, area_name, section, table


def outreach(f: Figures, names: dict[str, str]) -> dict:
    order = f.frame[(f.frame.section == "outreach") & (f.frame.measure == "listed")]
    areas = list(zip(order["group"], order["group_type"], strict=True))
    rows = [
        (
            AREA_KINDS.get(gt, "cell"),
            [area_name(g, gt, names), f.fmt("outreach", "listed", gt, g)]
            + [f.fmt("outreach", f"feedback_{o}", gt, g) for o in OUTREACH_OUTCOMES]
            + [f.fmt("outreach", "feedback_returned", gt, g)],
        )
        for g, gt in areas
    ]
    practices = [g for g, gt in areas if gt == "practice"]
    chart = bar_chart(
        [names.get(p, p) for p in practices],
        [f.value("outreach", "listed", "practice", p) for p in practices],
        title="People listed this week by practice",
        desc="Number of people on this week's outreach lists per practice.",
    )
    shown = table(
        "Outreach: listed this week and feedback returned (last weeks)",
        [
            "Area",
            "Listed this week",
            *[o.replace("_", " ").capitalize() for o in OUTREACH_OUTCOMES],
            "Feedback returned",
        ],
        rows,
    )
    block = {"chart": chart, "caption": "Listed by practice.", "table": shown}
    return section("outreach", "Outreach activity by practice", [block])


def trend(f: Figures) -> dict:
    weeks = f.groups("trend", "as_of")
    rows = [
        (
            "cell",
            [
                w,
                f.fmt("trend", "population", "as_of", w),
                f.fmt("trend", "expected_admissions", "as_of", w, kind="num", interval=True),
                f.fmt("trend", "case_management_threshold", "as_of", w, kind="risk"),
            ],
        )
        for w in weeks
    ]
    chart = bar_chart(
        weeks,
        [f.value("trend", "expected_admissions", "as_of", w) for w in weeks],
        lower=[f.get("trend", "expected_admissions", "as_of", w).lower for w in weeks],
        upper=[f.get("trend", "expected_admissions", "as_of", w).upper for w in weeks],
        value_format="{:,.1f}",
        title="Expected emergency admissions week by week",
        desc="Headline expected admissions at each weekly as-of date with 95% "
        "intervals, oldest first.",
    )
    shown = table(
        "Headline figures week on week",
        ["As of", "People", "Expected admissions (95% interval)", "Case management from risk"],
        rows,
    )
    block = {"chart": chart, "caption": "Weekly trend.", "table": shown}
    return section("trend", "Week-on-week trend", [block])
