"""Bootstrap intervals for every headline metric of every score, from one set of resamples.

Each resample is a vector of row counts (how often each test row was drawn); every metric is
computed from the counts over one shared sort of each score, so 200 resamples of 350k rows cost
seconds. All scores see the same resamples, so the difference between two scores (model minus a
baseline, challenger minus champion) gets a paired interval. The calibration slope (a weighted
logistic regression per resample, most of the evaluation's time at 1M) is fitted on the drawn
rows only, by Newton steps started from the full sample's fit: the same maximum-likelihood
estimate, in three steps instead of eight from zero (docs/models.md "Training scale").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import numpy as np

from riskstrat.logs import progress_bar
from riskstrat.models.metrics import logistic_fit, logit, percentile_interval, sorted_weighted_auroc

#: Metrics with a bootstrap interval (`<metric>_lo`, `<metric>_hi`).
CI_METRICS = ("auroc", "auprc", "brier", "ece", "calibration_slope")
LEVEL = 0.95

WeightedMetrics = Callable[[np.ndarray], dict[str, float]]


def weighted_metrics(y: np.ndarray, p: np.ndarray, *, ece_bins: int) -> WeightedMetrics:
    """f(w) -> the CI_METRICS of the rows repeated w times (w = bootstrap counts)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    asc = np.argsort(p, kind="mergesort")
    ya, pa = y[asc], p[asc]
    auc = sorted_weighted_auroc(ya, pa)
    yd = ya[::-1]  # high to low
    ends = np.r_[np.flatnonzero(np.diff(pa[::-1]) != 0), len(pa) - 1]  # tie groups, high to low
    lp = logit(p)
    full = _full_sample_fit(y, lp)

    def auprc(wd: np.ndarray) -> float:
        tp = np.cumsum(wd * yd)[ends]
        listed = np.cumsum(wd)[ends]
        if tp[-1] == 0:
            return float("nan")
        keep = listed > 0
        recall = tp[keep] / tp[-1]
        return float(np.sum(np.diff(np.r_[0.0, recall]) * tp[keep] / listed[keep]))

    def ece(wa: np.ndarray) -> float:
        # a row's bin is min(floor(before * bins / total), bins - 1), `before` the weight
        # sorted ahead of it: bins are runs of the sort, bin k from the first row with
        # before * bins >= k * total (whole numbers: exact). Each bin's sums run in row order,
        # as np.bincount's do, so the value is the same to the last bit.
        total = wa.sum()
        before = np.cumsum(wa) - wa
        cuts = np.arange(1, ece_bins) * max(total, 1)
        bounds = np.r_[0, np.searchsorted(before * ece_bins, cuts, side="left"), len(wa)]
        wy, wp = wa * ya, wa * pa
        obs = np.array([_in_order(wy[a:b]) for a, b in itertools.pairwise(bounds)])
        pred = np.array([_in_order(wp[a:b]) for a, b in itertools.pairwise(bounds)])
        return float(np.sum(np.abs(obs - pred)) / total)

    def slope(w: np.ndarray) -> float:
        events = np.sum(w * y)
        if events == 0 or events == w.sum():
            return float("nan")
        drawn = np.flatnonzero(w)  # rows drawn 0 times add nothing to the likelihood
        return weighted_slope(y[drawn], lp[drawn], w[drawn], start=full)

    def at(w: np.ndarray) -> dict[str, float]:
        wa = w[asc]
        return {
            "auroc": auc(wa),
            "auprc": auprc(wa[::-1]),
            "brier": float(np.sum(w * (p - y) ** 2) / w.sum()),
            "ece": ece(wa),
            "calibration_slope": slope(w),
        }

    return at


def _in_order(values: np.ndarray) -> float:
    """Sum in row order (np.sum adds pairwise: a different last bit)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def _full_sample_fit(y: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """(a, b) of logit P(y) = a + b lp on every row once: where each resample's fit starts."""
    if y.sum() in (0, len(y)):
        return np.zeros(2)
    beta = logistic_fit(y, lp, np.zeros_like(lp))
    return beta if np.all(np.isfinite(beta)) else np.zeros(2)


def weighted_slope(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, *, start: np.ndarray, iters: int = 25
) -> float:
    """b in logit P(y) = a + b x with row weights w, by Newton-Raphson from `start` (a, b); if
    that does not converge (a resample far from the full sample, e.g. scores at 0 or 1 whose
    clipped logits dominate), from zero as before."""
    with np.errstate(over="ignore", invalid="ignore"):
        b, converged = _newton(y, x, w, start=(float(start[0]), float(start[1])), iters=iters)
    return b if converged else _newton(y, x, w, start=(0.0, 0.0), iters=iters)[0]


def _newton(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, *, start: tuple[float, float], iters: int
) -> tuple[float, bool]:
    """(b, converged): the 2x2 system's sums written out (a ridge of 1e-9, steps down to 1e-7,
    as before). Sums, not BLAS dot products: OpenBLAS threads spin on a busy 2-core machine
    (measured several-fold slower here)."""
    a, b = start
    for _ in range(iters):
        mu = 1 / (1 + np.exp(-(a + b * x)))
        h = w * np.maximum(mu * (1 - mu), 1e-12)
        r = w * (y - mu)
        hx = h * x
        s0, s1, s2 = h.sum() + 1e-9, hx.sum(), (hx * x).sum() + 1e-9
        g0, g1 = r.sum(), (r * x).sum()
        det = s0 * s2 - s1 * s1
        da, db = (s2 * g0 - s1 * g1) / det, (s0 * g1 - s1 * g0) / det
        a, b = a + da, b + db
        if not np.isfinite(a + b):
            return float(b), False
        if max(abs(da), abs(db)) < 1e-7:
            return float(b), True
    return float(b), False


def bootstrap_scores(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    n_boot: int,
    seed: int,
    ece_bins: int,
    reference: str | None = None,
) -> dict[str, dict[str, float]]:
    """Per score: `<metric>_lo/_hi` for CI_METRICS, and (for scores other than `reference`)
    `auroc_delta_lo/_hi`: the paired interval of AUROC(reference) - AUROC(score)."""
    out: dict[str, dict[str, float]] = {name: {} for name in scores}
    if n_boot == 0 or len(y) == 0:
        return out
    fns = {name: weighted_metrics(y, p, ece_bins=ece_bins) for name, p in scores.items()}
    rng = np.random.default_rng(seed)
    stats: dict[str, dict[str, list[float]]] = {n: {m: [] for m in CI_METRICS} for n in scores}
    with progress_bar(label="bootstrap resamples", total=n_boot) as bar:
        for _ in range(n_boot):
            w = np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)).astype(float)
            for name, fn in fns.items():
                for metric, value in fn(w).items():
                    stats[name][metric].append(value)
            bar.update(1)
    for name in scores:
        for metric, values in stats[name].items():
            out[name][f"{metric}_lo"], out[name][f"{metric}_hi"] = percentile_interval(
                values, level=LEVEL
            )
        if reference is not None and name != reference and reference in scores:
            diff = np.asarray(stats[reference]["auroc"]) - np.asarray(stats[name]["auroc"])
            out[name]["auroc_delta_lo"], out[name]["auroc_delta_hi"] = percentile_interval(
                diff, level=LEVEL
            )
    return out
