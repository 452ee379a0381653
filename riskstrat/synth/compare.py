"""Paired comparisons of two risk scores on the same rows (model vs model, model vs oracle).

Pure functions: the benchmark (benchmarks/quality.py) and, once wired, training's evaluation use
them to report a difference with a paired percentile-bootstrap interval: every resample draws the
same rows for both scores, so the shared noise of the test set cancels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskstrat.models.metrics import weighted_auroc

BAD_LENGTHS = "compare: y, a and b must have the same length, got {y}, {a}, {b}"


@dataclass(frozen=True)
class Paired:
    """AUROC of a and b, b - a, and its paired bootstrap interval."""

    auroc_a: float
    auroc_b: float
    difference: float
    low: float
    high: float
    n_boot: int

    def as_dict(self) -> dict[str, float]:
        return {
            "auroc_a": self.auroc_a, "auroc_b": self.auroc_b, "difference": self.difference,
            "ci_low": self.low, "ci_high": self.high, "n_boot": float(self.n_boot),
        }  # fmt: skip


def paired_auroc(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, *, n_boot: int = 200, seed: int = 0,
    level: float = 0.95,
) -> Paired:  # fmt: skip
    """AUROC(b) - AUROC(a) on the same rows, with a paired percentile bootstrap interval."""
    y, a, b = (np.asarray(v, dtype=float) for v in (y, a, b))
    if not (len(y) == len(a) == len(b)):
        raise ValueError(BAD_LENGTHS.format(y=len(y), a=len(a), b=len(b)))
    fa = weighted_auroc(np.argsort(a, kind="mergesort"), y, a)
    fb = weighted_auroc(np.argsort(b, kind="mergesort"), y, b)
    ones = np.ones(len(y))
    auc_a, auc_b = fa(ones), fb(ones)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for k in range(n_boot):
        w = np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)).astype(float)
        diffs[k] = fb(w) - fa(w)
    diffs = diffs[~np.isnan(diffs)]
    alpha = (1 - level) / 2
    low, high = (
        (float(np.quantile(diffs, alpha)), float(np.quantile(diffs, 1 - alpha)))
        if len(diffs) else (float("nan"), float("nan"))
    )  # fmt: skip
    return Paired(auc_a, auc_b, auc_b - auc_a, low, high, n_boot)


def mean_gap(p: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> float:
    """Mean of p minus mean of the reference over the masked rows (e.g. the 85+ against the
    oracle: negative = under-prediction, noise-free when the reference is the oracle)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return float("nan")
    return float(np.mean(np.asarray(p)[mask]) - np.mean(np.asarray(reference)[mask]))
