"""Time each pipeline stage as a whole process (wall time, peak memory) at a given scale.

    python benchmarks/run.py --patients 100000 1000000 [--stages synth ingest ...]

Each stage is the real `riskstrat` command run in its own process under GNU time, so peak memory
is that process's maximum resident set. Results go to benchmarks/results/<patients>.json and a
markdown table (benchmarks/results/README.md) that the project README quotes. Budgets are the
issues' figures for 1M patients on this 2-core, 24 GiB machine.

`run` is a first run (no earlier scores). `steady` is a normal week: it first scores the as-of
one horizon and a day back (the matured scores the report and monitoring read) and last week's
(`riskstrat score --as-of ...`, untimed), then times the same weekly run again. Both record the
run's own per-step timings (from its log) and the load average beside the figures.
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
from datetime import date, timedelta
from pathlib import Path

from common import END, START, gnu_time, work_env
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
    "steady": (20, 2),  # issue 19: the steady-state week at 1M in <= 20 s and <= 2 GiB
}
#: Scored before the steady-state week (untimed): the matured week (one 90-day horizon and a day
#: back) and last week.
STEADY_HISTORY = (AS_OF - timedelta(days=91), AS_OF - timedelta(days=7))
STEP_DONE = re.compile(r"INFO run\.(\w+)\.done seconds=([\d.]+)")


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
                     "--out", str(work / "features")],
        "train": [exe, "train", "crisis", "--max-rows", "1000000"],
        "train_readmission": [exe, "train", "readmission_30d"],
        "run": [exe, "run", "--as-of", str(AS_OF), "--no-ingest"],
        "steady": [exe, "run", "--as-of", str(AS_OF), "--no-ingest"],
    }  # fmt: skip


def prepare_steady(work: Path, *, env: dict[str, str]) -> None:
    """Last week's and the matured week's scores in the store, as a running service has them
    (a date the store already holds scores for is not scored again: at 3M each takes minutes)."""
    exe = str(Path(sys.executable).parent / "riskstrat")
    for day in sorted(set(STEADY_HISTORY) - scored_dates(Path(env["RISKSTRAT_STORE"]))):
        log = work / f"steady_score_{day}.log"
        with log.open("w") as out:
            subprocess.run([exe, "score", "--as-of", str(day)], env=env, stdout=out,
                           stderr=subprocess.STDOUT, check=True)  # fmt: skip


def scored_dates(store: Path) -> set[date]:
    """The as-of dates the store holds crisis scores for (none if it holds no scores yet)."""
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        if not con.sql("SELECT 1 FROM duckdb_tables() WHERE table_name = 'score_runs'").fetchall():
            return set()
        rows = con.sql("SELECT DISTINCT as_of FROM score_runs WHERE task = 'crisis'").fetchall()
    return {row[0] for row in rows}


def measure(cmd: list[str], *, env: dict[str, str], log: Path) -> dict[str, object]:
    load_before = os.getloadavg()[0]
    timed = gnu_time(cmd, env=env, log=log)
    out = {
        **timed,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "measured_on": date.today().isoformat(),
    }
    steps = {name: float(s) for name, s in STEP_DONE.findall(log.read_text(errors="replace"))}
    if steps:
        out["steps"] = steps
    return out


def run(patients: int, stages: list[str], work_root: Path) -> dict[str, object]:
    work = work_root / f"{patients}"
    if "synth" in stages and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    env = work_env(work)
    commands = stage_commands(work, patients)
    results: dict[str, object] = {}
    for stage in stages:
        if stage == "steady":
            prepare_steady(work, env=env)
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
        "| stage | patients | wall time (s) | CPU (s) | peak memory (GiB) | load | budget at 1M "
        "| within |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
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
                f"| {stage} | {res['patients']:,} | {m['seconds']} | {m.get('cpu_seconds', '')} "
                f"| {m['peak_gib']} | {m.get('load_before', '')} | {limit} | {ok} |"
            )
    steps = [
        (res["patients"], stage, m["steps"])
        for res in all_results
        for stage, m in res["stages"].items()  # type: ignore[union-attr]
        if m.get("steps")
    ]
    if steps:
        names = list(dict.fromkeys(k for *_, st in steps for k in st))
        lines += ["", "Weekly run steps (seconds, from the run's log):", ""]
        lines.append("| patients | stage | " + " | ".join(names) + " |")
        lines.append("| ---: | --- |" + " ---: |" * len(names))
        for n, stage, st in steps:
            cells = " | ".join(str(st.get(k, "")) for k in names)
            lines.append(f"| {n:,} | {stage} | {cells} |")
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
