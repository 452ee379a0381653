"""HTML sections 6-7: outreach activity by practice and the week-on-week trend."""

from __future__ import annotations

from datetime import date, timedelta

from riskstrat.registry.contract import OUTREACH_OUTCOMES
from riskstrat.reports.charts import bar_chart, line_chart
from riskstrat.reports.figures import AREA_KINDS, Figures, area_name, over, section, table
from riskstrat.reports.settings import ReportConfig

#: No feedback at all: the outcome columns' zeros are an absence of returns, not of contacts.
NO_FEEDBACK = (
    "No feedback was returned on {window}: the outcome columns show 0 because no practice sent "
    "its outcomes back, not because no one was contacted."
)
#: Above this many practices the listed-by-practice bar chart is left out (the table has it).
CHART_MAX_PRACTICES = 30


def feedback_window(as_of: date, lookback_days: int) -> str:
    """The feedback look-back in words with its dates: lists dated in (as_of - lookback, as_of]
    (riskstrat.reports.population.outreach), "lists dated 2025-10-07 to 2025-12-29, the last
    12 weeks" (the table said "(last weeks)")."""
    first = as_of - timedelta(days=lookback_days - 1)
    span = f"{lookback_days // 7} weeks" if lookback_days % 7 == 0 else f"{lookback_days} days"
    return f"lists dated {first.isoformat()} to {as_of.isoformat()}, the last {span}"


def outreach(f: Figures, names: dict[str, str], *, as_of: date, config: ReportConfig) -> dict:
    order = f.frame[(f.frame.section == "outreach") & (f.frame.measure == "listed")]
    areas = list(zip(order["group"], order["dimension"], strict=True))
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
        "Outreach: people on this week's lists, and feedback returned on "
        + feedback_window(as_of, config.outreach_lookback_days),
        [
            "Area",
            "Listed this week",
            *[o.replace("_", " ").capitalize() for o in OUTREACH_OUTCOMES],
            "Feedback returned",
        ],
        rows,
    )
    block = {"id": "outreach-practices", "table": shown}
    if len(practices) <= CHART_MAX_PRACTICES:  # beyond that the table is the readable form
        block |= {"chart": chart, "caption": "Listed by practice."}
    # A published 0 is a true 0 (1-7 is hidden, only counts above 7 are rounded).
    totals = [(gt, g) for g, gt in areas if gt == "ics"]
    window = feedback_window(as_of, config.outreach_lookback_days)
    notes = [
        NO_FEEDBACK.format(window=window)
        for gt, g in totals
        if f.value("outreach", "feedback_returned", gt, g) == 0
    ]
    return section("outreach", "Outreach activity by practice", [block], notes=notes)


#: Weeks scored by another model are left out of the trend (trend.comparable_days).
OTHER_MODEL = (
    "Left out: {weeks}, scored by a different version of the model. A new model changes "
    "every figure, so those weeks do not compare like with like; the trend starts again from "
    "this model's first week."
)


def trend(f: Figures, config: ReportConfig, horizon_days: int, *, left_out: tuple = ()) -> dict:
    """Section 7; left_out: earlier weeks of the window scored by another model (dates)."""
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
    shown = table(
        "Headline figures week by week",
        [
            "As of",
            "People",
            f"Expected admissions {over(horizon_days)} (95% interval)",
            "Case management entry risk",
        ],
        rows,
    )
    block: dict = {"id": "trend-weeks", "table": shown}
    notes = []
    if len(weeks) >= config.trend_min_points:
        rows_ = [f.get("trend", "expected_admissions", "as_of", w) for w in weeks]
        block["chart"] = line_chart(
            weeks,
            [f.value("trend", "expected_admissions", "as_of", w) for w in weeks],
            [r.lower for r in rows_],
            [r.upper for r in rows_],
            title="Expected emergency admissions, week by week",
            desc=f"Expected admissions at each of the last {len(weeks)} weekly runs with 95% "
            "intervals (shaded), oldest first: "
            + "; ".join(
                f"{w}: {f.fmt('trend', 'expected_admissions', 'as_of', w, kind='num')}"
                for w in weeks
            ),
            y_label="Expected admissions",
        )
        block["caption"] = "Trend over the weekly runs kept in history."
    else:
        notes.append(
            f"A trend chart appears once {config.trend_min_points} weekly runs are kept; "
            f"there {'is' if len(weeks) == 1 else 'are'} {len(weeks)} so far."
        )
    if left_out:
        shown_weeks = sorted(d.isoformat() for d in left_out)
        weeks_text = (
            f"{len(shown_weeks)} earlier weeks ({shown_weeks[0]} to {shown_weeks[-1]})"
            if len(shown_weeks) > 1
            else f"the week of {shown_weeks[0]}"
        )
        notes.append(OTHER_MODEL.format(weeks=weeks_text))
    return section("trend", "Trend over recent weeks", [block], notes=notes)
