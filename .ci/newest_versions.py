"""CI check: the suite ran with the newest DuckDB, pandas and MLflow that pip resolves.

Asks pip, the ordinary client, what `pip install --upgrade` of the project would change
(`--dry-run --report`): if it would upgrade any of WATCHED, the environment the tests ran in is
behind what a fresh clone gets, and the check fails naming installed and newest versions.

Offline (pip cannot reach its index) the check cannot know the newest versions: it prints a
warning and passes, unless RISKSTRAT_REQUIRE_NEWEST=1 (then it fails), so a laptop without
network never fails flakily while CI can insist. Decision recorded in docs/operations.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

WATCHED = ("duckdb", "pandas", "mlflow")
ROOT = Path(__file__).resolve().parent.parent
OFFLINE_MARKERS = (
    "Could not find a version",
    "No matching distribution",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
)


def main() -> int:
    installed = {name: version(name) for name in WATCHED}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--upgrade", "--quiet",
             "--disable-pip-version-check", "--report", str(report), f"{ROOT}[dev]"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if proc.returncode != 0 or not report.is_file():
            offline = any(m in proc.stderr for m in OFFLINE_MARKERS)
            what = "pip could not reach its index" if offline else "pip failed"
            print(f"newest-versions: {what}; installed {installed}", file=sys.stderr)
            print(proc.stderr.strip().splitlines()[-1:] or "", file=sys.stderr)
            return 1 if os.environ.get("RISKSTRAT_REQUIRE_NEWEST") == "1" or not offline else 0
        planned = json.loads(report.read_text())["install"]
    newer = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in planned
        if item["metadata"]["name"].lower() in WATCHED
    }
    for name in WATCHED:
        state = f"behind: pip resolves {newer[name]}" if name in newer else "newest"
        print(f"newest-versions: {name} {installed[name]} ({state})")
    if newer:
        print(
            "newest-versions: the tests ran on older versions than a fresh clone gets: "
            "run `pip install --upgrade -e '.[dev]'` (or delete .venv) and test again",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
