"""Crisis calibration before/after: plain isotonic vs centred isotonic (and Platt), one booster.

    python benchmarks/calibration.py --patients 200000

Generates a synthetic population (`riskstrat synth`), ingests it (`riskstrat ingest`), builds the
crisis training data and fits the LightGBM booster exactly as `riskstrat train crisis --max-rows
1000000` does, then fits each calibrator on the same `calib` rows and scores the same held-out
test rows. Per calibrator it reports AUROC, ECE, the top-2 % PPV of each practice's list, the
calibration gap of the top 1 %, the smallest/largest risk, and how many distinct risks the
practices' top-2 % lists hold (with ties at the list cut). Results go to
benchmarks/results/calibration_<patients>.json. CPU heavy: run it once, on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from common import prepare, work_env

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
METHODS = ("isotonic", "centred_isotonic", "platt")
LIST_FRACTION = 0.02


def list_stats(risk: np.ndarray, practice: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Each practice lists its top 2 % by risk (ties broken by row order, as a stable sort)."""
    frame = pd.DataFrame({"risk": risk, "practice": practice, "y": y})
    listed, distinct, tied_cut, tied_rows = [], [], 0, 0
    for _, rows in frame.groupby("practice", sort=True):
        ranked = rows.sort_values("risk", ascending=False, kind="stable")
        n = int(np.ceil(LIST_FRACTION * len(ranked)))
        top = ranked.iloc[:n]
        listed.append(top)
        distinct.append(top["risk"].nunique() / n)
        if n < len(ranked) and ranked["risk"].iloc[n - 1] == ranked["risk"].iloc[n]:
            tied_cut += 1
        tied_rows += int(top["risk"].duplicated(keep=False).sum())
    top = pd.concat(listed)
    return {
        "listed": float(len(top)),
        "ppv_top2pct": float(top["y"].mean()),
        "distinct_risks_listed": float(top["risk"].nunique()),
        "listed_rows_sharing_a_risk_in_their_practice": float(tied_rows),
        "median_practice_distinct_share": float(np.median(distinct)),
        "practices_with_cut_inside_a_tie": float(tied_cut),
        "practices": float(frame["practice"].nunique()),
    }


def evaluate(risk: np.ndarray, y: np.ndarray, practice: np.ndarray) -> dict[str, float]:
    from riskstrat.models import metrics as m

    top1 = risk >= np.quantile(risk, 0.99)
    return {
        "auroc": m.auroc(y, risk),
        "ece": m.ece(y, risk, n_bins=10),
        "brier": m.brier(y, risk),
        "top1pct_predicted_minus_observed": float(risk[top1].mean() - y[top1].mean()),
        "min_risk": float(risk.min()),
        "max_risk": float(risk.max()),
        "distinct_risks_test": float(len(np.unique(risk))),
    } | list_stats(risk, practice, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "calibration")
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    work = args.work / str(args.patients)
    work.mkdir(parents=True, exist_ok=True)
    env = work_env(work)
    started = time.perf_counter()
    prepare(work, args.patients, env)
    from riskstrat.models.booster import raw_score
    from riskstrat.models.calibrate import fit_calibrator
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data

    config = load_model_config("crisis", overrides={"split": {"max_train_rows": args.max_rows}})
    data = load_task_data("crisis", store_path=work / "data" / "store.duckdb", config=config)
    fitted = fit_all(data.dataset, features=data.features, config=config)
    calib = data.dataset[data.dataset["split"] == "calib"]
    test = data.dataset[data.dataset["split"] == "test"]
    raw_cal, raw_test = raw_score(fitted.booster, calib), raw_score(fitted.booster, test)
    y_cal, y_test = calib["label"].to_numpy(float), test["label"].to_numpy(float)
    practice = test["practice_code"].to_numpy()
    results = {
        method: evaluate(fit_calibrator(raw_cal, y_cal, method=method)(raw_test), y_test, practice)
        for method in METHODS
    }
    out = {
        "patients": args.patients,
        "command": f"python benchmarks/calibration.py --patients {args.patients}",
        "measured_on": date.today().isoformat(),
        "rows": {"calib": len(calib), "test": len(test), "test_events": float(y_test.sum())},
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"calibration_{args.patients}.json"
    path.write_text(json.dumps(out, indent=2))
    print(pd.DataFrame(results).to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"written {path}")


if __name__ == "__main__":
    main()
