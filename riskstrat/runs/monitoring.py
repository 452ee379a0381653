"""Monitoring: drift of the inputs and scores, and how well matured predictions came true.

Pure functions over frames; thresholds from configs/monitoring.yaml. Everything returned is an
aggregate (per feature, per score distribution, per slice group) and the warnings are plain
sentences for the manifest and the commissioner report: no patient-level values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from riskstrat.config import StrictModel, config_dir, load_yaml
from riskstrat.reports.tables import sorted_auroc
from riskstrat.slices import SLICES, code_positions, slice_categories

MONITORING_FILE = "monitoring.yaml"
PSI_ALERT_BELOW_WARN = (
    "psi.alert ({alert:g}) is below psi.warn ({warn:g}): a major shift must be at least a "
    "moderate one, raise alert or lower warn"
)
BAD_REFERENCE = "reference for {name!r}: {problem}"
WARN_FEATURE_PSI = "input drift: {n} feature(s) shifted since training (PSI > {warn:g}): {names}"
WARN_FEATURE_PSI_MAJOR = "major input drift (PSI > {alert:g}): {names}"
WARN_SCORE_PSI = "score distribution shifted since training (PSI {psi:.3f} > {warn:g})"
WARN_SCORE_MEAN = "mean risk changed by {change:+.0%} since the previous scores ({previous})"
WARN_AUROC = "matured {task} predictions from {as_of}: AUROC {auroc:.3f} below {warn:g}"
WARN_CALIBRATION = (
    "matured {task} predictions from {as_of}: observed rate {observed:.1%} vs predicted "
    "{expected:.1%} (gap above {warn:g})"
)
WARN_CALIBRATION_RATIO = (
    "matured {task} predictions from {as_of}: {events} events observed vs {expected:.0f} "
    "predicted (observed/expected {ratio:.2f}, {z:+.1f} standard errors)"
)
WARN_SLICE_GAP = (
    "matured {task} predictions from {as_of}: {slice} {group} observed {observed:.1%} vs "
    "predicted {expected:.1%}"
)
WARN_SLICE_AUROC = (
    "matured {task} predictions from {as_of}: {slice} {group} AUROC {auroc:.3f} vs "
    "{overall:.3f} overall"
)


class PsiConfig(StrictModel):
    min_rows: int = Field(default=500, ge=0)
    warn: float = Field(default=0.10, ge=0)
    alert: float = Field(default=0.25, ge=0)
    floor: float = Field(default=1e-4, gt=0, lt=1)  # 0: PSI of an empty bin is infinite
    max_listed: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _alert_above_warn(self) -> PsiConfig:
        if self.alert < self.warn:
            raise ValueError(PSI_ALERT_BELOW_WARN.format(alert=self.alert, warn=self.warn))
        return self


class ScoreConfig(StrictModel):
    psi_warn: float = Field(default=0.10, ge=0)
    mean_change_warn: float = Field(default=0.25, ge=0)
    previous_max_days: int = Field(default=14, ge=1)


class PerformanceConfig(StrictModel):
    slack_days: int = Field(default=35, ge=0)
    min_rows: int = Field(default=200, ge=0)
    #: shares and AUROCs lie in [0, 1]: 70 written for 0.70 never warned
    auroc_warn: float = Field(default=0.70, ge=0, le=1)
    calibration_gap_warn: float = Field(default=0.02, ge=0, le=1)
    calibration_ratio_warn: float = Field(default=0.10, ge=0)
    calibration_z: float = Field(default=3.0, ge=0)
    slice_min_rows: int = Field(default=500, ge=0)
    slice_gap_warn: float = Field(default=0.03, ge=0, le=1)
    slice_auroc_drop_warn: float = Field(default=0.08, ge=0, le=1)


class MonitoringConfig(StrictModel):
    psi: PsiConfig = PsiConfig()
    score: ScoreConfig = ScoreConfig()
    performance: PerformanceConfig = PerformanceConfig()


def load_monitoring_config(path: Path | None = None) -> MonitoringConfig:
    return load_yaml(path or config_dir() / MONITORING_FILE, MonitoringConfig)


# --- population stability -------------------------------------------------------------------


def reference_bins(name: str, ref: Mapping[str, Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """(interior cut points, shares) from a reference {edges, proportions[, missing]}.

    Edges may be interior cut points (k-1 for k bins) or include the outer bounds (k+1); a last
    share beyond the bins, or a `missing` entry, is the share of missing values.
    """
    edges = np.asarray(ref["edges"], dtype=float)
    props = np.asarray(ref["proportions"], dtype=float)
    if len(props) == 0:  # nothing but missing values in training
        cuts, props = edges[:0], np.zeros(1)
    elif len(props) == len(edges) + 1:
        cuts = edges
    elif len(props) == len(edges) - 1:
        cuts = edges[1:-1]
    else:
        raise ValueError(
            BAD_REFERENCE.format(name=name, problem=f"{len(edges)} edges, {len(props)} shares")
        )
    missing = float(ref.get("missing", 0.0) or 0.0)
    shares = np.append(props, missing)
    if shares.sum() <= 0:
        raise ValueError(BAD_REFERENCE.format(name=name, problem="shares sum to zero"))
    return cuts, shares / shares.sum()


def bin_shares(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Shares of values in the bins cut at `cuts` (left-closed, as np.digitize), plus missing."""
    values = np.asarray(values, dtype=float)
    missing = int(np.count_nonzero(np.isnan(values)))
    # NaN sorts after every (ascending) cut: binned whole, then moved from the last bin to its
    # own, without copying the non-missing values out first
    counts = np.bincount(np.digitize(values, cuts), minlength=len(cuts) + 1)
    counts[len(cuts)] -= missing
    counts = np.append(counts, missing).astype(float)
    return counts / max(counts.sum(), 1.0)


def psi(expected: np.ndarray, actual: np.ndarray, *, floor: float) -> float:
    """Population stability index sum((a - e) * ln(a / e)), empty bins floored."""
    e = np.clip(np.asarray(expected, dtype=float), floor, None)
    a = np.clip(np.asarray(actual, dtype=float), floor, None)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_psi(
    matrix: pd.DataFrame, *, reference: Mapping[str, Mapping], params: PsiConfig
) -> pd.DataFrame:
    """PSI of each referenced feature in `matrix` vs the model's training reference.

    With fewer than `params.min_rows` rows the shares are noise: PSI is reported, status "few".
    """
    few = len(matrix) < params.min_rows
    rows = []
    for name, ref in reference.items():
        if name not in matrix.columns:
            continue
        cuts, expected = reference_bins(name, ref)
        value = psi(expected, bin_shares(matrix[name].to_numpy(), cuts), floor=params.floor)
        status = "major" if value > params.alert else "moderate" if value > params.warn else "ok"
        status = "few" if few else status
        rows.append({"feature": name, "psi": round(value, 6), "status": status})
    out = pd.DataFrame(rows, columns=["feature", "psi", "status"])
    return out.sort_values(["psi", "feature"], ascending=[False, True], ignore_index=True)


def score_shift(
    risk: np.ndarray,
    *,
    reference: Mapping | None,
    previous: np.ndarray | None,
    params: PsiConfig,
) -> dict[str, float | None]:
    """Score distribution now vs the training reference (PSI) and vs the previous scored as-of."""
    risk = np.asarray(risk, dtype=float)
    out: dict[str, float | None] = {
        "n": float(len(risk)),
        "mean": float(risk.mean()) if len(risk) else None,
        "psi_vs_training": None,
        "previous_mean": None,
        "mean_change": None,
    }
    if reference is not None and len(risk):
        cuts, expected = reference_bins("score", reference)
        out["psi_vs_training"] = psi(expected, bin_shares(risk, cuts), floor=params.floor)
    if previous is not None and len(previous) and len(risk):
        prev_mean = float(np.mean(previous))
        out["previous_mean"] = prev_mean
        out["mean_change"] = (out["mean"] - prev_mean) / prev_mean if prev_mean > 0 else None
    return out


# --- prospective performance -----------------------------------------------------------------


def _auroc(label: np.ndarray, risk: np.ndarray) -> float | None:
    """AUROC (ties count half), None when only one outcome occurs. One stable sort and one
    pass over blocks of equal risk (riskstrat.reports.tables.sorted_auroc): the same value as
    sklearn's roc_auc_score without its per-call overhead, which dominated at 126 groups."""
    order = np.argsort(risk, kind="stable")
    return _ranked_auroc(label[order], risk[order])


def _ranked_auroc(label: np.ndarray, risk: np.ndarray) -> float | None:
    """_auroc of rows already in ascending risk order (ties in row order)."""
    if not 0 < label.sum() < len(label):
        return None
    return float(sorted_auroc(label, risk))


def matured_performance(frame: pd.DataFrame) -> pd.DataFrame:
    """Observed vs predicted per slice group for rows with a mature label.

    frame: `risk`, `label` (1/0; null = immature, dropped) and the slice input columns
    (age, sex, ethnicity, imd_decile, practice_code, ltc_count). Returns one row per
    (slice, group) plus ("overall", "all"): n, events, observed, expected, gap, z (observed
    minus expected events in standard errors sqrt(sum p(1 - p))), auroc.

    Groups come as integer codes (slice_categories: labels made on distinct values only) and
    the rows are sorted by risk once: per slice, one stable sort of the codes gives each group's
    rows in row order (its sums) and one of the codes in risk order its rows ranked (its AUROC),
    the same rows in the same order as a mask per group, so the figures match to the last digit.
    """
    known = frame["label"].notna().to_numpy()
    mature = frame if known.all() else frame[known]  # all mature: no copy of every row
    label = mature["label"].to_numpy(dtype=float)
    risk = mature["risk"].to_numpy(dtype=float)
    names = tuple(s.name for s in SLICES if s.column in mature.columns)
    slices = slice_categories(mature, names=names)
    by_risk = np.argsort(risk, kind="stable")
    rows = [_perf_row("overall", "all", label, risk, ranked=(label[by_risk], risk[by_risk]))]
    for name in names:
        groups = slices[name].array
        n_groups = len(groups.categories)
        codes = np.asarray(groups.codes)
        in_rows = code_positions(codes, n_groups=n_groups)
        by_rank = code_positions(codes, n_groups=n_groups, order=by_risk)
        for group, at, r in zip(groups.categories.tolist(), in_rows, by_rank, strict=True):
            rows.append(_perf_row(name, group, label[at], risk[at], ranked=(label[r], risk[r])))
    return pd.DataFrame(rows)


def _perf_row(
    slice_name: str,
    group: str,
    label: np.ndarray,
    risk: np.ndarray,
    *,
    ranked: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """ranked: the rows' label and risk in ascending risk order (ties in row order), when the
    caller has them; else sorted here."""
    n = len(label)
    observed = float(label.mean()) if n else float("nan")
    expected = float(risk.mean()) if n else float("nan")
    # events observed - expected, in standard errors of the count if the risks were right
    sd = float(np.sqrt(np.sum(risk * (1 - risk))))
    auroc = _auroc(label, risk) if ranked is None else _ranked_auroc(*ranked)  # None if empty
    return {
        "slice": slice_name,
        "group": group,
        "n": n,
        "events": int(label.sum()),
        "observed": observed,
        "expected": expected,
        "gap": observed - expected,
        "z": float((label.sum() - risk.sum()) / sd) if sd > 0 else float("nan"),
        "auroc": auroc,
    }


# --- warnings ---------------------------------------------------------------------------------


def drift_warnings(
    psi_table: pd.DataFrame, shift: Mapping[str, float | None], *, params: MonitoringConfig
) -> list[str]:
    out = []
    judged = psi_table[psi_table["status"] != "few"]
    moving = judged[judged["psi"] > params.psi.warn]
    if len(moving):
        names = ", ".join(moving["feature"].head(params.psi.max_listed))
        out.append(WARN_FEATURE_PSI.format(n=len(moving), warn=params.psi.warn, names=names))
    major = judged[judged["psi"] > params.psi.alert]
    if len(major):
        names = ", ".join(major["feature"].head(params.psi.max_listed))
        out.append(WARN_FEATURE_PSI_MAJOR.format(alert=params.psi.alert, names=names))
    score_psi = shift.get("psi_vs_training")
    enough = (shift.get("n") or 0) >= params.psi.min_rows
    if enough and score_psi is not None and score_psi > params.score.psi_warn:
        out.append(WARN_SCORE_PSI.format(psi=score_psi, warn=params.score.psi_warn))
    change = shift.get("mean_change")
    if enough and change is not None and abs(change) > params.score.mean_change_warn:
        out.append(WARN_SCORE_MEAN.format(change=change, previous=shift.get("previous_as_of")))
    return out


def performance_warnings(
    perf: pd.DataFrame, *, task: str, as_of: object, params: PerformanceConfig
) -> list[str]:
    """Warnings from `matured_performance` output; silent when too few rows have matured."""
    overall = perf[perf["slice"] == "overall"].iloc[0]
    if overall["n"] < params.min_rows:
        return []
    out = []
    ctx = {"task": task, "as_of": as_of}
    if overall["auroc"] is not None and overall["auroc"] < params.auroc_warn:
        out.append(WARN_AUROC.format(**ctx, auroc=overall["auroc"], warn=params.auroc_warn))
    if abs(overall["gap"]) > params.calibration_gap_warn:
        out.append(
            WARN_CALIBRATION.format(
                **ctx,
                observed=overall["observed"],
                expected=overall["expected"],
                warn=params.calibration_gap_warn,
            )
        )
    ratio = overall["observed"] / overall["expected"] if overall["expected"] > 0 else np.nan
    if abs(ratio - 1) > params.calibration_ratio_warn and abs(overall["z"]) > params.calibration_z:
        out.append(
            WARN_CALIBRATION_RATIO.format(
                **ctx,
                events=int(overall["events"]),
                expected=overall["expected"] * overall["n"],
                ratio=ratio,
                z=overall["z"],
            )
        )
    big = perf[(perf["slice"] != "overall") & (perf["n"] >= params.slice_min_rows)]
    for row in big.itertuples():
        if abs(row.gap) > params.slice_gap_warn:
            out.append(
                WARN_SLICE_GAP.format(
                    **ctx,
                    slice=row.slice,
                    group=row.group,
                    observed=row.observed,
                    expected=row.expected,
                )
            )
        if (
            row.auroc is not None
            and overall["auroc"] is not None
            and row.auroc < overall["auroc"] - params.slice_auroc_drop_warn
        ):
            out.append(
                WARN_SLICE_AUROC.format(
                    **ctx,
                    slice=row.slice,
                    group=row.group,
                    auroc=row.auroc,
                    overall=overall["auroc"],
                )
            )
    return out
