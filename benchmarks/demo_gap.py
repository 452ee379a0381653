"""The crisis model-oracle gap at demo size, with the changing world's parts switched off one at a
time (docs/synthetic.md "Demo-size model-oracle gap").

    python benchmarks/demo_gap.py --seed 7                      # the demo's population
    python benchmarks/demo_gap.py --seed 7 --seasonality 0      # no winter season
    python benchmarks/demo_gap.py --seed 7 --trend 0            # no secular trend
    python benchmarks/demo_gap.py --seed 7 --no-coding-gap      # every practice codes all CKD
    python benchmarks/demo_gap.py --seed 8                      # another population

Generates a population (default 40,000 patients, 5 practices, the demo's dates) with the Python
API (`riskstrat.synth.generate.synthesize`, so the coding gap can be switched off), ingests it,
and fits crisis as `riskstrat train crisis` does (riskstrat.models.data / core, the catalogue's
model features). On the test rows: model, full oracle and no-foresight oracle AUROC with paired
bootstrap intervals; the gap on the coded-gap practice's rows vs the others; and the model
trained on a share of the training patients (a learning curve on the same test rows).

Results: benchmarks/results/demo_gap_<label>.json. About 2-4 minutes per run on a shared 2-core box.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
START, END = date(2023, 1, 2), date(2025, 12, 28)  # the demo's (configs/demo.yaml)
N_BOOT, DRAWS = 200, 20
SHARES = (0.25, 0.5)  # of the training patients, for the learning curve


def prepare(work: Path, args: argparse.Namespace, env: dict[str, str]) -> None:
    from riskstrat.synth.generate import synthesize
    from riskstrat.synth.params import World

    if (work / "data" / "store.duckdb").exists():
        return
    world = World()
    if args.seasonality is not None:
        world = replace(world, season_amplitude=args.seasonality)
    if args.trend is not None:
        world = replace(world, trend_per_year=args.trend)
    if args.no_coding_gap:
        world = replace(world, coding_gap=None)
    synthesize(
        patients=args.patients, practices=args.practices, start=START, end=END, seed=args.seed,
        out_dir=work / "pop", world=world,
    )  # fmt: skip
    exe = str(Path(sys.executable).parent / "riskstrat")
    cmd = [exe, "ingest", str(work / "pop" / "extract"), "--extract-date", str(END)]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    from riskstrat.models import metrics as m

    return float(m.auroc(y, p))


def paired(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    from riskstrat.synth.compare import paired_auroc

    out = paired_auroc(y, a, b, n_boot=N_BOOT, seed=0).as_dict()
    return {k: round(v, 4) for k, v in out.items() if k != "n_boot"}


def crisis(store: Path, truth: Path) -> dict:
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.models.metrics import ece
    from riskstrat.synth.noforesight import crisis_risk_no_foresight
    from riskstrat.synth.oracle import crisis_risk

    config = load_model_config("crisis")
    data = load_task_data("crisis", store_path=store, config=config)
    ds = data.dataset
    test = ds[ds["split"] == "test"].reset_index(drop=True)
    y = test["label"].to_numpy(float)
    keys = test[["patient_id", "index_date"]]
    oracle = crisis_risk(truth, keys, horizon_days=90)
    nf, _ = crisis_risk_no_foresight(truth, keys, horizon_days=90, draws=DRAWS, seed=0)
    fitted = fit_all(ds, features=data.features, config=config, logistic=False)
    p = fitted.predict(test)
    coded_gap = (test["practice_code"].astype(str) == "Z00001").to_numpy()  # practice index 0
    by_practice = {}
    for name, mask in (("coding_gap_practice", coded_gap), ("other_practices", ~coded_gap)):
        by_practice[name] = {
            "rows": int(mask.sum()),
            "events": int(y[mask].sum()),
            "model": round(auroc(y[mask], p[mask]), 4),
            "oracle": round(auroc(y[mask], oracle[mask]), 4),
            "gap": round(auroc(y[mask], oracle[mask]) - auroc(y[mask], p[mask]), 4),
        }
    curve = {}
    train_ids = ds.loc[ds["split"] == "train", "patient_id"].unique()
    rng = np.random.default_rng(0)
    for share in SHARES:
        keep = set(rng.choice(train_ids, int(share * len(train_ids)), replace=False))
        drop = (ds["split"] == "train") & ~ds["patient_id"].isin(keep)
        sub = ds.assign(split=ds["split"].where(~drop, "unused"))
        model = fit_all(sub, features=data.features, config=config, logistic=False)
        curve[str(share)] = round(auroc(y, model.predict(test)), 4)
    curve["1.0"] = round(auroc(y, p), 4)
    calib = ds[ds["split"] == "calib"].reset_index(drop=True)
    yc = calib["label"].to_numpy(float)
    oc = crisis_risk(truth, calib[["patient_id", "index_date"]], horizon_days=90)
    on_calib = {
        "rows": len(calib),
        "events": int(yc.sum()),
        **paired(yc, fitted.predict(calib), oc),
    }
    counts = ds["split"].value_counts()
    return {
        "rows": {k: int(counts.get(k, 0)) for k in ("train", "valid", "calib", "test")},
        "test_events": int(y.sum()),
        "test_date": str(test["index_date"].max())[:10],
        "model": round(auroc(y, p), 4),
        "oracle": round(auroc(y, oracle), 4),
        "no_foresight": round(auroc(y, nf), 4),
        "oracle_minus_model": paired(y, p, oracle),
        "no_foresight_minus_model": paired(y, p, nf),
        "ece": {
            "model": round(ece(y, p, n_bins=10), 4),
            "oracle": round(ece(y, oracle, n_bins=10), 4),
        },
        "mean": {
            "model": float(p.mean()),
            "oracle": float(oracle.mean()),
            "observed": float(y.mean()),
        },
        "trees": fitted.booster.best_iteration,
        "by_practice": by_practice,
        "calib_rows": on_calib,
        "weekly": weekly(store, truth, data, fitted, test),
        "learning_curve": curve,
    }


def weekly(store: Path, truth: Path, data, fitted, test) -> dict:
    """The test patients over 13 weekly as-of dates ending at the test date (as
    benchmarks/quality.py): mean and range of model, oracle and gap."""
    from datetime import timedelta

    import pandas as pd

    from riskstrat.features import build_features
    from riskstrat.registry.store import connect
    from riskstrat.synth.oracle import crisis_risk, observed_emergency
    from riskstrat.synth.truth import load_truth
    from riskstrat.tasks import build_index

    test_date = pd.Timestamp(test["index_date"].max()).date()
    dates = [test_date - timedelta(days=7 * k) for k in range(13)]
    ids = set(test["patient_id"])
    with connect(store) as con:
        index = build_index(con, data.task, as_of_dates=dates)
        index = index[index["patient_id"].isin(ids)].reset_index(drop=True)
        x = build_features(con, index[data.task.keys], task=data.task)
    x = x.merge(index[data.task.keys], on=data.task.keys)
    t = load_truth(truth)
    person = x["patient_id"].astype(str).map(t.ids).to_numpy(np.int64)
    t0 = pd.to_datetime(x["index_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    y = observed_emergency(t, person, t0, 90).astype(float)
    o = crisis_risk(truth, x[["patient_id", "index_date"]], horizon_days=90)
    p = fitted.predict(x)
    rows = []
    for d in sorted(set(x["index_date"])):
        m = (x["index_date"] == d).to_numpy()
        rows.append({"model": auroc(y[m], p[m]), "oracle": auroc(y[m], o[m])})
    frame = pd.DataFrame(rows)
    frame["gap"] = frame["oracle"] - frame["model"]
    return {
        c: {k: round(float(getattr(frame[c], k)()), 4) for k in ("mean", "min", "max")}
        for c in frame.columns
    }


def readmission(store: Path, truth: Path) -> dict:
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.oracle import readmission_risk

    config = load_model_config("readmission_30d")
    data = load_task_data("readmission_30d", store_path=store, config=config)
    ds = data.dataset
    test = ds[ds["split"] == "test"].reset_index(drop=True)
    y = test["label"].to_numpy(float)
    oracle = readmission_risk(truth, test[["index_spell_id"]])
    p = fit_all(ds, features=data.features, config=config, logistic=False).predict(test)
    return {
        "test_rows": len(test),
        "test_events": int(y.sum()),
        "model": round(auroc(y, p), 4),
        "oracle": round(auroc(y, oracle), 4),
        "oracle_minus_model": paired(y, p, oracle),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40_000)
    parser.add_argument("--practices", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seasonality", type=float, default=None)
    parser.add_argument("--trend", type=float, default=None)
    parser.add_argument("--no-coding-gap", action="store_true")
    parser.add_argument("--label", default=None, help="results file suffix")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "demo_gap")
    args = parser.parse_args()
    label = args.label or "_".join(
        [f"n{args.patients}", f"p{args.practices}", f"s{args.seed}"]
        + ([f"season{args.seasonality}"] if args.seasonality is not None else [])
        + ([f"trend{args.trend}"] if args.trend is not None else [])
        + (["nogap"] if args.no_coding_gap else [])
    )
    work = args.work / label
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RISKSTRAT_DATA_DIR": str(work / "data"),
        "RISKSTRAT_STORE": str(work / "data" / "store.duckdb"),
        "RISKSTRAT_OUT_DIR": str(work / "out"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'data' / 'mlflow.db'}",
    }
    os.environ.update(env)
    began = time.perf_counter()
    prepare(work, args, env)
    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    out = {
        "label": label,
        "command": "python benchmarks/demo_gap.py " + " ".join(sys.argv[1:]),
        "measured_on": date.today().isoformat(),
        "crisis": crisis(store, truth),
        "readmission_30d": readmission(store, truth),
    }
    out["seconds"] = round(time.perf_counter() - began, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"demo_gap_{label}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
