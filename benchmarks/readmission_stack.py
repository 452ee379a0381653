"""Stacking the crisis model into readmission (issue #14): the shipped readmission model against
the same model with one more input, `crisis_logit`, the crisis model's raw log-odds at the
discharge date.

    python benchmarks/readmission_stack.py --patients 200000 --seeds 7 8 9 10 11 12

Uses the store benchmarks/quality.py prepared. Leakage rules:
- cross-fitted by patient: every patient falls in one of `--folds` folds (a seeded hash,
  salt STACK_SEED, unrelated to the split seeds); crisis booster k is fitted without fold k's
  patients (and stops early on other patients), and scores only fold k's discharges;
- the crisis rows are as-of dates of the shipped crisis training period (a seeded sample of
  CRISIS_ROWS, all patients), each checked to have its 90-day label window end before the
  readmission test period starts: no outcome of the test period enters through the crisis labels;
- the crisis features are the crisis task's own, at 00:00 of the discharge date (the readmission
  row's index date), i.e. point in time like the readmission features.
The crisis boosters are fitted once and serve every split seed (the folds do not depend on it).
Per seed both readmission models are fitted as `riskstrat train` fits the shipped one (bagged
fold boosters, cross-fitted Platt) and score the same rows: held-out test discharges and every
test-period discharge. Per row set: ECE, noise floor, noise-free ECE, 85+ minus oracle (with its
standard error), AUROC, and the paired bootstrap interval of AUROC(stacked) - AUROC(shipped).
Results: results/readmission_stack_<n>.json (`--folds` other than 2: ..._<n>_f<folds>.json).
The crisis scores are kept in the work folder (stack_crisis_f<folds>_r<rows>/) and reused by a
later run.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from common import all_test_period, seed_study_parser, seed_study_record, seed_study_work
from quality import old_age
from readmission_calibration import measure

TASK = "readmission_30d"
#: Salt of the patient folds (patient_unit's seed): not one of the split seeds 7-12.
STACK_SEED = 1000
#: Crisis training rows sampled (all folds); each fold's booster sees (folds - 1) / folds of them.
CRISIS_ROWS = 800_000
#: Share of a crisis booster's patients whose rows drive its early stopping.
STOP_SHARE = 0.2
FEATURE = "crisis_logit"


def folds_of(patient_id, *, folds: int):
    import numpy as np

    from riskstrat.models.split import patient_unit

    return np.floor(patient_unit(patient_id, seed=STACK_SEED) * folds).astype(int)


def crisis_logits(store, *, folds: int) -> tuple:
    """(frame of patient_id, index_date, crisis_logit for every discharge the readmission task
    can index, information on the crisis boosters)."""
    import numpy as np
    import pandas as pd

    from riskstrat.features import build_features, load_catalogue
    from riskstrat.features.runner import input_groups
    from riskstrat.models.booster import fit_booster
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import data_start, load_task_data
    from riskstrat.models.split import patient_unit, periods
    from riskstrat.registry.store import connect, latest_extract
    from riskstrat.tasks import build_index, load_task

    task = load_task(TASK)
    end = latest_extract(store)["extract_date"]
    with connect(store) as con:
        p = periods(
            start=data_start(con), end=end, horizon_days=task.label.horizon_days,
            rules=load_model_config(TASK).split, kind="discharge",
        )  # fmt: skip
    config = load_model_config(
        "crisis",
        overrides={
            "split": {"test_patient_share": 1e-6, "max_train_rows": CRISIS_ROWS},
            "level": {"enabled": False},
        },
    )
    data = load_task_data("crisis", store_path=store, config=config, splits=("train",))
    rows = data.dataset.reset_index(drop=True)
    window_end = rows["index_date"] + pd.Timedelta(days=data.task.label.horizon_days)
    if not (window_end <= pd.Timestamp(p.test[0])).all():  # the window is [D, D + horizon)
        raise SystemExit("a crisis label window reaches the readmission test period")
    fold = folds_of(rows["patient_id"], folds=folds)
    stop = patient_unit(rows["patient_id"], seed=STACK_SEED + 1) < STOP_SHARE
    boosters: list = []
    info: dict = {
        "crisis_rows": len(rows),
        "crisis_as_of": sorted({str(d.date()) for d in rows["index_date"]}),
        "readmission_test_start": str(p.test[0]),
        "last_crisis_window_end": str((window_end.max() - timedelta(days=1)).date()),
        "folds": [],
    }
    y = rows["label"].to_numpy()
    for k in range(folds):
        fit, es = (fold != k) & ~stop, (fold != k) & stop
        booster = fit_booster(
            rows[fit], y[fit], rows[es], y[es], features=data.features,
            params=config.lightgbm, stopping=config.early_stopping, seed=config.seed,
        )  # fmt: skip
        boosters.append(booster)
        info["folds"].append(
            {"fit_rows": int(fit.sum()), "stop_rows": int(es.sum()),
             "trees": booster.best_iteration}
        )  # fmt: skip
        print("crisis fold", k, json.dumps(info["folds"][-1]), flush=True)
    with connect(store) as con:
        index = build_index(con, task, start=p.train[0], end=p.test[1])
        keys = index[["patient_id", "index_date"]].drop_duplicates().reset_index(drop=True)
        groups = input_groups(load_catalogue(), "crisis")
        x = build_features(con, keys, task="crisis", groups=groups)
    names = [f.name for f in data.features]
    logit = np.full(len(x), np.nan)
    fold_x = folds_of(x["patient_id"], folds=folds)
    for k, booster in enumerate(boosters):
        m = fold_x == k
        logit[m] = booster.predict(
            x.loc[m, names].to_numpy(float), num_iteration=booster.best_iteration, raw_score=True
        )
    info["discharge_keys"] = len(x)
    out = x[["patient_id", "index_date"]].assign(**{FEATURE: logit})
    return out, info


def with_crisis(ds, logits):
    """`ds` with the crisis_logit of each row (same rows, same order)."""
    out = ds.merge(logits, on=["patient_id", "index_date"], how="left", validate="many_to_one")
    if len(out) != len(ds) or out[FEATURE].isna().any():
        raise SystemExit("a readmission row has no crisis score")
    return out


def study(seed: int, *, store, truth, logits) -> dict:
    """The shipped readmission model and the stacked one on the same rows (one split seed)."""
    import numpy as np

    from riskstrat.models.booster import FeatureInfo
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.models.metrics import logit
    from riskstrat.synth.compare import paired_auroc
    from riskstrat.synth.oracle import readmission_risk

    config = load_model_config(TASK, overrides={"seed": seed})
    data = load_task_data(TASK, store_path=store, config=config)
    ds = with_crisis(data.dataset, logits)
    every = with_crisis(all_test_period(TASK, store=store, seed=seed).dataset, logits)
    sets = {"held_out": ds[ds["split"] == "test"].reset_index(drop=True), "all_test_period": every}
    oracle = {k: readmission_risk(truth, v[["index_spell_id"]]) for k, v in sets.items()}
    features = {
        "shipped": list(data.features),
        "stacked": [*data.features, FeatureInfo(FEATURE, monotone=1)],
    }
    res: dict = {"train_rows": int((ds["split"] == "train").sum())}
    scores: dict = {}
    for name, feats in features.items():
        fitted = fit_all(ds, features=feats, config=config, level=data.level, logistic=False)
        gain = fitted.booster.feature_importance(importance_type="gain")
        res[name] = {
            "trees": [b.best_iteration for b in fitted.boosters],
            "platt": [round(fitted.calibrator.a, 4), round(fitted.calibrator.b, 4)],
            "crisis_gain_share": round(float(gain[-1] / gain.sum()), 4)
            if name == "stacked" else None,
        }  # fmt: skip
        scores[name] = {}
        for k, v in sets.items():
            p = fitted.predict(v)
            scores[name][k] = p
            old = old_age(v, p, oracle[k], v["label"].to_numpy(float))
            res[name][k] = {
                **measure(v, p, oracle[k], digits=7),
                "age85_minus_oracle_se": round(old["minus_oracle_se"], 7),
                "age85_rows": int(old["rows"]),
            }
        print(seed, name, json.dumps(res[name]), flush=True)
    res["paired_auroc_stacked_minus_shipped"] = {
        k: paired_auroc(
            v["label"].to_numpy(float), scores["shipped"][k], scores["stacked"][k]
        ).as_dict()
        for k, v in sets.items()
    }
    res["crisis_logit_corr_oracle_logit"] = round(
        float(np.corrcoef(every[FEATURE], logit(oracle["all_test_period"]))[0, 1]), 4
    )
    print(seed, "paired", json.dumps(res["paired_auroc_stacked_minus_shipped"]), flush=True)
    return res


def main() -> None:
    import pandas as pd

    parser = seed_study_parser(__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=2, help="crisis cross-fit patient folds")
    args = parser.parse_args()
    work = seed_study_work(args)
    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    out, path = seed_study_record(args, suffix="" if args.folds == 2 else f"_f{args.folds}")
    wall, cpu = time.perf_counter(), time.process_time()
    cache = work / f"stack_crisis_f{args.folds}_r{CRISIS_ROWS}"
    if (cache / "info.json").exists():  # the crisis boosters' scores of an earlier run
        logits = pd.read_parquet(cache / "logits.parquet")
        out["crisis"] = json.loads((cache / "info.json").read_text())
    else:
        logits, out["crisis"] = crisis_logits(store, folds=args.folds)
        out["crisis"]["seconds"] = round(time.perf_counter() - wall, 1)
        out["crisis"]["cpu_seconds"] = round(time.process_time() - cpu, 1)
        cache.mkdir(exist_ok=True)
        logits.to_parquet(cache / "logits.parquet")
        (cache / "info.json").write_text(json.dumps(out["crisis"], indent=2))
    for seed in args.seeds:
        out["seeds"][str(seed)] = study(seed, store=store, truth=truth, logits=logits)
        out["seconds"] = round(time.perf_counter() - wall, 1)
        out["cpu_seconds"] = round(time.process_time() - cpu, 1)
        path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
