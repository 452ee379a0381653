"""The one definition of aggregates.csv: its columns, every measure's kind and meaning.

The CSV writer formats values by kind (counts as whole numbers), the pure core rounds every
published figure to its kind's precision, and `aggregates.md` (the data dictionary written beside
the CSV) is generated from the same tables, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Columns of aggregates.csv, in order, with their meaning.
COLUMNS: dict[str, str] = {
    "as_of": "Date of the scores the report describes (YYYY-MM-DD): the week's key.",
    "section": "Report section the figure belongs to.",
    "dimension": "What the groups are (practice, pcn, ics, band, age_band, sex, ...).",
    "group": "The group within the dimension (a practice code, an age band, 'Total', ...).",
    "measure": "What is measured (see the measures table).",
    "value": "The published figure; empty when suppressed or not defined.",
    "lower": "Lower end of the interval (interval_level of configs/report.yaml), if any.",
    "upper": "Upper end of the interval, if any.",
    "suppressed": "true when the figure is hidden by small-number suppression.",
}
KEY = ("as_of", "section", "dimension", "group", "measure")


@dataclass(frozen=True)
class Kind:
    """How a kind of figure is rounded and written (decimals None: whole number)."""

    decimals: int | None
    unit: str


KINDS: dict[str, Kind] = {
    "count": Kind(None, "people (suppressed 1-7, others rounded to the nearest 5)"),
    "flag": Kind(None, "-1 below, 0 within, 1 above the limits"),
    "risk": Kind(4, "probability (0-1)"),
    "proportion": Kind(4, "proportion (0-1), from published counts"),
    "per_1000": Kind(1, "per 1,000 people"),
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
    "not_listed": ("count", "People not on this week's lists."),
    "admitted": ("count", "People with an emergency admission in the matured window."),
    "not_admitted": ("count", "People without one."),
    "feedback_returned": ("count", "Outreach feedback rows returned in the look-back window."),
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
    "risk_from": ("risk", "Lowest calibrated risk in the band (the band's entry threshold)."),
    "risk_to": ("risk", "Highest calibrated risk in the band."),
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

UNKNOWN_MEASURE = "aggregates measure {measure!r} has no entry in riskstrat/reports/dictionary.py"


def kind_of(measure: str) -> str:
    if measure in MEASURES:
        return MEASURES[measure][0]
    for prefix, (kind, _) in PREFIXES.items():
        if measure.startswith(prefix):
            return kind
    raise KeyError(UNKNOWN_MEASURE.format(measure=measure))


def round_published(frame: pd.DataFrame) -> pd.DataFrame:
    """Round value/lower/upper to the precision of each measure's kind (the published figure)."""
    out = frame.copy()
    decimals = out["measure"].map(lambda m: KINDS[kind_of(m)].decimals)
    for col in ("value", "lower", "upper"):
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
    kinds = frame["measure"].map(kind_of)
    out = frame[list(COLUMNS)].copy()
    for col in ("value", "lower", "upper"):
        out[col] = [_cell(v, k) for v, k in zip(frame[col], kinds, strict=True)]
    out["suppressed"] = frame["suppressed"].map({True: "true", False: "false"})
    return out


def dictionary_markdown() -> str:
    """aggregates.md: the columns, kinds and measures of aggregates.csv."""
    lines = [
        "# aggregates.csv: data dictionary",
        "",
        "One row per (as_of, section, dimension, group, measure). Files of successive weeks",
        "can be appended: the key stays unique across weeks. Generated from",
        "riskstrat/reports/dictionary.py.",
        "",
        "## Columns",
        "",
        "| column | meaning |",
        "| --- | --- |",
        *[f"| {c} | {m} |" for c, m in COLUMNS.items()],
        "",
        "## Measures",
        "",
        "| measure | kind | unit | meaning |",
        "| --- | --- | --- | --- |",
        *[f"| {m} | {k} | {KINDS[k].unit} | {d} |" for m, (k, d) in MEASURES.items()],
        *[f"| {p}<name> | {k} | {KINDS[k].unit} | {d} |" for p, (k, d) in PREFIXES.items()],
        "",
        "Every figure derived from a count (rates, ratios, per-1,000 figures) is computed from",
        "the published (suppressed and rounded) counts, so no combination of columns recovers a",
        "count more exactly than the count column itself.",
        "",
    ]
    return "\n".join(lines)
