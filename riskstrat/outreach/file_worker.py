"""The practices' list files written in a process of their own.

In a run the list files (xlsxwriter, Jinja, csv) are written beside the commissioner report
(runs/pipeline.py: two lanes after select). Both are pure Python, so in one process they take
turns on the GIL and the lanes barely overlap (docs/scale.md, "Steady-state week"). Here a child
process (`python -m riskstrat.outreach.file_worker`) writes them: the jobs go to it pickled on
its stdin, the paths written (or the error, as raised) come back pickled on its stdout. It
imports only outreach/listfiles.py and what that needs (no pandas, no store), so it is ready by
the time the caller has its jobs, and it writes the same bytes as outreach/listfiles.py does in
the caller's process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

WORKER_FAILED = (
    "list file worker (python -m riskstrat.outreach.file_worker) exited with code {code} "
    "without an answer; its error is in the output above"
)
#: What the worker answers: ("ok", paths) or ("error", the exception it raised).
OK, ERROR = "ok", "error"


class FileWorker:
    """A started worker process: `write(jobs)` once, then it exits. As a context manager it is
    stopped if the caller leaves early (an error or Ctrl-C while preparing the jobs)."""

    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[2])  # this very riskstrat
        paths = [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "riskstrat.outreach.file_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        )

    def write(self, jobs: Sequence[object], *, templates: Path | None) -> list[Path]:
        """Send the jobs (listfiles.PracticeFiles), wait for the files; the paths written."""
        answer, _ = self._process.communicate(pickle.dumps((list(jobs), templates)))
        if self._process.returncode != 0 or not answer:
            raise RuntimeError(WORKER_FAILED.format(code=self._process.returncode))
        status, value = pickle.loads(answer)
        if status == ERROR:
            raise value
        return value

    def __enter__(self) -> FileWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


def serve() -> None:
    """The worker's side: read the jobs, write them, answer. The answer is the only thing on
    stdout (anything else printed goes to stderr)."""
    from riskstrat.outreach.listfiles import write_practice

    answer_to = sys.stdout.buffer
    sys.stdout = sys.stderr
    jobs, templates = pickle.load(sys.stdin.buffer)
    try:
        answer: tuple[str, object] = (
            OK,
            [path for job in jobs for path in write_practice(job, templates=templates)],
        )
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
