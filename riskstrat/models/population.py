"""A model meeting a new population: compare what is about to be scored with the model's training
reference, before anyone acts on the risks.

Pure functions. `compare_population` takes the feature matrix, the predicted risks and the
model's reference (riskstrat.models.reference: per-feature quantile bins, missing share, range;
score bins; training prevalence) and returns a `PopulationCheck`: feature PSI at any size (with
a small-sample caveat instead of silence below `min_rows`), values outside the training range,
mean predicted risk against the training prevalence and, when matured outcomes are given,
calibration-in-the-large. `caveats` are plain sentences (no identifiers) for the manifest, the
report and the lists; `severe` says whether the mismatch is large enough to doubt the risks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskstrat.config import StrictModel

SMALL_SAMPLE = (
    "{task}: only {n} rows scored (fewer than {min_rows}): the comparison with the training "
    "population (PSI) is noisy at this size and shown for information"
)
FEATURE_SHIFT = (
    "{task}: population differs from the model's training population: {n} feature(s) with "
    "PSI above {alert:g} ({names})"
)
OUT_OF_RANGE = "{task}: {share:.0%} of rows have a value outside the training range ({names})"
RISK_VS_PREVALENCE = (
    "{task}: mean predicted risk {mean:.2%} is {ratio:.1f} times the training prevalence "
    "{prevalence:.2%}"
)
CALIBRATION = (
    "{task}: on {rows} matured rows ({as_of}) observed {observed:.2%} vs predicted "
    "{expected:.2%} (observed/expected {ratio:.2f})"
)
SEVERE = (
    "{task}: MODEL NOT VALIDATED FOR THIS POPULATION: risks may be badly mis-calibrated; treat "
    "them as a ranking only. Run `riskstrat recalibrate {task}` once outcomes have matured"
)
#: Appended to the model label the practice lists print when the check was severe.
LIST_CAVEAT = " - NOT VALIDATED FOR THIS POPULATION: treat the risks as a ranking only"
NO_REFERENCE = "{task}: the model has no training reference: the population cannot be compared"


class PopulationParams(StrictModel):
    """Thresholds of the comparison (configs/monitoring.yaml keeps PSI for drift over time)."""

    min_rows: int = 500  # below: PSI is reported with the small-sample caveat
    psi_alert: float = 0.25  # a feature above this has shifted a lot
    severe_features: int = 3  # this many shifted features (at >= min_rows) is severe
    out_of_range_share: float = 0.05  # rows with any value outside the training range
    #: a value counts as outside only beyond this fraction of the training range's width past
    #: its ends ("days since" features grow with a longer history: 1,092 days against a
    #: training maximum of 750 is not a different population; 26,219 is)
    range_margin: float = 0.5
    risk_ratio: float = 2.0  # mean risk / prevalence above this (or below 1/this) is severe
    calibration_ratio: float = 1.5  # matured observed/expected outside [1/x, x] is severe
    max_listed: int = 5
    floor: float = 1e-4


@dataclass
class PopulationCheck:
    task: str
    rows: int
    psi: pd.DataFrame  # feature, psi
    out_of_range: pd.DataFrame  # feature, train_min, train_max, share_outside
    mean_risk: float | None
    prevalence: float | None
    calibration: dict[str, object] | None = None
    caveats: list[str] = field(default_factory=list)
    severe: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-able summary (aggregates only) for the manifest and logs."""
        return {
            "task": self.task,
            "rows": self.rows,
            "severe": self.severe,
            "mean_risk": self.mean_risk,
            "training_prevalence": self.prevalence,
            "max_psi": float(self.psi["psi"].max()) if len(self.psi) else None,
            "features_psi_above_alert": self.psi.head(10).to_dict("records"),
            "out_of_range": self.out_of_range.head(10).to_dict("records"),
            "calibration": self.calibration,
            "caveats": list(self.caveats),
        }


def _shares(values: np.ndarray, ref: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """(expected, actual) shares over the reference bins plus a missing bin."""
    cuts = np.asarray(ref.get("edges", []), dtype=float)
    expected = np.append(np.asarray(ref.get("proportions", []), dtype=float), ref.get("missing", 0))
    values = np.asarray(values, dtype=float)
    missing = int(np.count_nonzero(np.isnan(values)))
    # NaN digitizes past every (ascending) cut: binned whole, then moved to its own bin, without
    # copying the values that are present out first
    counts = np.bincount(np.digitize(values, cuts), minlength=len(cuts) + 1)
    counts[len(cuts)] -= missing
    actual = np.append(counts, missing) / max(len(values), 1)
    return expected, actual


def psi(expected: np.ndarray, actual: np.ndarray, *, floor: float) -> float:
    e, a = np.clip(expected, floor, None), np.clip(actual, floor, None)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_psi(matrix: pd.DataFrame, *, reference: Mapping, floor: float) -> pd.DataFrame:
    rows = []
    for name, ref in reference.get("features", {}).items():
        if name in matrix and len(ref.get("proportions", [])):
            expected, actual = _shares(matrix[name].to_numpy(dtype=float), ref)
            rows.append({"feature": name, "psi": round(psi(expected, actual, floor=floor), 4)})
    out = pd.DataFrame(rows, columns=["feature", "psi"])
    return out.sort_values(["psi", "feature"], ascending=[False, True], ignore_index=True)


def out_of_range(
    matrix: pd.DataFrame, *, reference: Mapping, margin: float = 0.5
) -> tuple[pd.DataFrame, float]:
    """Per feature, the share of rows outside the training [min, max] widened by `margin` x its
    width on each side; and the share of rows with any such value. Features whose reference has
    no range (models trained before ranges were stored) are skipped."""
    rows, any_outside = [], np.zeros(len(matrix), dtype=bool)
    for name, ref in reference.get("features", {}).items():
        if name not in matrix or ref.get("min") is None or ref.get("max") is None:
            continue
        values = matrix[name].to_numpy(dtype=float)
        slack = margin * (ref["max"] - ref["min"])
        outside = (values < ref["min"] - slack) | (values > ref["max"] + slack)
        any_outside |= outside
        if outside.any():
            rows.append(
                {
                    "feature": name,
                    "train_min": ref["min"],
                    "train_max": ref["max"],
                    "share_outside": round(float(outside.mean()), 4),
                    "max_seen": float(np.nanmax(values)),
                }
            )
    table = pd.DataFrame(
        rows, columns=["feature", "train_min", "train_max", "share_outside", "max_seen"]
    )
    table = table.sort_values("share_outside", ascending=False, ignore_index=True)
    return table, float(any_outside.mean()) if len(matrix) else 0.0


def calibration_in_the_large(
    risk: np.ndarray, label: np.ndarray, *, as_of: str | None = None
) -> dict[str, object] | None:
    """Observed vs expected event rate on matured rows (null labels dropped)."""
    risk, label = np.asarray(risk, dtype=float), np.asarray(label, dtype=float)
    known = ~np.isnan(label)
    if not known.any():
        return None
    observed, expected = float(label[known].mean()), float(risk[known].mean())
    return {
        "as_of": as_of,
        "rows": int(known.sum()),
        "events": int(label[known].sum()),
        "observed": observed,
        "expected": expected,
        "observed_expected": observed / expected if expected > 0 else None,
    }


def compare_population(
    matrix: pd.DataFrame,
    risk: np.ndarray,
    *,
    reference: Mapping,
    task: str,
    params: PopulationParams | None = None,
    matured: dict[str, object] | None = None,
) -> PopulationCheck:
    """The population about to be scored vs the model's training reference (see module doc)."""
    params = params or PopulationParams()
    risk = np.asarray(risk, dtype=float)
    n = len(matrix)
    prevalence = reference.get("prevalence")
    outside, share = out_of_range(matrix, reference=reference, margin=params.range_margin)
    check = PopulationCheck(
        task=task,
        rows=n,
        psi=feature_psi(matrix, reference=reference, floor=params.floor),
        out_of_range=outside,
        mean_risk=float(risk.mean()) if n else None,
        prevalence=float(prevalence) if prevalence is not None else None,
        calibration=matured,
    )
    if not reference.get("features"):
        check.caveats.append(NO_REFERENCE.format(task=task))
        return check
    if n == 0:
        return check
    severe = False
    shifted = check.psi[check.psi["psi"] > params.psi_alert]
    if len(shifted):
        names = ", ".join(
            f"{f} {p:.2f}" for f, p in shifted.head(params.max_listed).itertuples(index=False)
        )
        check.caveats.append(
            FEATURE_SHIFT.format(task=task, n=len(shifted), alert=params.psi_alert, names=names)
        )
        severe |= n >= params.min_rows and len(shifted) >= params.severe_features
    if share > params.out_of_range_share:
        names = ", ".join(
            f"{r.feature} up to {r.max_seen:g} (training {r.train_min:g}-{r.train_max:g})"
            for r in check.out_of_range.head(params.max_listed).itertuples(index=False)
        )
        check.caveats.append(OUT_OF_RANGE.format(task=task, share=share, names=names))
        severe |= n >= params.min_rows
    if check.caveats and n < params.min_rows:  # something to say, at a size where it is noisy
        check.caveats.insert(0, SMALL_SAMPLE.format(task=task, n=n, min_rows=params.min_rows))
    if check.prevalence and check.mean_risk is not None:
        ratio = check.mean_risk / check.prevalence
        if ratio > params.risk_ratio or ratio < 1 / params.risk_ratio:
            check.caveats.append(
                RISK_VS_PREVALENCE.format(
                    task=task, mean=check.mean_risk, ratio=ratio, prevalence=check.prevalence
                )
            )
            severe = True
    if matured and matured.get("observed_expected") is not None:
        ratio = float(matured["observed_expected"])  # type: ignore[arg-type]
        check.caveats.append(
            CALIBRATION.format(
                task=task,
                rows=matured["rows"],
                as_of=matured.get("as_of"),
                observed=matured["observed"],
                expected=matured["expected"],
                ratio=ratio,
            )
        )
        severe |= ratio > params.calibration_ratio or ratio < 1 / params.calibration_ratio
    if severe:
        check.caveats.insert(0, SEVERE.format(task=task))
    check.severe = severe
    return check
