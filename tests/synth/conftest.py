"""A 20,000-patient population shared by the synth tests (built once per worker)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

SYNTH_POPULATION = dict(
    patients=20_000, practices=3, start=date(2023, 1, 2), end=date(2025, 12, 28), seed=7
)


@pytest.fixture(scope="session")
def synth_population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from riskstrat.synth.generate import synthesize

    out = tmp_path_factory.mktemp("synth")
    summary = synthesize(**SYNTH_POPULATION, out_dir=out, fmt="parquet")
    return out, summary


@pytest.fixture(scope="session")
def synth_con(synth_population):
    from riskstrat.synth.realism import load_extract

    return load_extract(synth_population[0] / "extract")
