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
Results: results/crisis_calibration_<n>.json. `--max-rows 0` trains on every training row (the
shipped config's `max_train_rows: null`; the cross-fit keeps its own cap,
`cross_fit_max_rows`); any --max-rows other than the default 400000 writes
results/crisis_calibration_<n>_maxrows<m>.json (`maxrowsall` for 0).

`--variants bagging` instead scores with the mean of the cross-fit's fold boosters
(benchmarks/bagging.py; `bag5` the 5 fold boosters, `bag6` plus the full booster), centred
isotonic on the training rows' single-booster out-of-fold scores plus the calib rows' ensemble
scores (`oof_single`), on the calib rows' ensemble scores only (`calib_only`), the shipped
calibrator as it is (`shipped_cal`), and with `--pairs` on out-of-fold ensemble scores (10 pair
boosters, `oof_pairs`); level offset on the cloglog scale as shipped. Each against the shipped
model (`single`): paired bootstrap AUROC interval, and the CPU seconds of scoring the test rows.
Results: results/crisis_calibration_<n>_bagging.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
import pandas as pd
from common import seed_study_parser, seed_study_record, seed_study_work
from quality import calibration, wilson

#: The training rows the 200k studies used (the shipped cross-fit's cap).
MAX_ROWS = 400_000


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


def bagging(ds, data, config, test, oracle, *, pairs: bool) -> dict:
    """Fold-booster ensembles against the shipped single booster (one seed; module doc)."""
    from bagging import pair_oof

    from riskstrat.models.booster import ensemble_raw_score, raw_score
    from riskstrat.models.calibrate import fit_calibrator
    from riskstrat.models.core import fit_all, level_shifted
    from riskstrat.models.crossfit import cross_fit
    from riskstrat.models.level import with_reference
    from riskstrat.synth.compare import paired_auroc

    cal = config.calibration
    single_cfg = config.model_copy(update={"calibration": cal.model_copy(
        update={"cross_fit_folds": 0})})  # fmt: skip
    fitted = fit_all(ds, features=data.features, config=single_cfg, level=None, logistic=False)
    train, valid, calib = (ds[ds["split"] == s] for s in ("train", "valid", "calib"))
    levels, method = fitted.levels, cal.method
    started = time.process_time()
    cf = cross_fit(train, valid, features=data.features, config=config, folds=cal.cross_fit_folds)
    cross_fit_cpu = time.process_time() - started
    members = {"bag5": list(cf.boosters), "bag6": [fitted.booster, *cf.boosters]}
    scorers = {"single": lambda x: raw_score(fitted.booster, x, levels=levels)}
    scorers |= {
        k: (lambda x, m=m: ensemble_raw_score(m, x, levels=levels)) for k, m in members.items()
    }
    y_cal = calib["label"].to_numpy(float)
    y_all = np.concatenate([train["label"].to_numpy(float), y_cal])
    dates_all = pd.concat([train["index_date"], calib["index_date"]], ignore_index=True)
    level_all = with_reference(data.level, dates_all)
    level_cal = with_reference(data.level, calib["index_date"])
    raw_cal = {k: f(calib) for k, f in scorers.items()}
    raw_test, cpu = {}, {}
    for k, f in scorers.items():
        started = time.process_time()
        raw_test[k] = f(test)
        cpu[k] = round(time.process_time() - started, 2)
    shipped = fit_calibrator(np.concatenate([cf.oof, raw_cal["single"]]), y_all, method=method)
    calibrators = {"single.shipped": ("single", shipped, level_all)}
    oof_sets = {"oof_single": cf.oof}
    if pairs:
        started = time.process_time()
        oof_sets["oof_pairs"] = pair_oof(
            train, valid, fold=cf.fold, features=data.features, config=config
        )
        cpu["pair_boosters_fit"] = round(time.process_time() - started, 1)
    for k in members:
        for name, oof in oof_sets.items():
            c = fit_calibrator(np.concatenate([oof, raw_cal[k]]), y_all, method=method)
            calibrators[f"{k}.{name}"] = (k, c, level_all)
        c = fit_calibrator(raw_cal[k], y_cal, method=method)
        calibrators[f"{k}.calib_only"] = (k, c, level_cal)
        calibrators[f"{k}.shipped_cal"] = (k, shipped, level_all)
    out: dict = {
        "trees": {"single": fitted.booster.best_iteration,
                  "folds": [b.best_iteration for b in cf.boosters]},
        "cpu_seconds": {"cross_fit": round(cross_fit_cpu, 1), "score_test": cpu},
    }  # fmt: skip
    for name, (kind, c, level) in calibrators.items():
        p = level_shifted(c(raw_test[kind]), test, level=level, task="crisis")
        out[name] = measure(test, p, oracle)
        print(name, json.dumps(out[name]), flush=True)
    y = test["label"].to_numpy(float)
    out["paired_auroc"] = {
        f"{k}-single": paired_auroc(y, raw_test["single"], raw_test[k]).as_dict() for k in members
    }
    print("paired", json.dumps(out["paired_auroc"]), json.dumps(out["cpu_seconds"]), flush=True)
    return out


def main() -> None:
    parser = seed_study_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS, help="0: no cap")
    parser.add_argument("--variants", choices=("calibration", "bagging"), default="calibration")
    parser.add_argument("--pairs", action="store_true", help="bagging: + the pair-booster oof")
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
    suffix = "_bagging" if args.variants == "bagging" else ""
    if args.max_rows != MAX_ROWS:
        suffix += f"_maxrows{args.max_rows or 'all'}"
    out, path = seed_study_record(args, suffix=suffix)
    started = time.perf_counter()
    for seed in args.seeds:
        config = load_model_config(
            "crisis",
            overrides={
                "seed": seed,
                "split": {"max_train_rows": args.max_rows or None},
                "calibration": {"cross_fit_folds": 5},
            },
        )
        data = load_task_data("crisis", store_path=store, config=config)
        ds = data.dataset
        test = ds[ds["split"] == "test"].reset_index(drop=True)
        calib = ds[ds["split"] == "calib"]
        oracle = crisis_risk(truth, test[["patient_id", "index_date"]], horizon_days=90)
        if args.variants == "bagging":
            res = {"train_rows": int((ds["split"] == "train").sum()), "test_rows": len(test)}
            res.update(bagging(ds, data, config, test, oracle, pairs=args.pairs))
            out["seeds"][str(seed)] = res
            out["seconds"] = round(time.perf_counter() - started, 1)
            path.write_text(json.dumps(out, indent=2))
            continue
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
