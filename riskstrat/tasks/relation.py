"""The index relation: index rows registered in DuckDB as a temp table the SQL can join.

Feature and label SQL read `index_rows(row_id, patient_id, index_date, index_spell_id)`; row_id
is the row's position in the caller's frame, so results come back in the caller's order even when
keys repeat or index_spell_id is null.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

INDEX_RELATION = "index_rows"
INDEX_MISSING_COLUMN = "index frame has no column {column!r} (task {task!r} needs {needed})"
INDEX_NULL_KEY = "index frame has {count} null value(s) in key column {column!r}"


def index_keys(task: object) -> list[str]:
    return list(getattr(task, "keys", ["patient_id", "index_date"]))


def check_index(index: pd.DataFrame, *, task: object) -> None:
    """Refuse an index frame without the task's key columns, or with null keys."""
    needed = index_keys(task)
    for column in needed:
        if column not in index.columns:
            raise ValueError(
                INDEX_MISSING_COLUMN.format(
                    column=column, task=getattr(task, "name", task), needed=needed
                )
            )
        nulls = int(index[column].isna().sum())
        if nulls:
            raise ValueError(INDEX_NULL_KEY.format(count=nulls, column=column))


@contextmanager
def index_relation(
    con: duckdb.DuckDBPyConnection,
    index: pd.DataFrame,
    *,
    task: object,
    name: str = INDEX_RELATION,
) -> Iterator[int]:
    """Register `index` as temp table `name` for the duration of the block; yields its length."""
    check_index(index, task=task)
    n = len(index)
    # Arrow columns, not object arrays: a million ids never become Python strings
    spell = (
        pa.array(index["index_spell_id"].astype("str"))
        if "index_spell_id" in index.columns and getattr(task, "has_index_spell", False)
        else pa.nulls(n, pa.string())
    )
    frame = pa.table(
        {
            "row_id": pa.array(np.arange(n, dtype=np.int64)),
            "patient_id": pa.array(index["patient_id"].astype("str")),
            "index_date": pa.array(pd.to_datetime(index["index_date"]).to_numpy()),
            "index_spell_id": spell,
        }
    )
    source = f"_{name}_source"
    con.register(source, frame)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT row_id, patient_id::VARCHAR AS "
            f"patient_id, CAST(index_date AS DATE) AS index_date, "
            f"index_spell_id::VARCHAR AS index_spell_id FROM {source}"
        )
    finally:
        con.unregister(source)
    try:
        yield n
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}")
