"""The matured rows are fetched through Arrow (riskstrat.db.fetch_frame): the frame must be
the one `.df()` gives (same dtypes, values and nulls), so monitoring and the report see the
same thing as before, only without one Python string per row."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from riskstrat.db import fetch_frame

SQL = "SELECT patient_id, index_date, index_spell_id, risk, age FROM t WHERE k >= ? ORDER BY k"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (k INTEGER, patient_id VARCHAR, index_date DATE, index_spell_id VARCHAR, "
        "risk DOUBLE, age DOUBLE)"
    )
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, "P001", date(2025, 9, 29), None, 0.125, 71.0),
            (2, "P002", date(2025, 9, 29), "S9", 0.5, None),
            (3, "P003", None, "S10", None, 4.0),
        ],
    )
    yield con
    con.close()


@pytest.mark.parametrize("since", [0, 2])  # every row, some
def test_fetch_frame_is_what_df_gives(con: duckdb.DuckDBPyConnection, since: int) -> None:
    got = fetch_frame(con, SQL, [since])
    want = con.execute(SQL, [since]).df()
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert str(got["patient_id"].dtype) == "str"
    assert got["index_date"].dtype == "datetime64[us]"


def test_fetch_frame_of_no_rows_has_the_columns(con: duckdb.DuckDBPyConnection) -> None:
    got = fetch_frame(con, SQL, [99])
    assert list(got.columns) == ["patient_id", "index_date", "index_spell_id", "risk", "age"]
    assert len(got) == 0
