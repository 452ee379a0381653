"""DuckDB helpers that never leave a result unfinished.

DuckDB 2 refuses most work on a connection (register, sql, from_df, table, ...) while a result
from `execute()` is unfinished, and `fetchone()` leaves it unfinished even when the query returned
one row. Every single-row read in riskstrat goes through `fetch_one`/`fetch_value`, which fetch
the whole (small) result and so close it; tests/runs/test_runs_duckdb.py keeps `fetchone()` out
of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of `sql` (None when it returns no rows), with the result closed."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def fetch_value(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> Any:
    """The first column of the first row of `sql` (None when it returns no rows)."""
    row = fetch_one(con, sql, params)
    return None if row is None else row[0]
