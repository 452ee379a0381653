"""The model card's fixed text (intended use, users, scope, safety) and its generated limitations.

`limitations` is pure: evaluation tables + the card bounds of the model config in, sentences out.
It names what this evaluation shows: weak or miscalibrated subgroups, baselines the model does
not beat beyond noise, miscalibration in the highest-risk tenth, and a small test set.
"""

from __future__ import annotations

import math

import pandas as pd

from riskstrat.models.config import Card
from riskstrat.models.evaluate import MODEL, ORACLE, ORACLE_NO_FORESIGHT, REFERENCES

INTENDED_USE = {
    "crisis": (
        "Rank the registered population of a GP practice by the calibrated probability of an "
        "emergency admission in the next {horizon} days, to choose whom to offer proactive, "
        "person-centred care (the weekly early-intervention list)."
    ),
    "readmission_30d": (
        "Estimate, at discharge, the probability of an emergency readmission within 30 days, to "
        "prioritise post-discharge follow-up calls (the weekday post-discharge list)."
    ),
}
DEFAULT_USE = "Rank the rows of this task by the calibrated probability of its event."
USE_BOUNDARY = [
    "Population: patients registered with the practices in the training extract, scored from "
    "the same registry feeds; a new area, provider or coding system needs re-evaluation first.",
    "Output: a ranked list for a clinician or care co-ordinator to review; it never triggers "
    "contact, treatment or refusal of care on its own.",
    "Horizon: the probability is for the stated horizon only and is recomputed every run; a "
    "score older than a run must not be used.",
]
INTENDED_USERS = [
    "GP practice teams and care co-ordinators (their own practice's list only)",
    "data scientists (evaluation, retraining, promotion)",
    "commissioners (aggregate risk reports; never patient-level)",
]
OUT_OF_SCOPE = [
    "Clinical diagnosis or decisions about an individual's treatment without clinical review.",
    "Rationing or denying care; cost or resource allocation per patient (the target is a health "
    "event, not cost).",
    "Populations or data sources unlike the training extract without re-evaluation.",
]
CLINICAL_SAFETY = [
    "DCB0129 (manufacturer): this card, the evaluation behind it and the promotion gate feed the "
    "hazard log and clinical safety case; the Clinical Safety Officer named above signs off each "
    "promoted version.",
    "DCB0160 (deploying organisation): each practice's use of the lists needs its own hazard "
    "assessment (who reviews a list, how quickly, what happens to people not listed).",
    "Identified hazards: a person at risk is not listed (false negative), an out-of-date score, "
    "a list sent to the wrong practice, over-reliance on the rank. Controls: scores recomputed "
    "each run, lists only in the practice's own folder, clinical review of every contact, "
    "monitoring below.",
]
GENERIC_LIMITATIONS = [
    "Scores go stale: discrimination falls when scores are not recomputed (SPARRA's AUROC fell "
    "from 0.79 to 0.76 over two years); scores are recomputed every run and monitored.",
    "People already case-managed can rank high; lists exclude recent outreach outcomes, but "
    "teams should check existing care before contact.",
    "Regression to the mean: frequent attenders in the last year often use less next year; a "
    "high score is a prompt for review, not a prediction of certainty.",
    "Labels record emergency admissions, which depend on access and coding; groups with less "
    "access may be under-predicted (see 'Performance by subgroup' and the monitoring section).",
    "Reference results in the field: SPARRA v4 AUROC 0.80, QAdmissions C 0.76-0.78, PARR-30 "
    "0.70, LACE 0.65-0.68, HOSPITAL 0.71-0.72. A model much above these on real data should be "
    "checked for leakage.",
]
SYNTHETIC_NOTE = (
    "Trained and evaluated on a synthetic population: performance on real registry data is not "
    "established by these figures."
)
ORACLE_NOTE = (
    "oracle: the generator's true risk on the same rows. It knows the schedules the generator "
    "drew in advance (planned admissions, future diagnoses, moves), so no model can reach it."
)
NO_FORESIGHT_NOTE = (
    "oracle_no_foresight: the same true risk with those schedules redrawn by Monte Carlo from the "
    "generator's own laws ({draws} draws; per-row standard error mean {se_mean}, largest "
    "{se_max}): the honest ceiling from what is known at the index date."
)


def reference_notes(performance: list[dict]) -> list[str]:
    """What each reference scorer in the performance table is (synthetic data only)."""
    by = {r["score"]: r for r in performance}
    out = [ORACLE_NOTE] if ORACLE in by else []
    if ORACLE_NO_FORESIGHT in by:
        r = by[ORACLE_NO_FORESIGHT]
        draws = r.get("mc_draws")
        out.append(
            NO_FORESIGHT_NOTE.format(
                draws="?" if draws is None else int(draws),
                se_mean=_fmt(r.get("mc_se_mean"), ".4f"),
                se_max=_fmt(r.get("mc_se_max"), ".4f"),
            )
        )
    return out


DATES_NOTE = (
    "The held-out patients scored at every {every} days ({rows} rows, {events} events, "
    "{patients} patients never used in training or calibration): AUROC per date, its mean and "
    "range over the dates, and a 95% patient-bootstrap interval of the mean (the same patients "
    "for every score in each resample). gap_to_<reference> is the reference minus the model, "
    "paired.{draws}"
)


def dates_note(dates: dict | None) -> str:
    """The sentence under the many-as-of-dates table ('' without one)."""
    if not dates:
        return ""
    draws = dates.get("draws")
    return DATES_NOTE.format(
        every=dates["every_days"],
        rows=dates["rows"],
        events=dates["events"],
        patients=dates["patients"],
        draws=f" No-foresight oracle: {draws} Monte Carlo draws per row." if draws else "",
    )


SMALL_TEST = (
    "Small test set: {n} rows with {events} events (fewer than {bound}); the model's AUROC 95% "
    "interval is {lo}-{hi}, so differences smaller than {width} are noise."
)
NOT_BEATEN = (
    "The model does not beat {name} beyond noise: AUROC {model:.3f} vs {base:.3f}, difference "
    "{delta:+.3f} (95% CI {dlo} to {dhi})."
)
WEAK_SUBGROUP = (
    "Weak discrimination in {slice} {group} ({n} rows, {events} events): AUROC {auroc:.3f}{ci}, "
    "below {bound:g}."
)
BEATEN_BY = (
    "{name} is better than the model beyond noise: AUROC {base:.3f} vs {model:.3f}, difference "
    "(model - {name}) {delta:+.3f} (95% CI {dlo} to {dhi}); prefer it or find out why."
)
MISCALIBRATED_SUBGROUP = (
    "The model {verb}-predicts in {slice} {group} ({n} rows): observed {observed:.2%} vs "
    "predicted {predicted:.2%} (gap {gap:+.2%}{ci}, bound {bound:.0%})."
)
#: Under the subgroup table: what the gap is and where its interval comes from.
SUBGROUP_NOTE = (
    "gap = observed - predicted (above 0: the model under-predicts in the group). Intervals "
    "(AUROC and gap) are 95% patient-bootstrap percentile intervals; a group too small for a "
    "stable bootstrap has none."
)
#: ... and when no group has a gap interval but some have an AUROC one (card.json written
#: before the card kept the gap's interval; the demo's crisis v1 card re-rendered).
SUBGROUP_NOTE_OLD = " This card was written before it kept the gap's interval: retrain to see them."
TOP_BIN = (
    "The model {verb}-predicts in the highest-risk tenth: mean predicted {predicted:.1%} vs "
    "observed {observed:.1%} ({n} rows, beyond the observed rate's 95% interval; the top of "
    "the list is where outreach is offered)."
)
MORE = "... and {n} more subgroup findings (see 'Performance by subgroup')."
MAX_SUBGROUP_LINES = 8


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def limitations(
    overall: pd.DataFrame,
    subgroups: pd.DataFrame,
    reliability: pd.DataFrame,
    *,
    bounds: Card,
    synthetic: bool,
) -> list[str]:
    """Generated from this evaluation (then the generic ones): see the module docstring."""
    out: list[str] = []
    by = overall.set_index("score")
    model = by.loc[MODEL]
    if model["events"] < bounds.min_test_events:
        lo, hi = model.get("auroc_lo"), model.get("auroc_hi")
        width = (hi - lo) if lo is not None and hi is not None else float("nan")
        out.append(
            SMALL_TEST.format(
                n=int(model["n"]),
                events=int(model["events"]),
                bound=bounds.min_test_events,
                lo=_fmt(lo),
                hi=_fmt(hi),
                width=_fmt(width, ".3f"),
            )
        )
    for name, row in by.iterrows():
        if name == MODEL or name in REFERENCES:
            continue
        lo = row.get("auroc_delta_lo", float("nan"))
        beaten = lo > 0 if not math.isnan(lo) else row["auroc_delta"] > 0
        hi = row.get("auroc_delta_hi", float("nan"))
        if not beaten:
            template = BEATEN_BY if hi < 0 else NOT_BEATEN
            out.append(
                template.format(
                    name=name,
                    model=model["auroc"],
                    base=row["auroc"],
                    delta=row["auroc_delta"],
                    dlo=_fmt(lo, "+.3f"),
                    dhi=_fmt(hi, "+.3f"),
                )
            )
    out += _subgroup_lines(subgroups, bounds=bounds)
    top = reliability.sort_values("predicted").tail(1)
    if len(top) and top["observed"].iloc[0] > 0:
        obs, pred, n = (float(top[c].iloc[0]) for c in ("observed", "predicted", "n"))
        ratio = pred / obs
        noise = 1.96 * math.sqrt(obs * (1 - obs) / n)  # the observed rate's 95% half-width
        material = ratio > bounds.top_bin_ratio or ratio < 1 / bounds.top_bin_ratio
        if material and abs(pred - obs) > noise:
            out.append(
                TOP_BIN.format(
                    verb="over" if ratio > 1 else "under",
                    predicted=top["predicted"].iloc[0],
                    observed=top["observed"].iloc[0],
                    n=int(top["n"].iloc[0]),
                )
            )
    out += GENERIC_LIMITATIONS
    if synthetic:
        out.append(SYNTHETIC_NOTE)
    return out


def _subgroup_lines(subgroups: pd.DataFrame, *, bounds: Card) -> list[str]:
    sub = subgroups[
        (subgroups["slice"] != "overall") & (subgroups["n"] >= bounds.subgroup_min_rows)
    ]
    lines: list[str] = []
    for r in sub.to_dict("records"):
        auroc = r.get("auroc")
        if auroc is not None and not math.isnan(auroc) and auroc < bounds.min_subgroup_auroc:
            ci = ""
            if not math.isnan(r.get("auroc_lo", float("nan"))):
                ci = f" (95% CI {r['auroc_lo']:.3f}-{r['auroc_hi']:.3f})"
            lines.append(
                WEAK_SUBGROUP.format(
                    slice=r["slice"],
                    group=r["group"],
                    n=int(r["n"]),
                    events=int(r["events"]),
                    auroc=auroc,
                    ci=ci,
                    bound=bounds.min_subgroup_auroc,
                )
            )
        if abs(r["gap"]) > bounds.max_subgroup_gap:
            gap_ci = ""
            if not math.isnan(r.get("gap_lo", float("nan"))):
                gap_ci = f", 95% CI {r['gap_lo']:+.2%} to {r['gap_hi']:+.2%}"
            lines.append(
                MISCALIBRATED_SUBGROUP.format(
                    ci=gap_ci,
                    verb="under" if r["gap"] > 0 else "over",
                    slice=r["slice"],
                    group=r["group"],
                    n=int(r["n"]),
                    observed=r["observed"],
                    predicted=r["predicted"],
                    gap=r["gap"],
                    bound=bounds.max_subgroup_gap,
                )
            )
    if len(lines) > MAX_SUBGROUP_LINES:
        extra = len(lines) - MAX_SUBGROUP_LINES
        lines = [*lines[:MAX_SUBGROUP_LINES], MORE.format(n=extra)]
    return lines
