"""Training reference distributions, stored with the model for drift monitoring.

Per feature: interior quantile cut points (`edges`, k-1 for k bins, as np.digitize uses them),
the share of training rows in each bin (`proportions`) and the share missing (`missing`); the
same for the calibrated score. riskstrat.runs.monitoring compares new data with these (PSI).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def distribution(values: np.ndarray, *, bins: int) -> dict[str, list[float] | float]:
    values = np.asarray(values, dtype=float)
    nan = np.isnan(values)
    present = values[~nan]
    if len(present) == 0:
        return {"edges": [], "proportions": [], "missing": 1.0}
    qs = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    edges = np.unique(qs)
    counts = np.bincount(np.digitize(present, edges), minlength=len(edges) + 1)
    return {
        "edges": [float(e) for e in edges],
        "proportions": [float(c) / len(values) for c in counts],
        "missing": float(nan.sum()) / len(values),
        "min": float(present.min()),  # the training range (riskstrat.models.population)
        "max": float(present.max()),
    }


def build_reference(
    x: pd.DataFrame, score: np.ndarray, *, features: Sequence[str], bins: int
) -> dict[str, object]:
    out: dict[str, object] = {
        "features": {f: distribution(x[f].to_numpy(dtype=float), bins=bins) for f in features},
        "score": distribution(score, bins=bins),
        "rows": len(x),
    }
    if "label" in x:  # the training prevalence, compared with a new population's mean risk
        out["prevalence"] = float(pd.to_numeric(x["label"]).mean())
    return out
