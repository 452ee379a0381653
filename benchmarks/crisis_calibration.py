"""Crisis calibration of the old: calibrator rows and level link, 3 split seeds (issue #14).

    python benchmarks/crisis_calibration.py --patients 200000 [--seeds 7 8 9]

Uses the store benchmarks/quality.py prepared (same work folder). For each seed (it moves the
test/calibration patient split and the boosters) fits the crisis model once (the shipped
feature set, at most --max-rows training rows) and calibrates its booster two ways: (a) on the
calib rows only, (b) on the calib rows plus the training rows' out-of-fold raw scores (5
folds, riskstrat.models.crossfit); each with the calendar level offset applied on the logit
and on the complementary log-log scale (riskstrat.models.level `link`). The booster is the same
in all four, so AUROC is too (each calibrator is strictly increasing and the offset is one per
date). Measured on the held-out test rows: AUROC, ECE (10 bins), its noise floor, the
noise-free ECE against the oracle, mean vs oracle vs observed, the 85+ mean against the oracle
(noise-free) and against the observed rate (with a Wilson 95 % interval), the top 1 %.
Results: results/crisis_calibration_<n>.json.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import seed_study_parser, seed_study_work
from quality import calibration, wilson

HERE = Path(__file__).resolve().parent


def measure(rows, p: np.ndarray, oracle: np.ndarray) -> dict:
    from riskstrat.models import metrics as m

    y = rows["label"].to_numpy(float)
    cal = calibration(y, p, oracle, draws=50)
    keep = ("ece", "noise_floor_mean", "ece_vs_oracle", "mean", "oracle_mean", "observed")
    keep += ("top1pct_mean", "top1pct_oracle")
    old = rows["age"].to_numpy() >= 85
    low, high = wilson(y[old].sum(), int(old.sum()))
    resid = p[old] - oracle[old]
    return {
        "auroc": round(m.auroc(y, p), 5),
        **{k: round(float(cal[k]), 5) for k in keep},
        "age85": {
            "rows": int(old.sum()),
            "events": int(y[old].sum()),
            "model": round(float(p[old].mean()), 5),
            "oracle": round(float(oracle[old].mean()), 5),
            "observed": round(float(y[old].mean()), 5),
            "observed_ci": [round(low, 5), round(high, 5)],
            "minus_oracle": round(float(resid.mean()), 5),
            # sampling error of that mean over the people who happen to be 85+ in the test
            "minus_oracle_se": round(float(resid.std() / np.sqrt(old.sum())), 5),
        },
    }


def main() -> None:
    parser = seed_study_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=400_000)
    args = parser.parse_args()
    work = seed_study_work(args)
    from riskstrat.models.booster import raw_score
    from riskstrat.models.calibrate import fit_calibrator
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.models.level import with_reference
    from riskstrat.synth.oracle import crisis_risk

    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    out: dict = {
        "patients": args.patients,
        "command": "python benchmarks/crisis_calibration.py " + " ".join(sys.argv[1:]),
        "seeds": {},
    }
    path = HERE / "results" / f"crisis_calibration_{args.patients}.json"
    started = time.perf_counter()
    for seed in args.seeds:
        config = load_model_config(
            "crisis",
            overrides={
                "seed": seed,
                "split": {"max_train_rows": args.max_rows},
                "calibration": {"cross_fit_folds": 5},
            },
        )
        data = load_task_data("crisis", store_path=store, config=config)
        ds = data.dataset
        test = ds[ds["split"] == "test"].reset_index(drop=True)
        calib = ds[ds["split"] == "calib"]
        oracle = crisis_risk(truth, test[["patient_id", "index_date"]], horizon_days=90)
        crossfit = fit_all(ds, features=data.features, config=config, level=data.level)
        raw_calib = raw_score(crossfit.booster, calib, levels=crossfit.levels)
        calib_only = replace(
            crossfit,
            calibrator=fit_calibrator(
                raw_calib, calib["label"].to_numpy(float), method=config.calibration.method
            ),
            level=with_reference(data.level, calib["index_date"]) if data.level else None,
        )
        res: dict = {
            "train_rows": int((ds["split"] == "train").sum()),
            "calib_rows": len(calib),
            "test_rows": len(test),
            "trees": int(crossfit.booster.best_iteration),
        }
        for name, fitted in (("calib_only", calib_only), ("crossfit5", crossfit)):
            for link in ("logit", "cloglog"):
                f = replace(fitted, level=replace(fitted.level, link=link))
                res[f"{name}.{link}"] = measure(test, f.predict(test), oracle)
                print(seed, f"{name}.{link}", json.dumps(res[f"{name}.{link}"]), flush=True)
        out["seeds"][str(seed)] = res
        out["seconds"] = round(time.perf_counter() - started, 1)
        path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
