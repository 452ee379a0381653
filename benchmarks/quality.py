"""Model quality against honest references on the synthetic world (issue #14).

    python benchmarks/quality.py --patients 200000 [--ablations]

Generates a population with the default changing world (`riskstrat synth`: winter season,
+1.5 %/year trend, a practice's CKD coding gap), ingests it, and then, with the training code's
own data loading and fitting (riskstrat.models.data / core, as `riskstrat train` does):

- crisis: the booster without vs with the `history` feature group (and, with --ablations, the
  base plus each part of it), on the same splits; test AUROC, ECE, paired bootstrap intervals of
  each difference; the full oracle (riskstrat.synth.oracle) on the same rows with a paired
  interval; the 85+ mean risk against the oracle's (noise-free) and against outcomes; and the test
  patients over 13 weekly as-of dates ending at the test date (mean and range of each AUROC);
- readmission: without vs with `history`, the warm-up 365 vs 90 days, LACE / HOSPITAL and the
  oracle, each with paired intervals;
- for every fitted model, why its ECE is what it is (`calibration`: the noise floor of a
  perfectly calibrated predictor on the same rows, the oracle's own ECE, the noise-free ECE
  against the oracle, calibration in the large, and the ECE and 85+ gap once the mean is set
  to the oracle's, a diagnosis).

Results go to benchmarks/results/quality_<patients>.json (written after every stage, so a
stopped run keeps what it measured). CPU heavy: run it once, on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from common import prepare, work_env

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SUBGROUPS = {
    "hospital_history": ["emerg_adm_all", "last_discharge_method", "mean_los_all"],
    "repeat_items": ["repeat_items_180d"],
    "efi_history": ["efi_mean", "efi_count", "efi_max"],
    "rates_3y": ["ae_per_year_3y", "gp_per_year_3y", "history_years"],
    "registers_ever": ["registers_ever"],
}
WEEKS, WEEKLY_PATIENTS, N_BOOT = 13, 30_000, 200
DRAWS = 20  # Monte Carlo draws of the no-foresight oracle


def history_features(task) -> list:
    """The history group as model inputs (the catalogue keeps them out of the model: measured
    here against the model without them)."""
    from riskstrat.features import load_catalogue
    from riskstrat.models.booster import FeatureInfo

    cat = load_catalogue()
    return [
        FeatureInfo(f.column, monotone=f.monotone, categorical=f.dtype == "category")
        for f in cat.features
        if f.group == "history"
    ]


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from riskstrat.models import metrics as m

    return {
        "auroc": m.auroc(y, p),
        "ece": m.ece(y, p, n_bins=10),
        "mean": float(p.mean()),
        "observed": float(y.mean()),
        "rows": float(len(y)),
        "events": float(y.sum()),
    }


def ece_vs_oracle(oracle: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE with the oracle's risk in place of the outcomes (the same 10 equal-count bins of p):
    calibration error free of outcome noise."""
    parts = np.array_split(np.argsort(p, kind="stable"), n_bins)
    return float(sum(len(i) * abs(oracle[i].mean() - p[i].mean()) for i in parts) / len(p))


def calibration(y: np.ndarray, p: np.ndarray, oracle: np.ndarray, draws: int = 200) -> dict:
    """Why the ECE is what it is: the noise floor (ECE of the true risks against outcomes drawn
    from them, on these rows: what a perfectly calibrated model scores by chance), the oracle's
    own ECE on the real outcomes, the model's noise-free ECE (against the oracle), its
    calibration in the large, and (a diagnosis, not a fix) its ECE once its mean is set to the
    oracle's: what is left when the level is right."""
    from riskstrat.models import metrics as m

    rng = np.random.default_rng(0)
    floor = [m.ece((rng.random(len(oracle)) < oracle).astype(float), oracle) for _ in range(draws)]
    top = p >= np.quantile(p, 0.99)
    return {
        "ece": m.ece(y, p, n_bins=10),
        "noise_floor_mean": float(np.mean(floor)),
        "noise_floor_p5": float(np.percentile(floor, 5)),
        "noise_floor_p95": float(np.percentile(floor, 95)),
        "oracle_ece": m.ece(y, oracle, n_bins=10),
        "ece_vs_oracle": ece_vs_oracle(oracle, p),
        "mean": float(p.mean()),
        "oracle_mean": float(oracle.mean()),
        "observed": float(y.mean()),
        "ece_level_set_to_oracle": m.ece(y, p * oracle.mean() / p.mean(), n_bins=10),
        "top1pct_mean": float(p[top].mean()),
        "top1pct_oracle": float(oracle[top].mean()),
    }


def paired(y, a, b, seed: int = 0) -> dict[str, float]:
    from riskstrat.synth.compare import paired_auroc

    return paired_auroc(y, a, b, n_boot=N_BOOT, seed=seed).as_dict()


def wilson(events: float, rows: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion."""
    p = events / rows
    den = 1 + z * z / rows
    centre = (p + z * z / (2 * rows)) / den
    half = z * np.sqrt(p * (1 - p) / rows + z * z / (4 * rows * rows)) / den
    return float(centre - half), float(centre + half)


def old_age(x: pd.DataFrame, p: np.ndarray, oracle: np.ndarray, y: np.ndarray) -> dict:
    """The 85+: model, oracle and observed mean (Wilson interval), the model's gap to the
    oracle (noise-free in the outcomes) and that gap's sampling error over the people who
    happen to be 85+ in these rows (standard error of the mean per-row difference)."""
    from riskstrat.synth.compare import mean_gap

    old = x["age"].to_numpy() >= 85
    low, high = wilson(float(y[old].sum()), int(old.sum()))
    resid = p[old] - oracle[old]
    return {
        "rows": float(old.sum()),
        "events": float(y[old].sum()),
        "mean_risk": float(p[old].mean()),
        "oracle_mean": float(oracle[old].mean()),
        "observed": float(y[old].mean()),
        "observed_lo": low,
        "observed_hi": high,
        "minus_oracle": mean_gap(p, oracle, old),
        "minus_oracle_se": float(resid.std() / np.sqrt(old.sum())),
        "minus_observed": mean_gap(p, y, old),
    }


def level_variants(fitted, x: pd.DataFrame, y: np.ndarray, oracle: np.ndarray) -> dict:
    """The calendar level offset's effect on the same fitted model (the offset is applied after
    calibration, so no refit): none, season + trend (the fitted model's), season only."""
    from dataclasses import replace

    if fitted.level is None:
        return {}
    variants = {
        "none": replace(fitted, level=None),
        "season_trend": replace(fitted, level=replace(fitted.level, use_trend=True)),
        "season_only": replace(fitted, level=replace(fitted.level, use_trend=False)),
    }
    out: dict = {"model": fitted.level.to_dict()}
    for name, f in variants.items():
        p = f.predict(x)
        cal = calibration(y, p, oracle, draws=50)
        out[name] = {
            "ece": cal["ece"],
            "ece_vs_oracle": cal["ece_vs_oracle"],
            "mean": cal["mean"],
            "oracle_mean": cal["oracle_mean"],
            "observed": cal["observed"],
            "age85_minus_oracle": old_age(x, p, oracle, y)["minus_oracle"],
        }
    return out


class Run:
    def __init__(self, path: Path, patients: int) -> None:
        self.path, self.started = path, time.perf_counter()
        self.out: dict = {
            "patients": patients,
            "measured_on": date.today().isoformat(),
            "command": "python benchmarks/quality.py " + " ".join(sys.argv[1:]),
            "stages": {},
        }

    def put(self, stage: str, value: dict) -> None:
        self.out["stages"][stage] = value
        self.out["seconds"] = round(time.perf_counter() - self.started, 1)
        self.path.write_text(json.dumps(self.out, indent=2, default=float))
        print(
            f"[{self.out['seconds']} s] {stage}: {json.dumps(value, default=float)[:600]}",
            flush=True,
        )


def crisis(store: Path, truth: Path, run: Run, *, max_rows: int, ablations: bool) -> None:
    from riskstrat.features import build_features
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.registry.store import connect
    from riskstrat.synth.noforesight import crisis_risk_no_foresight
    from riskstrat.synth.oracle import crisis_risk, observed_emergency
    from riskstrat.synth.truth import load_truth
    from riskstrat.tasks import build_index

    extra = history_features(None)
    history = {f.name for f in extra}
    config = load_model_config("crisis", overrides={"split": {"max_train_rows": max_rows}})
    data = load_task_data("crisis", store_path=store, config=config)
    ds = data.dataset
    test = ds[ds["split"] == "test"].reset_index(drop=True)
    y = test["label"].to_numpy(float)
    oracle = crisis_risk(truth, test[["patient_id", "index_date"]], horizon_days=90)
    keys = test[["patient_id", "index_date"]]
    nf, nf_se = crisis_risk_no_foresight(truth, keys, horizon_days=90, draws=DRAWS, seed=0)
    base_features = [f for f in data.features if f.name not in history]
    sets = {"base": base_features, "with_history": base_features + extra}
    if ablations:
        for name, cols in SUBGROUPS.items():
            sets[f"base+{name}"] = [*base_features, *(f for f in extra if f.name in cols)]
    fitted, preds = {}, {}
    for name, feats in sets.items():
        fitted[name] = fit_all(ds, features=feats, config=config, level=data.level)
        preds[name] = fitted[name].predict(test)
        run.put(
            f"crisis.{name}",
            {
                **scores(y, preds[name]),
                "features": len(feats),
                "vs_base": paired(y, preds["base"], preds[name]),
                "oracle_minus_model": paired(y, preds[name], oracle),
                "no_foresight_minus_model": paired(y, preds[name], nf),
                "age85": old_age(test, preds[name], oracle, y),
                "age85_level_set_to_oracle": old_age(
                    test, preds[name] * oracle.mean() / preds[name].mean(), oracle, y
                ),
                "calibration": calibration(y, preds[name], oracle),
                "trees": fitted[name].booster.best_iteration,
                "level": level_variants(fitted[name], test, y, oracle),
            },
        )
    booster = fitted["with_history"].booster
    gain = pd.Series(booster.feature_importance("gain"), index=booster.feature_name())
    share = (gain / gain.sum()).sort_values(ascending=False)
    run.put(
        "crisis.no_foresight_oracle",
        {
            **scores(y, nf),
            "draws": DRAWS,
            "mean_row_se": float(nf_se.mean()),
            "max_row_se": float(nf_se.max()),
            "full_minus_no_foresight": paired(y, nf, oracle),
            "age85_minus_oracle": float(
                nf[test["age"].to_numpy() >= 85].mean()
                - oracle[test["age"].to_numpy() >= 85].mean()
            ),
        },
    )
    run.put(
        "crisis.oracle",
        {
            **scores(y, oracle),
            "age85_observed_minus_oracle": float(
                y[test["age"].to_numpy() >= 85].mean() - oracle[test["age"].to_numpy() >= 85].mean()
            ),
            "history_gain_share": {k: float(v) for k, v in share.items() if k in history},
            "gain_rank": {k: int(i) for i, k in enumerate(share.index) if k in history},
        },
    )
    # the test patients over weekly as-of dates ending at the test date
    test_date = pd.Timestamp(test["index_date"].max()).date()
    dates = [test_date - timedelta(days=7 * k) for k in range(WEEKS)]
    rng = np.random.default_rng(0)
    ids = test["patient_id"].unique()
    ids = rng.choice(ids, min(WEEKLY_PATIENTS, len(ids)), replace=False)
    with connect(store) as con:
        index = build_index(con, data.task, as_of_dates=dates)
        index = index[index["patient_id"].isin(set(ids))].reset_index(drop=True)
        x = build_features(con, index[data.task.keys], task=data.task)
    x = x.merge(index[data.task.keys], on=data.task.keys)
    t = load_truth(truth)
    person = x["patient_id"].astype(str).map(t.ids).to_numpy(np.int64)
    t0 = pd.to_datetime(x["index_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    yw = observed_emergency(t, person, t0, 90).astype(float)
    ow = crisis_risk(truth, x[["patient_id", "index_date"]], horizon_days=90)
    nw, _ = crisis_risk_no_foresight(
        truth, x[["patient_id", "index_date"]], horizon_days=90, draws=DRAWS, seed=1
    )
    pw = {name: fitted[name].predict(x) for name in ("base", "with_history")}
    per_date = []
    for d in sorted(set(x["index_date"])):
        m = (x["index_date"] == d).to_numpy()
        per_date.append(
            {
                "as_of": str(pd.Timestamp(d).date()),
                "rows": int(m.sum()),
                "events": int(yw[m].sum()),
                "oracle": scores(yw[m], ow[m])["auroc"],
                "no_foresight": scores(yw[m], nw[m])["auroc"],
                **{k: scores(yw[m], v[m])["auroc"] for k, v in pw.items()},
            }
        )
    frame = pd.DataFrame(per_date)
    summary = {
        c: {
            "mean": float(frame[c].mean()),
            "min": float(frame[c].min()),
            "max": float(frame[c].max()),
        }
        for c in ("oracle", "no_foresight", "base", "with_history")
    }
    for ref in ("oracle", "no_foresight"):
        gap = frame[ref] - frame["base"]
        summary[f"{ref}_minus_base"] = {
            "mean": float(gap.mean()),
            "min": float(gap.min()),
            "max": float(gap.max()),
        }
    gap = frame["oracle"] - frame["with_history"]
    summary["oracle_minus_with_history"] = {
        "mean": float(gap.mean()),
        "min": float(gap.min()),
        "max": float(gap.max()),
    }
    # the same summary `riskstrat train --truth` logs (riskstrat.models.dates), on more patients:
    # mean over the dates with patient-bootstrap paired intervals
    from riskstrat.models.dates import summarise_dates

    _, paired_summary = summarise_dates(
        yw,
        {"model": pw["base"], "oracle": ow, "oracle_no_foresight": nw},
        as_of=x["index_date"].to_numpy(dtype="datetime64[D]"),
        patient=x["patient_id"].astype(str).to_numpy(),
        n_boot=N_BOOT,
        seed=0,
    )
    run.put(
        "crisis.weekly",
        {
            "dates": len(dates),
            "patients": len(ids),
            "summary": summary,
            "paired_summary": paired_summary.to_dict("records"),
            "per_date": per_date,
        },
    )


def all_discharges(store: Path, truth: Path, run: Run, *, fitted, held_out: set) -> None:
    """Calibration of the shipped readmission model on every discharge of the test period,
    not only the held-out patients' (2.5x the rows, so a lower noise floor). The other patients'
    test-period discharges are never training or calibration rows (time-disjoint), but their
    earlier discharges may have been: patient overlap, unlike the held-out test."""
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.oracle import readmission_risk

    config = load_model_config(
        "readmission_30d", overrides={"split": {"test_patient_share": 0.999999}}
    )
    data = load_task_data("readmission_30d", store_path=store, config=config, splits=("test",))
    rows = data.dataset.reset_index(drop=True)
    y, p = rows["label"].to_numpy(float), fitted.predict(rows)
    oracle = readmission_risk(truth, rows[["index_spell_id"]])
    others = ~rows["patient_id"].isin(held_out).to_numpy()
    run.put(
        "readmission.all_test_period_discharges",
        {
            **scores(y, p),
            "held_out_rows": int((~others).sum()),
            "other_patients_rows": int(others.sum()),
            "calibration": calibration(y, p, oracle),
            "calibration_other_patients": calibration(y[others], p[others], oracle[others]),
            "age85": old_age(rows, p, oracle, y),
            "level": level_variants(fitted, rows, y, oracle),
        },
    )


def readmission(store: Path, truth: Path, run: Run) -> None:
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import config_baselines, fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.noforesight import readmission_risk_no_foresight
    from riskstrat.synth.oracle import readmission_risk

    kept: dict[int, pd.Series] = {}
    labels: dict[int, pd.Series] = {}
    for warmup in (365, 90):
        config = load_model_config("readmission_30d", overrides={"split": {"warmup_days": warmup}})
        data = load_task_data("readmission_30d", store_path=store, config=config)
        ds = data.dataset
        test = ds[ds["split"] == "test"].reset_index(drop=True)
        y = test["label"].to_numpy(float)
        oracle = readmission_risk(truth, test[["index_spell_id"]])
        nf, nf_se = readmission_risk_no_foresight(
            truth, test[["index_spell_id"]], draws=DRAWS, seed=0
        )
        extra = history_features(None)
        base = [f for f in data.features if f.name not in {e.name for e in extra}]
        sets = {"with_history": base + extra}
        if warmup == 365:
            sets["base"] = base
        for name, feats in sets.items():
            rules, _ = config_baselines(config, columns=list(ds.columns))  # LACE, HOSPITAL...
            fitted = fit_all(ds, features=feats, config=config, level=data.level, baselines=rules)
            p = fitted.predict(test)
            baselines = fitted.baseline_scores(test)
            if warmup == 365 and name == "base":
                all_discharges(store, truth, run, fitted=fitted, held_out=set(test["patient_id"]))
            if name == "with_history":
                kept[warmup] = pd.Series(p, index=test["index_spell_id"].to_numpy())
                labels[warmup] = pd.Series(y, index=test["index_spell_id"].to_numpy())
            run.put(
                f"readmission.warmup{warmup}.{name}",
                {
                    **scores(y, p),
                    "train_rows": int((ds["split"] == "train").sum()),
                    "train_events": int(ds.loc[ds["split"] == "train", "label"].sum()),
                    "oracle": scores(y, oracle)["auroc"],
                    "oracle_minus_model": paired(y, p, oracle),
                    "no_foresight": scores(y, nf)["auroc"],
                    "no_foresight_mean_row_se": float(nf_se.mean()),
                    "no_foresight_minus_model": paired(y, p, nf),
                    "full_minus_no_foresight": paired(y, nf, oracle),
                    "model_minus_baseline": {k: paired(y, v, p) for k, v in baselines.items()},
                    "age85": old_age(test, p, oracle, y),
                    "calibration": calibration(y, p, oracle),
                    "level": level_variants(fitted, test, y, oracle),
                    "calibration_rows": int((ds["split"] == "calib").sum())
                    + (
                        int((ds["split"] == "train").sum())
                        if config.calibration.cross_fit_folds > 1
                        else 0
                    ),
                },
            )
    common = kept[365].index.intersection(kept[90].index)
    run.put(
        "readmission.warmup90_minus_365",
        {
            "test_rows_both": len(common),
            "paired": paired(
                labels[365][common].to_numpy(),
                kept[365][common].to_numpy(),
                kept[90][common].to_numpy(),
            ),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "quality")
    parser.add_argument("--max-rows", type=int, default=400_000)
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--skip", choices=("crisis", "readmission"), default=None)
    parser.add_argument(
        "--tag", default=None, help="suffix of the results file (quality_<patients>_<tag>.json)"
    )
    args = parser.parse_args()
    work = args.work / str(args.patients)
    work.mkdir(parents=True, exist_ok=True)
    env = work_env(work)
    os.environ.update(env)
    RESULTS.mkdir(exist_ok=True)
    suffix = f"_{'readmission' if args.skip == 'crisis' else 'crisis'}" if args.skip else ""
    suffix += f"_{args.tag}" if args.tag else ""
    run = Run(RESULTS / f"quality_{args.patients}{suffix}.json", args.patients)
    prepare(work, args.patients, env)
    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    if args.skip != "readmission":
        readmission(store, truth, run)
    if args.skip != "crisis":
        crisis(store, truth, run, max_rows=args.max_rows, ablations=args.ablations)


if __name__ == "__main__":
    main()
