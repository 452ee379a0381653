"""Time each pipeline stage as a whole process (wall time, peak memory) at a given scale.

    python benchmarks/run.py --patients 100000 1000000 [--stages synth ingest ...]

Each stage is the real `riskstrat` command run in its own process under GNU time, so peak memory
is that process's maximum resident set. Results go to benchmarks/results/<patients>.json and a
markdown table (benchmarks/results/README.md) that the project README quotes. Budgets are the
issues' figures for 1M patients on this 2-core, 24 GiB machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import END, START, work_env
from scale import footprint, keep_earlier_stages, slope_markdown

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
AS_OF = date(2025, 12, 29)  # the Monday after the extract end
#: stage -> (budget seconds, budget GiB) at 1M patients, from the issues (None: no budget set;
#: readmission training is measured because the weekly run needs both champions).
BUDGETS: dict[str, tuple[float, float] | None] = {
    "synth": (300, 8),
    "ingest": (300, 8),
    "features": (60, 6),
    "train": (300, 24),
    "train_readmission": None,
    "run": (180, 8),
}


def stage_commands(work: Path, patients: int) -> dict[str, list[str]]:
    exe = str(Path(sys.executable).parent / "riskstrat")
    practices = max(2, patients // 10_000)
    return {
        "synth": [exe, "synth", "--patients", str(patients), "--practices", str(practices),
                  "--start", str(START), "--end", str(END), "--seed", "1",
                  "--out", str(work / "population")],
        "ingest": [exe, "ingest", str(work / "population" / "extract"),
                   "--extract-date", str(END)],
        "features": [exe, "features", "crisis", "--as-of", str(AS_OF),
                     "--out", str(work / "features.parquet")],
        "train": [exe, "train", "crisis", "--max-rows", "1000000"],
        "train_readmission": [exe, "train", "readmission_30d"],
        "run": [exe, "run", "--as-of", str(AS_OF), "--no-ingest"],
    }  # fmt: skip


def measure(cmd: list[str], *, env: dict[str, str], log: Path) -> dict[str, object]:
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(
            ["/usr/bin/time", "-v", *cmd], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - start
    text = log.read_text(errors="replace")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {
        "seconds": round(seconds, 1),
        "peak_gib": round(int(rss.group(1)) / 1024**2, 2) if rss else None,
        "exit_code": proc.returncode,
        "log": str(log),
    }


def run(patients: int, stages: list[str], work_root: Path) -> dict[str, object]:
    work = work_root / f"{patients}"
    if "synth" in stages and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    env = work_env(work)
    commands = stage_commands(work, patients)
    results: dict[str, object] = {}
    for stage in stages:
        print(f"[{patients:,}] {stage}: {' '.join(commands[stage][1:])}", flush=True)
        results[stage] = measure(commands[stage], env=env, log=work / f"{stage}.log")
        results[stage].update(footprint(work, log=work / f"{stage}.log"))  # benchmarks/scale.py
        print(f"    -> {results[stage]}", flush=True)
        if results[stage]["exit_code"] != 0:
            print(f"    stage failed; see {work / f'{stage}.log'}", flush=True)
            break
    return {
        "patients": patients,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_on": date.today().isoformat(),
        "stages": results,
    }


def markdown(all_results: list[dict[str, object]]) -> str:
    lines = [
        "| stage | patients | wall time (s) | peak memory (GiB) | budget at 1M | within |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for res in all_results:
        for stage, m in res["stages"].items():  # type: ignore[union-attr]
            budget = BUDGETS[stage]
            ok = ""
            if m["exit_code"] != 0:
                ok = "failed"
            elif budget and res["patients"] == 1_000_000:
                secs, gib = budget
                ok = "yes" if m["seconds"] <= secs and (m["peak_gib"] or 0) <= gib else "NO"
            limit = f"< {budget[0]:.0f} s, < {budget[1]:.0f} GiB" if budget else "none set"
            lines.append(
                f"| {stage} | {res['patients']:,} | {m['seconds']} | {m['peak_gib']} | "
                f"{limit} | {ok} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stages", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    parser.add_argument(
        "--work",
        "--work-root",
        type=Path,
        default=HERE / "work",
        help="Folder holding one work folder per population size.",
    )
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    all_results = []
    for n in args.patients:
        res = run(n, args.stages, args.work)
        res = keep_earlier_stages(RESULTS / f"{n}.json", res)  # benchmarks/scale.py
        (RESULTS / f"{n}.json").write_text(json.dumps(res, indent=2))
        all_results.append(res)
    # results/<patients>.json only (other scripts keep their own results beside these)
    stage_files = [p for p in RESULTS.glob("*.json") if p.stem.isdigit()]
    merged = [json.loads(p.read_text()) for p in sorted(stage_files, key=_size)]
    table = markdown(merged) + slope_markdown(merged)
    (RESULTS / "README.md").write_text(
        "# Benchmark results\n\nProduced by `python benchmarks/run.py`.\n\n" + table
    )
    print(table)


def _size(path: Path) -> int:
    return int(path.stem)


if __name__ == "__main__":
    main()
