"""Readmission calibration: Platt on the calib discharges vs cross-fitted (issue #14), 3 seeds.

    python benchmarks/readmission_calibration.py --patients 200000 [--seeds 7 8 9]
    python benchmarks/readmission_calibration.py --patients 200000 --variants methods

Uses the store benchmarks/quality.py prepared (same work folder). For each seed (it moves the
test/calibration patient split and the boosters) fits the readmission model (history group off,
the shipped feature set) with the calibrator fitted on (a) the calib discharges only, (b) the
calib discharges plus the training discharges' out-of-fold raw scores (5 folds), each without
the calendar level offset, with it (season + trend) and with the season only. Measured on the
held-out test discharges and on every test-period discharge (time-disjoint from training and
calibration; patient overlap allowed): ECE (10 bins), its noise floor on the same rows, the
noise-free ECE against the oracle, mean vs oracle, the 85+ mean gap against the oracle.
Results: results/readmission_calibration_<n>.json.

`--variants methods` instead compares the calibrator's form on the same cross-fitted raw
scores (calib discharges + 5-fold out-of-fold training discharges, no level offset): Platt
(shipped), centred isotonic, isotonic; and Platt on the calib discharges only for reference.
With it every measurement also carries AUROC (isotonic's steps tie scores). Results:
results/readmission_calibration_<n>_methods.json.

`--variants bagging` scores with the mean of the cross-fit's fold boosters instead of the full
booster (benchmarks/bagging.py): `bag5` the 5 fold boosters, `bag6` those plus the full booster,
each Platt-calibrated on (a) the training rows' single-booster out-of-fold scores plus the calib
rows' ensemble scores (`oof_single`), (b) the calib rows' ensemble scores only (`calib_only`),
(c) out-of-fold ensemble scores of the training rows (10 pair boosters, `oof_pairs`) plus the
calib rows' ensemble scores, and (d) the shipped calibrator as it is (`shipped_cal`); `raw` is
the uncalibrated score. Each against the shipped model (`single`) on the same rows: a paired
bootstrap AUROC interval. Results: results/readmission_calibration_<n>_bagging.json.

`--variants old` diagnoses the shipped (bagged) model's low 85+ mean and measures calibrators
with age terms. Per split (train rows scored out of fold, as the calibrator saw them; calib;
held-out test; every test-period discharge) and calendar quarter: the 85+ rows' model, raw score,
oracle and observed means. Then the shipped Platt against Platt with added terms, fitted on the
same cross-fitted rows (out-of-fold train + calib): `age85` (an 85+ indicator), `bands` (65-74,
75-84, 85+ indicators), `age85_time` (85+ indicator and 85+ x years from the fit rows' mean
date); and `age85_recent`, the shipped risk with an 85+ logit shift fitted on the calib rows'
85+ only (the latest period). Each on held-out and all test-period discharges, with a paired
AUROC interval against the shipped model. `--age-monotone` refits every booster with age
monotone increasing.
Results: results/readmission_calibration_<n>_old[_agemono].json.

`--variants warmup` asks whether more training discharges shrink the 85+ less: the shipped model
as `riskstrat train` fits it (its config as it is: bagged fold boosters, cross-fitted Platt, no
level offset) with the shipped 365-day warm-up and with a 90-day one (about twice the training
discharges; the first year's discharges then see less than a year of history). Both models score
the same rows, the 365-day data set's held-out test discharges and every test-period discharge
(the 90-day data set's test, valid and calib discharges are checked to be the same ones); each
measurement also carries AUROC and the 85+ rows, events and mean gap to the oracle (with its
standard error), and a paired bootstrap AUROC interval gives 90 days minus 365. Per seed also the
training, valid and calib rows (and the training 85+), trees and Platt coefficients.
`--warmups 365` fits the shipped warm-up only (no paired interval then).
Results: results/readmission_calibration_<n>_warmup.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from common import all_test_period, seed_study_parser, seed_study_record, seed_study_work
from quality import calibration, old_age

#: Every variant starts from the model before bagging (the bagging variant builds its ensembles).
UNBAGGED = {"bag_folds": False}


def measure(rows, p, oracle, *, digits: int = 5) -> dict:
    from riskstrat.models import metrics as m

    y = rows["label"].to_numpy(float)
    cal = calibration(y, p, oracle, draws=100)
    keep = ("ece", "noise_floor_mean", "ece_vs_oracle", "mean", "oracle_mean", "observed")
    return {
        "rows": len(rows),
        "auroc": round(m.auroc(y, p), digits),
        **{k: round(float(cal[k]), digits) for k in keep},
        "age85_minus_oracle": round(float(old_age(rows, p, oracle, y)["minus_oracle"]), digits),
    }


def methods(ds, data, config, sets, oracle) -> dict:
    """The calibrator's form on the same cross-fitted raw scores (one booster per seed)."""
    import numpy as np

    from riskstrat.models.booster import raw_score
    from riskstrat.models.calibrate import fit_calibrator
    from riskstrat.models.core import fit_all
    from riskstrat.models.crossfit import out_of_fold_raw

    fitted = fit_all(ds, features=data.features, config=config, level=None, logistic=False)
    train, valid, calib = (ds[ds["split"] == s] for s in ("train", "valid", "calib"))
    folds = config.calibration.cross_fit_folds
    oof = out_of_fold_raw(train, valid, features=data.features, config=config, folds=folds)
    raw_cal = raw_score(fitted.booster, calib, levels=fitted.levels)
    y_cal = calib["label"].to_numpy(float)
    raw_all = np.concatenate([oof, raw_cal])
    y_all = np.concatenate([train["label"].to_numpy(float), y_cal])
    calibrators = {
        "calib_only.platt": fit_calibrator(raw_cal, y_cal, method="platt"),
        **{
            f"crossfit{folds}.{method}": fit_calibrator(raw_all, y_all, method=method)
            for method in ("platt", "centred_isotonic", "isotonic")
        },
    }
    out: dict = {}
    for name, calibrator in calibrators.items():
        f = replace(fitted, calibrator=calibrator)
        out[name] = {k: measure(v, f.predict(v), oracle[k]) for k, v in sets.items()}
        print(name, json.dumps(out[name]), flush=True)
    return out


def bagging(ds, data, config, sets, oracle) -> dict:
    """Fold-booster ensembles against the shipped single booster (one seed; module doc)."""
    import numpy as np
    from bagging import pair_oof

    from riskstrat.models.booster import ensemble_raw_score, raw_score
    from riskstrat.models.calibrate import fit_calibrator
    from riskstrat.models.core import fit_all
    from riskstrat.models.crossfit import cross_fit
    from riskstrat.synth.compare import paired_auroc

    single_cfg = config.model_copy(update={"calibration": replace_cal(config.calibration, 0)})
    fitted = fit_all(ds, features=data.features, config=single_cfg, level=None, logistic=False)
    train, valid, calib = (ds[ds["split"] == s] for s in ("train", "valid", "calib"))
    folds, levels = config.calibration.cross_fit_folds, fitted.levels
    cf = cross_fit(train, valid, features=data.features, config=config, folds=folds)
    members = {"bag5": list(cf.boosters), "bag6": [fitted.booster, *cf.boosters]}
    scorers = {"single": lambda x: raw_score(fitted.booster, x, levels=levels)}
    scorers |= {
        k: (lambda x, m=m: ensemble_raw_score(m, x, levels=levels)) for k, m in members.items()
    }
    pairs = pair_oof(train, valid, fold=cf.fold, features=data.features, config=config)
    y_tr, y_cal = train["label"].to_numpy(float), calib["label"].to_numpy(float)
    y_all = np.concatenate([y_tr, y_cal])
    raw_cal = {k: f(calib) for k, f in scorers.items()}
    shipped = fit_calibrator(np.concatenate([cf.oof, raw_cal["single"]]), y_all, method="platt")
    calibrators = {"single.shipped": ("single", shipped), "single.raw": ("single", None)}
    for k in members:
        calibrators |= {
            f"{k}.oof_single": (k, fit_calibrator(np.concatenate([cf.oof, raw_cal[k]]), y_all,
                                                  method="platt")),
            f"{k}.calib_only": (k, fit_calibrator(raw_cal[k], y_cal, method="platt")),
            f"{k}.oof_pairs": (k, fit_calibrator(np.concatenate([pairs, raw_cal[k]]), y_all,
                                                 method="platt")),
            f"{k}.shipped_cal": (k, shipped),
            f"{k}.raw": (k, None),
        }  # fmt: skip
    out: dict = {
        "trees": {"single": fitted.booster.best_iteration,
                  "folds": [b.best_iteration for b in cf.boosters]},
        "platt": {k: [round(c.a, 4), round(c.b, 4)] for k, (_, c) in calibrators.items() if c},
    }  # fmt: skip
    raw = {name: {k: f(v) for k, f in scorers.items()} for name, v in sets.items()}
    for name, (kind, cal) in calibrators.items():
        out[name] = {}
        for k, v in sets.items():
            p = raw[k][kind] if cal is None else cal(raw[k][kind])
            out[name][k] = measure(v, p, oracle[k])
        print(name, json.dumps(out[name]), flush=True)
    out["paired_auroc"] = {
        f"{k}-single": {
            s: paired_auroc(v["label"].to_numpy(float), raw[s]["single"], raw[s][k]).as_dict()
            for s, v in sets.items()
        }
        for k in members
    }
    print("paired", json.dumps(out["paired_auroc"]), flush=True)
    return out


#: The shipped warm-up first (its held-out test rows are the ones both models score).
WARMUPS = (365, 90)


def warmup(
    task: str, seed: int, *, store: Path, truth: Path, warmups: tuple[int, ...] = WARMUPS
) -> dict:
    """The shipped model fitted with each of `warmups` (days; by default 365 and 90), on the
    same rows."""
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.compare import paired_auroc
    from riskstrat.synth.oracle import readmission_risk

    every = all_test_period(task, store=store, seed=seed).dataset.reset_index(drop=True)
    res: dict = {}
    sets: dict = {}
    oracle: dict = {}
    ids: dict = {}
    scores: dict = {}
    for days in sorted(set(warmups), reverse=True):  # the shipped 365 first
        config = load_model_config(task, overrides={"seed": seed, "split": {"warmup_days": days}})
        data = load_task_data(task, store_path=store, config=config)
        ds = data.dataset
        split_ids = {
            s: set(ds.loc[ds["split"] == s, "index_spell_id"]) for s in ("valid", "calib", "test")
        }
        if not sets:
            sets = {"held_out": ds[ds["split"] == "test"].reset_index(drop=True)}
            sets["all_test_period"] = every
            oracle = {k: readmission_risk(truth, v[["index_spell_id"]]) for k, v in sets.items()}
            ids = split_ids
        if split_ids != ids:
            raise SystemExit(f"seed {seed}: warm-up {days} has other valid, calib or test rows")
        train = ds[ds["split"] == "train"]
        fitted = fit_all(
            ds, features=data.features, config=config, level=data.level, logistic=False
        )
        key = f"warmup{days}"
        res[key] = {
            "train_period": [str(d) for d in data.periods.train],
            "train_rows": len(train),
            "train_rows_85plus": int((train["age"] >= 85).sum()),
            **{f"{s}_rows": len(v) for s, v in split_ids.items()},
            "trees": {
                "full": fitted.booster.best_iteration,
                "folds": [b.best_iteration for b in fitted.members],
            },
            "platt": [round(fitted.calibrator.a, 4), round(fitted.calibrator.b, 4)],
            "calibration": config.calibration.model_dump(mode="json"),
            "level": data.level is not None,
        }
        scores[key] = {}
        for k, v in sets.items():
            p = fitted.predict(v)
            scores[key][k] = p
            y = v["label"].to_numpy(float)
            old = old_age(v, p, oracle[k], y)
            res[key][k] = {
                **measure(v, p, oracle[k], digits=7),
                "age85_minus_oracle_se": round(old["minus_oracle_se"], 7),
                "age85_rows": int(old["rows"]),
                "age85_events": int(old["events"]),
                "age85_mean": round(old["mean_risk"], 7),
                "age85_oracle_mean": round(old["oracle_mean"], 7),
            }
        print(seed, key, json.dumps(res[key]), flush=True)
    if len(scores) < 2:
        return res
    res["paired_auroc_90_minus_365"] = {
        k: paired_auroc(
            v["label"].to_numpy(float), scores["warmup365"][k], scores["warmup90"][k]
        ).as_dict()
        for k, v in sets.items()
    }
    print(seed, "paired", json.dumps(res["paired_auroc_90_minus_365"]), flush=True)
    return res


BANDS = ((0, 65), (65, 75), (75, 85), (85, 200))


def age_terms(rows, *, bands: bool, years=None):
    """The calibrator's age columns: the 85+ indicator (or each band above 0-64), and with
    `years` (per-row years from a reference date) 85+ x years."""
    import numpy as np

    age = rows["age"].to_numpy()
    cols = [((age >= lo) & (age < hi)).astype(float) for lo, hi in BANDS[1 if bands else 3 :]]
    if years is not None:
        cols.append(cols[-1] * years)
    return np.column_stack(cols)


def old_means(rows, p, oracle, raw) -> dict:
    """All rows and the 85+: model, raw score, oracle and observed means, model - oracle."""
    import numpy as np

    y = rows["label"].to_numpy(float)
    out = {}
    for name, m in (("all", np.ones(len(rows), bool)), ("85+", rows["age"].to_numpy() >= 85)):
        out[name] = {
            "rows": int(m.sum()),
            "events": int(y[m].sum()),
            "observed": round(float(y[m].mean()), 5),
            "oracle": round(float(oracle[m].mean()), 5),
            "model": round(float(p[m].mean()), 5),
            "raw": round(float(raw[m].mean()), 5),
            "model_minus_oracle": round(float(p[m].mean() - oracle[m].mean()), 5),
            "observed_minus_oracle": round(float(y[m].mean() - oracle[m].mean()), 5),
        }
    return out


def old(ds, data, config, sets, oracle, *, truth, age_monotone: bool) -> dict:
    """The shipped bagged model's 85+ by split and half-year, and age-term calibrators."""
    import numpy as np
    import pandas as pd

    import riskstrat.models.core as core
    from riskstrat.models.metrics import logistic_fit, logit
    from riskstrat.synth.compare import paired_auroc
    from riskstrat.synth.oracle import readmission_risk

    cfg = config.model_copy(
        update={"calibration": config.calibration.model_copy(update={"bag_folds": True})}
    )
    features = [
        replace(f, monotone=1) if age_monotone and f.name == "age" else f for f in data.features
    ]
    captured: dict = {}
    plain = core.cross_fit

    def keep(rows, *a, _plain=plain, **k):  # the cross-fitted rows and their out-of-fold scores
        captured["rows"], captured["cf"] = rows, _plain(rows, *a, **k)
        return captured["cf"]

    core.cross_fit = keep
    try:
        fitted = core.fit_all(ds, features=features, config=cfg, level=None, logistic=False)
    finally:
        core.cross_fit = plain
    train = captured["rows"].reset_index(drop=True)  # all training rows unless capped
    calib = ds[ds["split"] == "calib"].reset_index(drop=True)
    fit_rows = pd.concat([train, calib], ignore_index=True)
    raw = {"train": captured["cf"].oof, "calib": fitted.raw(calib)}
    raw |= {k: fitted.raw(v) for k, v in sets.items()}
    rows = {"train": train, "calib": calib, **sets}
    orc = {"train": readmission_risk(truth, train[["index_spell_id"]])}
    orc |= {"calib": readmission_risk(truth, calib[["index_spell_id"]]), **oracle}
    res: dict = {"platt": [round(fitted.calibrator.a, 4), round(fitted.calibrator.b, 4)]}
    res["by_split"] = {
        k: old_means(rows[k], fitted.calibrator(raw[k]), orc[k], raw[k]) for k in rows
    }
    quarter = {
        k: pd.to_datetime(rows[k]["index_date"]).dt.to_period("Q") for k in ("train", "calib")
    }
    res["by_quarter"] = {}
    for k in ("train", "calib"):
        for q in sorted(quarter[k].unique()):
            m = (quarter[k] == q).to_numpy()
            res["by_quarter"][f"{k} {q}"] = old_means(
                rows[k][m].reset_index(drop=True),
                fitted.calibrator(raw[k][m]),
                orc[k][m],
                raw[k][m],
            )["85+"]
    print("by_split", json.dumps(res["by_split"]), flush=True)
    ref = pd.to_datetime(fit_rows["index_date"]).mean()

    def years(x):
        return ((pd.to_datetime(x["index_date"]) - ref).dt.days / 365.25).to_numpy()

    y_fit = fit_rows["label"].to_numpy(float)
    lp_fit = logit(np.concatenate([raw["train"], raw["calib"]]))
    designs = {
        "age85": lambda x: age_terms(x, bands=False),
        "bands": lambda x: age_terms(x, bands=True),
        "age85_time": lambda x: age_terms(x, bands=False, years=years(x)),
    }
    shipped = {k: fitted.calibrator(raw[k]) for k in sets}
    res["shipped"] = {k: measure(v, shipped[k], oracle[k]) for k, v in sets.items()}
    print("shipped", json.dumps(res["shipped"]), flush=True)
    for name, design in designs.items():
        z = design(fit_rows)
        beta = logistic_fit(y_fit, np.column_stack([lp_fit, z]), np.zeros(len(y_fit)))
        h = np.linalg.inv(hessian(np.column_stack([np.ones(len(z)), lp_fit, z]), beta))
        res[name] = {
            "coef": [round(float(b), 4) for b in beta],
            "se": [round(float(s), 4) for s in np.sqrt(np.diag(h))],
        }
        for k, v in sets.items():
            lp = logit(raw[k])
            eta = np.column_stack([np.ones(len(lp)), lp, design(v)]) @ beta
            p = 1 / (1 + np.exp(-eta))
            y = v["label"].to_numpy(float)
            res[name][k] = measure(v, p, oracle[k])
            res[name][k]["paired_auroc"] = paired_auroc(y, shipped[k], p).as_dict()
        print(name, json.dumps(res[name]), flush=True)
    # the 85+ logit shift on the shipped risk, fitted on the latest rows only (calib 85+)
    old_cal = calib["age"].to_numpy() >= 85
    lp_cal = logit(fitted.calibrator(raw["calib"]))[old_cal]
    y_old = calib["label"].to_numpy(float)[old_cal]
    shift = float(logistic_fit(y_old, None, lp_cal)[0])
    se = float(np.sqrt(1 / hessian(np.ones((len(lp_cal), 1)), np.array([0.0]), lp_cal)[0, 0]))
    res["age85_recent"] = {"coef": [round(shift, 4)], "se": [round(se, 4)]}
    for k, v in sets.items():
        lp = logit(shipped[k]) + shift * (v["age"].to_numpy() >= 85)
        p = 1 / (1 + np.exp(-lp))
        y = v["label"].to_numpy(float)
        res["age85_recent"][k] = measure(v, p, oracle[k])
        res["age85_recent"][k]["paired_auroc"] = paired_auroc(y, shipped[k], p).as_dict()
    print("age85_recent", json.dumps(res["age85_recent"]), flush=True)
    return res


def hessian(design, beta, offset=0.0):
    """Fisher information of a logistic fit (its inverse: the coefficients' covariance)."""
    import numpy as np

    mu = 1 / (1 + np.exp(-(design @ beta + offset)))
    return design.T @ (design * (mu * (1 - mu))[:, None])


def main() -> None:
    parser = seed_study_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", choices=("level", "methods", "bagging", "old", "warmup"), default="level"
    )
    parser.add_argument("--age-monotone", action="store_true", help="--variants old only")
    parser.add_argument(
        "--warmups",
        type=int,
        nargs="+",
        choices=WARMUPS,
        default=list(WARMUPS),
        help="--variants warmup only: the warm-ups (days) to fit",
    )
    parser.add_argument("--tag", default="", help="suffix of the results file (_<tag>)")
    args = parser.parse_args()
    work = seed_study_work(args)
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.oracle import readmission_risk

    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    suffix = "" if args.variants == "level" else f"_{args.variants}"
    suffix += "_agemono" if args.age_monotone else ""
    suffix += f"_{args.tag}" if args.tag else ""
    out, path = seed_study_record(args, suffix=suffix)
    started = time.perf_counter()
    task = "readmission_30d"
    for seed in args.seeds:
        if args.variants == "warmup":
            out["seeds"][str(seed)] = warmup(
                task, seed, store=store, truth=truth, warmups=tuple(args.warmups)
            )
            out["seconds"] = round(time.perf_counter() - started, 1)
            path.write_text(json.dumps(out, indent=2))
            continue
        config = load_model_config(
            task,
            overrides={"seed": seed, "level": {"enabled": True}, "calibration": UNBAGGED},
        )
        data = load_task_data(task, store_path=store, config=config)
        every = all_test_period(task, store=store, seed=seed)
        ds = data.dataset
        sets = {"held_out": ds[ds["split"] == "test"].reset_index(drop=True)}
        sets["all_test_period"] = every.dataset.reset_index(drop=True)
        oracle = {k: readmission_risk(truth, v[["index_spell_id"]]) for k, v in sets.items()}
        res: dict = {"train_rows": int((ds["split"] == "train").sum())}
        res["calib_rows"] = int((ds["split"] == "calib").sum())
        if args.variants == "old":
            res.update(
                old(ds, data, config, sets, oracle, truth=truth, age_monotone=args.age_monotone)
            )
            out["seeds"][str(seed)] = res
            out["seconds"] = round(time.perf_counter() - started, 1)
            path.write_text(json.dumps(out, indent=2))
            continue
        if args.variants != "level":
            study = methods if args.variants == "methods" else bagging
            res.update(study(ds, data, config, sets, oracle))
            out["seeds"][str(seed)] = res
            out["seconds"] = round(time.perf_counter() - started, 1)
            path.write_text(json.dumps(out, indent=2))
            continue
        for folds in (0, 5):
            cfg = config.model_copy(update={"calibration": replace_cal(config.calibration, folds)})
            fitted = fit_all(ds, features=data.features, config=cfg, level=data.level)
            variants = {
                "": replace(fitted, level=None),
                "+level": fitted,
                "+season": replace(fitted, level=replace(fitted.level, use_trend=False)),
            }
            for suffix, f in variants.items():
                name = f"{'crossfit5' if folds else 'calib_only'}{suffix}"
                res[name] = {k: measure(v, f.predict(v), oracle[k]) for k, v in sets.items()}
                print(seed, name, json.dumps(res[name]), flush=True)
        out["seeds"][str(seed)] = res
        out["seconds"] = round(time.perf_counter() - started, 1)
        path.write_text(json.dumps(out, indent=2))


def replace_cal(cal, folds: int):
    return cal.model_copy(update={"cross_fit_folds": folds})


if __name__ == "__main__":
    main()
