#!/bin/bash
# The 1M steady week, alternated between code trees on a quiet machine (README "Stop 26"):
#
#   benchmarks/steady_alternated.sh WORK ROUNDS TREE [TREE ...]
#
# WORK: a benchmarks/run.py work folder that has run its `steady` stage (WORK/data/
# store.steady_base.duckdb is the steady-week store; WORK/out.base a copy of its out/ to restore).
# TREE: a checkout or `git archive` of the code to time; each run starts in that tree (python -c
# puts the working directory first on sys.path) after the machine is >= 97 % idle for 8 s.
# Prints one line per run: tree, wall, CPU, peak memory and the step times from the run's log.
set -euo pipefail
WORK=$(realpath "$1"); ROUNDS=$2; shift 2
PY=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}  # not realpath: the venv link
quiet() {
  for _ in $(seq 1 20); do
    a=($(head -1 /proc/stat)); sleep 8; b=($(head -1 /proc/stat)); tot=0
    for i in 1 2 3 4 5 6 7 8; do tot=$((tot + ${b[$i]} - ${a[$i]})); done
    [ $(( 100 * ((${b[4]} - ${a[4]}) + (${b[5]} - ${a[5]})) / tot )) -ge 97 ] && return 0
  done
  echo "machine not quiet after 160 s" >&2
}
[ -d "$WORK/out.base" ] || cp -a "$WORK/out" "$WORK/out.base"
for round in $(seq 1 "$ROUNDS"); do
  trees=("$@"); (( round % 2 == 0 )) && trees=($(printf '%s\n' "$@" | tac))
  for tree in "${trees[@]}"; do
    quiet
    cp "$WORK/data/store.steady_base.duckdb" "$WORK/data/store.duckdb"
    rm -rf "$WORK/out" && cp -a "$WORK/out.base" "$WORK/out" && sync
    log=$(mktemp)
    (cd "$tree" && env RISKSTRAT_DATA_DIR="$WORK/data" RISKSTRAT_STORE="$WORK/data/store.duckdb" \
      RISKSTRAT_OUT_DIR="$WORK/out" MLFLOW_TRACKING_URI="sqlite:///$WORK/data/mlflow.db" \
      PYTHONPATH="$tree" /usr/bin/time -v "$PY" -c 'from riskstrat.cli import main; main()' \
      run --as-of 2025-12-29 --no-ingest) > "$log" 2>&1
    wall=$(grep -oP 'Elapsed.*: \K.*' "$log"); peak=$(grep -oP 'Maximum resident.*: \K\d+' "$log")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
    steps=$(grep -oP 'run\.\K\w+\.done seconds=[\d.]+' "$log" | sed 's/\.done seconds=/=/' | tr '\n' ' ')
    echo "$(basename "$tree") round $round: wall $wall, CPU ${cpu} s, peak $((peak / 1024)) MiB; $steps"
    rm -f "$log"
  done
done
