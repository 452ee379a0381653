"""HTML of the page's opening: key findings, the context block; and the Methods appendix."""

from __future__ import annotations

from riskstrat.reports.context import Context, bias_consequence
from riskstrat.reports.findings import DIMENSION_WORDS, Finding
from riskstrat.reports.settings import ReportConfig

SYNTHETIC = (
    "The data in this report are synthetic (generated for demonstration): no figure describes "
    "real people."
)
NO_FINDINGS = "No finding meets the rules this week (see Methods for the rules)."


def findings_section(findings: list[Finding]) -> dict:
    items = [
        {
            "text": x.text,
            "href": f"#{x.href}",
            "link": "See About this report." if x.href == "context" else "See the table.",
        }
        for x in findings
    ]
    return {"id": "findings", "title": "Key findings", "entries": items,
            "empty": NO_FINDINGS}  # fmt: skip


def _model_lines(context: Context, task_title: str) -> list[str]:
    m = context.model
    name = f"{m.name} version {m.version}" if m.name else "not recorded"
    lines = [f"Model: {name}, predicting {task_title}."]
    if m.problem:
        lines.append(m.problem)
        return lines
    if m.auroc:
        auc, lo, hi = m.auroc
        period = f" ({m.test_period})" if m.test_period else ""
        lines.append(
            f"On its test period{period} it ranked people with an AUROC of {auc:.2f} (95% "
            f"interval {lo:.2f} to {hi:.2f}; 0.5 is chance, 1 is perfect; established tools "
            "reach 0.76-0.80 on their own populations, not directly comparable)."
        )
    if m.observed_to_expected and m.observed is not None and m.predicted is not None:
        r, lo, hi = m.observed_to_expected
        slope = (
            f"; calibration slope {m.calibration_slope:.2f}, 1 is ideal"
            if m.calibration_slope is not None
            else ""
        )
        bias = bias_consequence(m.observed_to_expected)
        lines.append(
            ("Its predicted and actual admissions differ by no more than chance would explain: "
             if bias is None
             else "Its predicted admissions did not match what happened: ")
            + f"{100 * m.observed:.1f}% admitted vs {100 * m.predicted:.1f}% predicted, ratio "
            f"{r:.2f} (95% interval {lo:.2f} to {hi:.2f}{slope})"
            + (f"; {bias}." if bias else ".")
        )  # fmt: skip
    if m.limitations:
        lines.append(
            "Known limitations relevant to commissioning: the model "
            + "; ".join(lim.text for lim in m.limitations)
            + "."
        )
    lines.append(
        f"Model card (full evaluation, intended use, limitations): {m.card_path} in riskstrat's "
        "output folder."
        if m.card_path
        else "Model card: written into out/model_cards/ by the model team (`riskstrat model-card`)."
    )
    return lines


def context_section(context: Context | None, *, task_title: str, suppression: str) -> dict:
    """What the report is based on: dates, data period, model and its measured performance."""
    if context is None:
        return {"id": "context", "title": "About this report", "lines": [], "notices": [],
                "warnings": []}  # fmt: skip
    data = []
    if context.extract_date:
        period = f"from {context.data_from} " if context.data_from else ""
        data.append(
            f"Figures describe the registered population scored on {context.as_of}, from the "
            f"data extract of {context.extract_date} (hospital activity {period}to "
            f"{context.extract_date})."
        )
    data.append(
        f"Expected admissions are over the next {context.horizon_days} days. Small numbers: "
        f"{suppression}."
    )
    return {
        "id": "context",
        "title": "About this report",
        "lines": data + _model_lines(context, task_title),
        "notices": [SYNTHETIC] if context.model.synthetic else [],
        "warnings": context.warnings,
    }


def _dims(dimensions: tuple[str, ...]) -> str:
    return ", ".join(DIMENSION_WORDS.get(d, d) for d in dimensions)


def methods_section(config: ReportConfig, *, horizon_days: int) -> dict:
    """The Methods appendix: every method name and rule lives here, not in the body."""
    rules = config.findings
    rule = config.suppression  # the configured rule, not a fixed "1-7 ... nearest 5"
    level = f"{100 * config.interval_level:g}%"
    items = [
        ("Risk", f"Each person's calibrated probability of at least one emergency admission "
                 f"in the next {horizon_days} days, from the model named above (LightGBM, "
                 "calibrated). Expected admissions of a group = the sum of its members' risks."),
        ("Intervals on expected admissions", f"The number admitted is a sum of independent "
                 f"yes/no outcomes (Poisson-binomial); {level} normal-approximation interval, "
                 "variance = sum of p(1 - p)."),
        ("Bed days", "Each admitted person contributes a length of stay (observed mean and "
                 "spread over the last horizon, unless configured); normal interval."),
        ("Listing to need", f"(group's share of people listed) / (group's share of expected "
                 f"admissions), from the published listed counts; exact (Garwood) Poisson "
                 f"{level} interval on the listed count. Need counts every person's risk; "
                 "lists take the highest risks first, so groups of high individual risk are "
                 "listed above 1 by design. Not risk-adjusted: no allowance for how risk is "
                 "spread within a group, nor for each practice's list capacity."),
        ("Deprivation gradient", "Poisson regression of the published listed counts on IMD "
                 "quintile (1 most deprived to 5 least), offset by the count need predicts; "
                 "Wald test for trend; the slope is shown as a ratio per quintile."),
        ("Rates per 1,000", "Crude: expected admissions / published people x 1,000. Age-sex "
                 "standardised (indirect): the whole area's expected admissions per person in "
                 "each age band x sex stratum applied to the practice's people gives what its "
                 "age-sex mix predicts (D); standardised rate = area crude rate x expected / D."),
        ("Funnel plot", "People admitted in the completed horizon against the sum of risks "
                 "predicted at its start, per practice; Poisson control limits at "
                 + " and ".join(f"{100 * v:g}%" for v in config.funnel_limits)
                 + " (Spiegelhalter 2005), from the published admitted counts."),
        ("Model performance", "Section 5: AUROC with the Hanley-McNeil (1982) interval; "
                 "Brier score; calibration slope from a logistic recalibration; admitted / "
                 "expected with an exact Poisson interval. The test-period AUROC under About "
                 "this report comes from the model card, with its bootstrap (percentile) "
                 "interval."),
        ("Small-number suppression", f"Counts {rule.min_count}-{rule.max_count} shown as "
                 f"{rule.symbol}, others rounded to the nearest {rule.rounding_base}, each on its "
                 "own (a total can differ from the sum of its rounded parts), with secondary "
                 "suppression so no total reveals a hidden count (checked by an attacker "
                 "model); every rate, ratio and per-1,000 figure is computed from the published "
                 "counts, so none reveals a count more exactly."),
        ("Key findings rules", f"A group of at least {rules.min_people} people "
                 f"({_dims(rules.need_dimensions)}) whose "
                 f"listing-to-need {level} interval lies wholly below (or above) 1 (groups "
                 "defined by risk, such as age, long-term conditions and registers, are "
                 "named in one sentence: they depart from 1 by design); a "
                 f"deprivation trend with p < {rules.gradient_p:g}; a practice outside the "
                 f"{100 * rules.funnel_level:g}% funnel limits; a subgroup (at least "
                 f"{rules.min_people} people) on the model's test period with AUROC interval "
                 f"wholly below {rules.weak_auroc:g}, or admitted "
                 f"/ expected beyond 1/{rules.calibration_ratio:g} to "
                 f"{rules.calibration_ratio:g} with an interval excluding 1. At most "
                 f"{rules.max_items} per rule, largest first."),
        ("Charts", "Hand-built SVG: ratios on a shared log scale centred on 1, values beyond "
                 f"1/{config.charts.ratio_axis_max:g} to {config.charts.ratio_axis_max:g} "
                 "clipped with an arrow; groups smaller than "
                 f"{config.charts.axis_min_people} people or Unknown never set the scale. "
                 "Every chart has a table of the same figures."),
    ]  # fmt: skip
    return {"id": "methods", "title": "Methods", "entries": items}
