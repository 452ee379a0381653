"""The practices' list files written in processes of their own.

In a run the list files (xlsxwriter, Jinja, csv) are written beside the commissioner report
(runs/pipeline.py: two lanes after select). Both are pure Python, so in one process they take
turns on the GIL and the lanes barely overlap (docs/scale.md, "Steady-state week, stop 24").
Here child processes (`python -m riskstrat.outreach.file_worker`) write them, each a run of
consecutive practices: the jobs go to a child pickled on its stdin, the paths written (or the
error, as raised) come back pickled on its stdout, with each file's content hash for the run's
manifest (riskstrat.filehash). A child imports only outreach/listfiles.py and riskstrat.filehash
and what they need (no pandas, no store), so it is ready by the time the caller has its jobs,
and it writes the same bytes as outreach/listfiles.py does in the caller's process. Spawned, not
forked: the caller has DuckDB's, OpenMP's and its own threads by then.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from contextlib import suppress
from itertools import pairwise
from pathlib import Path
from types import TracebackType

from riskstrat.filehash import remember, stamp

WORKER_FAILED = (
    "list file worker (python -m riskstrat.outreach.file_worker) exited with code {code} "
    "without an answer; its error is in the output above"
)
#: Worker processes a run's list files are shared between (runs/steps.py): on two cores one
#: writes beside the report, both once it is done.
FILE_WORKERS = 2
#: What the worker answers: ("ok", paths, their riskstrat.filehash stamps) or ("error", the
#: exception it raised).
OK, ERROR = "ok", "error"


class FileWorkers:
    """Started worker processes: `write(jobs)` once (the jobs split between them in order),
    then they exit. As a context manager they are stopped if the caller leaves early (an error
    or Ctrl-C while preparing the jobs)."""

    def __init__(self, count: int = FILE_WORKERS) -> None:
        package_parent = str(Path(__file__).resolve().parents[2])  # this very riskstrat
        paths = [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        self._processes = [
            subprocess.Popen(
                [sys.executable, "-m", "riskstrat.outreach.file_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            for _ in range(max(1, count))
        ]

    def write(self, jobs: Sequence[object], *, templates: Path | None) -> list[Path]:
        """Send each worker its share of the jobs (listfiles.PracticeFiles, consecutive ones),
        wait for the files; the paths written, in the jobs' order."""
        shares = _shares(list(jobs), len(self._processes))
        for process, share in zip(self._processes, shares, strict=True):
            try:
                process.stdin.write(pickle.dumps((share, templates)))  # type: ignore[union-attr]
                process.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:  # it died before reading: WORKER_FAILED below
                pass
        answers = [process.stdout.read() for process in self._processes]  # type: ignore[union-attr]
        written: list[Path] = []
        for process, answer in zip(self._processes, answers, strict=True):
            if process.wait() != 0 or not answer:
                raise RuntimeError(WORKER_FAILED.format(code=process.returncode))
            status, value, *stamps = pickle.loads(answer)
            if status == ERROR:
                raise value
            for path, stamped in zip(value, *stamps, strict=True):
                remember(path, stamped)  # the run's manifest hashes them without reading them
            written += value
        return written

    def __enter__(self) -> FileWorkers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None and not pipe.closed:
                    with suppress(OSError):  # a dead worker's stdin: the pipe is broken
                        pipe.close()


def _shares(jobs: list[object], count: int) -> list[list[object]]:
    """`count` runs of consecutive jobs, as even in number as can be (the first ones longer)."""
    size, extra = divmod(len(jobs), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [jobs[start:stop] for start, stop in pairwise(bounds)]


def serve() -> None:
    """The worker's side: read the jobs, write them, answer. The answer is the only thing on
    stdout (anything else printed goes to stderr)."""
    from riskstrat.outreach.listfiles import write_practice

    answer_to = sys.stdout.buffer
    sys.stdout = sys.stderr
    jobs, templates = pickle.load(sys.stdin.buffer)
    try:
        written = [path for job in jobs for path in write_practice(job, templates=templates)]
        # hashed here, in parallel with the report, not at the end of the run (riskstrat.filehash)
        answer: tuple[object, ...] = (OK, written, [stamp(path) for path in written])
    except Exception as exc:  # raised again in the caller, as it is
        answer = (ERROR, _picklable(exc))
    answer_to.write(pickle.dumps(answer))
    answer_to.flush()


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


if __name__ == "__main__":
    serve()
