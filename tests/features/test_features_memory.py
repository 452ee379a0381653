"""riskstrat.db.release_memory: DuckDB's cached blocks go back to the OS after the feature SQL,
the memory limit is as it was, and the data reads the same."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from riskstrat.db import fetch_value, release_memory

CACHED = "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
LIMIT = "SELECT current_setting('memory_limit')"
MB = 2**20


def _store(path: Path | str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events AS SELECT range AS i, hash(range) AS h, 'P' || (range % 5000) "
        "AS patient_id FROM range(3000000)"
    )
    con.execute("CHECKPOINT")  # the table's blocks on disk, read back into the cache below
    assert fetch_value(con, "SELECT count(DISTINCT patient_id), max(h) FROM events") == 5000
    return con


def test_a_file_store_releases_its_cached_blocks_and_keeps_its_limit(tmp_path: Path) -> None:
    con = _store(tmp_path / "store.duckdb")
    limit = fetch_value(con, LIMIT)
    before = fetch_value(con, CACHED)
    assert before > 24 * MB
    assert release_memory(con) is True
    assert fetch_value(con, CACHED) < before / 2  # down to RELEASE_LIMIT (16 MB)
    assert fetch_value(con, LIMIT) == limit
    assert fetch_value(con, "SELECT sum(i) FROM events") == sum(range(3_000_000))


@pytest.mark.parametrize("limit", ["3GB", "700MiB", "-1"])
def test_a_limit_set_by_hand_is_restored(tmp_path: Path, limit: str) -> None:
    con = _store(tmp_path / "store.duckdb")
    con.execute(f"SET memory_limit = '{limit}'")
    shown = fetch_value(con, LIMIT)
    for _ in range(2):
        release_memory(con)
        assert fetch_value(con, LIMIT) == shown


def test_a_store_in_memory_is_left_alone() -> None:
    # evicting an in-memory database's tables would write them to the temp directory
    con = _store(":memory:")
    before = fetch_value(con, "SELECT sum(memory_usage_bytes) FROM duckdb_memory()")
    assert release_memory(con) is False
    assert fetch_value(con, "SELECT sum(memory_usage_bytes) FROM duckdb_memory()") == before


def test_memory_that_cannot_be_evicted_stays_and_the_limit_is_kept(tmp_path: Path) -> None:
    # a temp table with no temp directory to spill to cannot go below the limit: DuckDB
    # refuses the low limit (OutOfMemoryException); the release evicts what it can and goes on
    con = _store(tmp_path / "store.duckdb")
    con.execute("SET temp_directory = ''")
    con.execute("CREATE TEMP TABLE pinned AS SELECT hash(range) AS h FROM range(4000000)")
    limit = fetch_value(con, LIMIT)
    assert release_memory(con) is True
    assert fetch_value(con, LIMIT) == limit
    assert fetch_value(con, "SELECT count(*) FROM pinned") == 4_000_000
