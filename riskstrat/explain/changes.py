"""Rising risk: what changed since last week, from the difference of two weeks' SHAP vectors.

The same person is explained at this week's and last week's as-of date with the same model;
per feature, delta = contribution now - contribution then (log-odds). Features that share a
concept are summed (a new admission moves its 3-month, 12-month and days-since features
together: one fact), and the concepts with the largest positive deltas are the reasons. Each is
spoken by the member whose delta is largest among those that are a fact now, with "New: " when
that fact was not one last week (or the event is more recent than last week's), "(was X)" when
only its value moved, and the rise it accounts for in percentage points of risk: risk now minus
the risk with that concept's change undone ("New: emergency admission 6 days ago (+9 points)").
An admission and the discharge that ended its stay (the YAML's `said_with`), both rising, are
one reason: "New: emergency admission 6 days ago, discharged from hospital yesterday (+11
points)".
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
RiskOfLogit = Callable[[np.ndarray], np.ndarray]


def expit(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(z, dtype="float64")))


def points_text(points: float) -> str:
    """'+9 points', '+0.6 points' (under 1: one decimal)."""
    shown = f"{points:.0f}" if abs(points) >= 1 else f"{points:.1f}"
    return f"({'+' if points >= 0 else ''}{shown} point{'' if shown in ('1', '-1') else 's'})"


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
    recent_days: int | None = None,
    min_points: float | None = None,
) -> pd.DataFrame:
    """reason_i .. recent_i (REASON_FIELDS) of the k concepts whose contribution rose most, plus
    `rise_points_i`; contribution_i is the concept's log-odds increase. A concept whose change
    accounts for fewer than `min_points` points of risk (configs/reasons.yaml) is not said.
    All four frames share one index (one row per person); `risk_of_logit` maps the raw log-odds
    (sum of contributions with `bias`) to the risk that is shown (the model's calibrator)."""
    _aligned(now_contrib, prev_contrib, now_values, prev_values)
    features = [c for c in now_contrib.columns if c != "bias"]
    check_texts(features, texts)
    recent = configured_recent_days() if recent_days is None else recent_days
    now_c = now_contrib[features].to_numpy("float64")
    delta = now_c - prev_contrib[features].to_numpy("float64")
    vals = now_values[features].to_numpy("float64")
    prev = prev_values[features].to_numpy("float64")
    logit_now = now_c.sum(axis=1) + now_contrib.get(
        "bias", pd.Series(0.0, index=now_contrib.index)
    ).to_numpy("float64")
    risk_now = risk_of_logit(logit_now)
    speakable = sayable(vals, features, texts)
    concepts: dict[str, list[int]] = {}
    for j, f in enumerate(features):
        concepts.setdefault(texts[f].concept_name, []).append(j)
    names = list(concepts)
    concept_delta = np.column_stack([delta[:, concepts[c]].sum(axis=1) for c in names])
    # the member that speaks for each concept: largest delta among members that are facts now
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
    # points of risk each concept's change accounts for: risk now - risk with it undone
    undone = risk_of_logit((logit_now[:, None] - concept_delta).ravel()).reshape(
        concept_delta.shape
    )
    points = (risk_now[:, None] - undone) * 100
    least = configured_min_points() if min_points is None else min_points
    said = (concept_delta > 0) & has_speaker & (points >= least)
    score = np.where(said, concept_delta, -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    out: dict[str, list[object]] = {
        f"{f}_{i}": [] for i in range(1, k + 1) for f in (*REASON_FIELDS, "rise_points")
    }
    for r in range(len(score)):
        for i in range(k):
            c = order[r, i] if order.shape[1] > i else 0
            ok = order.shape[1] > i and score[r, c] > 0
            fields = _one(
                r,
                c,
                ok,
                features=features,
                texts=texts,
                speaker=speaker,
                vals=vals,
                prev=prev,
                concept_delta=concept_delta,
                points=points,
                recent=recent,
                partner=partner,
            )
            for key, value in fields.items():
                out[f"{key}_{i + 1}"].append(value)
    frame = pd.DataFrame(out, index=now_contrib.index)
    for i in range(1, k + 1):
        frame[f"recent_{i}"] = frame[f"recent_{i}"].astype("boolean")
        frame[f"contribution_{i}"] = frame[f"contribution_{i}"].astype("float64")
        frame[f"rise_points_{i}"] = frame[f"rise_points_{i}"].astype("float64")
    return frame


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
    for a, b, one_stay in pairs:
        ca, cb = (names.index(texts[features[x]].concept_name) for x in (a, b))
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


def _one(r: int, c: int, ok: bool, *, features, texts, speaker, vals, prev, concept_delta,
         points, recent, partner) -> dict[str, object]:  # fmt: skip
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
    if new:
        text = NEW + lower_first(text)
    elif now != then and spec.when is None:
        text += WAS.format(value=spec.label(then))
    rise = float(points[r, c])
    return dict(
        reason=f"{text} {points_text(rise)}",
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
