"""Evaluation metrics: pure functions of labels (0/1) and predicted probabilities.

Definitions (docs/models.md): AUROC by ranks (ties averaged, as sklearn); AUPRC as average
precision (ties grouped, as sklearn); Brier = mean squared error of the probability; calibration
slope = b in logit P(y) = a + b logit(p); calibration intercept = calibration-in-the-large, a in
logit P(y) = a + logit(p); ECE = row-weighted mean |observed - predicted| over equal-count bins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from riskstrat.slices import group_positions

Metric = Callable[[np.ndarray, np.ndarray], float]
EPS = 1e-6


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y, dtype=float)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision: sum over thresholds of (recall step) x precision."""
    y = np.asarray(y, dtype=float)
    total = y.sum()
    if total == 0:
        return float("nan")
    order = np.argsort(-np.asarray(p, dtype=float), kind="mergesort")
    ps, ys = np.asarray(p)[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]  # end of each tie group
    tp = np.cumsum(ys)[last]
    listed = last + 1
    recall = tp / total
    precision = tp / listed
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def logistic_fit(
    y: np.ndarray, x: np.ndarray | None, offset: np.ndarray, *, iters: int = 50
) -> np.ndarray:
    """Newton-Raphson for logit P(y) = a [+ b x] + offset; returns (a[, b])."""
    cols = [np.ones_like(offset)] + ([x] if x is not None else [])
    design = np.column_stack(cols)
    beta = np.zeros(design.shape[1])
    for _ in range(iters):
        eta = design @ beta + offset
        mu = 1 / (1 + np.exp(-eta))
        w = np.clip(mu * (1 - mu), 1e-12, None)
        grad = design.T @ (y - mu)
        hess = design.T @ (design * w[:, None])
        step = np.linalg.solve(hess + 1e-9 * np.eye(len(beta)), grad)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def calibration_slope(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y, dtype=float)
    if y.sum() in (0, len(y)):
        return float("nan")
    lp = logit(p)
    return float(logistic_fit(y, lp, np.zeros_like(lp))[1])


def calibration_intercept(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y, dtype=float)
    if y.sum() in (0, len(y)):
        return float("nan")
    return float(logistic_fit(y, None, logit(p))[0])


def _equal_count_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    order = np.argsort(p, kind="mergesort")
    bins = np.empty(len(p), dtype=int)
    bins[order] = np.minimum((np.arange(len(p)) * n_bins) // max(len(p), 1), n_bins - 1)
    return bins


def reliability(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Observed rate vs mean prediction in equal-count bins of the prediction."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    frame = pd.DataFrame({"bin": _equal_count_bins(p, n_bins), "y": y, "p": p})
    out = frame.groupby("bin").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return out.reset_index()


def ece(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> float:
    rel = reliability(y, p, n_bins=n_bins)
    return float(np.sum(rel["n"] * (rel["observed"] - rel["predicted"]).abs()) / rel["n"].sum())


def top_listed(
    y: np.ndarray, p: np.ndarray, practice: np.ndarray, *, fractions: Sequence[float]
) -> pd.DataFrame:
    """PPV and sensitivity when each practice lists its top `fraction` of rows by risk.

    Each practice lists ceil(fraction x its rows); PPV = events among all listed / listed;
    sensitivity = events among all listed / all events.
    """
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": p, "practice": practice})
    frame["rank"] = frame.groupby("practice")["p"].rank(method="first", ascending=False)
    size = frame.groupby("practice")["p"].transform("size")
    rows = []
    for f in fractions:
        listed = frame["rank"] <= np.ceil(f * size)
        n, events = int(listed.sum()), float(frame.loc[listed, "y"].sum())
        rows.append(
            {
                "fraction": f,
                "listed": n,
                "ppv": events / n if n else float("nan"),
                "sensitivity": events / frame["y"].sum() if frame["y"].sum() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


CORE_METRICS: dict[str, Metric] = {
    "auroc": auroc,
    "auprc": auprc,
    "brier": brier,
    "calibration_slope": calibration_slope,
    "calibration_intercept": calibration_intercept,
}


def summary(
    y: np.ndarray,
    p: np.ndarray,
    *,
    practice: np.ndarray | None = None,
    ece_bins: int = 10,
    fractions: Sequence[float] = (),
) -> dict[str, float]:
    """Every headline metric of one score on one set of rows."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    out: dict[str, float] = {
        "n": len(y),
        "events": int(y.sum()),
        "observed": float(y.mean()),
        "predicted": float(p.mean()),
    }
    out |= {name: fn(y, p) for name, fn in CORE_METRICS.items()}
    out["ece"] = ece(y, p, n_bins=ece_bins)
    if practice is not None and fractions:
        for row in top_listed(y, p, practice, fractions=fractions).itertuples():
            tag = f"top{row.fraction * 100:g}pct".replace(".", "_")
            out[f"ppv_{tag}"] = row.ppv
            out[f"sensitivity_{tag}"] = row.sensitivity
    return out


def weighted_auroc(order: np.ndarray, y: np.ndarray, p: np.ndarray) -> Callable:
    """AUROC under row weights (bootstrap counts), with the sort done once: `order` sorts p
    ascending. Returns f(w) -> AUROC of the rows repeated w times (ties averaged, = auroc)."""
    at_sorted = sorted_weighted_auroc(y[order], p[order])
    return lambda w: at_sorted(w[order])


def sorted_weighted_auroc(ys: np.ndarray, ps: np.ndarray) -> Callable:
    """weighted_auroc on rows already sorted by p ascending: f(ws) with ws in that order (so
    callers that sort the weights once can share them between metrics).

    Each positive row wins against the negative weight below its tie group and half the
    negative weight inside it: one cumulative sum over all rows, the rest over the positives
    only (a few per cent of the rows). With count weights every sum is a whole or half number
    below 2**53, so the value is exact: the same as summing over tie groups (the earlier code)."""
    ys, ps = np.asarray(ys, dtype=float), np.asarray(ps, dtype=float)
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]  # end of each tie group
    first = np.r_[0, last[:-1] + 1]
    group = np.repeat(np.arange(len(last)), last - first + 1)
    pos = np.flatnonzero(ys == 1)
    lo, hi = first[group[pos]], last[group[pos]] + 1  # each positive's tie group: rows lo..hi-1
    pos_lo, pos_hi = np.searchsorted(pos, lo), np.searchsorted(pos, hi)  # positives before them

    def at(ws: np.ndarray) -> float:
        rows = np.zeros(len(ws) + 1)
        np.cumsum(ws, out=rows[1:])  # weight of the rows before each position
        wp = ws[pos]
        positives = np.zeros(len(pos) + 1)
        np.cumsum(wp, out=positives[1:])
        n_pos, n_neg = positives[-1], rows[-1] - positives[-1]
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        below = rows[lo] - positives[pos_lo]
        tied = (rows[hi] - rows[lo]) - (positives[pos_hi] - positives[pos_lo])
        wins = np.sum(wp * (below + 0.5 * tied))
        return float(wins / (n_pos * n_neg))

    return at


def bootstrap_interval(
    y: np.ndarray,
    p: np.ndarray,
    fn: Metric,
    *,
    n_boot: int,
    seed: int,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of fn(y, p) over rows resampled with replacement.

    AUROC is computed from the resample's counts over one shared sort (the same value as
    auroc(y[i], p[i]), without re-sorting 200 times: this is what keeps evaluation of 350k test
    rows to seconds)."""
    return bootstrap_intervals(y, p, (fn,), n_boot=n_boot, seed=seed, level=level)[0]


def bootstrap_intervals(
    y: np.ndarray,
    p: np.ndarray,
    fns: Sequence[Metric],
    *,
    n_boot: int,
    seed: int,
    level: float = 0.95,
) -> list[tuple[float, float]]:
    """bootstrap_interval of each of `fns`, all from one set of resamples (the ones
    bootstrap_interval draws with this seed, so each interval is the same as its own call's)."""
    if n_boot == 0 or len(y) == 0:
        return [(float("nan"), float("nan"))] * len(fns)
    rng = np.random.default_rng(seed)
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(p, kind="mergesort") if auroc in fns else None
    fast = weighted_auroc(order, y, p) if order is not None else None
    stats = np.empty((len(fns), n_boot))
    for b in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        for k, fn in enumerate(fns):
            stats[k, b] = fast(np.bincount(i, minlength=len(y))) if fn is auroc else fn(y[i], p[i])
    return [percentile_interval(row, level=level) for row in stats]


def percentile_interval(stats: Sequence[float], *, level: float) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap statistics (NaNs left out)."""
    stats = np.asarray(stats, dtype=float)
    stats = stats[~np.isnan(stats)]
    if len(stats) == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha))


def calibration_gap(y: np.ndarray, p: np.ndarray) -> float:
    """Observed rate minus mean predicted probability (positive = under-prediction)."""
    return float(np.mean(y) - np.mean(p))


def subgroup_table(
    y: np.ndarray,
    p: np.ndarray,
    groups: pd.DataFrame,
    *,
    n_boot: int,
    min_rows: int,
    seed: int,
) -> pd.DataFrame:
    """Per (slice, group): n, events, observed, predicted, gap, AUROC, AUPRC, Brier + intervals.

    groups: one column per slice (riskstrat.slices.assign_slices output), aligned with y and p.
    Bootstrap intervals (AUROC, gap) only for groups of at least `min_rows` rows.
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    rows = [_group_row("overall", "all", y, p, n_boot=n_boot, min_rows=min_rows, seed=seed)]
    for name in groups.columns:
        for group, at in group_positions(groups[name].to_numpy()):
            rows.append(
                _group_row(name, group, y[at], p[at], n_boot=n_boot, min_rows=min_rows, seed=seed)
            )
    return pd.DataFrame(rows)


def _group_row(
    slice_name: str,
    group: str,
    y: np.ndarray,
    p: np.ndarray,
    *,
    n_boot: int,
    min_rows: int,
    seed: int,
) -> dict[str, object]:
    boot = n_boot if len(y) >= min_rows else 0
    (auc_lo, auc_hi), (gap_lo, gap_hi) = bootstrap_intervals(
        y, p, (auroc, calibration_gap), n_boot=boot, seed=seed
    )
    return {
        "slice": slice_name,
        "group": str(group),
        "n": len(y),
        "events": int(y.sum()),
        "observed": float(y.mean()),
        "predicted": float(p.mean()),
        "gap": calibration_gap(y, p),
        "gap_lo": gap_lo,
        "gap_hi": gap_hi,
        "auroc": auroc(y, p),
        "auroc_lo": auc_lo,
        "auroc_hi": auc_hi,
        "auprc": auprc(y, p),
        "brier": brier(y, p),
    }
