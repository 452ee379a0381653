"""Hand-built report inputs (no store needed): a small care system with a tiny practice."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskstrat.registry.contract import ETHNICITY_GROUPS, OUTREACH_OUTCOMES
from riskstrat.reports.frames import register_column

AS_OF = date(2025, 12, 29)
PRACTICES = pd.DataFrame(
    {
        "practice_code": ["P001", "P002", "P003", "P004"],
        "practice_name": ["Riverside Surgery", "Hill Medical", "Elm Practice", "Tiny Branch"],
        "pcn_code": ["PCN_A", "PCN_A", "PCN_B", "PCN_B"],
        "pcn_name": ["North PCN", "North PCN", "South PCN", "South PCN"],
    }
)
REGISTER_CODES = ("HF", "COPD", "DM", "PC")
#: A monitoring warning as the run passes it (riskstrat.runs.monitoring wording).
WARNINGS = ["crisis: input drift: 1 feature(s) shifted since training (PSI > 0.1): days_since_ae"]


def people(n: int, *, seed: int, tiny: int = 12) -> pd.DataFrame:
    """Demographics and a risk that rises with age, deprivation and conditions."""
    rng = np.random.default_rng(seed)
    practice = rng.choice(["P001", "P002", "P003"], size=n)
    practice[:tiny] = "P004"
    age = rng.integers(0, 100, size=n).astype(float)
    imd = rng.integers(1, 11, size=n).astype(float)
    ltc = rng.poisson(age / 30)
    logit = -4.2 + 0.03 * age + 0.35 * ltc - 0.08 * imd + rng.normal(0, 0.6, size=n)
    frame = pd.DataFrame(
        {
            "patient_id": [f"pt{seed}-{i:06d}" for i in range(n)],
            "risk": 1 / (1 + np.exp(-logit)),
            "practice_code": practice,
            "pcn_code": np.where(np.isin(practice, ["P001", "P002"]), "PCN_A", "PCN_B"),
            "age": age,
            "sex": rng.choice(["F", "M", "U"], size=n, p=[0.5, 0.49, 0.01]),
            "ethnicity": rng.choice(
                ETHNICITY_GROUPS, size=n, p=[0.8, 0.03, 0.09, 0.04, 0.02, 0.02]
            ),
            "imd_decile": imd,
            "ltc_count": ltc.astype(float),
        }
    )
    for code, share in zip(REGISTER_CODES, (0.02, 0.03, 0.08, 0.004), strict=True):
        frame[register_column(code)] = rng.random(n) < share
    return frame


def cohort(n: int = 3000, *, seed: int = 1) -> pd.DataFrame:
    frame = people(n, seed=seed)
    cut = frame.groupby("practice_code")["risk"].transform(lambda r: r.quantile(0.97))
    return frame.assign(listed=frame["risk"] >= cut)


def matured(n: int = 3000, *, seed: int = 2) -> pd.DataFrame:
    frame = people(n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    label = (rng.random(n) < frame["risk"]).astype(int)
    return frame.assign(label=label).drop(columns=[c for c in frame if c.startswith("register_")])


def outcomes(frame: pd.DataFrame, *, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    listed = frame[frame["listed"]]
    n = len(listed)
    listed_on = [AS_OF - timedelta(days=int(d)) for d in rng.integers(0, 120, size=n)]
    outcome = rng.choice(OUTREACH_OUTCOMES[:5], size=n, p=[0.6, 0.1, 0.15, 0.05, 0.1])
    contacted = [
        d + timedelta(days=3) if o != "unreachable" else None
        for d, o in zip(listed_on, outcome, strict=True)
    ]
    return pd.DataFrame(
        {
            "patient_id": listed["patient_id"].to_numpy(),
            "practice_code": listed["practice_code"].to_numpy(),
            "pathway": "early_intervention",
            "listed_on": pd.to_datetime(listed_on),
            "contacted_on": pd.to_datetime(contacted),
            "outcome": outcome,
        }
    )


def history(weeks: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": [pd.Timestamp(AS_OF - timedelta(weeks=w)) for w in range(weeks, 0, -1)],
            "population": [2990 + w for w in range(weeks)],
            "expected_admissions": [150.0 + w for w in range(weeks)],
            "expected_lower": [130.0 + w for w in range(weeks)],
            "expected_upper": [170.0 + w for w in range(weeks)],
            "case_management_threshold": [0.2 + 0.01 * w for w in range(weeks)],
        }
    )


def inputs(n: int = 3000) -> dict[str, object]:
    """Keyword arguments for build_aggregates."""
    today = cohort(n)
    return dict(
        as_of=AS_OF,
        practices=PRACTICES,
        matured=matured(n),
        outcomes=outcomes(today),
        history=history(),
        bed_days=pd.Series(np.random.default_rng(4).gamma(2.0, 3.5, size=400)),
    ) | {"cohort": today}
