"""`describe`: the real cause of a failure, in one line, with an exit code per kind."""

from __future__ import annotations

import errno

import duckdb
import numpy as np
import pytest

from riskstrat.errors import (
    DISK_FULL,
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    describe,
)


def _raised(fn) -> BaseException:
    try:
        fn()
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")


def test_disk_full_wins_over_the_failed_rollback_it_caused() -> None:
    con = duckdb.connect()

    def write() -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            con.execute("ROLLBACK")  # DuckDB: cannot rollback - no transaction is active

    exc = _raised(write)
    assert "cannot rollback" in str(exc)
    line, code = describe(exc)
    assert line == DISK_FULL.format(where="the data or output folder")
    assert code == EXIT_ENVIRONMENT


def test_a_library_error_is_internal_with_where_and_what_to_do() -> None:
    exc = _raised(lambda: np.zeros(3).reshape(2, 2))
    line, code = describe(exc)
    assert code == EXIT_INTERNAL
    assert line.startswith("internal error ValueError: cannot reshape array")
    assert line.endswith("re-run with --debug and report it")
    assert "\n" not in line


def test_our_own_refusal_is_bad_input() -> None:
    from riskstrat.runs.state import UNKNOWN_PATHWAY, RunOptions, RunState

    exc = _raised(
        lambda: RunState.start(as_of=None, pathways=["x"], settings=None, options=RunOptions())
    )
    line, code = describe(exc)
    assert code == EXIT_BAD_INPUT and line.startswith(UNKNOWN_PATHWAY.split("{")[0])


@pytest.mark.parametrize("key", ["Europe/Lndon", "Mars/Olympus"])
def test_bad_timezone_names_the_value(key: str) -> None:
    from zoneinfo import ZoneInfo

    line, code = describe(_raised(lambda: ZoneInfo(key)))
    assert line.startswith(f"unknown timezone '{key}'") and code == EXIT_BAD_INPUT
