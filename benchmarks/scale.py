"""Scaling of the pipeline stages with population size, from benchmarks/results/<patients>.json.

    python benchmarks/scale.py            # print the slope table (markdown)

The slope of a stage between two sizes is log(t2 / t1) / log(n2 / n1): 1.0 is linear, below 1 is
sub-linear (fixed costs still matter), above 1 super-linear. `footprint` is what benchmarks/run.py
records beside each stage's time and memory: the machine's load average (the machine is shared)
and the size of the store on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


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
