"""Scaling of the pipeline stages with population size, from benchmarks/results/<patients>.json.

    python benchmarks/scale.py            # print the slope table (markdown)

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
        "Scaling slope d log(time) / d log(patients) (1.0 = linear; benchmarks/scale.py), and the",
        "same for peak memory. Load average (1, 5, 15 min) when the larger size's stage ended:",
        "the machine is shared, so the larger size was often measured under more load.",
        "",
        "| stage | from | to | time slope | memory slope | load at the larger size |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        load = ", ".join(f"{x:g}" for x in r["load_avg_at_to"]) if r["load_avg_at_to"] else ""
        lines.append(
            f"| {r['stage']} | {r['from']:,} | {r['to']:,} | {r['time_slope']} | "
            f"{r['memory_slope']} | {load} |"
        )
    return "\n".join(lines) + "\n"


def footprint(work: Path) -> dict[str, object]:
    """Load averages (1, 5, 15 min) now, and the store's and the extract's size in GiB."""
    store = work / "data" / "store.duckdb"
    extract = work / "population" / "extract"
    return {
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


def main() -> None:
    files = [p for p in RESULTS.glob("*.json") if p.stem.isdigit()]
    print(slope_markdown([json.loads(p.read_text()) for p in files]), end="")


if __name__ == "__main__":
    main()
