"""A synthetic feature matrix in the agreed format (for unit tests that need no store).

Imported by name from the tests (`from model_frames import FAST`); conftest.py holds only
fixtures, because every test folder has a conftest and `from conftest import` picks whichever
was imported first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.models.booster import FeatureInfo

#: Small, fast model settings for tests (the real configs stay as they are).
FAST = {
    "lightgbm": {
        "n_estimators": 60,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "min_child_samples": 20,
        "num_threads": 1,
    },
    "early_stopping": {"rounds": 10},
    "evaluation": {"bootstrap": 20, "shap_sample": 200, "min_group_rows": 50},
}

FEATURES = [
    FeatureInfo("age", monotone=1),
    FeatureInfo("sex", categorical=True),
    FeatureInfo("imd_decile", monotone=-1),
    FeatureInfo("ltc_count", monotone=1),
    FeatureInfo("emerg_adm_365d", monotone=1),
    FeatureInfo("gp_contacts_365d"),
    FeatureInfo("noise"),
]


def synthetic_matrix(n: int, *, seed: int, weaken: bool = False) -> pd.DataFrame:
    """Index rows with features, a true risk and a label drawn from it."""
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 95, n).astype(float)
    ltc = rng.poisson(age / 30).astype(float)
    imd = rng.integers(1, 11, n).astype(float)
    imd[rng.random(n) < 0.05] = np.nan
    emerg = rng.poisson(0.05 + 0.1 * ltc).astype(float)
    lp = -4.2 + 0.025 * age + 0.35 * ltc + 0.6 * emerg - 0.05 * np.nan_to_num(imd, nan=5)
    risk = 1 / (1 + np.exp(-lp))
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{seed}-{i:06d}" for i in range(n)],
            "index_date": pd.Timestamp("2025-01-06"),
            "practice_code": rng.choice(["A81001", "A81002", "A81003"], n),
            "age": age,
            "sex": rng.integers(0, 2, n).astype(float),
            "ethnicity_code": rng.integers(0, 6, n).astype(float),
            "imd_decile": imd,
            "ltc_count": ltc,
            "emerg_adm_365d": emerg,
            "gp_contacts_365d": rng.poisson(3 + ltc).astype(float),
            "noise": rng.normal(size=n),
        }
    )
    frame["true_risk"] = risk
    frame["label"] = (rng.random(n) < risk).astype(int)
    return frame


def synthetic_task_data(n: int = 12_000, *, seed: int = 3, weaken: bool = False):
    """TaskData over the synthetic matrix: the crisis task spec, a date split, slice labels."""
    from datetime import date

    from riskstrat.models.data import TaskData
    from riskstrat.models.split import Periods
    from riskstrat.slices import assign_slices
    from riskstrat.tasks import load_task

    frame = synthetic_matrix(n, seed=seed)
    cuts = np.array([0.5, 0.62, 0.75])
    u = np.random.default_rng(seed + 1).random(n)
    frame["split"] = np.select(
        [u < cuts[0], u < cuts[1], u < cuts[2]], ["train", "valid", "calib"], "test"
    )
    features = list(FEATURES)
    if weaken:  # a deliberately weak model: it never sees the strongest predictors
        features = [f for f in features if f.name not in ("emerg_adm_365d", "ltc_count", "age")]
    groups = assign_slices(
        frame.assign(sex=frame["sex"].map({0.0: "F", 1.0: "M"}), ethnicity="White"),
        names=("age_band", "sex", "imd_quintile", "practice", "ltc_count"),
    )
    day = date(2025, 1, 6)
    return TaskData(
        task=load_task("crisis"),
        dataset=frame,
        groups=groups,
        features=features,
        periods=Periods(train=(day, day), calib=(day, day), test=(day, day)),
        extract_date=date(2025, 12, 28),
        data_hash="synthetic",
        codebook_version="cb-test",
        as_of_dates={},
    )
