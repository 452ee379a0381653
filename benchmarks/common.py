"""What the benchmark scripts share: the synthetic population's dates, a work folder's
environment, making its store once, and timing a command under GNU time.

The scripts run as `python benchmarks/<script>.py`, so this folder is first on sys.path and they
import this module as `common`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
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


def gnu_time(cmd: list[str], *, env: dict[str, str], log: Path) -> dict[str, object]:
    """Run `cmd` under GNU time with its output in `log`: wall seconds, the process's peak
    resident memory (GiB), its exit code and the log's path."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(
            ["/usr/bin/time", "-v", *cmd], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text(errors="replace"))
    return {
        "seconds": round(seconds, 1),
        "peak_gib": round(int(rss.group(1)) / 1024**2, 2) if rss else None,
        "exit_code": proc.returncode,
        "log": str(log),
    }


def seed_study_parser(description: str) -> argparse.ArgumentParser:
    """The options every seed study shares (crisis_calibration, crisis_old_diagnosis,
    readmission_calibration, readmission_ece_estimators): population, folder, split seeds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work" / "quality")
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    return parser


def seed_study_record(args: argparse.Namespace, *, suffix: str = "") -> tuple[dict, Path]:
    """A seed study's results header (population, the exact command, an empty map of seeds) and
    its file, results/<script>_<patients><suffix>.json."""
    script = Path(sys.argv[0]).stem
    out: dict = {
        "patients": args.patients,
        "command": f"python benchmarks/{script}.py " + " ".join(sys.argv[1:]),
        "seeds": {},
    }
    return out, Path(__file__).parent / "results" / f"{script}_{args.patients}{suffix}.json"


def seed_study_work(args: argparse.Namespace) -> Path:
    """The study's folder (built by benchmarks/quality.py), with riskstrat's paths set to it."""
    work = args.work / str(args.patients)
    os.environ.update(work_env(work))
    return work


def run_seed_study(study: Callable[..., dict], *, description: str) -> None:
    """A seed study's main: the shared options, then `study(seed, store=, truth=)` per split seed
    on the folder benchmarks/quality.py built, the results file rewritten after each seed."""
    args = seed_study_parser(description).parse_args()
    work = seed_study_work(args)
    store, truth = work / "data" / "store.duckdb", work / "pop" / "truth"
    out, path = seed_study_record(args)
    started = time.perf_counter()
    for seed in args.seeds:
        out["seeds"][str(seed)] = study(seed, store=store, truth=truth)
        out["seconds"] = round(time.perf_counter() - started, 1)
        path.write_text(json.dumps(out, indent=2, default=float))


def all_test_period(task: str, *, store: Path, seed: int):
    """Every test-period row of `task` (all patients, not only the held-out share)."""
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import load_task_data

    config = load_model_config(
        task, overrides={"seed": seed, "split": {"test_patient_share": 0.999999}}
    )
    return load_task_data(task, store_path=store, splits=("test",), config=config)
