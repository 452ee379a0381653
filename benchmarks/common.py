"""What the benchmark scripts share: the synthetic population's dates, a work folder's
environment, and making its store once.

The scripts run as `python benchmarks/<script>.py`, so this folder is first on sys.path and they
import this module as `common`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

START, END = date(2023, 1, 2), date(2025, 12, 28)


def work_env(work: Path) -> dict[str, str]:
    """This process's environment with data, store, outputs and MLflow under `work`."""
    return {
        **os.environ,
        "RISKSTRAT_DATA_DIR": str(work / "data"),
        "RISKSTRAT_STORE": str(work / "data" / "store.duckdb"),
        "RISKSTRAT_OUT_DIR": str(work / "out"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'data' / 'mlflow.db'}",
    }


def prepare(work: Path, patients: int, env: dict[str, str]) -> None:
    """Synthesise `patients` into work/pop and ingest them (`riskstrat synth`, `riskstrat
    ingest`), unless work/data/store.duckdb already exists."""
    exe = str(Path(sys.executable).parent / "riskstrat")
    if (work / "data" / "store.duckdb").exists():
        return
    practices = max(2, patients // 10_000)
    for cmd in (
        [exe, "synth", "--patients", str(patients), "--practices", str(practices),
         "--start", str(START), "--end", str(END), "--seed", "1", "--out", str(work / "pop")],
        [exe, "ingest", str(work / "pop" / "extract"), "--extract-date", str(END)],
    ):  # fmt: skip
        print(" ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
