"""The weekly run on Spark (local[2]) vs DuckDB on one store: wall time, peak memory, per-step
times from each run's manifest, and whether the outputs are the same.

    python benchmarks/spark_vs_duckdb.py --work /work/bench/spark1m [--as-of 2025-12-29]

`--work` holds data/store.duckdb and data/mlflow.db with both champions (a copy of
benchmarks/work/<patients>/data made by benchmarks/run.py). Each engine is the real
`riskstrat run --no-ingest --engine E` in its own process under GNU time (peak memory = the
largest single process: Python for DuckDB, the JVM or Python for Spark). The Parquet export the
Spark engine reads is timed on its own first (`riskstrat export`), so the Spark run's own
`export` step finds it current. The machine load (`uptime`) is recorded before and after.
Results: benchmarks/results/spark_vs_duckdb_<patients>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

from common import gnu_time, work_env

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
AS_OF = date(2025, 12, 29)  # the Monday after the synthetic extract's end
ENGINES = ("duckdb", "spark")


def timed_command(cmd: list[str], *, env: dict[str, str], log: Path) -> dict[str, object]:
    return {"command": " ".join(["riskstrat", *cmd[1:]]), **gnu_time(cmd, env=env, log=log)}


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def patients(store: Path) -> int:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM patients").fetchall()[0][0])


def outputs(work: Path, as_of: date) -> dict[str, str]:
    manifest = work / "out" / "runs" / as_of.isoformat() / "manifest.json"
    return json.loads(manifest.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    args = parser.parse_args()
    work: Path = args.work.resolve()
    env = work_env(work)
    exe = str(Path(sys.executable).parent / "riskstrat")
    n = patients(work / "data" / "store.duckdb")
    result: dict[str, object] = {
        "patients": n,
        "as_of": args.as_of.isoformat(),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_on": date.today().isoformat(),
        "load_before": load(),
    }
    export = [exe, "export", "--format", "parquet", "--out", str(work / "data" / "parquet")]
    print(" ".join(export[1:]), flush=True)
    result["export"] = timed_command(export, env=env, log=work / "export.log")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"spark_vs_duckdb_{n}.json"
    manifests = {}
    for engine in ENGINES:
        cmd = [exe, "run", "--as-of", args.as_of.isoformat(), "--no-ingest", "--engine", engine]
        print(" ".join(cmd[1:]), flush=True)
        result[engine] = timed_command(cmd, env=env, log=work / f"run-{engine}.log")
        result[f"load_after_{engine}"] = load()
        print(f"    -> {result[engine]}", flush=True)
        if result[engine]["exit_code"] != 0:
            break
        manifests[engine] = outputs(work, args.as_of)
        result[engine]["steps"] = manifests[engine]["timings"]  # type: ignore[index]
        path.write_text(json.dumps(result, indent=2) + "\n")  # kept if the next one is stopped
    if len(manifests) == 2:
        duck, spark = (manifests[e]["outputs"] for e in ENGINES)
        result["same_outputs"] = duck == spark
        result["differing_outputs"] = sorted(k for k in duck.keys() | spark.keys()
                                             if duck.get(k) != spark.get(k))  # fmt: skip
        result["ratio_spark_to_duckdb"] = round(
            result["spark"]["seconds"] / result["duckdb"]["seconds"],
            2,  # type: ignore[index]
        )
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
