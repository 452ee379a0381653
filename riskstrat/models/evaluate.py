"""Evaluate scores side by side on the same test rows: overall, by subgroup, reliability.

Pure: labels, a dict of calibrated scores (the model, each baseline, and on synthetic data the
two reference scorers: the full oracle and the no-foresight oracle), the practice of each row
(optional) and the subgroup labels (optional) in; tables out.
Every score gets bootstrap intervals for every headline metric (riskstrat.models.intervals)
and, against the model, a paired interval of the AUROC difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskstrat.models import metrics as m
from riskstrat.models.config import Evaluation as EvalConfig
from riskstrat.models.intervals import bootstrap_scores

MODEL = "model"
ORACLE = "oracle"
#: The generator's hazard with the pre-drawn schedules redrawn (riskstrat.synth.noforesight).
ORACLE_NO_FORESIGHT = "oracle_no_foresight"
#: Reference scorers on synthetic data: not baselines to beat, ceilings (the full one unattainable).
REFERENCES = (ORACLE, ORACLE_NO_FORESIGHT)
LENGTH_MISMATCH = "score {name!r} has {n} values for {rows} test rows"


@dataclass
class EvalResult:
    overall: pd.DataFrame  # one row per score: metrics, <metric>_lo/_hi, auroc_delta(_lo/_hi)
    subgroups: pd.DataFrame  # one row per (score, slice, group)
    reliability: dict[str, pd.DataFrame]  # score -> bins

    def metric(self, score: str, name: str) -> float:
        return float(self.overall.set_index("score").loc[score, name])

    def flat_metrics(self) -> dict[str, float]:
        """`<score>/<metric>` (MLflow's namespaced keys: one chart group per scorer), each once;
        `gap_to_<reference>/<metric>` = reference - model on synthetic data (`gap_to_oracle`,
        `gap_to_oracle_no_foresight`)."""
        out: dict[str, float] = {}
        for row in self.overall.to_dict("records"):
            for key, value in row.items():
                if key == "score" or value is None or not np.isfinite(value):
                    continue
                out[f"{row['score']}/{key}"] = float(value)
        present = set(self.overall["score"])
        for ref in REFERENCES:
            if ref in present and MODEL in present:
                for key in ("auroc", "auprc", "brier"):
                    out[f"gap_to_{ref}/{key}"] = self.metric(ref, key) - self.metric(MODEL, key)
        return out


def with_notes(overall: pd.DataFrame, *, score: str, notes: Mapping[str, float]) -> pd.DataFrame:
    """`overall` with columns `notes` set on `score`'s row (NaN elsewhere), e.g. the Monte Carlo
    draws and standard error of the no-foresight oracle."""
    out = overall.copy()
    at = (out["score"] == score).to_numpy()
    for key, value in notes.items():
        out[key] = np.where(at, float(value), np.nan)
    return out


def max_subgroup_gap(table: pd.DataFrame, *, min_rows: int) -> float:
    """Largest |observed - predicted| over the subgroups of at least `min_rows` rows (smaller
    groups' gaps are mostly sampling noise); NaN when no subgroup is that large."""
    big = table[(table["slice"] != "overall") & (table["n"] >= min_rows)]
    return float(big["gap"].abs().max()) if len(big) else float("nan")


def evaluate_scores(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    practice: np.ndarray | None = None,
    groups: pd.DataFrame | None = None,
    params: EvalConfig,
    seed: int,
) -> EvalResult:
    y = np.asarray(y, dtype=float)
    practice = np.zeros(len(y), dtype=int) if practice is None else np.asarray(practice)
    groups = pd.DataFrame(index=range(len(y))) if groups is None else groups
    arrays = {name: np.asarray(p, dtype=float) for name, p in scores.items()}
    for name, p in arrays.items():
        if len(p) != len(y):
            raise ValueError(LENGTH_MISMATCH.format(name=name, n=len(p), rows=len(y)))
    intervals = bootstrap_scores(
        y,
        arrays,
        n_boot=params.bootstrap,
        seed=seed,
        ece_bins=params.ece_bins,
        reference=MODEL if MODEL in arrays else None,
    )
    overall, subgroups, reliability = [], [], {}
    for name, p in arrays.items():
        row = {"score": name} | m.summary(
            y, p, practice=practice, ece_bins=params.ece_bins, fractions=params.top_fractions
        )
        row |= intervals[name]
        if MODEL in arrays and name != MODEL:
            row["auroc_delta"] = m.auroc(y, arrays[MODEL]) - row["auroc"]
        overall.append(row)
        table = m.subgroup_table(
            y,
            p,
            groups,
            n_boot=params.bootstrap if name == MODEL else 0,
            min_rows=params.min_group_rows,
            seed=seed,
        )
        subgroups.append(table.assign(score=name))
        row["max_subgroup_gap"] = max_subgroup_gap(table, min_rows=params.gap_min_rows)
        reliability[name] = m.reliability(y, p, n_bins=params.ece_bins)
    sub = pd.concat(subgroups, ignore_index=True)
    sub = sub[["score", *[c for c in sub.columns if c != "score"]]]
    return EvalResult(overall=pd.DataFrame(overall), subgroups=sub, reliability=reliability)
