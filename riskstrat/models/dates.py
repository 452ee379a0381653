"""The model against both oracles over many as-of dates (synthetic data, `riskstrat train --truth`).

One test date is one draw of the test period: the audit found the crisis gap to the oracle
ranging 0.026-0.041 over 53 weekly dates. So training also scores the held-out test patients
(patient-disjoint from training and calibration: the split's seeded hash) at every
`dates_every_days` over the test period and reports, per score (model, full oracle,
no-foresight oracle), the AUROC at each date, its mean and range over the dates, and a
patient-cluster bootstrap interval of the mean; for each reference the paired gap (reference -
model) the same way: every resample draws the same patients for all scores, at all dates.

`summarise_dates` is pure (labels, scores, as-of date and patient code per row in; tables out).
The rows come from `riskstrat.models.train` (crisis: a new index of the test patients at each
date; readmission: the test discharges, grouped by the window a run on each date lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskstrat.models.evaluate import MODEL, REFERENCES
from riskstrat.models.metrics import weighted_auroc

ARTIFACT = "evaluation/dates.json"
PREFIX = "dates"
LENGTHS = "dates: {name!r} has {n} values for {rows} rows"
STATS = ("mean", "min", "max", "lo", "hi")


@dataclass
class DatesEvaluation:
    """AUROC per as-of date and its summary over the dates (no identifiers)."""

    per_date: pd.DataFrame  # as_of, rows, events, then one AUROC column per score
    summary: pd.DataFrame  # score (or gap_to_<reference>), mean, min, max, lo, hi
    every_days: int
    patients: int
    draws: int | None = None  # Monte Carlo draws of the no-foresight oracle here
    notes: dict[str, str] = field(default_factory=dict)

    def flat_metrics(self) -> dict[str, float]:
        """`dates/<score>/auroc_<stat>` and `dates/gap_to_<reference>/auroc_<stat>` (MLflow)."""
        out = {f"{PREFIX}/n_dates": float(len(self.per_date))}
        out[f"{PREFIX}/rows"] = float(self.per_date["rows"].sum())
        out[f"{PREFIX}/events"] = float(self.per_date["events"].sum())
        for row in self.summary.to_dict("records"):
            for stat in STATS:
                value = row[stat]
                if value is not None and np.isfinite(value):
                    out[f"{PREFIX}/{row['score']}/auroc_{stat}"] = float(value)
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "every_days": self.every_days,
            "patients": self.patients,
            "draws": self.draws,
            "notes": dict(self.notes),
            "summary": self.summary.to_dict("records"),
            "per_date": self.per_date.to_dict("records"),
        }

    def text(self) -> str:
        """What `riskstrat train` prints under the test table."""
        first, last = self.per_date["as_of"].iloc[0], self.per_date["as_of"].iloc[-1]
        lines = [
            f"Over {len(self.per_date)} as-of dates {first}..{last} (every {self.every_days} "
            f"days; {self.patients} held-out patients, {int(self.per_date['rows'].sum())} rows, "
            f"{int(self.per_date['events'].sum())} events): AUROC mean (range) [95% CI of the "
            "mean, patient bootstrap]"
        ]
        for row in self.summary.to_dict("records"):
            lines.append(
                f"  {row['score']:<30} {row['mean']:+.4f} ({row['min']:+.4f} to {row['max']:+.4f})"
                f" [{row['lo']:+.4f} to {row['hi']:+.4f}]"
                if row["score"].startswith("gap_to_")
                else f"  {row['score']:<30} {row['mean']:.4f} ({row['min']:.4f}-{row['max']:.4f})"
                f" [{row['lo']:.4f}-{row['hi']:.4f}]"
            )
        return "\n".join(lines)


def summarise_dates(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    as_of: np.ndarray,
    patient: np.ndarray,
    n_boot: int,
    seed: int,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per_date, summary). per_date: one row per as-of date (rows, events, AUROC per score;
    NaN at a date without both classes). summary: per score the mean/min/max of the per-date
    AUROC and a percentile interval of the mean over `n_boot` patient-cluster resamples; for
    each reference in `scores` also `gap_to_<reference>` = reference - model, paired."""
    y = np.asarray(y, dtype=float)
    arrays = {k: np.asarray(v, dtype=float) for k, v in scores.items()}
    for name, p in arrays.items():
        if len(p) != len(y):
            raise ValueError(LENGTHS.format(name=name, n=len(p), rows=len(y)))
    dates = np.asarray(as_of)
    days = sorted(set(dates.tolist()))
    codes, _ = pd.factorize(pd.Series(patient))
    n_patients = int(codes.max()) + 1 if len(codes) else 0
    per_date = []
    rng = np.random.default_rng(seed)
    counts = np.stack(
        [np.bincount(rng.integers(0, n_patients, n_patients), minlength=n_patients)
         for _ in range(n_boot)]
    ).astype(float) if n_boot else np.empty((0, n_patients))  # fmt: skip
    per_boot: dict[str, list[np.ndarray]] = {name: [] for name in arrays}
    for day in days:
        rows = np.flatnonzero(dates == day)
        yd = y[rows]
        record: dict[str, object] = {
            "as_of": str(pd.Timestamp(day).date()),
            "rows": len(rows),
            "events": int(yd.sum()),
        }
        w = counts[:, codes[rows]]  # resample x row: the same patients for every score
        for name, p in arrays.items():
            record[name] = weighted_auroc(np.argsort(p[rows], kind="mergesort"), yd, p[rows])(
                np.ones(len(rows))
            )
            per_boot[name].append(_auroc_rows(yd, p[rows], w))
        per_date.append(record)
    table = pd.DataFrame(per_date)
    gaps = [r for r in REFERENCES if r in arrays and MODEL in arrays]
    with np.errstate(invalid="ignore"):
        boots = {
            name: np.nanmean(np.stack(v, axis=1), axis=1) if n_boot else np.empty(0)
            for name, v in per_boot.items()
        }
    alpha = (1 - level) / 2
    summary = []
    series = {name: table[name].to_numpy(dtype=float) for name in arrays}
    draws = dict(boots)
    for ref in gaps:
        series[f"gap_to_{ref}"] = series[ref] - series[MODEL]
        draws[f"gap_to_{ref}"] = boots[ref] - boots[MODEL]
    for name, values in series.items():
        b = draws[name][np.isfinite(draws[name])]
        lo, hi = (
            (float(np.quantile(b, alpha)), float(np.quantile(b, 1 - alpha)))
            if len(b)
            else (float("nan"), float("nan"))
        )
        summary.append(
            {
                "score": name,
                "mean": float(np.nanmean(values)),
                "min": float(np.nanmin(values)),
                "max": float(np.nanmax(values)),
                "lo": lo,
                "hi": hi,
            }
        )
    return table, pd.DataFrame(summary, columns=["score", *STATS])


def _auroc_rows(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUROC under each row of weights `w` (resamples x rows) at once, ties averaged (the
    vectorised metrics.weighted_auroc); NaN where a resample has one class only. Only the
    negatives are accumulated (the events are few): each event wins over the weight of the
    negatives scored below it and half of those tied with it."""
    if w.shape[0] == 0:
        return np.empty(0)
    order = np.argsort(p, kind="mergesort")
    ys, ps = y[order], p[order]
    group = np.r_[0, np.cumsum(np.diff(ps) != 0)]  # tie group of each sorted row
    neg, pos = np.flatnonzero(ys == 0), np.flatnonzero(ys == 1)
    if not len(neg) or not len(pos):
        return np.full(w.shape[0], np.nan)
    cum = np.cumsum(w[:, order[neg]], axis=1)
    cum = np.concatenate([np.zeros((w.shape[0], 1)), cum], axis=1)  # cum[:, k] = first k
    below = np.searchsorted(group[neg], group[pos], side="left")
    upto = np.searchsorted(group[neg], group[pos], side="right")
    wp = w[:, order[pos]]
    wins = np.sum(wp * (0.5 * (cum[:, below] + cum[:, upto])), axis=1)
    total = wp.sum(axis=1) * cum[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, wins / total, np.nan)


def grid(*, last: pd.Timestamp, first: pd.Timestamp, every_days: int, count: int) -> list:
    """As-of dates every `every_days` back from `last`, at most `count`, none before `first`."""
    out = []
    day = pd.Timestamp(last)
    while day >= pd.Timestamp(first) and len(out) < count:
        out.append(day.date())
        day -= pd.Timedelta(days=every_days)
    return sorted(out)


def window_dates(index_date: pd.Series, *, last: pd.Timestamp, every_days: int) -> np.ndarray:
    """For discharge-indexed rows: the as-of date of the run that lists each row (runs every
    `every_days` ending at `last` + 1 day, each listing the discharges of the days before it)."""
    days = (pd.Timestamp(last) - pd.to_datetime(index_date)).dt.days.to_numpy()
    back = days // every_days
    run = pd.Timestamp(last) + pd.Timedelta(days=1) - pd.to_timedelta(back * every_days, unit="D")
    return np.asarray(run.to_numpy(dtype="datetime64[D]"))
