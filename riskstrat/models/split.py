"""Temporal, patient-disjoint splits, computed from the extract's own dates.

The test period is the latest one whose label windows lie wholly inside the extract; the
calibration/validation period ends one horizon before the test starts (its label windows cannot
overlap the test's), and training ends one horizon before calibration starts. Test rows come only
from a seeded-hash share of patients, training and calibration rows only from the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskstrat.models.config import SplitRules

NO_TRAINING_PERIOD = (
    "split: the extract ({start} to {end}) is too short for a {horizon}-day horizon: training "
    "would end on {train_end}, before the warm-up ends on {warm}"
)
SPLITS = ("train", "valid", "calib", "test")


@dataclass(frozen=True)
class Periods:
    """Inclusive date ranges of index dates per split (crisis uses grid dates inside them)."""

    train: tuple[date, date]
    calib: tuple[date, date]
    test: tuple[date, date]

    def as_dict(self) -> dict[str, str]:
        return {
            f"{k}_{e}": str(v)
            for k in ("train", "calib", "test")
            for e, v in zip(("start", "end"), getattr(self, k), strict=True)
        }


def periods(*, start: date, end: date, horizon_days: int, rules: SplitRules, kind: str) -> Periods:
    """Train / calibration / test index-date ranges for an extract covering [start, end]."""
    h = timedelta(days=horizon_days)
    test_end = end - h + timedelta(days=1)  # the last index date whose window is inside
    test_start = test_end if kind == "crisis" else test_end - timedelta(days=rules.test_days - 1)
    calib_end = test_start - h
    calib_start = calib_end - timedelta(days=rules.calibration_days - 1)
    train_end = calib_start - h
    warm = start + timedelta(days=rules.warmup_days)
    if train_end < warm:
        raise ValueError(
            NO_TRAINING_PERIOD.format(
                start=start, end=end, horizon=horizon_days, train_end=train_end, warm=warm
            )
        )
    return Periods(
        train=(warm, train_end), calib=(calib_start, calib_end), test=(test_start, test_end)
    )


def as_of_grid(p: Periods, *, step_days: int) -> dict[str, list[date]]:
    """crisis as-of dates: every `step_days` back from the test as-of, kept inside each period."""
    step = timedelta(days=step_days)
    grid, day = [], p.test[1]
    while day >= p.train[0]:
        grid.append(day)
        day -= step
    out = {
        name: sorted(d for d in grid if rng[0] <= d <= rng[1])
        for name, rng in (("train", p.train), ("calib", p.calib), ("test", p.test))
    }
    if not out["calib"]:  # calibration shorter than a step: its last day is the as-of
        out["calib"] = [p.calib[1]]
    return out


def patient_unit(patient_id: pd.Series, *, seed: int) -> np.ndarray:
    """A stable uniform number in [0, 1) per patient (seeded hash, same on any machine); hashed
    once per distinct patient (an index repeats each patient at every as-of date)."""
    salt = f"riskstrat-split-{seed}:"
    codes, uniq = pd.factorize(patient_id.astype(str))
    values = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b((salt + p).encode(), digest_size=8).digest()) / 2**64
            for p in uniq
        ),
        dtype=float,
        count=len(uniq),
    )
    return values[codes]


def assign_split(index: pd.DataFrame, *, p: Periods, rules: SplitRules, seed: int) -> pd.Series:
    """Split name per index row ("" = not used): by index date period, then by patient hash."""
    day = pd.to_datetime(index["index_date"]).to_numpy(dtype="datetime64[D]")
    u = patient_unit(index["patient_id"], seed=seed)
    test_patient = u < rules.test_patient_share
    # among the others, rescale to [0, 1) for the validation/calibration draw
    v = (u - rules.test_patient_share) / (1 - rules.test_patient_share)

    def within(rng: tuple[date, date]) -> np.ndarray:
        return (day >= np.datetime64(rng[0], "D")) & (day <= np.datetime64(rng[1], "D"))

    out = np.full(len(index), "", dtype=object)
    out[within(p.train) & ~test_patient] = "train"
    calib = within(p.calib) & ~test_patient
    out[calib & (v < rules.validation_share)] = "valid"
    out[calib & (v >= rules.validation_share)] = "calib"
    out[within(p.test) & test_patient] = "test"
    return pd.Series(out, index=index.index, name="split", dtype=str)


def cap_rows(split: pd.Series, *, name: str, max_rows: int | None, seed: int) -> pd.Series:
    """Drop a seeded random sample of `name` rows beyond `max_rows` (mark them "")."""
    rows = np.flatnonzero(split.to_numpy() == name)
    if max_rows is None or len(rows) <= max_rows:
        return split
    rng = np.random.default_rng(seed)
    drop = rng.choice(rows, size=len(rows) - max_rows, replace=False)
    out = split.to_numpy(dtype=object).copy()
    out[drop] = ""
    return pd.Series(out, index=split.index, name=split.name, dtype=str)
