"""Interval methods of the report: expected activity, O/E ratios, funnel limits, AUROC.

Each function is vectorised over numpy arrays and documented in docs/report.md.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def z_value(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def expected_count(risk: np.ndarray, *, level: float) -> tuple[float, float, float]:
    """Expected number of people with the event: sum of risks, Poisson-binomial normal interval.

    The number of events is a sum of independent Bernoulli(p_i): mean sum p_i, variance
    sum p_i (1 - p_i).
    """
    p = np.asarray(risk, dtype=float)
    mean = float(p.sum())
    half = z_value(level) * float(np.sqrt((p * (1 - p)).sum()))
    return mean, max(0.0, mean - half), mean + half


def expected_bed_days(
    risk: np.ndarray, *, mean: float, sd: float, level: float
) -> tuple[float, float, float]:
    """Expected bed days: each admitted person contributes a length of stay (mean, sd).

    Sum of B_i * L_i with B_i ~ Bernoulli(p_i) and L_i independent: mean m sum p_i, variance
    s^2 sum p_i + m^2 sum p_i (1 - p_i); normal interval.
    """
    p = np.asarray(risk, dtype=float)
    centre = mean * float(p.sum())
    var = sd**2 * float(p.sum()) + mean**2 * float((p * (1 - p)).sum())
    half = z_value(level) * float(np.sqrt(var))
    return centre, max(0.0, centre - half), centre + half


def poisson_ratio(
    observed: np.ndarray, expected: np.ndarray, *, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed / expected with the exact (Garwood) Poisson interval on the observed count."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    alpha = 1 - level
    lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return o / e, lo / e, hi / e


def funnel_limits(expected: np.ndarray, *, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Control limits for an observed count whose expectation is `expected` (Poisson).

    Spiegelhalter (2005): the Poisson quantile r_p, made continuous by interpolation,
    limit = r_p - (F(r_p) - p) / f(r_p). Returns (lower, upper) limits on the observed count.
    """
    e = np.maximum(np.asarray(expected, dtype=float), 1e-9)
    out = []
    for p in ((1 - level) / 2, 1 - (1 - level) / 2):
        r = stats.poisson.ppf(p, e)
        step = stats.poisson.pmf(r, e)
        out.append(np.maximum(0.0, r - (stats.poisson.cdf(r, e) - p) / step))
    return out[0], out[1]


def auroc_interval(
    auc: float, *, positives: int, negatives: int, level: float
) -> tuple[float, float]:
    """Hanley-McNeil (1982) standard error of the AUROC; normal interval clipped to [0, 1]."""
    if positives == 0 or negatives == 0 or not np.isfinite(auc):
        return np.nan, np.nan
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives
    )
    half = z_value(level) * float(np.sqrt(max(var, 0.0)))
    return max(0.0, auc - half), min(1.0, auc + half)
