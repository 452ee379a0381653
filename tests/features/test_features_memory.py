"""riskstrat.db.release_memory: the memory DuckDB keeps after large queries goes back to the OS,
its cache of table blocks stays, the memory limit is as it was, and the data reads the same."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from riskstrat.db import LIMIT, fetch_value, release_memory

CACHED = "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
MB = 2**20


def _rss() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _store(path: Path | str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events AS SELECT range AS i, hash(range) AS h, range::VARCHAR AS patient_id "
        "FROM range(3000000)"
    )
    con.execute("CHECKPOINT")
    return con


def _group(con: duckdb.DuckDBPyConnection) -> None:
    """A query whose hash table (3M distinct strings) is freed when it ends."""
    sql = "SELECT count(*), max(m) FROM (SELECT patient_id, max(h) AS m FROM events GROUP BY 1)"
    assert fetch_value(con, sql) == 3_000_000


@pytest.mark.parametrize("where", ["file", "memory"])
def test_freed_query_memory_goes_back_and_the_cache_stays(tmp_path: Path, where: str) -> None:
    con = _store(tmp_path / "store.duckdb" if where == "file" else ":memory:")
    _group(con)
    cached, limit, resident = fetch_value(con, CACHED), fetch_value(con, LIMIT), _rss()
    release_memory(con)
    assert _rss() < resident - 64 * MB  # the hash table's ~150 MB
    assert fetch_value(con, CACHED) == cached  # nothing evicted (a memory store: nothing spilled)
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
