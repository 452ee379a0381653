"""One line for every failure: `Error: <what>, <where>, <what to do>` and an exit code.

`describe(exc)` turns any exception into that line and a code; the CLI's error boundary
(riskstrat/cli.py) prints it, and the scheduler records it as a failed run's reason. It walks the
exception's causes first, so the real cause wins over what it set off: a full disk that made
DuckDB's rollback fail reads "no space left on device", not "cannot rollback".

Exit codes: 1 a scheduled run failed (`schedule --once`: its reason is printed above and in
`riskstrat status`, so cron and systemd see the failure), 2 bad input (a wrong option, date,
name, file or config: fix the command or the file), 3 the environment (disk full, permissions, a
lock held, a damaged database: fix the machine), 70 an internal error (a bug: re-run with
--debug and report it).
"""

from __future__ import annotations

import errno
import traceback
from pathlib import Path

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERNAL = 70

DISK_FULL = "no space left on device, writing {where}, free some space and re-run"
NO_PERMISSION = "permission denied, {where}, check the file's owner and mode"
NOT_FOUND = "file or folder not found, {where}, check the path"
CORRUPT_DB = (
    "the database is damaged or not a database ({detail}), {where}, restore it from a backup "
    "or point the setting at a good one"
)
MISSING_ARTIFACT = (
    "a model artifact is missing from the MLflow artifact store ({detail}), {where}, "
    "retrain the task or restore the mlruns folder"
)
BAD_TIMEZONE = "unknown timezone {value!r}, {where}, use an IANA name such as Europe/London"
NOT_IN_REGISTRY = (
    "{detail}, in the MLflow registry, check the task and version "
    "(`riskstrat status` lists versions without an alias)"
)
RUNS_FAILED = (
    "{n} scheduled run(s) failed ({jobs}), in the schedule's ledger, run `riskstrat status` for "
    "each reason and the command to re-run"
)
INTERNAL = "internal error {kind}: {detail}, at {where}, re-run with --debug and report it"


def _chain(exc: BaseException) -> list[BaseException]:
    """exc and its causes/contexts, outermost first (no cycles)."""
    seen, out = set(), []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _where(exc: BaseException) -> str:
    """The innermost frame of ours (riskstrat/...:line), else the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/riskstrat/" in f.filename.replace("\\", "/")]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "riskstrat"
    path = frame.filename.replace("\\", "/")
    short = path.split("/riskstrat/", 1)[-1] if "/riskstrat/" in path else Path(path).name
    return f"{short}:{frame.lineno}"


def _text(exc: BaseException) -> str:
    text = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    return " ".join(text.split())


def _ours(exc: BaseException) -> bool:
    """Raised by riskstrat's own code (a message written for people), not deep in a library."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "/riskstrat/" in frames[-1].filename.replace("\\", "/")


def _environment(exc: BaseException) -> str | None:
    text = str(exc)
    low = text.lower()
    name = getattr(exc, "filename", None)
    where = str(name) if name else "on this machine"
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "no space left on device" in low:
        return DISK_FULL.format(where=where if name else "the data or output folder")
    if isinstance(exc, PermissionError):
        return NO_PERMISSION.format(where=where)
    markers = ("database disk image is malformed", "file is not a database", "not a valid duckdb")
    if any(m in low for m in markers):
        return CORRUPT_DB.format(detail=" ".join(text.split())[:120], where=where)
    return None


class EnvironmentProblem(RuntimeError):
    """Something on this machine, not the input, stops the command (a lock another run holds, a
    store another program has open, a folder that cannot be written): its message as written,
    exit 3. Defined here, below every stage, so a stage raises it without importing runs/."""


class ScheduledRunsFailed(Exception):
    """`schedule --once` settled a run as failed: exit 1, not 0, so cron mails it and systemd
    marks the unit failed (before, the failure was only in the ledger, the hook and status)."""


def describe(exc: BaseException) -> tuple[str, int]:
    """(one line without the `Error: ` prefix, exit code) for any exception."""
    chain = _chain(exc)
    for link in reversed(chain):  # innermost (the real cause) first
        found = _environment(link)
        if found:
            return found, EXIT_ENVIRONMENT
    for link in chain:
        text = _text(link)
        low = text.lower()
        markers = ("no such artifact", "failed to download artifact")
        if any(m in low for m in markers) or ("artifact" in low and "not found" in low):
            return MISSING_ARTIFACT.format(detail=text[:120], where=_where(link)), EXIT_ENVIRONMENT
        if type(link).__name__ == "ZoneInfoNotFoundError":
            value = text.replace("No time zone found with key ", "")
            return BAD_TIMEZONE.format(value=value, where=_where(link)), EXIT_BAD_INPUT
    if type(exc).__name__ == "MlflowException" and "RESOURCE_DOES_NOT_EXIST" in str(
        getattr(exc, "error_code", "")
    ):
        return NOT_IN_REGISTRY.format(detail=_text(exc)), EXIT_BAD_INPUT
    if isinstance(exc, EnvironmentProblem):
        return _text(exc), EXIT_ENVIRONMENT
    if isinstance(exc, ScheduledRunsFailed):
        return _text(exc), EXIT_RUN_FAILED
    if _input_error(exc):
        return _text(exc), EXIT_BAD_INPUT
    if isinstance(exc, FileNotFoundError):
        return NOT_FOUND.format(where=exc.filename or _text(exc)), EXIT_BAD_INPUT
    detail = _text(exc) or "(no message)"
    return INTERNAL.format(kind=type(exc).__name__, detail=detail, where=_where(exc)), EXIT_INTERNAL


def _input_error(exc: BaseException) -> bool:
    from riskstrat.config import ConfigError

    if isinstance(exc, ConfigError):
        return True
    if type(exc).__name__ in ("IngestError", "SyntheaInputError", "ValidationError"):
        return True
    return isinstance(exc, ValueError | LookupError) and _ours(exc)
