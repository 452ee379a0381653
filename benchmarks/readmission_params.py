"""Readmission ECE: does a more regularised booster calibrate better? Six split seeds (issue #14).

    python benchmarks/readmission_params.py --patients 200000 [--seeds 7 8 9 10 11 12]

Uses the store benchmarks/quality.py prepared (same work folder). Per seed, the shipped model
(bagged fold boosters, cross-fitted Platt) is fitted as `riskstrat train` fits it, then again
with one LightGBM setting changed (VARIANTS). The question: is the noise-free error left after
Platt (~0.004, the bottom tenth under-predicted: benchmarks/readmission_shape.py) the booster's
over-fit on ~13,000 training discharges? Per measurement: ECE, its noise floor, the noise-free
ECE against the oracle, the 85+ gap; per variant a paired AUROC interval against the shipped
model on every test-period discharge. Results: results/readmission_params_<n>.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from common import all_test_period, run_seed_study
from readmission_calibration import measure

VARIANTS: dict[str, dict] = {
    "shipped": {},
    "leaves7": {"num_leaves": 7},
    "min_child_200": {"min_child_samples": 200},
    "l2_20": {"lambda_l2": 20.0},
    "rate_0015": {"learning_rate": 0.015, "n_estimators": 1600},
}


def study(seed: int, *, store: Path, truth: Path) -> dict:
    from riskstrat.models.config import load_model_config
    from riskstrat.models.core import fit_all
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.compare import paired_auroc
    from riskstrat.synth.oracle import readmission_risk

    task = "readmission_30d"
    every = all_test_period(task, store=store, seed=seed).dataset.reset_index(drop=True)
    y_every = every["label"].to_numpy(float)
    oracle = readmission_risk(truth, every[["index_spell_id"]])
    res: dict = {}
    shipped: np.ndarray | None = None
    for name, lightgbm in VARIANTS.items():
        config = load_model_config(task, overrides={"seed": seed, "lightgbm": lightgbm})
        data = load_task_data(task, store_path=store, config=config)
        fitted = fit_all(
            data.dataset, features=data.features, config=config, level=data.level, logistic=False
        )
        p = fitted.predict(every)
        res[name] = measure(every, p, oracle)
        res[name]["trees"] = int(fitted.booster.best_iteration)
        if shipped is None:
            shipped = p
        else:
            res[name]["auroc_minus_shipped"] = paired_auroc(y_every, shipped, p).as_dict()
    print(seed, json.dumps(res), flush=True)
    return res


if __name__ == "__main__":
    run_seed_study(study, description=__doc__.splitlines()[0])
