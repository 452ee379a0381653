"""The one definition of aggregates.csv: its columns, every measure's kind and meaning.

The CSV writer formats values by kind (counts as whole numbers), the pure core rounds every
published figure to its kind's precision, and `aggregates.md` (the data dictionary written beside
the CSV) is generated from the same tables, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskstrat.registry.contract import ETHNICITY_GROUPS
from riskstrat.reports.settings import ReportConfig
from riskstrat.slices import AGE_BANDS, LTC_BANDS

#: Columns of aggregates.csv, in order, with their meaning.
COLUMNS: dict[str, str] = {
    "as_of": "Date of the scores the report describes (YYYY-MM-DD): the week's key.",
    "section": "Report section the figure belongs to.",
    "dimension": "What the groups are (practice, pcn, ics, band, age_band, sex, ...).",
    "group": "The group within the dimension (a practice code, an age band, 'Total', ...).",
    "measure": "What is measured (see the measures table).",
    "value": "The published figure; empty when suppressed or not defined.",
    "lower": "Lower end of the figure's interval, if any (its level: see 'What the figures "
    "describe').",
    "upper": "Upper end of the interval, if any.",
    "suppressed": "true when the figure is hidden by small-number suppression.",
}
KEY = ("as_of", "section", "dimension", "group", "measure")


@dataclass(frozen=True)
class Kind:
    """How a kind of figure is rounded and written (decimals None: whole number)."""

    decimals: int | None
    unit: str
    #: The kind of `lower`/`upper` when it differs from the value's: a funnel flag (-1/0/1)
    #: carries its control limits as admitted/expected ratios, which whole numbers turned into
    #: "1 to 1" (a practice flagged below its 95% limits showed limits 1 and 1).
    bounds: str | None = None


KINDS: dict[str, Kind] = {
    # {min}, {max}, {base}: the configured suppression rule (dictionary_markdown fills them in)
    "count": Kind(None, "people (suppressed {min}-{max}, others rounded to the nearest {base})"),
    "flag": Kind(
        None, "-1 below, 0 within, 1 above the limits (limits: admitted/expected)", "ratio"
    ),
    "risk": Kind(4, "probability (0-1)"),
    "proportion": Kind(4, "proportion (0-1), from published counts"),
    "per_1000": Kind(1, "per 1,000 people over the horizon"),
    "ratio": Kind(2, "ratio (1 = as expected)"),
    "expected": Kind(1, "people (expected; sum of risks)"),
    "days": Kind(0, "bed days"),
    "days_per_person": Kind(1, "bed days per admitted person"),
    "score": Kind(2, "model score (0-1)"),
    "brier": Kind(3, "mean squared error (0-1)"),
    "slope": Kind(2, "calibration slope (1 = ideal)"),
}

#: measure -> (kind, meaning). Band- and outcome-specific measures are added below.
MEASURES: dict[str, tuple[str, str]] = {
    "people": ("count", "People in the group (scored at as_of, or in the matured window)."),
    "listed": ("count", "People on this week's outreach lists."),
    "admitted": ("count", "People with an emergency admission in the matured window."),
    "feedback_returned": (
        "count",
        "Outreach feedback rows returned for lists dated in the {lookback} days up to as_of.",
    ),
    "expected_admissions": (
        "expected",
        "Expected people with an emergency admission over the horizon (sum of calibrated "
        "risks), with its interval.",
    ),
    "expected_per_1000": (
        "per_1000",
        "Expected admissions per 1,000 people (crude), from the published people count.",
    ),
    "standardised_per_1000": (
        "per_1000",
        "Expected admissions per 1,000, age-sex standardised to the whole area (indirect).",
    ),
    "risk_from": (
        "risk",
        "Lowest calibrated risk in the band (the band's entry threshold); none for the bottom "
        "band (its lowest risk is one person's).",
    ),
    "risk_to": (
        "risk",
        "Highest calibrated risk in the band; none for the top band (its highest risk is one "
        "person's: the highest in the area).",
    ),
    "listing_rate": ("proportion", "Listed / people, from the published counts."),
    "listing_to_need": (
        "ratio",
        "Share of people listed / share of expected admissions (1 = listed in proportion to "
        "need), from published counts, with an exact Poisson interval.",
    ),
    "gradient_per_quintile": (
        "ratio",
        "Multiplicative change in listing to need per IMD quintile from most to least "
        "deprived (Poisson regression on published counts), with its interval.",
    ),
    "gradient_p_value": ("proportion", "p-value of the test for trend across IMD quintiles."),
    "expected_bed_days": ("days", "Expected emergency bed days over the horizon."),
    "bed_days_per_admitted_person": (
        "days_per_person",
        "Mean emergency bed days per admitted person behind expected_bed_days; the group says "
        "where it came from (observed: completed spells over the last horizon; configured).",
    ),
    "observed_to_expected": (
        "ratio",
        "Published admitted count / expected admissions, with an exact Poisson interval.",
    ),
    "observed_rate": ("proportion", "Admitted / people, from the published counts."),
    "mean_risk": ("risk", "Expected admissions / published people in the risk decile."),
    "auroc": ("score", "Area under the ROC curve, with the Hanley-McNeil interval."),
    "brier": ("brier", "Brier score."),
    "calibration_slope": ("slope", "Calibration slope."),
    "funnel_0.95": ("flag", "Position against the 95% funnel limits (limits in lower/upper)."),
    "funnel_0.998": ("flag", "Position against the 99.8% funnel limits (limits in lower/upper)."),
    "population": ("count", "People scored at that date (trend)."),
    "case_management_threshold": ("risk", "Entry risk of the top band at that date (trend)."),
}

#: Prefixes of families of measures (one per pyramid band or outreach outcome).
PREFIXES: dict[str, tuple[str, str]] = {
    "people_": ("count", "People in the named pyramid band."),
    "feedback_": ("count", "Feedback rows with the named outcome."),
    "band_expected_": ("expected", "Expected admissions in the named pyramid band."),
}

#: dimension -> its groups (what `group` holds), for joining the file to other data.
DIMENSIONS: dict[str, str] = {
    "band": "Pyramid band: {bands} (configs/report.yaml `pyramid`).",
    "practice": "GP practice code as in the extract's practices table (ODS code in NHS data).",
    "pcn": "Primary care network code as in the extract's practices table.",
    "ics": "'Total': the whole area (every practice of the extract).",
    "imd_quintile": "IMD quintile of the person's area: '1 (most deprived)', '2', '3', '4', '5 "
    "(least deprived)' (deciles 1-2, 3-4, ...), 'Unknown'; 'Total' for the whole area.",
    "ethnicity": "ONS 5 groups ({ethnicity}); 'Total' for the whole area.",
    "age_band": "Age in years at as_of: {ages}, 'Unknown'; 'Total' for the whole area.",
    "sex": "'F', 'M', 'Unknown' (recorded as U or missing); 'Total' for the whole area.",
    "ltc_count": "Number of long-term-condition registers (palliative care not counted): "
    "{ltcs}; 'Total' for the whole area.",
    "register": "QOF-style register code ({registers}); a person on several registers counts "
    "in each, so the registers have no total.",
    "risk_decile": "Tenth of the matured predictions by risk: '01' (lowest) to '10' (highest).",
    "as_of": "Scoring date (YYYY-MM-DD) of an earlier weekly run: the trend section.",
    "source": "Where bed days per admitted person came from: 'observed' (completed emergency "
    "spells over the last horizon) or 'configured'.",
}

UNKNOWN_MEASURE = "aggregates measure {measure!r} has no entry in riskstrat/reports/dictionary.py"


def kind_of(measure: str) -> str:
    if measure in MEASURES:
        return MEASURES[measure][0]
    for prefix, (kind, _) in PREFIXES.items():
        if measure.startswith(prefix):
            return kind
    raise KeyError(UNKNOWN_MEASURE.format(measure=measure))


def _kind(measure: str, column: str) -> str:
    """The kind a column of a measure's row is rounded and written as (bounds may differ)."""
    kind = kind_of(measure)
    bounds = KINDS[kind].bounds
    return bounds if bounds is not None and column != "value" else kind


def round_published(frame: pd.DataFrame) -> pd.DataFrame:
    """Round value/lower/upper to the precision of each measure's kind (the published figure)."""
    out = frame.copy()
    for col in ("value", "lower", "upper"):
        decimals = out["measure"].map(lambda m, c=col: KINDS[_kind(m, c)].decimals)
        values = out[col].to_numpy(dtype=float).copy()
        for d in decimals.dropna().unique():
            sel = (decimals == d).to_numpy()
            values[sel] = np.round(values[sel], int(d))
        whole = decimals.isna().to_numpy()
        values[whole] = np.round(values[whole])
        out[col] = values
    return out


def _cell(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return ""
    decimals = KINDS[kind].decimals
    if decimals is None or decimals == 0:
        return str(int(np.rint(value)))
    return f"{value:.{decimals}f}"


def to_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as text: counts as whole numbers, others at their kind's precision."""
    out = frame[list(COLUMNS)].copy()
    for col in ("value", "lower", "upper"):
        kinds = frame["measure"].map(lambda m, c=col: _kind(m, c))
        out[col] = [_cell(v, k) for v, k in zip(frame[col], kinds, strict=True)]
    out["suppressed"] = frame["suppressed"].map({True: "true", False: "false"})
    return out


def _describe(config: ReportConfig, *, horizon_days: int, task_title: str) -> list[str]:
    """What every figure of the file is about: population, horizon, interval, rounding."""
    rule = config.suppression
    return [
        "## What the figures describe",
        "",
        f"- Population: the registered people scored at `as_of` for {task_title}, by the "
        "practice (and PCN) they are registered with in the extract; the performance section: "
        f"the people scored on the latest date at least one horizon ({horizon_days} days) "
        f"earlier, with what happened in the {horizon_days} days after it.",
        f"- Horizon: expected admissions, `expected_per_1000`, `standardised_per_1000` and bed "
        f"days are over the {horizon_days} days after `as_of`, not per year; 'admissions' "
        "count people with at least one emergency admission.",
        f"- Intervals: `lower` and `upper` are {100 * config.interval_level:g}% intervals "
        "(funnel measures: the control limits).",
        f"- Small numbers: counts of {rule.min_count}-{rule.max_count} are hidden (`value` "
        f"empty, `suppressed` true), as are other cells that would let one be worked out; "
        f"other counts are rounded to the nearest {rule.rounding_base}, each on its own, so a "
        "total need not equal the sum of its rounded parts.",
        "",
    ]


def dictionary_markdown(config: ReportConfig, *, horizon_days: int, task_title: str) -> str:
    """aggregates.md: what the figures describe (population, horizon, interval, rounding), the
    columns, the dimensions with their groups, and the kinds and measures of aggregates.csv."""
    rule = config.suppression
    facts = {
        "min": rule.min_count,
        "max": rule.max_count,
        "base": rule.rounding_base,
        "lookback": config.outreach_lookback_days,
        "bands": ", ".join(f"'{b.name}' ({b.title})" for b in config.pyramid),
        "ethnicity": ", ".join(f"'{g}'" for g in ETHNICITY_GROUPS),
        "ages": ", ".join(f"'{label}'" for _, label in AGE_BANDS),
        "ltcs": ", ".join(f"'{label}'" for _, label in LTC_BANDS),
        "registers": ", ".join(config.registers),
    }
    lines = [
        "# aggregates.csv: data dictionary",
        "",
        "One row per (as_of, section, dimension, group, measure). Files of successive weeks",
        "can be appended: the key stays unique across weeks. Generated from",
        "riskstrat/reports/dictionary.py.",
        "",
        *_describe(config, horizon_days=horizon_days, task_title=task_title),
        "## Columns",
        "",
        "| column | meaning |",
        "| --- | --- |",
        *[f"| {c} | {m} |" for c, m in COLUMNS.items()],
        "",
        "## Dimensions",
        "",
        "| dimension | groups |",
        "| --- | --- |",
        *[f"| {d} | {m.format(**facts)} |" for d, m in DIMENSIONS.items()],
        "",
        "## Measures",
        "",
        "| measure | kind | unit | meaning |",
        "| --- | --- | --- | --- |",
        *[
            f"| {m} | {k} | {KINDS[k].unit.format(**facts)} | {d.format(**facts)} |"
            for m, (k, d) in MEASURES.items()
        ],
        *[
            f"| {p}<name> | {k} | {KINDS[k].unit.format(**facts)} | {d} |"
            for p, (k, d) in PREFIXES.items()
        ],
        "",
        "Every figure derived from a count (rates, ratios, per-1,000 figures) is computed from",
        "the published (suppressed and rounded) counts, so no combination of columns recovers a",
        "count more exactly than the count column itself.",
        "",
    ]
    return "\n".join(lines)
