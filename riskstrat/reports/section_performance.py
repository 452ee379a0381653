"""HTML section 5: model performance on the last matured window (overall, deciles, slices)."""

from __future__ import annotations

from riskstrat.reports.charts import scatter_chart
from riskstrat.reports.context import Context
from riskstrat.reports.figures import (
    SLICE_TITLES,
    Figures,
    block_id,
    group_label,
    in_sentence,
    matured_period,
    section,
    table,
)
from riskstrat.reports.population import EQUITY_SLICES
from riskstrat.reports.suppression import TOTAL

NO_MATURED = (
    "Not yet available: this needs predictions made one horizon ago whose follow-up period has "
    "ended (matured predictions)."
)
PERFORMANCE_NOTE = (
    "Predictions made one horizon ago are compared with what happened in the following "
    "horizon: whether the people predicted to be at high risk were the ones admitted, and "
    "whether the number admitted matched the number expected, overall and by group."
)
#: The overall table: label, measure, format, with interval.
OVERALL = (
    ("People", "people", "count", False),
    ("Admitted", "admitted", "count", False),
    ("How well risk ranks people: AUROC (95% interval)", "auroc", "ratio", True),
    ("Accuracy of the risks: Brier score (lower is better)", "brier", "ratio", False),
    ("Spread of the risks: calibration slope (1 is ideal)", "calibration_slope", "ratio", False),
    ("Admitted / expected (95% interval)", "observed_to_expected", "ratio", True),
)


def overall_block(f: Figures, period: str) -> dict:
    rows = [
        ("cell", [label, f.fmt("performance", m, "ics", TOTAL, kind=kind, interval=interval)])
        for label, m, kind, interval in OVERALL
    ]
    return {
        "id": "performance-overall",
        "table": table(f"Overall, {period}", ["Measure", "Value"], rows),
    }


def calibration_block(f: Figures, deciles: list[str]) -> dict:
    pts = [
        (
            f.value("performance", "mean_risk", "risk_decile", d),
            f.value("performance", "observed_rate", "risk_decile", d),
            d,
        )
        for d in deciles
    ]
    chart = scatter_chart(
        pts,
        title="Calibration: observed vs predicted by risk decile",
        desc="Each point is a tenth of the population by predicted risk: "
        "mean predicted risk against the share admitted; the dashed line "
        "is perfect calibration.",
        x_label="Mean predicted risk",
        y_label="Share admitted",
        diagonal=True,
    )
    rows = [
        (
            "cell",
            [
                d,
                f.fmt("performance", "mean_risk", "risk_decile", d, kind="risk"),
                f.fmt("performance", "observed_rate", "risk_decile", d, kind="risk"),
            ],
        )
        for d in deciles
    ]
    return {
        "id": "performance-calibration",
        "heading": "Calibration",
        "chart": chart,
        "caption": "Reliability plot.",
        "table": table(
            "Calibration by risk decile (10 = highest)",
            ["Decile", "Mean predicted", "Observed"],
            rows,
        ),
    }


def slice_block(f: Figures, gt: str, groups: list[str], period: str) -> dict:
    rows = [
        (
            "total" if g == TOTAL else "cell",
            [
                group_label(g, gt),
                f.fmt("performance", "people", gt, g),
                f.fmt("performance", "admitted", gt, g),
                f.fmt("performance", "observed_to_expected", gt, g, kind="ratio", interval=True),
                # the All row's AUROC is the overall one (kept once, under "ics")
                f.fmt(
                    "performance",
                    "auroc",
                    *(("ics", TOTAL) if g == TOTAL else (gt, g)),
                    kind="ratio",
                    interval=True,
                ),
            ],
        )
        for g in groups
    ]
    headers = [
        SLICE_TITLES[gt],
        "People",
        "Admitted",
        "Admitted / expected (95% interval)",
        "AUROC (95% interval)",
    ]
    return {
        "id": block_id("performance", gt),
        "table": table(f"Performance by {in_sentence(SLICE_TITLES[gt])}, {period}", headers, rows),
    }


def performance(f: Figures, context: Context | None = None) -> dict:
    period = matured_period(context.matured if context else None)
    blocks: list[dict] = []
    if f.get("performance", "people", "ics", TOTAL) is not None:
        blocks.append(overall_block(f, period))
    if deciles := f.groups("performance", "risk_decile"):
        blocks.append(calibration_block(f, deciles))
    for gt in EQUITY_SLICES:
        if groups := f.groups("performance", gt):
            blocks.append(slice_block(f, gt, groups, period))
    note = f"{PERFORMANCE_NOTE} This section judges the {period}."
    return section(
        "performance",
        "Did last period's predictions come true?",
        blocks,
        notes=[note] if blocks else [NO_MATURED],
    )
