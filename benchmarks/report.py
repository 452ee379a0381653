"""Time the commissioner report's pure core and page at a given scale (no store, no model).

    python benchmarks/report.py --patients 115 --practices 114
    python benchmarks/report.py --patients 200000 --practices 100

Builds the report's input frames synthetically (riskstrat.reports.frames: today's cohort, the
matured predictions of the same size with labels, outreach feedback, 11 weeks of history), then
times build_aggregates (all sections, suppression audit included), render_html and writing the
CSV. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.registry.contract import ETHNICITY_GROUPS, OUTREACH_OUTCOMES
from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.dictionary import to_csv_frame
from riskstrat.reports.frames import register_column
from riskstrat.reports.render import render_html
from riskstrat.reports.settings import load_report_config

AS_OF = date(2025, 12, 29)


def population(n: int, practices: int, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = np.array([f"P{i:04d}" for i in range(practices)])
    # uneven list sizes (lognormal), every practice with at least one person when n allows
    weights = rng.lognormal(0, 0.6, practices)
    practice = codes[rng.choice(practices, size=n, p=weights / weights.sum())]
    practice[: min(n, practices)] = codes[: min(n, practices)]
    age = rng.integers(0, 100, size=n).astype(float)
    imd = rng.integers(1, 11, size=n).astype(float)
    ltc = rng.poisson(age / 30)
    logit = -4.2 + 0.03 * age + 0.35 * ltc - 0.08 * imd + rng.normal(0, 0.6, size=n)
    frame = pd.DataFrame(
        {
            "patient_id": np.char.add("pt", np.arange(n).astype(str)),
            "risk": 1 / (1 + np.exp(-logit)),
            "practice_code": practice,
            "pcn_code": np.char.add("PCN", (np.char.lstrip(practice, "P").astype(int) // 10)
                                    .astype(str)),
            "age": age,
            "sex": rng.choice(["F", "M", "U"], size=n, p=[0.5, 0.49, 0.01]),
            "ethnicity": rng.choice(ETHNICITY_GROUPS, size=n,
                                    p=[0.8, 0.03, 0.09, 0.04, 0.02, 0.02]),
            "imd_decile": imd,
            "ltc_count": ltc.astype(float),
        }
    )  # fmt: skip
    for code, share in (("HF", 0.01), ("COPD", 0.02), ("DM", 0.075), ("CKD", 0.04),
                        ("CHD", 0.03), ("AF", 0.02), ("DEM", 0.007), ("MH", 0.01),
                        ("LD", 0.006), ("PC", 0.005)):  # fmt: skip
        frame[register_column(code)] = rng.random(n) < share
    return frame


def inputs(n: int, practices: int) -> dict:
    cohort = population(n, practices, seed=1)
    cut = cohort.groupby("practice_code")["risk"].transform(lambda r: r.quantile(0.97))
    cohort["listed"] = cohort["risk"] >= cut
    matured = population(n, practices, seed=2)
    rng = np.random.default_rng(3)
    matured["label"] = (rng.random(n) < matured["risk"]).astype(int)
    matured = matured[[c for c in matured if not c.startswith("register_")]]
    listed = cohort[cohort["listed"]]
    outcomes = pd.DataFrame(
        {
            "practice_code": listed["practice_code"].to_numpy(),
            "pathway": "early_intervention",
            "listed_on": pd.Timestamp(AS_OF - timedelta(days=14)),
            "contacted_on": pd.Timestamp(AS_OF - timedelta(days=10)),
            "outcome": rng.choice(OUTREACH_OUTCOMES[:5], size=len(listed)),
        }
    )
    codes = sorted(set(cohort["practice_code"]))
    practices_frame = pd.DataFrame(
        {
            "practice_code": codes,
            "practice_name": [f"Practice {c}" for c in codes],
            "pcn_code": [f"PCN{int(c[1:]) // 10}" for c in codes],
            "pcn_name": [f"PCN {int(c[1:]) // 10}" for c in codes],
        }
    )
    weeks = 11
    history = pd.DataFrame(
        {
            "as_of": [pd.Timestamp(AS_OF - timedelta(weeks=w)) for w in range(weeks, 0, -1)],
            "population": [n] * weeks,
            "expected_admissions": [cohort["risk"].sum()] * weeks,
            "expected_lower": [cohort["risk"].sum() * 0.95] * weeks,
            "expected_upper": [cohort["risk"].sum() * 1.05] * weeks,
            "case_management_threshold": [0.3] * weeks,
        }
    )
    return {
        "cohort": cohort,
        "as_of": AS_OF,
        "practices": practices_frame,
        "matured": matured,
        "outcomes": outcomes,
        "history": history,
        "bed_days": pd.Series(rng.gamma(2.0, 3.5, size=400)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--practices", type=int, required=True)
    parser.add_argument("--out", type=Path, help="also write report.html and aggregates.csv here")
    args = parser.parse_args()
    config = load_report_config()
    t0 = time.perf_counter()
    frames = inputs(args.patients, args.practices)
    t1 = time.perf_counter()
    agg = build_aggregates(**frames, config=config)
    t2 = time.perf_counter()
    html = render_html(agg, as_of=AS_OF, practices=frames["practices"], config=config,
                       horizon_days=90)  # fmt: skip
    t3 = time.perf_counter()
    csv = to_csv_frame(agg).to_csv(index=False)
    t4 = time.perf_counter()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.html").write_text(html, encoding="utf-8")
        (args.out / "aggregates.csv").write_text(csv, encoding="utf-8")
    print(
        json.dumps(
            {
                "patients": args.patients,
                "practices": args.practices,
                "inputs_s": round(t1 - t0, 2),
                "aggregates_s": round(t2 - t1, 2),
                "render_s": round(t3 - t2, 2),
                "csv_s": round(t4 - t3, 2),
                "report_s": round(t4 - t1, 2),
                "rows": len(agg),
                "suppressed": int(agg["suppressed"].sum()),
                "html_kb": len(html) // 1024,
                "csv_kb": len(csv) // 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
