"""DuckDB helpers that never leave a result unfinished.

DuckDB 2 refuses most work on a connection (register, sql, from_df, table, ...) while a result
from `execute()` is unfinished, and `fetchone()` leaves it unfinished even when the query returned
one row. Every single-row read in riskstrat goes through `fetch_one`/`fetch_value`, which fetch
the whole (small) result and so close it; tests/runs/test_runs_duckdb.py keeps `fetchone()` out
of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pandas as pd


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


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> pd.DataFrame:
    """`sql`'s rows as `.df()` gives them (text as pandas' `str`, DATE as datetime64[us],
    DECIMAL as float64, nullable integers and booleans when they hold nulls), read through
    Arrow: `.df()` makes one Python object per text cell and pandas then turns them back into
    Arrow strings, which costs seconds at 1M rows."""
    import pandas as pd
    import pyarrow as pa

    nullable = {
        pa.bool_(): pd.BooleanDtype(), pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
    }  # fmt: skip
    table = con.sql(sql, params=params).to_arrow_table()
    frame = table.to_pandas(date_as_object=False)
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_date(field.type):
            frame[field.name] = frame[field.name].astype("datetime64[us]")
        elif pa.types.is_decimal(field.type):
            frame[field.name] = column.cast(pa.float64()).to_pandas()
        elif column.null_count and field.type in nullable:
            frame[field.name] = column.to_pandas(types_mapper=nullable.get)
    return frame
