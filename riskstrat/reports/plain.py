"""Monitoring warnings in a commissioner's words (the technical wording stays in the run's
monitoring files, the manifest and MLflow; both are kept in warnings.csv).

Warnings arrive as "<task>: <text>" in the wording of riskstrat.runs.monitoring and
riskstrat.models.population; each known pattern maps to one plain sentence. Feature names become
their catalogue descriptions. A report shows its own model's warnings (and those of no model:
ingest, a forced run) once each: `report_warnings`.
"""

from __future__ import annotations

import re

from riskstrat.features import load_catalogue
from riskstrat.reports.context import SLICE_WORDS
from riskstrat.tasks import task_names

#: Drift does not make the figures wrong, nor shows them right: the model has not been checked
#: on the changed population yet (was: "Figures in this report are still valid", beside a major
#: drift, on a page whose model over-predicted by 12% on its test period).
#: riskstrat.runs.monitoring's check of one group of the matured predictions.
GROUP_PATTERN = r"predictions from \S+: (?P<slice>[a-z_]+) (?P<group>.+?) (observed|AUROC)"
STILL_VALID = (
    "Figures in this report are computed as usual, but how well the model does for the changed "
    "population is not yet known; the model team has been told."
)
PATTERNS: tuple[tuple[str, str], ...] = (
    # riskstrat.models.population: the model meeting a new population (before scoring)
    # riskstrat.registry: optional parts of the extract that were absent (ingest). The demo's
    # report said "The model team flagged a technical check" beside an outreach table of zeros.
    (
        r"optional table 'outreach_outcomes' absent",
        "This week's data extract has no outreach feedback from practices (its optional table "
        "is absent): the outreach section's outcome columns are empty, which does not mean that "
        "no one was contacted.",
    ),
    # riskstrat.reports.loader.NO_LISTS: a report made without its run's lists
    (
        r"no practice lists in the run's folder for (?P<as_of>[\d-]+):",
        "No practice lists were found for {as_of} (no run wrote them, or this report was made "
        "on its own): every 'listed' figure in sections 3 and 6 shows 0 because no list was "
        "read, not because no one was listed.",
    ),
    (
        r"optional table '(?P<table>\w+)' absent",
        "This week's data extract has no {table} table (optional): what it would add counts as "
        "none; the model team has been told.",
    ),
    (
        r"optional column '(?P<column>\w+)' absent",
        "This week's data extract has no {column} column (optional; read as empty); the model "
        "team has been told.",
    ),
    (
        r"MODEL NOT VALIDATED FOR THIS POPULATION",
        "The model is NOT VALIDATED FOR THIS POPULATION: it was trained on people unlike those "
        "scored this week, so its risks may be badly off. Use the lists as a ranking only, not "
        "as expected numbers of admissions, until the model team has recalibrated it.",
    ),
    (
        r"only (?P<n>\d+) rows scored \(fewer than (?P<least>\d+)\)",
        "Only {n} people were scored by this model this week (fewer than {least}), too few to "
        "compare reliably with the people it was trained on; the checks that follow are for "
        "information.",
    ),
    (
        r"population differs from the model's training population: .*? \((?P<names>.+)\)$",
        "The people scored this week differ from the population the model was trained on in "
        "{what}.",
    ),
    (
        r"(?P<share>\d+%) of rows have a value outside the training range \((?P<names>.+)\)$",
        "{share} of the people scored have values the model never saw in training ({what}).",
    ),
    (
        r"mean predicted risk (?P<mean>[\d.]+%) is (?P<ratio>[\d.]+) times the training "
        r"prevalence (?P<prevalence>[\d.]+%)",
        "Average predicted risk ({mean}) is {ratio} times the rate among the people the model "
        "was trained on ({prevalence}).",
    ),
    (
        r"observed (?P<obs>[\d.]+%) vs predicted (?P<pred>[\d.]+%) \(observed/expected",
        "Among people scored earlier whose outcomes are now known, {obs} were admitted against "
        "{pred} predicted; expected activity in this report may be off by a similar amount.",
    ),
    (
        r"(major )?input drift.*?: (?P<names>[\w, ]+)$",
        "The population this week differs from the one the model was trained on in {what}. "
        + STILL_VALID,
    ),
    (
        r"score distribution shifted",
        "The spread of risk this week differs from when the model was trained. " + STILL_VALID,
    ),
    (
        r"mean risk changed by (?P<change>[+-]\d+%)",
        "Average predicted risk changed by {change} since the previous week's scores; check "
        "for a change in the data before acting on week-on-week differences.",
    ),
    (
        GROUP_PATTERN,
        "Predictions made one horizon ago were less accurate for one group ({slice} {group}); "
        "the model team has been told.",
    ),
    (
        r"AUROC .* below",
        "Predictions made one horizon ago ranked people less well than expected. The model "
        "team is reviewing the model; use the lists with clinical judgement.",
    ),
    (
        r"observed rate (?P<obs>[\d.]+%) vs predicted (?P<pred>[\d.]+%)",
        "Predictions made one horizon ago were off overall (observed {obs} of people admitted, "
        "predicted {pred}); expected activity in this report may be off by a similar amount.",
    ),
)
UNKNOWN = "The model team flagged a technical check on this week's data; they have been told."


def _features(names: str) -> str:
    """'years_since_ckd 0.39, bmi_latest up to 61 (training 12-55)' -> the features' words."""
    catalogue = load_catalogue()
    known = {f.column: f.description for f in catalogue.features}
    words = []
    for name in (n.strip().split(" ")[0] for n in names.split(", ")):
        text = known.get(name, name.replace("_", " "))
        text = text.split(";")[0].rstrip(".").replace(" (before index)", "")
        text = text.replace(" before index", "")
        text = text.replace(" to index", "")
        lower = len(text) > 1 and text[1].islower()
        words.append(text[0].lower() + text[1:] if lower else text)
    return "; ".join(words)


def plain_warning(warning: str) -> str:
    """One monitoring warning as a sentence for a commissioner."""
    _, _, text = warning.partition(": ") if ": " in warning else ("", "", warning)
    for pattern, sentence in PATTERNS:
        match = re.search(pattern, text)
        if match:
            fields = match.groupdict()
            if "names" in fields:
                fields["what"] = _features(fields["names"] or "")
            if "slice" in fields:
                fields["slice"] = SLICE_WORDS.get(fields["slice"], fields["slice"])
            return sentence.format(**fields)
    return UNKNOWN


#: A major drift warning's features are all in the same task's drift warning: said once.
MAJOR_DRIFT = re.compile(r"^major input drift .*?: (?P<names>[\w, ]+)$")
DRIFT = re.compile(r"^input drift: .*?: (?P<names>[\w, ]+)$")


def report_warnings(warnings: list[str], *, task: str) -> list[str]:
    """The plain sentences a report on `task` shows: its model's warnings and those of no
    model (ingest, a forced run), each once; a major-drift warning whose features the task's
    drift warning already names is left out (same features, one sentence)."""
    tasks = set(task_names())
    own = []
    for warning in warnings:
        source, _, text = warning.partition(": ")
        if source in tasks and source != task:
            continue
        own.append((source, text, warning))
    drifted = {
        (source, name.strip())
        for source, text, _ in own
        if (m := DRIFT.match(text))
        for name in m["names"].split(",")
    }
    shown = [
        warning
        for source, text, warning in own
        if not (
            (m := MAJOR_DRIFT.match(text))
            and all((source, n.strip()) in drifted for n in m["names"].split(","))
        )
    ]
    return _merge_groups(list(dict.fromkeys(plain_warning(w) for w in shown)), shown)


#: Monitoring's per-group checks of the matured predictions, one warning per group.
GROUP_CHECK = re.compile(GROUP_PATTERN)
#: ... said once on the page (the golden steady week listed seven "less accurate for one group"
#: sentences, four of them age bands, where ranking within a band is naturally harder).
GROUPS_LESS_ACCURATE = (
    "Predictions made one horizon ago were less accurate for some groups than overall "
    "({groups}). Within a group of similar people ranking is harder than across everyone, so "
    "lower figures there are expected; section 5 gives each group's figures and the model team "
    "has been told."
)


def _merge_groups(sentences: list[str], warnings: list[str]) -> list[str]:
    """The per-group checks' sentences as one, at the first one's place, groups in order."""
    found: dict[str, list[str]] = {}
    for warning in warnings:
        match = GROUP_CHECK.search(warning.partition(": ")[2])
        if match:
            words = SLICE_WORDS.get(match["slice"], match["slice"])
            found.setdefault(words, [])
            if match["group"] not in found[words]:
                found[words].append(match["group"])
    if sum(len(g) for g in found.values()) < 2:
        return sentences
    merged = GROUPS_LESS_ACCURATE.format(
        groups="; ".join(f"{words} {', '.join(groups)}" for words, groups in found.items())
    )
    single = {plain_warning(w) for w in warnings if GROUP_CHECK.search(w.partition(": ")[2])}
    out: list[str] = []
    for sentence in sentences:
        if sentence in single:
            if merged not in out:
                out.append(merged)
        else:
            out.append(sentence)
    return out
