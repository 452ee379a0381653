"""Compare candidate model settings without looking at the test period.

Each candidate's booster is fitted on the train rows, stopped early on the valid rows and judged
on the calib rows (held out from both), so a choice made from this table never peeks at the
test rows the reported metrics come from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from riskstrat.logs import log_event
from riskstrat.models import metrics as m
from riskstrat.models.booster import fit_booster, raw_score
from riskstrat.models.calibrate import fit_calibrator
from riskstrat.models.config import ModelConfig
from riskstrat.models.core import rows
from riskstrat.models.data import TaskData

NO_CANDIDATES = "tune: no candidate configurations to compare"


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype=float), m.EPS, 1 - m.EPS)
    y = np.asarray(y, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def validation_table(
    data: TaskData,
    *,
    candidates: Mapping[str, ModelConfig],
    oracle: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per candidate: calib-row AUROC, AUPRC and log loss of the raw score, the best
    iteration and the fit time (seconds); ECE and calibration slope on the valid rows of an
    isotonic and a Platt calibrator fitted on the calib rows; with `oracle` (true risk of given
    rows, synthetic data) also the oracle's AUROC on the same calib rows."""
    if not candidates:
        raise ValueError(NO_CANDIDATES)
    train, valid, calib = (rows(data.dataset, s) for s in ("train", "valid", "calib"))
    y_cal = calib["label"].to_numpy(dtype=float)
    truth = {} if oracle is None else {"oracle_auroc": m.auroc(y_cal, oracle(calib))}
    out = []
    for name, config in candidates.items():
        start = time.perf_counter()
        booster = fit_booster(
            train,
            train["label"].to_numpy(),
            valid,
            valid["label"].to_numpy(),
            features=data.features,
            params=config.lightgbm,
            stopping=config.early_stopping,
            seed=config.seed,
        )
        seconds = time.perf_counter() - start
        p = raw_score(booster, calib)
        y_val = valid["label"].to_numpy(dtype=float)
        calibrated = {
            method: fit_calibrator(p, y_cal, method=method)(raw_score(booster, valid))
            for method in ("isotonic", "platt")
        }
        row = {
            "candidate": name,
            "train_rows": len(train),
            "calib_rows": len(calib),
            "calib_events": int(y_cal.sum()),
            "auroc": m.auroc(y_cal, p),
            "auprc": m.auprc(y_cal, p),
            "log_loss": log_loss(y_cal, p),
            "best_iteration": booster.best_iteration,
            "fit_seconds": round(seconds, 2),
        }
        for method, q in calibrated.items():
            row[f"valid_ece_{method}"] = m.ece(y_val, q, n_bins=config.evaluation.ece_bins)
            row[f"valid_slope_{method}"] = m.calibration_slope(y_val, q)
        row |= truth
        log_event("models.tune", **{k: v for k, v in row.items() if k != "candidate"})
        out.append(row)
    return pd.DataFrame(out)
