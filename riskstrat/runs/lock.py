"""One run at a time: a file lock shared by `riskstrat run`, the scheduler's jobs and retraining.

A file lock (not a thread lock) so two processes - say a scheduled run and a hand-started one -
never write the store or publish at the same time. The lock file lives in the data folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from riskstrat.errors import EnvironmentProblem
from riskstrat.logs import log_event

LOCK_FILE = "run.lock"
#: `riskstrat outreach` and `riskstrat report` publish into the same run folders as a run, so
#: they take the lock too, waiting this long for a run in progress before giving up.
STANDALONE_LOCK_WAIT_SECONDS = 10.0
RUN_LOCKED = (
    "another riskstrat run holds the lock {path} (waited {timeout:g} s); "
    "runs never overlap: try again when it has finished"
)


class RunLocked(EnvironmentProblem):
    """Another run (in this or another process) holds the run lock."""


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_FILE


@contextmanager
def run_lock(data_dir: Path, *, timeout: float) -> Iterator[Path]:
    """Hold the run lock for the block; wait up to `timeout` seconds, then raise RunLocked."""
    path = lock_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise RunLocked(RUN_LOCKED.format(path=path, timeout=timeout)) from exc
    log_event("run.lock.acquired")
    try:
        yield path
    finally:
        lock.release()
        log_event("run.lock.released")
