"""Top positive SHAP contributions -> plain-English reasons, one fact each (pure).

A reason is a feature that pushed this person's risk up (contribution > 0), largest first,
written with the feature's catalogue template. Every rule comes from the feature YAMLs
(riskstrat.features.catalogue): a feature speaks only when its value is a fact about the person
(`facts`: not missing, not a context feature such as age or sex, not a 0 or unset flag unless
the YAML says the absence is the concern, not in a band that is no concern); features that
share a `concept` (windows of one count, a register and its diagnosis date) give one reason per
row, the member with the largest contribution. Two times since events that are one stay (the
last emergency admission and the discharge that ended it: the YAML's `said_with`) are said as
one reason with their summed contribution ("Emergency admission 32 days ago, discharged from
hospital 16 days ago"), not two of the three. On a row whose index is a discharge, templates
with a `discharge_reason` say "previous". `recent_i` says whether the reason's event lies within
the configured recent window (configs/reasons.yaml), so an action that says "recent" can check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskstrat.explain.protocols import FeatureText
from riskstrat.explain.wording import display_label
from riskstrat.explain.wording import recent_days as configured_recent_days
from riskstrat.features.catalogue import UNIT_DAYS, friendly_ago, time_unit

MISSING_TEMPLATE = "feature {feature!r} has contributions but no reason template in the catalogue"
NOT_A_PAIR = "feature {feature!r} has no said_with: it is not the first of a pair"
BAD_TEMPLATE = "feature {feature!r}: reason template {template!r} cannot be formatted: {problem}"
#: Columns per reason i (1..k) in the order they are written.
REASON_FIELDS = ("reason", "feature", "contribution", "modifiable", "concept", "recent")


def as_texts(catalogue: object) -> dict[str, FeatureText]:
    """The catalogue as column -> spec (a Catalogue's `.features`, a mapping, or specs)."""
    if isinstance(catalogue, Mapping):
        return dict(catalogue)
    specs = getattr(catalogue, "features", catalogue)
    return {spec.column: spec for spec in specs}


def reason_text(spec: FeatureText, value: float, *, after_discharge: bool = False) -> str:
    """The spec's own wording, units and rounding; a category's value by its display label
    (configs/reasons.yaml `labels`: "This stay was for an injury", not "injury")."""
    try:
        if spec.categories is not None and display_label(spec, value) != spec.label(value):
            own = getattr(spec, "discharge_reason", None) if after_discharge else None
            return (own or spec.reason).format(value=display_label(spec, value))
        return spec.reason_text(value, after_discharge=after_discharge)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            BAD_TEMPLATE.format(feature=spec.column, template=spec.reason, problem=exc)
        ) from exc


def lower_first(text: str) -> str:
    """'Emergency admission' -> 'emergency admission'; 'A&E visit', 'COPD', 'HbA1c' unchanged."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[1:].islower():
        return text[0].lower() + text[1:]
    return text


def is_recent(spec: FeatureText, value: float, *, recent_days: int) -> bool | None:
    """True when the fact happened within `recent_days` (a count: its whole window does),
    False when older, None when the feature has no time (a register, a score)."""
    age = spec.age_days(value)
    return None if age is None else bool(age <= recent_days)


def said_with_pairs(
    values: pd.DataFrame, features: list[str], texts: Mapping[str, FeatureText]
) -> list[tuple[int, int, np.ndarray]]:
    """(first, then, one_stay) for every `said_with` pair both of whose members are in
    `features`: their positions, and per row whether the values show one stay (the YAML's
    `same_stay` column equals `then`'s). Without that column in `values` no row is one stay."""
    position = {f: j for j, f in enumerate(features)}
    pairs = []
    for j, f in enumerate(features):
        said_with = texts[f].said_with
        if said_with is None or said_with.column not in position:
            continue
        then = values[said_with.column].to_numpy("float64")
        if said_with.same_stay in values:
            same = values[said_with.same_stay].to_numpy("float64")
            one_stay = ~np.isnan(then) & (same == then)
        else:
            one_stay = np.zeros(len(values), dtype=bool)
        pairs.append((j, position[said_with.column], one_stay))
    return pairs


def join_pairs(
    score: np.ndarray, pairs: list[tuple[int, int, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Where both members of a pair would be said (finite score) about one stay, the stronger
    carries the pair's summed score and the other is not said. Returns the score and, rows x
    features, the other member's position where a member speaks for both (else -1)."""
    out = score.copy()
    partner = np.full(score.shape, -1)
    for a, b, one_stay in pairs:
        both = one_stay & np.isfinite(out[:, a]) & np.isfinite(out[:, b])
        keep_a = both & (out[:, a] >= out[:, b])
        keep_b = both & ~keep_a
        total = out[:, a] + out[:, b]
        out[keep_a, a], out[keep_a, b] = total[keep_a], -np.inf
        out[keep_b, b], out[keep_b, a] = total[keep_b], -np.inf
        partner[keep_a, a], partner[keep_b, b] = b, a
    return out, partner


def ago_in(days: float, unit: str) -> str:
    """`days` ago said in `unit` (friendly_ago's rounding). A time under one `unit` keeps its
    own words ("3 days ago", "yesterday"): a recent event said as "less than a week ago", or 4
    days as "1 week ago", would blur the fact a nurse needs most."""
    d = max(0, round(float(days)))
    return friendly_ago(d) if d < UNIT_DAYS[unit] else friendly_ago(d, unit=unit)


def _in_unit(spec: FeatureText, value: float, unit: str, *, after_discharge: bool) -> str:
    """The spec's reason for `value` with its time said in `unit`."""
    text = reason_text(spec, value, after_discharge=after_discharge)
    age = spec.age_days(value)
    if age is None:
        return text
    return text.replace(friendly_ago(age), ago_in(age, unit), 1)


def pair_text(
    first: FeatureText,
    then: FeatureText,
    first_value: float,
    then_value: float,
    *,
    after_discharge: bool = False,
) -> str:
    """One reason for an event and its end: "Emergency admission 32 days ago, discharged from
    hospital 16 days ago"; the YAML's `same_value` when both were the same day, its
    `stay_nights` when both times would read the same ("7 months ago, 4 nights in hospital").
    Both times are said in one unit, the older time's ("11 weeks ago, discharged from hospital
    7 weeks ago", not "... 51 days ago"), unless the later is under one of that unit: then it
    keeps its own words ("10 weeks ago, discharged from hospital 3 days ago")."""
    said_with = first.said_with
    if said_with is None:
        raise ValueError(NOT_A_PAIR.format(feature=first.column))
    ages = [a for a in (first.age_days(first_value), then.age_days(then_value)) if a is not None]
    unit = time_unit(max(ages)) if ages else "day"
    head = _in_unit(first, first_value, unit, after_discharge=after_discharge)
    if first_value == then_value:
        return f"{head}, {said_with.same_value}"
    tail = _in_unit(then, then_value, unit, after_discharge=after_discharge)
    if tail == _in_unit(then, first_value, unit, after_discharge=after_discharge):
        nights = round(first_value - then_value)
        stay = said_with.stay_nights.format(nights=nights, s="" if nights == 1 else "s")
        return f"{head}, {stay}"
    return f"{head}, {lower_first(tail)}"


def said_as_pair(
    j: int,
    other: int,
    row_values: np.ndarray,
    features: list[str],
    texts: Mapping[str, FeatureText],
    *,
    after_discharge: bool = False,
) -> str:
    """pair_text of members j and other (either may be the one that speaks)."""
    first, then = (j, other) if texts[features[j]].said_with else (other, j)
    return pair_text(
        texts[features[first]],
        texts[features[then]],
        row_values[first],
        row_values[then],
        after_discharge=after_discharge,
    )


def check_texts(features: list[str], texts: Mapping[str, FeatureText]) -> None:
    for feature in features:
        if feature not in texts:
            raise KeyError(MISSING_TEMPLATE.format(feature=feature))


def sayable(
    values: np.ndarray, features: list[str], texts: Mapping[str, FeatureText]
) -> np.ndarray:
    """rows x features: whether each value is a fact worth saying (the YAML's rules)."""
    if not features:
        return np.zeros(values.shape, dtype=bool)
    return np.column_stack([texts[f].facts(values[:, j]) for j, f in enumerate(features)])


def strongest_per_concept(
    score: np.ndarray, features: list[str], texts: Mapping[str, FeatureText]
) -> np.ndarray:
    """`score` with every concept member but the row's highest set to -inf."""
    out = score.copy()
    concepts: dict[str, list[int]] = {}
    for j, f in enumerate(features):
        concepts.setdefault(texts[f].concept_name, []).append(j)
    rows = np.arange(len(score))
    for members in concepts.values():
        if len(members) < 2:
            continue
        idx = np.array(members)
        best = idx[np.argmax(score[:, idx], axis=1)]  # first of equals: catalogue order
        keep = out[rows, best]
        out[:, idx] = -np.inf
        out[rows, best] = keep
    return out


def pick(
    score: np.ndarray,
    values: np.ndarray,
    features: list[str],
    *,
    texts: Mapping[str, FeatureText],
    k: int,
    after_discharge: bool,
    recent_days: int,
    index: pd.Index,
    contributions: np.ndarray | None = None,
    partner: np.ndarray | None = None,
) -> pd.DataFrame:
    """The k highest positive `score` features per row, as REASON_FIELDS columns. partner
    (join_pairs): where a feature speaks for a pair, the pair's text and summed contribution."""
    contributions = score if contributions is None else contributions
    partner = np.full(score.shape, -1) if partner is None else partner
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(score))
    out: dict[str, list[object] | np.ndarray] = {}
    for i in range(k):
        if order.shape[1] > i:
            j = order[:, i]
            names = [
                features[c] if ok else None for c, ok in zip(j, score[rows, j] > 0, strict=True)
            ]
            vals = values[rows, j]
        else:
            j, names, vals = (
                np.zeros(len(rows), int),
                [None] * len(rows),
                np.full(len(rows), np.nan),
            )
        specs = [texts[n] if n else None for n in names]
        others = partner[rows, j]
        out[f"reason_{i + 1}"] = [
            None
            if s is None
            else reason_text(s, v, after_discharge=after_discharge)
            if o < 0
            else said_as_pair(c, o, values[r], features, texts, after_discharge=after_discharge)
            for r, c, o, s, v in zip(rows, j, others, specs, vals, strict=True)
        ]
        out[f"feature_{i + 1}"] = names
        out[f"contribution_{i + 1}"] = np.array(
            [
                np.nan if not n else contributions[r, c] + (contributions[r, o] if o >= 0 else 0)
                for r, c, o, n in zip(rows, j, others, names, strict=True)
            ],
            dtype="float64",
        )
        out[f"modifiable_{i + 1}"] = [bool(s and s.modifiable) for s in specs]
        out[f"concept_{i + 1}"] = [s.concept_name if s else None for s in specs]
        out[f"recent_{i + 1}"] = pd.array(
            [
                is_recent(s, v, recent_days=recent_days) if s else None
                for s, v in zip(specs, vals, strict=True)
            ],
            dtype="boolean",
        )
    return pd.DataFrame(out, index=index)


def top_reasons(
    contributions: pd.DataFrame,
    values: pd.DataFrame,
    *,
    texts: Mapping[str, FeatureText],
    k: int = 3,
    after_discharge: bool = False,
    recent_days: int | None = None,
) -> pd.DataFrame:
    """Per row: reason_i, feature_i, contribution_i, modifiable_i, concept_i, recent_i (i=1..k).

    contributions: one column per feature (+ `bias`, ignored), rows aligned with `values` (which
    may hold more columns: a `said_with` pair's `same_stay` is read from there). Ties
    are broken by the feature's column order, so the result is deterministic. Fewer than k
    sayable positive contributions leave the remaining reasons empty. `after_discharge`: the
    rows are indexed at a discharge (readmission), so earlier events are worded "previous".
    """
    features = [c for c in contributions.columns if c != "bias"]
    check_texts(features, texts)
    recent = configured_recent_days() if recent_days is None else recent_days
    contrib = contributions[features].to_numpy(dtype="float64")
    vals = values[features].to_numpy(dtype="float64")
    masked = np.where((contrib > 0) & sayable(vals, features, texts), contrib, -np.inf)
    masked = strongest_per_concept(masked, features, texts)
    masked, partner = join_pairs(masked, said_with_pairs(values, features, texts))
    return pick(
        masked,
        vals,
        features,
        texts=texts,
        k=k,
        after_discharge=after_discharge,
        recent_days=recent,
        index=contributions.index,
        contributions=contrib,
        partner=partner,
    )


#: A reason that states a zero ("0 nights ...", "with 0 ...") unless the YAML's absence wording.
ZERO_WORDING = re.compile(r"(?:^|\s)0(?:\s|$)")
VIOLATION = "row {row!r}: {rule}: {detail}"


def reason_violations(
    explained: pd.DataFrame, *, texts: Mapping[str, FeatureText], k: int = 3
) -> list[str]:
    """Every break of the reason rules in an explained frame (explain()'s or explain_lists'
    columns reason_i, feature_i, recent_i): a context feature (age, sex, ethnicity, deprivation)
    as a reason, a reason stating a zero, two reasons of one concept in a row, "recent" wording
    on a reason whose event is older than the window. Empty when the lists are clean; a test
    that scans a whole run calls this."""
    out: list[str] = []
    for row, data in explained.iterrows():
        seen: dict[str, str] = {}
        for i in range(1, k + 1):
            feature, text = data.get(f"feature_{i}"), data.get(f"reason_{i}")
            if not isinstance(feature, str) or not isinstance(text, str):
                continue
            spec = texts[feature]
            if spec.role == "context":
                out.append(VIOLATION.format(row=row, rule="context feature", detail=text))
            if ZERO_WORDING.search(text):
                out.append(VIOLATION.format(row=row, rule="states a zero", detail=text))
            concept = spec.concept_name
            if concept in seen:
                detail = f"{seen[concept]!r} and {text!r}"
                out.append(
                    VIOLATION.format(row=row, rule=f"concept {concept} twice", detail=detail)
                )
            seen[concept] = text
            recent = data.get(f"recent_{i}")
            if "recent" in text.lower() and recent is not True and recent is not np.True_:
                out.append(VIOLATION.format(row=row, rule="recent but not", detail=text))
    return out
