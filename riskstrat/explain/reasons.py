"""Top positive SHAP contributions -> plain-English reasons (pure).

A reason is a feature that pushed this person's risk up (contribution > 0), largest first; it is
written with the feature's catalogue template, formatted with the person's value. Features that
lowered risk are never offered as reasons, and neither is anything that is not a fact about the
person: a missing value (nothing to say), or a flag that is 0 (its template says the flag is set:
"On the COPD register" must never be said of someone who is not).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskstrat.explain.protocols import FeatureText

MISSING_TEMPLATE = "feature {feature!r} has contributions but no reason template in the catalogue"
BAD_TEMPLATE = "feature {feature!r}: reason template {template!r} cannot be formatted: {problem}"


def as_texts(catalogue: object) -> dict[str, FeatureText]:
    """The catalogue as column -> spec (a Catalogue's `.features`, a mapping, or specs)."""
    if isinstance(catalogue, Mapping):
        return dict(catalogue)
    specs = getattr(catalogue, "features", catalogue)
    return {spec.column: spec for spec in specs}


def reason_text(spec: FeatureText, value: float) -> str:
    """The spec's own wording, units and rounding."""
    try:
        return spec.reason_text(value)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            BAD_TEMPLATE.format(feature=spec.column, template=spec.reason, problem=exc)
        ) from exc


def top_reasons(
    contributions: pd.DataFrame,
    values: pd.DataFrame,
    *,
    texts: Mapping[str, FeatureText],
    k: int = 3,
) -> pd.DataFrame:
    """Per row: reason_i (text), feature_i, contribution_i, modifiable_i for i = 1..k.

    contributions: one column per feature (+ `bias`, ignored), rows aligned with `values`. Ties
    are broken by the feature's column order, so the result is deterministic. Fewer than k
    positive contributions leave the remaining reasons empty.
    """
    features = [c for c in contributions.columns if c != "bias"]
    for feature in features:
        if feature not in texts:
            raise KeyError(MISSING_TEMPLATE.format(feature=feature))
    contrib = contributions[features].to_numpy(dtype="float64")
    vals = values[features].to_numpy(dtype="float64")
    flags = np.array([texts[f].dtype == "flag" for f in features], dtype=bool)
    sayable = ~np.isnan(vals) & ~(flags[None, :] & (vals != 1))
    masked = np.where((contrib > 0) & sayable, contrib, -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    out: dict[str, list[object]] = {}
    rows = np.arange(len(contrib))
    for i in range(k):
        j = order[:, i] if order.shape[1] > i else np.zeros(len(rows), dtype=int)
        positive = masked[rows, j] > 0 if order.shape[1] > i else np.zeros(len(rows), bool)
        names = [features[c] if ok else None for c, ok in zip(j, positive, strict=True)]
        out[f"reason_{i + 1}"] = [
            reason_text(texts[n], v) if n else None
            for n, v in zip(names, vals[rows, j], strict=True)
        ]
        out[f"feature_{i + 1}"] = names
        out[f"contribution_{i + 1}"] = np.where(positive, contrib[rows, j], np.nan)
        out[f"modifiable_{i + 1}"] = [bool(n and texts[n].modifiable) for n in names]
    return pd.DataFrame(out, index=contributions.index)
