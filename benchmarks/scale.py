"""Scaling of the pipeline stages with population size, from benchmarks/results/<patients>.json.

    python benchmarks/scale.py            # print the slope table (markdown)
    python benchmarks/scale.py --backfill-cpu   # first add CPU seconds from the stages' logs
    python benchmarks/scale.py --from-logs WORK PATIENTS STAGE...  # results file from logs

The slope of a stage between two sizes is log(t2 / t1) / log(n2 / n1): 1.0 is linear, below 1 is
sub-linear (fixed costs still matter), above 1 super-linear. `footprint` is what benchmarks/run.py
records beside each stage's time and memory: the machine's load average (the machine is shared)
and the size of the store on disk.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


#: Sizes the slopes are taken between (smaller ones are dominated by fixed costs).
FROM_SIZE = 1_000_000


def slope(n1: int, t1: float, n2: int, t2: float) -> float:
    """d log t / d log n between two sizes."""
    return math.log(t2 / t1) / math.log(n2 / n1)


def slopes(results: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per stage and pair of consecutive measured sizes from FROM_SIZE up (and first to
    last when there are three or more): time and peak-memory slopes."""
    sizes: dict[str, list[tuple[int, dict]]] = {}
    for res in sorted(results, key=lambda r: r["patients"]):  # type: ignore[arg-type,return-value]
        n = int(res["patients"])  # type: ignore[arg-type]
        for stage, m in res["stages"].items():  # type: ignore[union-attr]
            if n >= FROM_SIZE and m["exit_code"] == 0:
                sizes.setdefault(stage, []).append((n, m))
    rows = []
    for stage, measured in sizes.items():
        pairs = list(itertools.pairwise(measured))
        if len(measured) >= 3:
            pairs.append((measured[0], measured[-1]))
        for (n1, m1), (n2, m2) in pairs:
            rows.append({
                "stage": stage, "from": n1, "to": n2,
                "time_slope": round(slope(n1, m1["seconds"], n2, m2["seconds"]), 2),
                "cpu_slope": round(slope(n1, m1["cpu_seconds"], n2, m2["cpu_seconds"]), 2)
                if m1.get("cpu_seconds") and m2.get("cpu_seconds") else None,
                "memory_slope": round(slope(n1, m1["peak_gib"], n2, m2["peak_gib"]), 2)
                if m1.get("peak_gib") and m2.get("peak_gib") else None,
                "load_avg_at_to": m2.get("load_avg"),
            })  # fmt: skip
    return rows


def slope_markdown(results: list[dict[str, object]]) -> str:
    """The slope table that benchmarks/results/README.md carries under the stage table."""
    rows = slopes(results)
    if not rows:
        return ""
    lines = [
        "",
        "Scaling slope d log(time) / d log(patients) (1.0 = linear; benchmarks/scale.py) of wall",
        "time and of CPU time (user + system), and the same for peak memory. Load average (1, 5,",
        "15 min) when the larger size's stage ended: the machine is shared, so under load the wall",
        "slope overstates the growth and the CPU slope is the better guide.",
        "",
        "| stage | from | to | wall slope | CPU slope | memory slope | load at the larger size |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        load = ", ".join(f"{x:g}" for x in r["load_avg_at_to"]) if r["load_avg_at_to"] else ""
        lines.append(
            f"| {r['stage']} | {r['from']:,} | {r['to']:,} | {r['time_slope']} | "
            f"{r['cpu_slope']} | {r['memory_slope']} | {load} |"
        )
    return "\n".join(lines) + "\n"


def cpu_seconds(log: Path) -> float | None:
    """User + system CPU seconds from a GNU time -v log (None if absent). On a shared machine
    CPU time depends much less on the other jobs than wall time does."""
    if not log.is_file():
        return None
    text = log.read_text(errors="replace")
    kinds = ("User", "System")
    parts = [re.search(rf"{kind} time \(seconds\): ([0-9.]+)", text) for kind in kinds]
    return round(sum(float(m.group(1)) for m in parts if m), 1) if all(parts) else None


def footprint(work: Path, *, log: Path) -> dict[str, object]:
    """CPU seconds of the stage (from its log), load averages (1, 5, 15 min) now, and the
    store's and the extract's size in GiB."""
    store = work / "data" / "store.duckdb"
    extract = work / "population" / "extract"
    return {
        "cpu_seconds": cpu_seconds(log),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "store_gib": round(store.stat().st_size / 1024**3, 3) if store.exists() else None,
        "extract_gib": round(_tree_size(extract) / 1024**3, 3) if extract.exists() else None,
    }


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def keep_earlier_stages(path: Path, result: dict[str, object]) -> dict[str, object]:
    """`result` with the stages of an earlier result file that it did not measure again (a size
    measured stage by stage, e.g. 10M: synth, ingest and features first, the rest later). A
    fresh synth starts a new population, so then nothing earlier is kept."""
    stages: dict[str, object] = result["stages"]  # type: ignore[assignment]
    if "synth" in stages or not path.exists():
        return result
    earlier = json.loads(path.read_text())["stages"]
    return {**result, "stages": {**{k: v for k, v in earlier.items() if k not in stages}, **stages}}


def backfill_cpu(path: Path) -> None:
    """Add cpu_seconds to a results file's stages from their GNU time logs, where missing."""
    result = json.loads(path.read_text())
    for m in result["stages"].values():
        if m.get("cpu_seconds") is None:
            m["cpu_seconds"] = cpu_seconds(Path(m["log"]))
    path.write_text(json.dumps(result, indent=2))


def from_logs(work: Path, patients: int, stages: list[str]) -> dict[str, object]:
    """A results record rebuilt from the stages' GNU time logs in `work` (for a size whose later
    stages were stopped: run.py writes its file only when all requested stages end). Stages
    whose log has no GNU time summary (still running or killed) are left out."""
    out: dict[str, object] = {}
    for stage in stages:
        log = work / f"{stage}.log"
        text = log.read_text(errors="replace") if log.is_file() else ""
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", text)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        code = re.search(r"Exit status: (\d+)", text)
        if not (wall and rss and code):
            continue
        seconds = sum(float(x) * 60**i for i, x in enumerate(reversed(wall.group(1).split(":"))))
        out[stage] = {
            "seconds": round(seconds, 1), "peak_gib": round(int(rss.group(1)) / 1024**2, 2),
            "exit_code": int(code.group(1)), "log": str(log), "cpu_seconds": cpu_seconds(log),
            "load_avg": None, "note": "rebuilt from the GNU time log (scale.py from_logs)",
        }  # fmt: skip
    return {"patients": patients, "machine": f"{os.cpu_count()} cores", "stages": out}


def main() -> None:
    if "--from-logs" in sys.argv:  # --from-logs WORK PATIENTS STAGE...
        i = sys.argv.index("--from-logs")
        work, patients, stages = Path(sys.argv[i + 1]), int(sys.argv[i + 2]), sys.argv[i + 3 :]
        result = from_logs(work, patients, stages)
        (RESULTS / f"{patients}.json").write_text(json.dumps(result, indent=2))
    files = [p for p in RESULTS.glob("*.json") if p.stem.isdigit()]
    if "--backfill-cpu" in sys.argv:
        for path in files:
            backfill_cpu(path)
    print(slope_markdown([json.loads(p.read_text()) for p in files]), end="")


if __name__ == "__main__":
    main()
