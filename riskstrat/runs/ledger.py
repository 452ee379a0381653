"""The scheduler's ledger: every due run, until it is done, persisted beside the job store.

APScheduler moves a job's next run time forward when it *starts* the job, so a scheduler killed
mid-run forgets that the run never finished. The ledger remembers: a row per (job, due time),
`due` -> `running` -> `done` (or `skipped`, `deferred`, `missed`, `failed`), with the reason.
On start the scheduler turns `running` rows (killed mid-run) back into `due` and runs each once.

Stored in the job store's sqlite file, table riskstrat_due_runs; times are UTC ISO strings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

TABLE = "riskstrat_due_runs"
DUE, RUNNING, DONE, SKIPPED, DEFERRED, MISSED, FAILED = (
    "due",
    "running",
    "done",
    "skipped",
    "deferred",
    "missed",
    "failed",
)
#: States still waiting to run.
WAITING = (DUE, DEFERRED)
#: States `riskstrat status` shows prominently.
ATTENTION = (MISSED, FAILED, DEFERRED, DUE, RUNNING)
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
  job_id TEXT NOT NULL,
  due_at TEXT NOT NULL,
  run_on TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  as_of TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (job_id, due_at)
)"""


@dataclass(frozen=True)
class DueRun:
    job_id: str
    due_at: datetime
    run_on: datetime
    state: str
    reason: str
    attempts: int
    as_of: str | None
    updated_at: datetime


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _row(values: tuple) -> DueRun:
    job_id, due_at, run_on, state, reason, attempts, as_of, updated_at = values
    return DueRun(
        job_id=job_id,
        due_at=datetime.fromisoformat(due_at),
        run_on=datetime.fromisoformat(run_on),
        state=state,
        reason=reason,
        attempts=attempts,
        as_of=as_of,
        updated_at=datetime.fromisoformat(updated_at),
    )


COLUMNS = "job_id, due_at, run_on, state, reason, attempts, as_of, updated_at"


class Ledger:
    """The due runs of one scheduler home (one sqlite file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(DDL)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    def get(self, job_id: str, due_at: datetime) -> DueRun | None:
        with self._db() as db:
            rows = db.execute(
                f"SELECT {COLUMNS} FROM {TABLE} WHERE job_id = ? AND due_at = ?",
                [job_id, _iso(due_at)],
            ).fetchall()
        return _row(rows[0]) if rows else None

    def record_due(
        self, job_id: str, due_at: datetime, *, now: datetime, state: str = DUE, reason: str = ""
    ) -> DueRun:
        """Add (job, due time) unless it is already there; return the stored row."""
        with self._db() as db:
            db.execute(
                f"INSERT OR IGNORE INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, NULL, ?)",
                [job_id, _iso(due_at), _iso(due_at), state, reason, _iso(now)],
            )
        found = self.get(job_id, due_at)
        assert found is not None
        return found

    def claim(self, job_id: str, due_at: datetime, *, now: datetime) -> DueRun | None:
        """Mark a waiting row running (one more attempt); None if it is not waiting."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            changed = db.execute(
                f"UPDATE {TABLE} SET state = ?, attempts = attempts + 1, updated_at = ? "
                f"WHERE job_id = ? AND due_at = ? AND state IN (?, ?)",
                [RUNNING, _iso(now), job_id, _iso(due_at), *WAITING],
            ).rowcount
        return self.get(job_id, due_at) if changed else None

    def set_state(
        self,
        job_id: str,
        due_at: datetime,
        *,
        state: str,
        now: datetime,
        reason: str = "",
        as_of: str | None = None,
        run_on: datetime | None = None,
    ) -> None:
        with self._db() as db:
            db.execute(
                f"UPDATE {TABLE} SET state = ?, reason = ?, as_of = coalesce(?, as_of), "
                f"run_on = coalesce(?, run_on), updated_at = ? WHERE job_id = ? AND due_at = ?",
                [
                    state,
                    reason,
                    as_of,
                    _iso(run_on) if run_on else None,
                    _iso(now),
                    job_id,
                    _iso(due_at),
                ],
            )

    def rows(self, *, states: tuple[str, ...] | None = None, limit: int = 1000) -> list[DueRun]:
        """Rows, newest due first (optionally only in `states`)."""
        where, params = "", []
        if states:
            where = f"WHERE state IN ({', '.join('?' * len(states))})"
            params = list(states)
        with self._db() as db:
            found = db.execute(
                f"SELECT {COLUMNS} FROM {TABLE} {where} ORDER BY due_at DESC, job_id LIMIT ?",
                [*params, limit],
            ).fetchall()
        return [_row(r) for r in found]

    def waiting(self, *, now: datetime) -> list[DueRun]:
        """Rows waiting to run whose run time has come, oldest first."""
        with self._db() as db:
            found = db.execute(
                f"SELECT {COLUMNS} FROM {TABLE} WHERE state IN (?, ?) AND run_on <= ? "
                "ORDER BY run_on, due_at, job_id",
                [*WAITING, _iso(now)],
            ).fetchall()
        return [_row(r) for r in found]
