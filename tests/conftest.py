"""Shared fixtures. Every test runs with its own data, output and MLflow locations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

#: The small synthetic population most integration tests share (built once per test worker).
SMALL_POPULATION = dict(
    patients=6000, practices=4, start=date(2023, 1, 2), end=date(2025, 12, 28), seed=11
)


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data, store, outputs and MLflow at a per-test folder: tests never touch data/."""
    home = tmp_path / "riskstrat-home"
    home.mkdir()
    monkeypatch.setenv("RISKSTRAT_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("RISKSTRAT_STORE", str(home / "data" / "store.duckdb"))
    monkeypatch.setenv("RISKSTRAT_OUT_DIR", str(home / "out"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
    return home


@pytest.fixture(scope="session")
def small_population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic care system written as extracts (folder with extract/ and truth/)."""
    from riskstrat.synth.generate import synthesize

    out = tmp_path_factory.mktemp("population")
    synthesize(**SMALL_POPULATION, out_dir=out, fmt="parquet")
    return out


@pytest.fixture(scope="session")
def small_store(small_population: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small population ingested into a DuckDB store (read it; copy it before writing)."""
    from riskstrat.registry.ingest import ingest

    from riskstrat.config import load_settings

    store = tmp_path_factory.mktemp("store") / "store.duckdb"
    ingest(
        small_population / "extract",
        extract_date=SMALL_POPULATION["end"],
        store_path=store,
        settings=load_settings(),
    )
    return store
