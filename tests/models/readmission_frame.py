"""A small tabular readmission frame in the public UCI "Diabetes 130-US hospitals" format
(one row per encounter, patients repeat, string categoricals), generated here: no download."""

from __future__ import annotations

import numpy as np
import pandas as pd

AGES = ["[30-40)", "[40-50)", "[50-60)", "[60-70)", "[70-80)", "[80-90)"]
INSULIN = ["No", "Steady", "Up", "Down"]


def readmission_frame(patients: int = 1500, *, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    visits = rng.integers(1, 4, patients)
    pid = np.repeat(np.arange(patients), visits)
    n = len(pid)
    age_i = np.repeat(rng.integers(0, len(AGES), patients), visits)
    inpatient = rng.poisson(0.3 + 0.25 * age_i).astype(int)
    insulin = rng.choice(INSULIN, n, p=[0.45, 0.3, 0.15, 0.1])
    stay = rng.integers(1, 14, n)
    lp = -2.6 + 0.45 * inpatient + 0.15 * age_i + 0.5 * (insulin == "Up") + 0.04 * stay
    label = rng.random(n) < 1 / (1 + np.exp(-lp))
    frame = pd.DataFrame(
        {
            "encounter_id": np.arange(n) + 100_000,
            "patient_nbr": [f"PN{p:07d}" for p in pid],
            "race": rng.choice(["Caucasian", "AfricanAmerican", "Hispanic", "Other"], n),
            "gender": rng.choice(["Female", "Male"], n),
            "age": pd.Categorical(np.array(AGES)[age_i], categories=AGES),
            "admission_type_id": rng.integers(1, 4, n),
            "time_in_hospital": stay,
            "num_lab_procedures": rng.integers(1, 90, n),
            "num_medications": rng.integers(1, 40, n),
            "number_emergency": rng.poisson(0.2, n),
            "number_inpatient": inpatient,
            "insulin": insulin,
            "diabetesMed": np.where(insulin == "No", "No", "Yes"),
            "readmitted": np.where(label, "<30", rng.choice([">30", "NO"], n)),
        }
    )
    frame["readmit_30"] = (frame["readmitted"] == "<30").astype(int)
    return frame
