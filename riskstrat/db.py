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


#: The memory limit release_memory sets for a moment: every cached block is evicted and DuckDB's
#: allocator hands its freed pages back to the OS (when more is pinned, what can go goes).
RELEASE_LIMIT = "16MB"
STORE_PATH = "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"


def release_memory(con: duckdb.DuckDBPyConnection) -> bool:
    """Hand the memory DuckDB keeps after large queries back to the OS: its cached table blocks
    and the freed buffers of the queries' hash tables (~1.3 GB after the crisis features at 3M
    patients). Lowering `memory_limit` evicts and flushes them; the limit is then restored (the
    default exactly; a limit set by hand to within 0.05 of the last digit `current_setting`
    shows, e.g. 2.75 GiB for a 3GB limit, shown as 2.7 GiB before and after).

    Pages the process gives back are reused by its next allocations without the cost of memory
    new to the machine (docs/scale.md, "Steady-state week, stop 23", c3m); blocks read again
    come back from the OS's file cache. A store in memory is left alone (evicting its tables
    would write them to the temp directory). Returns whether memory was released."""
    if fetch_value(con, STORE_PATH) is None:
        return False
    limit = fetch_value(con, "SELECT current_setting('memory_limit')")
    try:
        con.execute(f"SET memory_limit = '{RELEASE_LIMIT}'")
    except duckdb.OutOfMemoryException:
        pass  # more is pinned than the limit: the rest was evicted, nothing else changed
    finally:
        con.execute("RESET memory_limit")
        if fetch_value(con, "SELECT current_setting('memory_limit')") != limit:
            con.execute(f"SET memory_limit = '{_middle(limit)}'")
    return True


def _middle(setting: str) -> str:
    """A size as `current_setting` spells it ('2.7 GiB': one decimal, cut not rounded) as the
    middle of the sizes spelled so, which DuckDB spells the same way again."""
    number, unit = setting.split()
    if unit == "PiB":  # how DuckDB shows 'no limit' (-1)
        return "-1"
    return f"{float(number) + 0.05:.2f} {unit}"
