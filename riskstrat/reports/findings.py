"""Key findings: plain-English statements generated from the published figures by explicit rules.

Each rule (configs/report.yaml `findings:`) states its evidence with its uncertainty, links to
the table it comes from, and uses only published (suppressed, rounded) figures. A rule that
finds nothing says so in one sentence; a rule without data (no matured predictions, suppressed
quintiles) says nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from riskstrat.reports.context import Context, bias_consequence, calibration_bias, describe
from riskstrat.reports.equity import QUINTILES
from riskstrat.reports.figures import Figures, block_id, format_value
from riskstrat.reports.settings import EQUITY_SLICES, ReportConfig
from riskstrat.reports.suppression import TOTAL
from riskstrat.slices import UNKNOWN

#: The by-design dimensions in words ("by age, number of long-term conditions and register").
DIMENSION_WORDS = {
    "age_band": "age",
    "ltc_count": "number of long-term conditions",
    "register": "register",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "imd_quintile": "deprivation",
}
NO_NEED_GAP = (
    "No group's listing differs from its need beyond chance: every listing-to-need interval "
    "of {dimensions} includes 1."
)
#: Groups defined by risk itself (age, long-term conditions, registers) depart from 1 because
#: lists take the highest risks first: one sentence says so instead of a finding per group (the
#: demo's key findings led with "people on the dementia register are listed more than their
#: need suggests", which the equity section calls "by design").
BY_DESIGN = (
    "As designed, lists take the highest risks first, so listing departs from need by "
    "{dimensions} (the largest departure: {who}, listing to need {ratio}); this is not evidence "
    "of unequal listing."
)
NO_GRADIENT = "Listing relative to need shows no trend with deprivation beyond chance."
#: After a listing-to-need finding: what the ratio does not adjust for (until stop 29 the page
#: called sex, ethnicity and deprivation "groups of similar risk", where a ratio off 1 was "the
#: clearer sign of unequal listing"; the demo's deprivation quintiles range from 20.6 to 35.2
#: expected admissions per 1,000, and its practice of highest need is listed at 0.68 of it).
NOT_ADJUSTED = (
    "Not adjusted for how risk is spread within the group or for each practice's list "
    "capacity (section 3)."
)
NO_FUNNEL = "No practice had more or fewer emergency admissions than predicted beyond chance."
NO_MODEL_LIMITS = (
    "On its test period the model works about equally well across age, sex, ethnicity and "
    "deprivation groups."
)


#: The report's own matured predictions (section 5), when their admitted/expected interval
#: excludes 1: more recent than the model card's test period, so it is the one said.
MATURED_BIAS = (
    "Predictions made {when} {verb} admissions: {admitted} people admitted against {expected} "
    "expected (admitted / expected {ratio}, 95% interval {lo} to {hi}): {consequence}."
)


@dataclass(frozen=True)
class Finding:
    rule: str
    text: str
    href: str  # anchor of the table holding the figures


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _words(dimensions: Sequence[str]) -> str:
    """("age_band", "ltc_count", "register") -> "age, number of long-term conditions and
    register"."""
    words = [DIMENSION_WORDS.get(d, d) for d in dimensions]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def need_findings(f: Figures, config: ReportConfig) -> list[Finding]:
    """Groups whose listing-to-need interval lies wholly below (or above) 1: one finding per
    group of the `need_dimensions` (groups not defined by risk), one by-design sentence for the
    other dimensions (age, long-term conditions, registers: groups defined by risk)."""
    rules = config.findings
    found: list[tuple[tuple[bool, float], Finding]] = []
    design: list[tuple[float, str, str, float]] = []  # (size, dimension, group, ratio)
    checked = False
    for dim in (*EQUITY_SLICES, "register"):
        for group in f.groups("equity", dim):
            people = f.value("equity", "people", dim, group)
            row = f.get("equity", "listing_to_need", dim, group)
            if group in (TOTAL, UNKNOWN) or row is None or row.suppressed:
                continue
            if not np.isfinite(people) or people < rules.min_people:
                continue
            checked = checked or dim in rules.need_dimensions
            if row.upper < 1:
                verb, under = "listed less than their need suggests", True
            elif row.lower > 1:
                verb, under = "listed more than their need suggests", False
            else:
                continue
            size = abs(np.log(max(row.value, 1e-3)))
            if dim not in rules.need_dimensions:
                design.append((size, dim, group, row.value))
                continue
            expected = f.value("equity", "expected_admissions", dim, group)
            total = f.value("activity", "expected_admissions", "ics", TOTAL)
            share = expected / total if total else np.nan
            text = (
                f"{_cap(describe(dim, group))} are {verb}: "
                f"{f.fmt('equity', 'listed', dim, group)} of "
                f"{f.fmt('equity', 'people', dim, group)} listed, while they account for "
                f"{format_value(share, 'pct')} of expected emergency admissions "
                f"(listing to need {f.fmt('equity', 'listing_to_need', dim, group, kind='ratio')}, "
                f"95% interval {format_value(row.lower, 'ratio')} to "
                f"{format_value(row.upper, 'ratio')}). {NOT_ADJUSTED}"
            )
            found.append(((not under, -size), Finding("need", text, block_id("equity", dim))))
    found.sort(key=lambda item: item[0])  # under-listed first, then largest departures
    out = [item[1] for item in found[: rules.max_items]]
    if not out and checked:
        text = NO_NEED_GAP.format(dimensions=_words(rules.need_dimensions))
        out = [Finding("need", text, block_id("equity", "imd_quintile"))]
    if design:
        _, dim, group, ratio = max(design, key=lambda item: item[0])
        text = BY_DESIGN.format(
            dimensions=_words(list(dict.fromkeys(d for _, d, _, _ in design))),
            who=describe(dim, group),
            ratio=format_value(ratio, "ratio"),
        )
        out.append(Finding("need", text, block_id("equity", dim)))
    return out


def gradient_findings(f: Figures, config: ReportConfig) -> list[Finding]:
    row = f.get("equity", "gradient_per_quintile", "imd_quintile", TOTAL)
    p = f.value("equity", "gradient_p_value", "imd_quintile", TOTAL)
    href = block_id("equity", "imd_quintile")
    if row is None or row.suppressed or not np.isfinite(p):
        return []
    if p >= config.findings.gradient_p:
        return [Finding("gradient", NO_GRADIENT, href)]
    most, least = QUINTILES[0], QUINTILES[-1]
    direction = (
        "the more deprived the area people live in, the fewer are listed relative to their need"
        if row.value > 1
        else "the more deprived the area people live in, the more are listed relative to their need"
    )
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    text = (
        f"Listing follows a deprivation gradient: {direction}. Listing to need is "
        f"{f.fmt('equity', 'listing_to_need', 'imd_quintile', most, kind='ratio')} in the most "
        f"deprived quintile and "
        f"{f.fmt('equity', 'listing_to_need', 'imd_quintile', least, kind='ratio')} in the "
        f"least deprived (national IMD quintiles; x{row.value:.2f} per quintile, 95% "
        f"interval {row.lower:.2f} to {row.upper:.2f}; test for trend {p_text}). "
        f"{NOT_ADJUSTED}"
    )
    return [Finding("gradient", text, href)]


def funnel_findings(f: Figures, config: ReportConfig, names: dict[str, str]) -> list[Finding]:
    level = config.findings.funnel_level
    measure = f"funnel_{level:g}"
    practices = f.groups("performance", "practice")
    href = "geography-funnel"
    if not practices:
        return []
    found = []
    for code in practices:
        flag = f.value("performance", measure, "practice", code)
        if not np.isfinite(flag) or flag == 0:
            continue
        more = "more" if flag > 0 else "fewer"
        text = (
            f"{names.get(code, code)} ({code}) had {more} emergency admissions than its "
            f"patients' predicted risks implied in the last completed period: "
            f"{f.fmt('performance', 'admitted', 'practice', code)} people admitted against "
            f"{f.fmt('performance', 'expected_admissions', 'practice', code, kind='num')} "
            f"expected (outside the {100 * level:g}% funnel limits)."
        )
        found.append(Finding("funnel", text, href))
    return found[: config.findings.max_items] or [Finding("funnel", NO_FUNNEL, href)]


def overall_bias(f: Figures, context: Context | None) -> str | None:
    """The model's overall bias in a sentence, from the most recent evidence: this report's
    matured predictions (section 5) when there are any, else the model card's test period;
    None when that evidence's admitted/expected interval includes 1."""
    row = f.get("performance", "observed_to_expected", "ics", TOTAL)
    if row is not None and not row.suppressed and np.isfinite(row.value):
        consequence = bias_consequence((row.value, row.lower, row.upper))
        if consequence is None:
            return None
        when = f"on {context.matured[0]}" if context and context.matured else "one horizon ago"
        return MATURED_BIAS.format(
            when=when,
            verb="over-estimated" if row.upper < 1 else "under-estimated",
            admitted=f.fmt("performance", "admitted", "ics", TOTAL),
            expected=f.fmt("performance", "expected_admissions", "ics", TOTAL, kind="num"),
            ratio=format_value(row.value, "ratio"),
            lo=format_value(row.lower, "ratio"),
            hi=format_value(row.upper, "ratio"),
            consequence=consequence,
        )
    return calibration_bias(context.model) if context else None


def model_findings(f: Figures, context: Context | None, config: ReportConfig) -> list[Finding]:
    bias = overall_bias(f, context)
    matured = bias is not None and bias.startswith("Predictions made")
    href = "performance-overall" if matured else "context"
    overall = [Finding("model", bias, href)] if bias else []
    if context is None or context.model.problem or context.model.auroc is None:
        return overall
    limits = context.model.limitations[: config.findings.max_items]
    if not limits:
        return [*overall, Finding("model", NO_MODEL_LIMITS, "context")]
    return overall + [
        Finding(
            "model",
            f"The model {lim.text} on its test period; treat its figures for this group with "
            "caution.",
            "context",
        )
        for lim in limits
    ]


def key_findings(
    f: Figures, *, config: ReportConfig, names: dict[str, str], context: Context | None
) -> list[Finding]:
    """All findings in order: listing vs need, deprivation, practices, the model."""
    out = need_findings(f, config) if config.findings.need_ratio else []
    return (
        out
        + gradient_findings(f, config)
        + funnel_findings(f, config, names)
        + model_findings(f, context, config)
    )
