"""The report's context block: what data, which model, how good it is, and its limits.

Pure: `model_context` turns a model card (riskstrat.models.card.ModelCard, read from MLflow by
the loader) into the few facts a commissioner needs; the loader supplies dates from the store.
The model's full technical detail stays on its card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from riskstrat.models.card_text import SYNTHETIC_NOTE
from riskstrat.models.evaluate import MODEL
from riskstrat.registry.contract import REGISTER_NAMES
from riskstrat.reports.intervals import poisson_ratio
from riskstrat.reports.settings import ReportConfig

#: Slice names of the model card -> words for a commissioner (monitoring's plain warnings).
SLICE_WORDS = {
    "age_band": "ages",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "imd_quintile": "deprivation quintile",
    "practice": "practice",
    "ltc_count": "number of long-term conditions",
}
NO_CARD = "The model's evaluation could not be read from the model registry ({why})."


def describe(dimension: str, group: str) -> str:
    """A group in words: 'people aged 85+', 'people on the heart failure register', ... (the
    key findings' and the model limitations' one wording of a group)."""
    if dimension == "age_band":
        return f"people aged {group}"
    if dimension == "sex":
        return {"F": "women", "M": "men"}.get(group, f"people whose sex is recorded as {group}")
    if dimension == "ethnicity":
        return f"people of {group} ethnicity"
    if dimension == "imd_quintile":
        return f"people in deprivation quintile {group}"
    if dimension == "ltc_count":
        return f"people with {group} long-term condition{'s' if group != '1' else ''}"
    if dimension == "register":
        return f"people on the {REGISTER_NAMES.get(group, group)} register"
    return f"{dimension} {group}"


@dataclass(frozen=True)
class Limitation:
    """A subgroup in which the model is weak or poorly calibrated on its test period."""

    slice: str
    group: str
    people: int
    problem: str  # "weak" or "over" / "under" (predicts more / fewer admissions than happen)
    text: str


@dataclass(frozen=True)
class ModelContext:
    name: str | None = None
    version: str | None = None
    auroc: tuple[float, float, float] | None = None  # value, lower, upper (test period)
    observed_to_expected: tuple[float, float, float] | None = None
    observed: float | None = None
    predicted: float | None = None
    calibration_slope: float | None = None
    test_period: str | None = None
    limitations: list[Limitation] = field(default_factory=list)
    synthetic: bool = False
    card_path: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Context:
    as_of: date
    extract_date: date | None
    data_from: date | None
    horizon_days: int
    model: ModelContext
    warnings: list[str] = field(default_factory=list)  # monitoring, commissioner wording
    #: The matured predictions' scoring date and outcome window (first and last day), which
    #: section 5 and the funnel describe; None without matured predictions.
    matured: tuple[date, date, date] | None = None
    #: Earlier weeks of the trend window scored by another model, left out of the trend
    #: (riskstrat.reports.trend.comparable_days), newest first.
    trend_left_out: tuple[date, ...] = ()


#: The model's overall calibration on its test period, when its interval excludes 1: the
#: report's expected admissions carry the same bias (the demo's model admitted 0.88 of what it
#: predicted, 95% interval 0.79 to 0.98, and the page said only "well calibrated if admitted /
#: expected is near 1", leaving 955 expected admissions to be briefed as they stand).
CALIBRATION_BIAS = (
    "On its test period the model predicted {more} admissions than happened (admitted / "
    "expected {ratio:.2f}, 95% interval {lo:.2f} to {hi:.2f}): {consequence}."
)
BIAS_CONSEQUENCE = (
    "if that still holds, actual admissions will be about {pct:.0f}% {fewer} than the expected "
    "admissions in this report ({pct_lo:.0f}% to {pct_hi:.0f}% {fewer})"
)


def bias_consequence(ratio: tuple[float, float, float] | None) -> str | None:
    """What an overall admitted/expected (value, lower, upper) means for this report's expected
    admissions (a clause), None when its interval includes 1 or there is none."""
    if ratio is None or not all(np.isfinite(ratio)):
        return None
    r, lo, hi = ratio
    if hi < 1:  # over-predicts: fewer admissions than expected
        pct, pct_lo, pct_hi, fewer = 1 - r, 1 - hi, 1 - lo, "fewer"
    elif lo > 1:
        pct, pct_lo, pct_hi, fewer = r - 1, lo - 1, hi - 1, "more"
    else:
        return None
    return BIAS_CONSEQUENCE.format(
        pct=100 * pct, pct_lo=100 * pct_lo, pct_hi=100 * pct_hi, fewer=fewer
    )


def calibration_bias(model: ModelContext) -> str | None:
    """The sentence on the model's overall bias, None when its interval includes 1."""
    if model.problem:
        return None
    consequence = bias_consequence(model.observed_to_expected)
    if consequence is None or model.observed_to_expected is None:
        return None
    r, lo, hi = model.observed_to_expected
    more = "more" if hi < 1 else "fewer"
    return CALIBRATION_BIAS.format(more=more, ratio=r, lo=lo, hi=hi, consequence=consequence)


def _limitations(card: Any, config: ReportConfig) -> list[Limitation]:
    rules = config.findings
    out = []
    for s in card.subgroups:
        if s.n < rules.min_people or s.slice == "practice" or s.group == "Unknown":
            continue
        # "over-predicts admissions for people with 4+ long-term conditions", not "... in number
        # of long-term conditions 4+" (the key findings' wording of the same groups)
        who = describe(s.slice, s.group)
        # absolute, not against the overall AUROC: within an age band discrimination is
        # naturally lower than across all ages (age itself separates risk)
        weak = s.auroc_hi is not None and s.auroc_hi < rules.weak_auroc
        if weak:
            out.append(
                Limitation(
                    s.slice,
                    s.group,
                    s.n,
                    "weak",
                    f"ranks people less well among {who} (AUROC {s.auroc:.2f}, "
                    f"95% interval {s.auroc_lo:.2f} to {s.auroc_hi:.2f})",
                )
            )
        expected = s.n * s.predicted
        if expected <= 0:
            continue
        ratio, lo, hi = poisson_ratio(
            np.array([s.events]), np.array([expected]), level=config.interval_level
        )
        if lo[0] > 1 and ratio[0] > rules.calibration_ratio:
            problem, verb = "under", "under-predicts admissions"
        elif hi[0] < 1 and ratio[0] < 1 / rules.calibration_ratio:
            problem, verb = "over", "over-predicts admissions"
        else:
            continue
        out.append(
            Limitation(
                s.slice,
                s.group,
                s.n,
                problem,
                # with the ratio and interval the rule judged (the key finding gave the two
                # rates bare, beside findings that each carry their interval)
                f"{verb} for {who} (observed {100 * s.observed:.1f}% vs "
                f"predicted {100 * s.predicted:.1f}%: admitted / expected {ratio[0]:.2f}, "
                f"{100 * config.interval_level:g}% interval {lo[0]:.2f} to {hi[0]:.2f})",
            )
        )
    return out


def _period(periods: dict[str, str]) -> str | None:
    start, end = periods.get("test_start"), periods.get("test_end")
    if not start or not end:
        return None
    return f"scores of {start}" if start == end else f"{start} to {end}"


def model_context(card: Any, *, config: ReportConfig, card_path: str | None) -> ModelContext:
    """The commissioner's view of a model card (riskstrat.models.card.ModelCard)."""
    rows = [r for r in card.performance if r.score == MODEL]
    if not rows:
        return ModelContext(name=card.name, version=card.version, problem="no model row")
    row = rows[0]
    auroc = (
        (row.auroc, row.auroc_lo, row.auroc_hi)
        if row.auroc is not None and row.auroc_lo is not None
        else None
    )
    expected = row.n * row.predicted
    oe = None
    if expected > 0:
        r, lo, hi = poisson_ratio(
            np.array([row.events]), np.array([expected]), level=config.interval_level
        )
        oe = (float(r[0]), float(lo[0]), float(hi[0]))
    return ModelContext(
        name=card.name,
        version=card.version,
        auroc=auroc,
        observed_to_expected=oe,
        observed=row.observed,
        predicted=row.predicted,
        calibration_slope=row.calibration_slope,
        test_period=_period(card.periods),
        limitations=_limitations(card, config),
        synthetic=SYNTHETIC_NOTE in card.limitations,
        card_path=card_path,
    )
