"""Readmission ECE: how much is the estimator? Plug-in vs debiased estimators, 3 seeds (#14).

    python benchmarks/readmission_ece_estimators.py --patients 200000 [--seeds 7 8 9]

Uses the store benchmarks/quality.py prepared (same work folder). For each split seed fits the
shipped readmission model (cross-fitted Platt, no level) and scores the held-out test
discharges and every test-period discharge with:

- `plugin`: the project's ECE (riskstrat.models.metrics.ece: 10 equal-count bins,
  row-weighted |observed - mean predicted|), and with 20 bins;
- `debiased_l1`: the same bins with each bin's |observed - predicted| bias-corrected for the
  binomial noise of its observed rate, as Kumar, Liang & Ma 2019 ("Verified uncertainty
  calibration") do for p = 1: 2 |d| - E|N(d, s^2)|, s^2 = observed (1 - observed) / n; here
  the expectation of the folded normal is computed exactly instead of by resampling;
- `debiased_l2`: Kumar et al.'s debiased squared L2 error, sqrt(max(0, sum w (d^2 - s^2))),
  with s^2 = observed (1 - observed) / (n - 1);
- each estimator's noise floor: its mean (and 95th percentile) over 100 outcome draws from the
  oracle's risks on the same rows (a perfectly calibrated predictor), and the oracle's own
  value on the real outcomes.

Results: results/readmission_ece_estimators_<n>.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from common import all_test_period, seed_study_parser, seed_study_work

HERE = Path(__file__).resolve().parent


def debiased_l1(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    from scipy.stats import norm

    from riskstrat.models import metrics as m

    rel = m.reliability(y, p, n_bins=n_bins)
    n = rel["n"].to_numpy(float)
    obs = rel["observed"].to_numpy()
    ad = np.abs(obs - rel["predicted"].to_numpy())
    s = np.sqrt(obs * (1 - obs) / n)
    folded = s * np.sqrt(2 / np.pi) * np.exp(-(ad**2) / (2 * s**2)) + ad * (
        1 - 2 * norm.cdf(-ad / s)
    )
    return float(np.sum(n * (2 * ad - folded)) / n.sum())


def debiased_l2(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    from riskstrat.models import metrics as m

    rel = m.reliability(y, p, n_bins=n_bins)
    n = rel["n"].to_numpy(float)
    obs = rel["observed"].to_numpy()
    d = obs - rel["predicted"].to_numpy()
    return float(np.sqrt(max(np.sum(n * (d**2 - obs * (1 - obs) / (n - 1))) / n.sum(), 0.0)))


def estimators(y: np.ndarray, p: np.ndarray, oracle: np.ndarray, draws: int = 100) -> dict:
    from riskstrat.models import metrics as m

    rng = np.random.default_rng(0)
    floors: dict[str, list[float]] = {"plugin": [], "l1": [], "l2": []}
    for _ in range(draws):
        drawn = (rng.random(len(oracle)) < oracle).astype(float)
        floors["plugin"].append(m.ece(drawn, oracle))
        floors["l1"].append(debiased_l1(drawn, oracle))
        floors["l2"].append(debiased_l2(drawn, oracle))
    out = {
        "plugin": m.ece(y, p),
        "plugin_floor": np.mean(floors["plugin"]),
        "debiased_l1": debiased_l1(y, p),
        "debiased_l1_floor_mean": np.mean(floors["l1"]),
        "debiased_l1_floor_p95": np.percentile(floors["l1"], 95),
        "debiased_l2": debiased_l2(y, p),
        "l2_floor_mean": np.mean(floors["l2"]),
        "plugin_20bins": m.ece(y, p, n_bins=20),
        "oracle_plugin": m.ece(y, oracle),
        "oracle_debiased_l1": debiased_l1(y, oracle),
    }
    return {k: round(float(v), 5) for k, v in out.items()}


def main() -> None:
    parser = seed_study_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    work = seed_study_work(args)
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.oracle import readmission_risk

    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    task = "readmission_30d"
    out: dict = {
        "patients": args.patients,
        "command": "python benchmarks/readmission_ece_estimators.py " + " ".join(sys.argv[1:]),
        "results": {},
    }
    path = HERE / "results" / f"readmission_ece_estimators_{args.patients}.json"
    for seed in args.seeds:
        config = load_model_config(task, overrides={"seed": seed})
        data = load_task_data(task, store_path=store, config=config)
        every = all_test_period(task, store=store, seed=seed)
        ds = data.dataset
        fitted = fit_all(ds, features=data.features, config=config, level=None, logistic=False)
        sets = {
            "held_out": ds[ds["split"] == "test"].reset_index(drop=True),
            "all_test": every.dataset.reset_index(drop=True),
        }
        for name, rows in sets.items():
            y = rows["label"].to_numpy(float)
            oracle = readmission_risk(truth, rows[["index_spell_id"]])
            res = estimators(y, fitted.predict(rows), oracle)
            out["results"][f"{seed}.{name}"] = res
            print(seed, name, res, flush=True)
        path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
