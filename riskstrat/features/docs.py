"""docs/features.md, generated from the feature catalogue (never written by hand)."""

from __future__ import annotations

from pathlib import Path

from riskstrat.config import project_root
from riskstrat.features.catalogue import Catalogue, FeatureSpec, load_catalogue

DOC_PATH = "docs/features.md"
HEADER = """\
# Feature catalogue

Generated from `features/*.yml` by `riskstrat feature-docs` (a test checks this file is current).
Every feature is computed point-in-time: it sees only events dated strictly before the index date
(docs/architecture.md, "Time conventions"); design notes are in docs/feature-library.md.

Codebook version: `{version}`. Model use: {n_model} of {n_all} features (ethnicity is computed
for slicing and equity reports only). Monotone: +1 = risk never falls as the value rises.

## How a feature becomes a reason on a list

The reason columns below are the exact wording; the rules that decide whether a feature speaks
come from the same YAML keys (riskstrat.explain.reasons, one fact each):

- **Context, not reasons.** A feature with `role: context` (age, sex, ethnicity, deprivation)
  stays in the model but never takes a reason slot: nobody can act on it. Age and date of birth
  are list columns of their own.
- **No zeros.** A value of 0, an unset flag or a missing value is never a reason ("0 nights in
  hospital"), unless the YAML gives an `absence_reason`: then the absence itself is the concern
  and that wording is used.
- **One reason per concept.** Features with the same `concept` describe one fact (the windows of
  one count; a register and its years since diagnosis; nights in 3 months, 12 months, 2 years);
  a row speaks only the member with the largest contribution.
- **One stay, one reason.** The last emergency admission and the last discharge are one reason
  when the discharge ended that emergency stay (`said_with`: `days_since_emerg_discharge`, not a
  model input, equals `days_since_discharge`): "Emergency admission 32 days ago, discharged from
  hospital 16 days ago" ("..., discharged the same day"; "Emergency admission 7 months ago, 4
  nights in hospital" when both times would read the same), placed by the two contributions summed;
  rising risk likewise ("New: emergency admission 6 days ago, discharged from hospital yesterday
  (+11.0 points)", its nights in hospital counted in the same reason). A stay continued in
  another hospital is one stay: through a transfer chain
  (features/transfer_link.sql) its discharge is the last leg's, and its nights count every leg.
  When the last discharge ended another stay (a planned one), they stay two reasons. Before
  this, a third of the demo's listed rows spent two of their three reasons on one stay.
- **Clinical categories.** `bands` put a value in the category clinicians use, shown with the
  value: eFI fit / mild / moderate / severe frailty at 0.12 / 0.24 / 0.36, BMI underweight /
  healthy / overweight / obese / severely obese (18.5 / 25 / 30 / 40), HbA1c and eGFR (CKD G3a-G5)
  bands, polypharmacy at 5 and 10 medicines. A band with `concern: false` (fit, healthy weight,
  eGFR 60+) is never a reason. (No blood-pressure feature is in the catalogue yet; a `bands:`
  block is all a future `sbp_latest` needs.)
- **Time, and "recent" only when true.** A `when: days_ago` / `years_ago` value is worded as a
  friendly duration: days up to 8 weeks, then weeks up to 16, months up to 2 years, then years
  ("A&E visit 2 years ago", never "875 days ago"). No template says "recent": an explanation's
  `recent_i` column is true only when the event (a count: its whole `window_days` window) lies
  within `recent_days` of the list date (configs/reasons.yaml, 90 days), so an action that says
  "recent" can check it.
- **This discharge vs previous.** On a post-discharge (readmission) row the index spell is
  "this discharge" (the index-spell features, all one concept, plus a `this_discharge` line with
  date, length of stay, admission method, diagnosis group and destination); hospital-use features
  with a `discharge_reason` are worded "previous".
- **Rising risk says what changed.** A rising-risk row is explained at this week's and last
  week's as-of with the same model; the reasons are the facts whose value changed (a count or
  flag that moved, an event newer than last week's; never a fact the same at both runs), each
  with its share of the row's rise, to one decimal: a reason's own effect (risk now minus risk
  with its change undone), scaled down together when the effects add up to more than the rise,
  so the points never exceed the Rise column: "New: emergency admission 6 days ago, discharged
  the same day (+9.4 points)", "Taking 11 different medicines (polypharmacy, 10 or more) (was 8)
  (+2.1 points)" (docs/outreach.md, "Rising risk: what the points mean").
- **A rise driven only by planned care is not rising risk.** When a planned (elective) admission
  count rose since last week and no unplanned event did (no emergency admission, no A&E visit),
  the rise is the planned stay's own after-effect: the person is under specialist care (the
  post-discharge list lists the discharge only if its readmission risk is high enough). Such
  rows are
  flagged `rise_planned_only` and do not belong on the rising-risk list (features carry
  `event: planned` / `unplanned`). A planned admission alongside an unplanned event still counts.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(f: FeatureSpec) -> str:
    flags = []
    if f.monotone:
        flags.append(f"monotone {f.monotone:+d}")
    if f.modifiable:
        flags.append("modifiable")
    if not f.use_in_model:
        flags.append("not in model")
    if f.role == "context":
        flags.append("context (never a reason)")
    if f.concept:
        flags.append(f"concept {f.concept}")
    if f.window_days:
        flags.append(f"window {f.window_days} d")
    if f.event:
        flags.append(f"{f.event} care")
    tests = [name for name in ("not_null",) if getattr(f.tests, name)]
    tests += [
        f"{k} {v:g}" for k, v in (("min", f.tests.min), ("max", f.tests.max)) if v is not None
    ]
    kind = (
        f.dtype
        if f.categories is None
        else ("category: " + ", ".join(f"{i}={c}" for i, c in enumerate(f.categories)))
    )
    reason = f.reason
    if f.bands:
        cuts = [f"{b.label or '-'}{'' if b.concern else ' (not a reason)'}" for b in f.bands]
        edges = [f"< {b.below:g}" if b.below is not None else "rest" for b in f.bands]
        reason += "; bands: " + ", ".join(f"{e} {c}" for e, c in zip(edges, cuts, strict=True))
    if f.absence_reason:
        reason += f"; when 0: {f.absence_reason}"
    if f.discharge_reason:
        reason += f"; after a discharge: {f.discharge_reason}"
    return (
        f"| `{f.column}` | {_cell(kind)} | {_cell(f.description)} | {_cell(f.rationale)} | "
        f"{_cell(reason)} | {', '.join(flags)} | {', '.join(tests)} |"
    )


def catalogue_markdown(catalogue: Catalogue | None = None) -> str:
    """The text of docs/features.md."""
    cat = catalogue or load_catalogue()
    n_model = sum(f.use_in_model for f in cat.features)
    parts = [HEADER.format(version=cat.codebook_version, n_model=n_model, n_all=len(cat.features))]
    for g in cat.groups:
        scope = "readmission tasks only (index is a spell)" if g.needs_index_spell else "all tasks"
        parts.append(
            f"## {g.name} (`features/{g.sql_path.name}`, {scope})\n\n{_cell(g.description)}\n\n"
            "| column | type | description | rationale | reason | flags | tests |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(_row(f) for f in g.features)
            + "\n"
        )
    return "\n".join(parts)


def write_catalogue_markdown(path: Path | None = None) -> Path:
    path = path or project_root() / DOC_PATH
    path.write_text(catalogue_markdown(), encoding="utf-8")
    return path
