"""Structured logging and progress, with no identifiers.

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


def progress(items: Iterable[T], *, label: str, total: int | None = None) -> Iterator[T]:
    """Progress over a long loop: a bar on a terminal, plain log lines elsewhere (CI, logs)."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    tty = sys.stderr.isatty()
    for i, item in enumerate(items, start=1):
        yield item
        if tty and total:
            filled = int(30 * i / total)
            sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {i}/{total}")
            if i == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif not tty and (i == total or (total and i % max(1, total // 10) == 0)):
            log_event("progress", step=label, done=i, total=total)
