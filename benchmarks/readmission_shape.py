"""Readmission ECE: two more shapes of the shipped model, six split seeds (issue #14, stop 27).

    python benchmarks/readmission_shape.py --patients 200000 [--seeds 7 8 9 10 11 12]

Uses the store benchmarks/quality.py prepared (same work folder). Per seed, the shipped model
(bagged fold boosters, cross-fitted Platt) is fitted as `riskstrat train` fits it, and compared
on the held-out and every test-period discharge with:

- `folds10`: the same with `calibration.cross_fit_folds: 10` (an ensemble of 11 boosters and a
  calibrator fitted on 10-fold out-of-fold scores), with a paired AUROC interval;
- `beta`: beta calibration (Kull, Silva Filho & Flach 2017: a logistic regression on ln p and
  -ln(1 - p) of the raw score, three parameters; Platt is its special case with equal
  coefficients) fitted on exactly the rows and raw scores the shipped Platt was fitted on (read
  from the real `fit_calibrator`'s first call, watched with `unittest.mock`'s `wraps`). The
  question it asks: is the noise-free error left after Platt (its ~0.005) the logistic shape's?

Per measurement: ECE, its noise floor, the noise-free ECE against the oracle, the 85+ gap; per
seed also the deciles of the shipped risk (model, beta, oracle, observed means).
Results: results/readmission_shape_<n>.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import numpy as np
from common import all_test_period, run_seed_study
from readmission_calibration import measure


def beta_design(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return np.column_stack([np.log(p), -np.log1p(-p)])


def deciles(p: np.ndarray, *others: np.ndarray) -> list[list[float]]:
    """Mean of `p` and of each of `others` in the ten equal-count bins of `p`."""
    edges = np.quantile(p, np.linspace(0, 1, 11))
    b = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 9)
    return [[round(float(x[b == i].mean()), 4) for x in (p, *others)] for i in range(10)]


def study(seed: int, *, store: Path, truth: Path) -> dict:
    from sklearn.linear_model import LogisticRegression

    import riskstrat.models.core as core
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import load_task_data
    from riskstrat.synth.compare import paired_auroc
    from riskstrat.synth.oracle import readmission_risk

    task = "readmission_30d"
    every = all_test_period(task, store=store, seed=seed).dataset.reset_index(drop=True)
    res: dict = {}
    scores: dict = {}
    sets: dict = {}
    oracle: dict = {}
    for name, folds in (("shipped", 5), ("folds10", 10)):
        config = load_model_config(
            task, overrides={"seed": seed, "calibration": {"cross_fit_folds": folds}}
        )
        data = load_task_data(task, store_path=store, config=config)
        ds = data.dataset
        if not sets:
            sets = {"held_out": ds[ds["split"] == "test"].reset_index(drop=True)}
            sets["all_test_period"] = every
            oracle = {k: readmission_risk(truth, v[["index_spell_id"]]) for k, v in sets.items()}
        # the real fit_calibrator, watched: its first call gets the model's calibration rows
        with mock.patch.object(core, "fit_calibrator", wraps=core.fit_calibrator) as seen:
            fitted = core.fit_all(
                ds, features=data.features, config=config, level=data.level, logistic=False
            )
        raw_seen, y_seen = seen.call_args_list[0].args
        scores[name] = {k: fitted.predict(v) for k, v in sets.items()}
        res[name] = {k: measure(v, scores[name][k], oracle[k]) for k, v in sets.items()}
        if name == "shipped":
            beta = LogisticRegression(C=1e6, max_iter=1000)
            beta.fit(beta_design(raw_seen), y_seen)
            res["beta_coefficients"] = [*beta.coef_[0].tolist(), float(beta.intercept_[0])]
            res["platt"] = [fitted.calibrator.a, fitted.calibrator.b]
            scores["beta"] = {
                k: beta.predict_proba(beta_design(fitted.raw(v)))[:, 1] for k, v in sets.items()
            }
            res["beta"] = {k: measure(v, scores["beta"][k], oracle[k]) for k, v in sets.items()}
            res["deciles_model_beta_oracle_observed"] = {
                k: deciles(
                    scores["shipped"][k], scores["beta"][k], oracle[k], v["label"].to_numpy(float)
                )
                for k, v in sets.items()
            }
    res["paired_auroc_folds10_minus_shipped"] = {
        k: paired_auroc(
            v["label"].to_numpy(float), scores["shipped"][k], scores["folds10"][k]
        ).as_dict()
        for k, v in sets.items()
    }
    print(seed, json.dumps({k: res[k] for k in ("shipped", "folds10", "beta")}), flush=True)
    return res


if __name__ == "__main__":
    run_seed_study(study, description=__doc__.splitlines()[0])
