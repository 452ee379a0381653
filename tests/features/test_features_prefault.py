"""The feature block's pages faulted in by a thread while the groups' SQL runs
(features.runner._prefault): nothing written is changed, and the matrix is the same."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pandas as pd
import pytest
from feature_dates import AS_OF

from riskstrat.features import build_features, runner
from riskstrat.features.audit import memory_registry
from riskstrat.tasks import build_index

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="MADV_POPULATE_WRITE is Linux's")


@linux_only
def test_populating_pages_keeps_what_is_written_meanwhile() -> None:
    block = np.empty((4, 2**21), dtype="float64")  # 64 MiB, fresh
    block[0] = 1.5  # written before
    written = threading.Event()

    def write_meanwhile() -> None:
        block[1:] = np.arange(block[1:].size, dtype="float64").reshape(3, -1)
        written.set()

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    assert runner.populate_pages(block)  # the kernel call succeeded (Linux 5.14+)
    writer.join()
    assert written.is_set()
    assert (block[0] == 1.5).all()
    np.testing.assert_array_equal(block[1:].ravel(), np.arange(block[1:].size))


@linux_only
def test_matrix_is_the_same_with_and_without_prefaulting(
    tables: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    started: list[threading.Thread] = []
    prefault = runner._prefault

    def counted(block: np.ndarray) -> threading.Thread | None:
        thread = prefault(block)
        started.extend([thread] if thread is not None else [])
        return thread

    monkeypatch.setattr(runner, "_prefault", counted)
    monkeypatch.setattr(runner, "PREFAULT_MIN_BYTES", 2**62)
    plain = build_features(con, index, task="crisis")
    monkeypatch.setattr(runner, "PREFAULT_MIN_BYTES", 0)
    prefaulted = build_features(con, index, task="crisis")
    assert len(started) == 1 and not started[0].is_alive()  # joined before returning
    pd.testing.assert_frame_equal(plain, prefaulted)
    features = plain.columns[plain.dtypes == "float64"]
    assert plain[features].to_numpy().tobytes() == prefaulted[features].to_numpy().tobytes()
