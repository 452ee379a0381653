"""Rising risk: what changed since last week, from the difference of two weeks' SHAP vectors.

The same person is explained at this week's and last week's as-of date with the same model;
per feature, delta = contribution now - contribution then (log-odds). Only a feature whose
VALUE changed is a change (`changed`: a count or flag that moved, an event newer than last
week's; an event that only got a week older is not): a fact that is the same at both runs, whose
contribution moved only through its interaction with what changed, is never a reason. The
changed members of a concept are summed (a new admission moves its 3-month, 12-month and
days-since features together: one fact), and the concepts with the largest positive deltas are
the reasons. Each is spoken by the changed member whose delta is largest among those that are a
fact now, with "New: " when that fact was not one last week (or the event is more recent than
last week's) and "(was X)" when only its value moved. An admission and the discharge that ended
its stay (the YAML's `said_with`), both rising, are one reason (as is a stay that began before
last week and ended since: said by its discharge, with its admission's date), and the nights in
hospital that rose with a discharge since last week (STAY_NIGHTS) join the reason that says
that discharge: one stay is said once ("New: emergency admission 6 days ago, discharged from
hospital yesterday (+11.2 points)").

Points: a reason's own effect is risk now minus the risk with its change undone (everything
else held). Those effects can add up to more than the row's net rise when something else fell
(or effects overlap on the risk curve), so where they do, every reason's effect is scaled down
by the same factor until together they equal the net rise: the reasons' points share out the
rise and never add up to more than it. The net rise is the features' (both weeks' log-odds at
this week's calendar level), at most the list's Rise column (last week's risk at last week's
level) (docs/outreach.md, "Rising risk: what the points mean"). They are shown to one decimal,
like the Rise column, rounded so that a row's shown points add up to the rounding of their sum
(largest remainders).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from riskstrat.explain.protocols import FeatureText
from riskstrat.explain.reasons import (
    REASON_FIELDS,
    check_texts,
    is_recent,
    lower_first,
    reason_text,
    said_as_pair,
    said_with_pairs,
    sayable,
)
from riskstrat.explain.wording import min_change_points as configured_min_points
from riskstrat.explain.wording import recent_days as configured_recent_days

MISALIGNED = "change reasons: this week's and last week's frames must have the same rows ({detail})"
NEW, WAS = "New: ", " (was {value})"
#: An emergency admission and the A&E visit it came through, both new since last week: one
#: reason, the admission's, said "Emergency admission (via A&E) 3 days ago ..." (VIA_AE after
#: the admission's words), with both rises. "Came through": the A&E arrival on the admission's
#: day or up to AE_BEFORE_ADMISSION_DAYS before it (an evening arrival admitted after midnight).
ADMISSION_DAYS, AE_DAYS = "days_since_emerg_adm", "days_since_ae"
VIA_AE = " (via A&E)"
AE_BEFORE_ADMISSION_DAYS = 1
#: The concept counting nights in hospital: its rise since last week is the nights of the stay
#: that ended with a discharge since then, said with that discharge (one stay, one reason).
STAY_NIGHTS = "nights_in_hospital"
RiskOfLogit = Callable[[np.ndarray], np.ndarray]


def expit(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(z, dtype="float64")))


def points_text(points: float) -> str:
    """'(+9.2 points)', '(+0.6 points)': one decimal, as the list's Rise (points) column."""
    return f"({'+' if points >= 0 else ''}{points:.1f} points)"


def shown_points(points: np.ndarray) -> np.ndarray:
    """Each value rounded to one decimal so that they add up to the rounding of their sum
    (largest remainders): a row's reasons never show more points together than they hold."""
    tenths = np.asarray(points, dtype="float64") * 10
    if not len(tenths):
        return tenths
    low = np.floor(tenths + 1e-9)
    extra = int(np.round(tenths.sum())) - int(low.sum())
    order = np.argsort(-(tenths - low), kind="stable")
    low[order[: max(extra, 0)]] += 1
    return low / 10


def changed(
    now: np.ndarray, then: np.ndarray, features: list[str], texts: Mapping[str, FeatureText]
) -> np.ndarray:
    """rows x features: the value changed since last week. A time since an event changed only
    when the event is newer (none last week, or fewer days ago now): one that got a week older
    is the same fact. NaN at both runs is no change."""
    out = np.zeros(now.shape, dtype=bool)
    for j, f in enumerate(features):
        a, b = now[:, j], then[:, j]
        if texts[f].when is not None:
            out[:, j] = ~np.isnan(a) & (np.isnan(b) | (a < b))
        else:
            out[:, j] = (np.isnan(a) != np.isnan(b)) | (~np.isnan(a) & ~np.isnan(b) & (a != b))
    return out


def _aligned(*frames: pd.DataFrame) -> None:
    first = frames[0]
    for f in frames[1:]:
        if len(f) != len(first) or not f.index.equals(first.index):
            raise ValueError(MISALIGNED.format(detail=f"{len(first)} vs {len(f)} rows"))


def _is_new(spec: FeatureText, now: float, then: float) -> bool:
    """The fact was not a fact last week, or (a time since an event) the event is newer."""
    was = bool(spec.facts(np.array([then]))[0])
    if not was:
        return True
    return spec.when is not None and now < then


def change_reasons(
    now_contrib: pd.DataFrame,
    prev_contrib: pd.DataFrame,
    now_values: pd.DataFrame,
    prev_values: pd.DataFrame,
    *,
    texts: Mapping[str, FeatureText],
    k: int = 3,
    risk_of_logit: RiskOfLogit = expit,
    prev_risk_of_logit: RiskOfLogit | None = None,
    recent_days: int | None = None,
    min_points: float | None = None,
    rise_cap: np.ndarray | None = None,
) -> pd.DataFrame:
    """reason_i .. recent_i (REASON_FIELDS) of the k changed concepts whose contribution rose
    most, plus `rise_points_i` (the reason's share of the net rise, module docstring);
    contribution_i is the concept's log-odds increase. A concept whose share is fewer than
    `min_points` points of risk (configs/reasons.yaml) is not said; a row whose risk did not
    rise has no reasons. All four frames share one index (one row per person).

    `risk_of_logit` maps this week's raw log-odds (sum of contributions with `bias`), one per
    row, to the risk the list shows (the model's calibrator, and its calendar level at this
    week's date); `prev_risk_of_logit` last week's (its level at last week's date; default: the
    same). The net rise shared out is the rise from the features (both weeks' log-odds at this
    week's level), at most the list's rise (the calendar's part included): the points never add
    up to more than the Rise column, whichever way the calendar level moved. `rise_cap`: the
    list's Rise column itself (points, one per row; NaN: none), which can be smaller than the
    rise recomputed here when last week's stored score came from another model version (a
    retrain or recalibration in between) or from features since corrected by late data."""
    _aligned(now_contrib, prev_contrib, now_values, prev_values)
    features = [c for c in now_contrib.columns if c != "bias"]
    check_texts(features, texts)
    recent = configured_recent_days() if recent_days is None else recent_days
    now_c = now_contrib[features].to_numpy("float64")
    prev_c = prev_contrib[features].to_numpy("float64")
    vals = now_values[features].to_numpy("float64")
    prev = prev_values[features].to_numpy("float64")
    moved = changed(vals, prev, features, texts)
    # an unchanged value's contribution moves only through what changed: not its own change
    delta = np.where(moved, now_c - prev_c, 0.0)
    logit_now, logit_prev = (
        c.sum(axis=1) + frame.get("bias", pd.Series(0.0, index=frame.index)).to_numpy("float64")
        for c, frame in ((now_c, now_contrib), (prev_c, prev_contrib))
    )
    risk_now = risk_of_logit(logit_now)
    prev_risk = risk_of_logit if prev_risk_of_logit is None else prev_risk_of_logit
    net_rise = np.minimum(risk_now - risk_of_logit(logit_prev), risk_now - prev_risk(logit_prev))
    net_rise *= 100
    if rise_cap is not None:  # the list's Rise column (stored scores: maybe another model's)
        net_rise = np.fmin(net_rise, np.asarray(rise_cap, dtype="float64"))
    facts = sayable(vals, features, texts)
    speakable = facts & moved
    concepts: dict[str, list[int]] = {}
    for j, f in enumerate(features):
        concepts.setdefault(texts[f].concept_name, []).append(j)
    names = list(concepts)
    concept_delta = np.column_stack([delta[:, concepts[c]].sum(axis=1) for c in names])
    # the member that speaks for each concept: largest delta among changed members, facts now
    speaker = np.column_stack(
        [
            np.array(concepts[c])[
                np.argmax(
                    np.where(speakable[:, concepts[c]], delta[:, concepts[c]], -np.inf), axis=1
                )
            ]
            for c in names
        ]
    )
    has_speaker = np.column_stack([speakable[:, concepts[c]].any(axis=1) for c in names])
    pairs = said_with_pairs(now_values, features, texts)
    concept_delta, partner = _join_pairs(
        concept_delta, speaker, has_speaker, pairs, features=features, texts=texts, names=names
    )
    partner = _stay_ended(partner, concept_delta, speaker, has_speaker, facts, moved, pairs,
                          features=features, texts=texts, names=names)  # fmt: skip
    concept_delta = _join_stay_nights(
        concept_delta, moved, partner, pairs, features=features, texts=texts, names=names
    )
    concept_delta, via_ae = _join_via_ae(
        concept_delta, vals, moved, speaker, has_speaker, partner, features=features,
        texts=texts, names=names,
    )  # fmt: skip
    # each concept's own effect in points: risk now - risk with its change undone ...
    undone = np.column_stack(
        [risk_of_logit(logit_now - concept_delta[:, c]) for c in range(len(names))]
    )
    effect = (risk_now[:, None] - undone) * 100
    rising = (concept_delta > 0) & has_speaker
    # ... scaled down where the rises' effects add up to more than the net rise
    total = np.where(rising, effect, 0.0).sum(axis=1)
    scale = np.where(total > net_rise, np.maximum(net_rise, 0) / np.where(total > 0, total, 1), 1)
    points = effect * scale[:, None]
    least = configured_min_points() if min_points is None else min_points
    said = rising & (points >= least) & (points > 0)
    score = np.where(said, concept_delta, -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    out: dict[str, list[object]] = {
        f"{f}_{i}": [] for i in range(1, k + 1) for f in (*REASON_FIELDS, "rise_points")
    }
    for r in range(len(score)):
        chosen = [int(c) for c in order[r] if score[r, c] > 0]
        shown = shown_points(points[r, chosen])
        for i in range(k):
            ok = i < len(chosen)
            fields = _one(
                r,
                chosen[i] if ok else 0,
                ok,
                features=features,
                texts=texts,
                speaker=speaker,
                vals=vals,
                prev=prev,
                concept_delta=concept_delta,
                points=points,
                shown=float(shown[i]) if ok else np.nan,
                recent=recent,
                partner=partner,
                via_ae=via_ae,
            )
            for key, value in fields.items():
                out[f"{key}_{i + 1}"].append(value)
    frame = pd.DataFrame(out, index=now_contrib.index)
    for i in range(1, k + 1):
        frame[f"recent_{i}"] = frame[f"recent_{i}"].astype("boolean")
        frame[f"contribution_{i}"] = frame[f"contribution_{i}"].astype("float64")
        frame[f"rise_points_{i}"] = frame[f"rise_points_{i}"].astype("float64")
    return frame


def _pair_concepts(pairs, *, features, texts, names):  # fmt: skip
    """Each `said_with` pair (a, b, one_stay) with its two concepts' columns (ca, cb)."""
    for a, b, one_stay in pairs:
        ca, cb = (names.index(texts[features[x]].concept_name) for x in (a, b))
        yield a, b, one_stay, ca, cb


def _join_pairs(
    concept_delta: np.ndarray,
    speaker: np.ndarray,
    has_speaker: np.ndarray,
    pairs: list[tuple[int, int, np.ndarray]],
    *,
    features: list[str],
    texts: Mapping[str, FeatureText],
    names: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """One stay, one reason: where the two members of a `said_with` pair speak for their
    concepts, both rose and they are one event, the stronger concept carries both rises and the
    other is not said. Returns the deltas and, rows x concepts, the speaker's partner (-1)."""
    out = concept_delta.copy()
    partner = np.full(out.shape, -1)
    for a, b, one_stay, ca, cb in _pair_concepts(
        pairs, features=features, texts=texts, names=names
    ):
        if ca == cb:
            continue
        both = one_stay & (speaker[:, ca] == a) & (speaker[:, cb] == b) & has_speaker[:, ca]
        both &= has_speaker[:, cb] & (out[:, ca] > 0) & (out[:, cb] > 0)
        keep_a = both & (out[:, ca] >= out[:, cb])
        keep_b = both & ~keep_a
        total = out[:, ca] + out[:, cb]
        out[keep_a, ca], out[keep_a, cb] = total[keep_a], 0.0
        out[keep_b, cb], out[keep_b, ca] = total[keep_b], 0.0
        partner[keep_a, ca], partner[keep_b, cb] = b, a
    return out, partner


def _stay_ended(partner, concept_delta, speaker, has_speaker, facts, moved, pairs, *,
                features, texts, names) -> np.ndarray:  # fmt: skip
    """A stay that began before last week and ended since (the discharge is new, the admission
    is not: it is no change and no reason of its own) is said whole by its discharge: "New:
    emergency admission 33 days ago, discharged from hospital yesterday", the discharge's
    points. Returns `partner` with the admission joined to the discharge's concept there."""
    out = partner.copy()
    for a, b, one_stay, ca, cb in _pair_concepts(
        pairs, features=features, texts=texts, names=names
    ):
        if ca == cb:
            continue
        ended = one_stay & facts[:, a] & moved[:, b] & has_speaker[:, cb] & (speaker[:, cb] == b)
        ended &= (out[:, ca] < 0) & (out[:, cb] < 0) & (concept_delta[:, ca] <= 0)
        out[ended, cb] = a
    return out


def _join_stay_nights(
    concept_delta: np.ndarray,
    moved: np.ndarray,
    partner: np.ndarray,
    pairs: list[tuple[int, int, np.ndarray]],
    *,
    features: list[str],
    texts: Mapping[str, FeatureText],
    names: list[str],
) -> np.ndarray:
    """One stay, said once: where the last discharge (a `said_with` pair's later event) is newer
    than last week's, a rise in nights in hospital (STAY_NIGHTS) is that stay's nights and
    joins the concept that says the discharge (the admission's, when _join_pairs joined them)."""
    if STAY_NIGHTS not in names:
        return concept_delta
    out = concept_delta.copy()
    nights = names.index(STAY_NIGHTS)
    for _, b, _, ca, cb in _pair_concepts(pairs, features=features, texts=texts, names=names):
        if nights in (ca, cb):
            continue
        carrier = np.where(partner[:, ca] == b, ca, cb)
        rows = np.flatnonzero(moved[:, b] & (out[:, nights] > 0))
        out[rows, carrier[rows]] += out[rows, nights]
        out[rows, nights] = 0.0
    return out


def _join_via_ae(concept_delta, vals, moved, speaker, has_speaker, partner, *, features,
                 texts, names) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One emergency, one reason: where the emergency admission is new since last week (said
    by its concept, alone or with its discharge) and the A&E visit is new too, on the
    admission's day or the day before, the A&E concept's rise joins the reason that says the
    admission, and that reason says "(via A&E)". Before, the demo's rising-risk lists said
    "New: emergency admission yesterday, discharged the same day" and "New: A&E visit
    yesterday" as two reasons (2 of 20 rows), the second with an action of its own.
    Returns the deltas and, rows x concepts, where VIA_AE is said."""
    via = np.zeros(concept_delta.shape, dtype=bool)
    if ADMISSION_DAYS not in features or AE_DAYS not in features:
        return concept_delta, via
    adm, ae = features.index(ADMISSION_DAYS), features.index(AE_DAYS)
    c_adm, c_ae = (names.index(texts[features[j]].concept_name) for j in (adm, ae))
    if c_adm == c_ae:
        return concept_delta, via
    out = concept_delta.copy()
    gap = vals[:, ae] - vals[:, adm]  # NaN when either never happened
    came_through = moved[:, adm] & moved[:, ae] & (gap >= 0) & (gap <= AE_BEFORE_ADMISSION_DAYS)
    # The concept that says the admission: its own (speaking, or joined with its discharge),
    # or the discharge's when the discharge speaks for the stay.
    says = ((speaker == adm) & has_speaker & (out > 0)) | (partner == adm)
    for r in np.flatnonzero(came_through & (out[:, c_ae] > 0) & says.any(axis=1)):
        c = int(np.flatnonzero(says[r])[0])
        out[r, c] += out[r, c_ae]
        out[r, c_ae] = 0.0
        via[r, c] = True
    return out, via


def _via_ae(text: str, spec: FeatureText) -> str:
    """`text` (a reason saying the emergency admission) with VIA_AE after the admission's own
    words ("Emergency admission (via A&E) 3 days ago, discharged the same day")."""
    words = spec.reason.split("{", 1)[0].rstrip()
    return text.replace(words, words + VIA_AE, 1) if words else text


def _one(r: int, c: int, ok: bool, *, features, texts, speaker, vals, prev, concept_delta,
         points, shown, recent, partner, via_ae) -> dict[str, object]:  # fmt: skip
    if not ok:
        return dict(reason=None, feature=None, contribution=np.nan, modifiable=False,
                    concept=None, recent=None, rise_points=np.nan)  # fmt: skip
    j, other = int(speaker[r, c]), int(partner[r, c])
    spec = texts[features[j]]
    now, then = vals[r, j], prev[r, j]
    text = reason_text(spec, now)
    new = _is_new(spec, now, then)
    if other >= 0:
        text = said_as_pair(j, other, vals[r], features, texts)
        new = new or _is_new(texts[features[other]], vals[r, other], prev[r, other])
    if via_ae[r, c] and ADMISSION_DAYS in features:
        text = _via_ae(text, texts[ADMISSION_DAYS])
    if new:
        text = NEW + lower_first(text)
    elif now != then and spec.when is None:
        text += WAS.format(value=spec.label(then))
    rise = float(points[r, c])
    return dict(
        reason=f"{text} {points_text(shown)}",
        feature=features[j],
        contribution=float(concept_delta[r, c]),
        modifiable=bool(spec.modifiable),
        concept=spec.concept_name,
        recent=is_recent(spec, now, recent_days=recent),
        rise_points=rise,
    )


def planned_only(
    now_values: pd.DataFrame, prev_values: pd.DataFrame, *, texts: Mapping[str, FeatureText]
) -> pd.Series:
    """True where planned care happened since last week (a planned-admission count rose) and no
    unplanned care did (no emergency admission or A&E count rose, no such event is newer): such
    a rise is the planned stay's own transition, followed up by the post-discharge list, and
    does not belong on rising risk (docs/features.md, "Rising risk")."""
    _aligned(now_values, prev_values)

    def rose(kind: str) -> np.ndarray:
        out = np.zeros(len(now_values), dtype=bool)
        for f, spec in texts.items():
            if spec.event != kind or f not in now_values or f not in prev_values:
                continue
            now = now_values[f].to_numpy("float64")
            then = prev_values[f].to_numpy("float64")
            if spec.when is not None:  # time since the event: newer now, or none before
                out |= ~np.isnan(now) & (np.isnan(then) | (now < then))
            else:
                out |= np.nan_to_num(now) > np.nan_to_num(then)
        return out

    return pd.Series(
        rose("planned") & ~rose("unplanned"), index=now_values.index, name="rise_planned_only"
    )
