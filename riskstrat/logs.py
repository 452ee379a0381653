"""Structured logging and progress (tqdm), with no identifiers.

Log lines are `event key=value ...`. Callers pass counts, dates, codes and timings, never
patient-level values; `log_event` refuses keys that name identifier columns so a slip fails loudly
in tests instead of leaking into a log file.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm.auto import tqdm

from riskstrat.registry.contract import TABLES

LOGGER_NAME = "riskstrat"
IDENTIFIER_KEY_ERROR = "log key {key!r} names an identifier column: identifiers never go in logs"
#: Column names that must never appear as log keys.
IDENTIFIER_KEYS = frozenset({"patient_id", *(c.name for c in TABLES["contacts"].columns)})

T = TypeVar("T")


def get_logger() -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def log_event(event: str, /, level: int = logging.INFO, **fields: object) -> None:
    for key in fields:
        if key in IDENTIFIER_KEYS:
            raise ValueError(IDENTIFIER_KEY_ERROR.format(key=key))
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    get_logger().log(level, f"{event} {text}".rstrip())


@contextmanager
def timed(step: str, /, **fields: object) -> Iterator[dict[str, object]]:
    """Log the start and end of a step with its wall time; yields a dict for extra fields."""
    extra: dict[str, object] = {}
    start = time.perf_counter()
    log_event(f"{step}.start", **fields)
    yield extra
    log_event(f"{step}.done", seconds=round(time.perf_counter() - start, 2), **fields, **extra)


#: Off a terminal, at most one `progress` line per this many seconds (plus the last one).
PROGRESS_LOG_SECONDS = 5.0


class Progress:
    """A step's progress: a tqdm bar on a terminal; elsewhere plain `progress` log lines at
    tenths of the total, at most one per PROGRESS_LOG_SECONDS, and the last one, so CI and log
    files get a few lines instead of carriage returns."""

    def __init__(self, *, label: str, total: int | None) -> None:
        self.label, self.total, self.done = label, total, 0
        self._next_log = self._step()
        self._last = time.perf_counter()
        self._bar = tqdm(total=total, desc=label, file=sys.stderr, leave=False) if _tty() else None

    def _step(self) -> int:
        return max(1, (self.total or 0) // 10) if self.total else 0

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.total and self.done >= self._next_log:
            now = time.perf_counter()
            if self.done >= self.total or now - self._last >= PROGRESS_LOG_SECONDS:
                log_event("progress", step=self.label, done=self.done, total=self.total)
                self._last = now
            self._next_log = self.done + self._step()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _tty() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress_bar(*, label: str, total: int | None) -> Iterator[Progress]:
    """Progress of a step updated by the caller (e.g. boosting rounds, bootstrap resamples)."""
    bar = Progress(label=label, total=total)
    try:
        yield bar
    finally:
        bar.close()


def progress(items: Iterable[T], *, label: str, total: int | None = None) -> Iterator[T]:
    """Progress over a long loop (see `Progress`)."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    with progress_bar(label=label, total=total) as bar:
        for item in items:
            yield item
            bar.update(1)
