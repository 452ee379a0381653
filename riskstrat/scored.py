"""What each scored row looked like when it was scored: the `scored_inputs` table beside `scores`.

Scoring keeps, per (task, as_of) and row, the few feature values the report and monitoring
slice matured predictions by (practice, age, sex, ethnicity, IMD decile, number of LTCs), as
the model saw them. One horizon later the matured rows are read back with their risk in one
query instead of rebuilding the whole feature matrix at the old date (issue 19). Values are the
feature matrix's own (float codes; `riskstrat.features.decode` turns them into labels), so what
is read back is exactly what would have been built. The table holds no identifiers beyond the
pseudonymous patient_id the scores table already holds.

Rows are written in the same transaction as the scores they belong to (outreach.scoring) and
pruned once older than any task's matured window can reach. A (task, as_of) whose inputs are
missing or incomplete (scored before this table existed) reads back as None: callers rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.db import fetch_frame

SCORED_INPUTS_TABLE = "scored_inputs"
#: The score tables: one place for their names (outreach writes them; reports and monitoring read).
SCORES_TABLE = "scores"
SCORE_RUNS_TABLE = "score_runs"
#: The matrix columns kept per scored row: riskstrat.features.decode's inputs.
INPUT_COLUMNS = ("practice_code", "age", "sex", "ethnicity", "imd_decile", "ltc_count")
KEY_COLUMNS = ("patient_id", "index_date", "index_spell_id")
SCORED_INPUTS_DDL = f"""CREATE TABLE IF NOT EXISTS {SCORED_INPUTS_TABLE} (
  task VARCHAR NOT NULL,
  as_of DATE NOT NULL,
  patient_id VARCHAR NOT NULL,
  index_date DATE NOT NULL,
  index_spell_id VARCHAR,
  practice_code VARCHAR,
  age DOUBLE,
  sex DOUBLE,
  ethnicity DOUBLE,
  imd_decile DOUBLE,
  ltc_count DOUBLE
)"""
#: Inputs are kept this many days beyond a task's label span (gap + horizon): monitoring looks
#: back at most one horizon plus its slack (35 days, configs/monitoring.yaml), plus a week.
KEEP_EXTRA_DAYS = 42


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    (row,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(row[0])


def _strings(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow strings (missing: null); a `str` column's own Arrow data, so no
    Python string is built per row."""
    return pa.array(column.astype("str"))


def inputs_table(matrix: pd.DataFrame) -> pa.Table | None:
    """The kept columns of a feature matrix (keys + INPUT_COLUMNS) as an Arrow table, or None
    if the matrix lacks one."""
    if any(c not in matrix.columns for c in ("patient_id", "index_date", *INPUT_COLUMNS)):
        return None
    spell = matrix["index_spell_id"] if "index_spell_id" in matrix.columns else None
    return pa.table(
        {
            "patient_id": _strings(matrix["patient_id"]),
            "index_date": pa.array(pd.to_datetime(matrix["index_date"]).to_numpy()),
            "index_spell_id": (
                _strings(spell) if spell is not None else pa.nulls(len(matrix), pa.string())
            ),
            "practice_code": _strings(matrix["practice_code"]),
            **{
                c: pa.array(matrix[c].to_numpy(dtype="float64"), from_pandas=True)
                for c in INPUT_COLUMNS[1:]
            },
        }
    )


def replace_inputs(
    con: duckdb.DuckDBPyConnection,
    matrix: pd.DataFrame | None,
    *,
    task: str,
    as_of: date,
    keep_days: int,
) -> int:
    """Replace `task`'s inputs at `as_of` with the matrix's (none when `matrix` is None or lacks
    a column), and drop the task's inputs older than `keep_days` before as_of. Runs inside the
    caller's transaction (the scores' own). Returns the rows written."""
    con.execute(SCORED_INPUTS_DDL)
    day = pd.Timestamp(as_of).date()
    con.execute(
        f"DELETE FROM {SCORED_INPUTS_TABLE} WHERE task = ? AND (as_of = ? OR as_of < ?)",
        [task, day, day - timedelta(days=keep_days)],
    )
    table = inputs_table(matrix) if matrix is not None and len(matrix) else None
    if table is None:
        return 0
    con.register("new_scored_inputs", table)
    try:
        columns = ", ".join(table.column_names)
        con.execute(
            f"INSERT INTO {SCORED_INPUTS_TABLE} (task, as_of, {columns}) "
            f"SELECT ?, ?, {columns} FROM new_scored_inputs",
            [task, day],
        )
    finally:
        con.unregister("new_scored_inputs")
    return table.num_rows


def read_scored(
    con: duckdb.DuckDBPyConnection, *, task: str, keys: Sequence[str], as_of: date
) -> pd.DataFrame | None:
    """`task`'s rows scored at `as_of`: keys, risk and INPUT_COLUMNS, ordered by the keys; None
    when the inputs of that scoring are not (all) kept."""
    if not (_has_table(con, SCORED_INPUTS_TABLE) and _has_table(con, SCORES_TABLE)):
        return None
    day = pd.Timestamp(as_of).date()
    counts = [
        con.execute(
            f"SELECT count(*) FROM {table} WHERE task = ? AND as_of = ?", [task, day]
        ).fetchall()[0][0]
        for table in (SCORES_TABLE, SCORED_INPUTS_TABLE)
    ]
    if counts[0] == 0 or counts[0] != counts[1]:
        return None
    frame = _side_by_side(con, task=task, keys=keys, day=day)
    if frame is not None:
        return frame
    on = " AND ".join(
        f"s.{k} IS NOT DISTINCT FROM i.{k}" if k == "index_spell_id" else f"s.{k} = i.{k}"
        for k in KEY_COLUMNS
    )
    frame = fetch_frame(
        con,
        f"SELECT {', '.join(f's.{k}' for k in keys)}, s.risk, "
        f"{', '.join(f'i.{c}' for c in INPUT_COLUMNS)} "
        f"FROM {SCORES_TABLE} s JOIN {SCORED_INPUTS_TABLE} i "
        f"ON s.task = i.task AND s.as_of = i.as_of AND {on} "
        f"WHERE s.task = ? AND s.as_of = ? ORDER BY {', '.join(f's.{k}' for k in keys)}",
        [task, day],
    )
    return frame if len(frame) == counts[0] else None


def _side_by_side(
    con: duckdb.DuckDBPyConnection, *, task: str, keys: Sequence[str], day: date
) -> pd.DataFrame | None:
    """read_scored's frame without its join and sort, when row order gives the same answer.

    Scoring writes a day's scores and inputs from one matrix, in the same order, in one
    transaction, and DuckDB scans a table in insertion order: so row k of one is row k of the
    other (POSITIONAL JOIN), and a crisis matrix is already in patient order. Taken only when
    that is provably read_scored's answer: every row's keys (KEY_COLUMNS) are the same on both
    sides and the first key strictly increases (unique keys, already in ORDER BY order);
    otherwise None. At 1M: half the CPU and half the fresh memory of the join and sort."""
    where = "WHERE task = ? AND as_of = ?"
    theirs = [f"_inputs_{k}" for k in KEY_COLUMNS]
    frame = fetch_frame(
        con,
        f"SELECT {', '.join(f's.{k}' for k in dict.fromkeys([*keys, *KEY_COLUMNS]))}, s.risk, "
        f"{', '.join(f'i.{c}' for c in INPUT_COLUMNS)}, "
        f"{', '.join(f'i.{k} AS {t}' for k, t in zip(KEY_COLUMNS, theirs, strict=True))} "
        f"FROM (SELECT * FROM {SCORES_TABLE} {where}) s "
        f"POSITIONAL JOIN (SELECT * FROM {SCORED_INPUTS_TABLE} {where}) i",
        [task, day, task, day],
    )
    same = all(frame[k].equals(frame[t]) for k, t in zip(KEY_COLUMNS, theirs, strict=True))
    first = pa.array(frame[keys[0]].astype("str").array)
    increasing = len(frame) < 2 or pc.all(pc.less(first[:-1], first[1:])).as_py()
    if not (same and increasing):
        return None
    return frame[[*keys, "risk", *INPUT_COLUMNS]]
