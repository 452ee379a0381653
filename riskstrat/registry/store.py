"""The embedded DuckDB store: opening it, its engine tables, and the atomic swap at ingest.

An ingest never writes into the live store. It builds a complete new file beside it and
`os.replace`s it in only when every check passed, so readers see the old store or the new one,
never a mix, and a failed or killed ingest leaves the old file byte for byte as it was.

What a newer extract does to each table:
- registry tables (practices, patients, ..., observations) are full snapshots: replaced;
- `outreach_outcomes` accumulate: the union of the old store's rows and the new extract's,
  one row per key (patient_id, pathway, listed_on), the new extract's row winning;
- engine tables (`extracts` history, `scores`, any other non-contract table) are carried over;
- `feedback_rejects` (the latest ingest's rejected feedback, per practice) is replaced.

`ingest --replace-latest` drops the newest `extracts` row from the carried history and keeps it
in `replaced_extracts` (with the time it was replaced), so a mistaken extract date is
recoverable and auditable.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from riskstrat.db import fetch_value
from riskstrat.errors import EnvironmentProblem
from riskstrat.logs import log_event
from riskstrat.registry.contract import TABLES, ddl

STORE_MISSING = "{path}: no store here yet; run `riskstrat ingest` first"
EXTRACTS = "extracts"
EXTRACTS_DDL = f"""CREATE TABLE {EXTRACTS} (
  extract_date DATE NOT NULL,
  content_hash VARCHAR NOT NULL,
  ingested_at TIMESTAMP NOT NULL,
  source_dir VARCHAR,
  report_dir VARCHAR,
  table_rows VARCHAR  -- JSON: accepted rows per table
)"""
ACCUMULATED = "outreach_outcomes"
FEEDBACK_REJECTS = "feedback_rejects"
#: Engine tables that belong to one ingest: rebuilt by every ingest, never carried over.
PER_EXTRACT = (FEEDBACK_REJECTS,)
REPLACED_EXTRACTS = "replaced_extracts"
REPLACED_DDL = (
    f"CREATE TABLE {{db}}.{REPLACED_EXTRACTS} AS SELECT *, NULL::TIMESTAMP AS replaced_at "
    f"FROM {{db}}.{EXTRACTS} LIMIT 0"
)
#: DuckDB limits for the ingest's work database (it spills to disk beyond them).
WORK_MEMORY_LIMIT = "4GB"


#: The store file is held by another program (an analyst's `duckdb` or Python session left
#: open): DuckDB lets one process write a file, or several read it, never both. Before, the run
#: stopped with "internal error IOException: ... re-run with --debug and report it" (exit 70).
STORE_IN_USE = (
    "the store {path} is open in another program ({holder}), which DuckDB does not allow beside "
    "a run or an ingest; close that session (query a copy of the store instead), then re-run"
)


class StoreInUse(EnvironmentProblem):
    """Another process holds DuckDB's lock on the store file (exit 3, one line, like a run
    lock held)."""


def in_use(exc: BaseException, *, path: Path | str) -> StoreInUse | None:
    """StoreInUse for DuckDB's "Could not set lock on file" error, naming who holds it; else
    None."""
    text = " ".join(str(exc).split())
    if "could not set lock on file" not in text.lower():
        return None
    found = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", text)
    holder = f"PID {found[2]}, {Path(found[1]).name}" if found else "another process"
    return StoreInUse(STORE_IN_USE.format(path=path, holder=holder))


def connect(path: Path | str, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the store. Read-only by default: only ingest (and scoring) write."""
    path = Path(path)
    if read_only and not path.is_file():
        raise FileNotFoundError(STORE_MISSING.format(path=path))
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise (in_use(exc, path=path) or exc) from exc


#: Logged once when a writer finds the store busy (a run or another ingest holds its lock).
STORE_BUSY = (
    "store.waiting: another ingest or run is writing the store; this one starts when it ends"
)


@contextmanager
def store_lock(store_path: Path) -> Iterator[None]:
    """One writer at a time per store (ingests and other writers take this lock). A writer that
    has to wait says so once, so an `ingest` started during a run is not silent until it ends."""
    store_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(store_path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log_event(STORE_BUSY, logging.WARNING, lock=f"{store_path.name}.lock")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def extract_history(store_path: Path) -> list[dict]:
    """The store's extract history, newest first ([] for a missing or new store)."""
    if not Path(store_path).is_file():
        return []
    with connect(store_path) as con:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [EXTRACTS]
        ).fetchall()[0][0]
        if not exists:
            return []
        rows = con.execute(
            f"SELECT extract_date, content_hash, report_dir, ingested_at, table_rows "
            f"FROM {EXTRACTS} ORDER BY extract_date DESC, ingested_at DESC"
        ).fetchall()
    keys = ("extract_date", "content_hash", "report_dir", "ingested_at")
    history = []
    for *row, table_rows in rows:
        entry = dict(zip(keys, row, strict=True))
        entry["table_rows"] = json.loads(table_rows) if table_rows else {}
        history.append(entry)
    return history


def store_extract_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The extract date of the data the store holds (its latest ingest: an older extract put in
    with --replace-latest counts), or None for a store built outside ingest."""
    if not fetch_value(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [EXTRACTS]
    ):
        return None
    value = fetch_value(
        con, f"SELECT extract_date FROM {EXTRACTS} ORDER BY ingested_at DESC LIMIT 1"
    )
    return value.date() if isinstance(value, dt.datetime) else value


def latest_extract(store_path: Path) -> dict | None:
    """The newest row of the store's extract history, or None for a missing or new store."""
    history = extract_history(store_path)
    return history[0] if history else None


def scratch_path(store_path: Path, kind: str) -> Path:
    """A unique file beside the store (same file system, so os.replace is atomic)."""
    return store_path.parent / f".{store_path.name}.{kind}-{uuid.uuid4().hex[:12]}"


def clean_scratch(store_path: Path) -> list[Path]:
    """Remove scratch files a killed ingest left beside the store (call under `store_lock`)."""
    stale = sorted(store_path.parent.glob(f".{store_path.name}.*-*"))
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def create_registry_tables(con: duckdb.DuckDBPyConnection, *, db: str) -> None:
    for table in TABLES.values():
        con.execute(ddl(table, name=f"{db}.{table.name}"))
    con.execute(EXTRACTS_DDL.replace(f"TABLE {EXTRACTS}", f"TABLE {db}.{EXTRACTS}", 1))


def carry_over(
    con: duckdb.DuckDBPyConnection, *, old: str, new: str, replaced: dict | None = None
) -> list[str]:
    """Copy the old store's engine tables into the new one; accumulate outreach_outcomes.

    Engine tables keep their own DDL (constraints included). `replaced`: the extracts row
    (extract_date, content_hash, ingested_at) that --replace-latest drops from the history; it is
    kept in `replaced_extracts`. Returns the names carried over.
    """
    tables = con.execute(
        "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name",
        [old],
    ).fetchall()
    carried = []
    current = con.execute("SELECT current_database()").fetchall()[0][0]
    if replaced or REPLACED_EXTRACTS in {name for name, _ in tables}:
        con.execute(REPLACED_DDL.format(db=new))
    for name, create_sql in tables:
        if name == REPLACED_EXTRACTS:
            con.execute(f"INSERT INTO {new}.{name} BY NAME SELECT * FROM {old}.{name}")
        elif name == EXTRACTS:
            keep = "TRUE"
            if replaced:
                keep = "NOT (extract_date = $1 AND content_hash = $2 AND ingested_at = $3)"
                con.execute(
                    f"INSERT INTO {new}.{REPLACED_EXTRACTS} BY NAME SELECT *, "
                    f"now()::TIMESTAMP AS replaced_at FROM {old}.{EXTRACTS} WHERE NOT ({keep})",
                    [replaced["extract_date"], replaced["content_hash"], replaced["ingested_at"]],
                )
            params = (
                [replaced["extract_date"], replaced["content_hash"], replaced["ingested_at"]]
                if replaced
                else None
            )
            con.execute(
                f"INSERT INTO {new}.{EXTRACTS} BY NAME SELECT * FROM {old}.{EXTRACTS} WHERE {keep}",
                params,
            )
        elif name == ACCUMULATED:
            key = TABLES[ACCUMULATED].key
            match = " AND ".join(f"n.{k} = o.{k}" for k in key)
            con.execute(
                f"INSERT INTO {new}.{name} BY NAME SELECT o.* FROM {old}.{name} AS o "
                f"WHERE NOT EXISTS (SELECT 1 FROM {new}.{name} AS n WHERE {match})"
            )
        elif name in TABLES or name in PER_EXTRACT:
            continue  # registry snapshot or one ingest's table: replaced by the new extract
        else:
            con.execute(f"USE {new}")
            try:
                con.execute(create_sql)
            finally:
                con.execute(f"USE {current}")
            con.execute(f"INSERT INTO {new}.{name} SELECT * FROM {old}.{name}")
        carried.append(name)
    return carried


def record_extract(
    con: duckdb.DuckDBPyConnection,
    *,
    db: str,
    extract_date: object,
    content_hash: str,
    source_dir: Path,
    report_dir: Path,
    table_rows: dict[str, int],
) -> None:
    con.execute(
        f"INSERT INTO {db}.{EXTRACTS} VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?)",
        [extract_date, content_hash, str(source_dir), str(report_dir), json.dumps(table_rows)],
    )


def swap_in(new_file: Path, store_path: Path) -> None:
    """Atomically make `new_file` the store (it must be closed and checkpointed)."""
    os.replace(new_file, store_path)
    stale_wal = Path(str(store_path) + ".wal")
    if stale_wal.exists():  # belonged to the replaced file; its content was read before the swap
        stale_wal.unlink()
    dir_fd = os.open(store_path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
