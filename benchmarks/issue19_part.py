"""Issue 19 (part) timings, run after `riskstrat demo` in the same folder:

    PYTHONPATH=$PWD python benchmarks/issue19_part.py

Predict: the demo's crisis matrix (as-of 2025-12-29) tiled to 200k rows, predict_risk on 200k and
contributions on 20k, with PREDICT_THREADS=1 (what the saved `num_threads: 1` gave) and 0 (all
cores); the values' hashes must match. Monitoring: matured_performance, the old loop of masks
(kept in tests/runs/test_runs_grouped.py) vs the grouped version, on 880k random rows.
"""

from __future__ import annotations

import hashlib
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import riskstrat.models.booster as booster
from riskstrat.config import load_settings
from riskstrat.features import build_features
from riskstrat.models.registry import load_model
from riskstrat.runs import monitoring as mon
from riskstrat.tasks import build_index, load_task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "runs"))
from test_runs_grouped import _old_matured_performance


def _hash(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()[:12]


def time_predict() -> None:
    settings = load_settings()
    model = load_model("crisis", alias="champion", tracking_uri=settings.paths.mlflow_uri)
    con = duckdb.connect(str(settings.paths.store), read_only=True)
    index = build_index(con, load_task("crisis"), as_of_dates=[date(2025, 12, 29)])
    matrix = build_features(con, index, task="crisis")
    con.close()
    big = pd.concat([matrix] * (200_000 // len(matrix) + 1), ignore_index=True).iloc[:200_000]
    small = big.iloc[:20_000]
    results: dict[int, list[tuple[float, float, str, str]]] = {}
    for _ in range(3):
        for threads in (1, 0):
            booster.PREDICT_THREADS = threads
            start = time.perf_counter()
            risk = model.predict_risk(big)
            middle = time.perf_counter()
            contrib = model.contributions(small)
            end = time.perf_counter()
            row = (middle - start, end - middle, _hash(risk), _hash(contrib.to_numpy()))
            results.setdefault(threads, []).append(row)
    for threads, rows in results.items():
        print(
            f"PREDICT_THREADS={threads}: predict_risk 200k min {min(r[0] for r in rows):.3f} s, "
            f"contributions 20k min {min(r[1] for r in rows):.3f} s, "
            f"hashes {sorted({(r[2], r[3]) for r in rows})}"
        )


def time_monitoring() -> None:
    rng = np.random.default_rng(0)
    n = 880_000
    frame = pd.DataFrame(
        {
            "risk": rng.uniform(0.01, 0.4, n),
            "age": rng.integers(0, 100, n),
            "sex": rng.choice(["F", "M"], n),
            "ethnicity": rng.choice(list("ABCDEFW"), n),
            "imd_decile": rng.integers(1, 11, n),
            "practice_code": rng.choice([f"P{k:03d}" for k in range(120)], n),
            "ltc_count": rng.integers(0, 8, n),
        }
    )
    frame["label"] = (rng.uniform(size=n) < frame["risk"]).astype(float)
    for fn in (_old_matured_performance, mon.matured_performance) * 2:
        start = time.perf_counter()
        out = fn(frame)
        print(f"{fn.__name__} 880k rows: {time.perf_counter() - start:.2f} s ({len(out)} groups)")
    old, new = _old_matured_performance(frame), mon.matured_performance(frame)
    pd.testing.assert_frame_equal(old, new, check_exact=True)
    print("old == new exactly")


if __name__ == "__main__":
    time_predict()
    time_monitoring()
