"""A trained home for run tests: the small store plus both tasks' champions in MLflow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from riskstrat.config import Settings


@pytest.fixture
def run_settings(
    isolated_paths: Path,
    small_population: Path,
    small_store: Path,
    fast_champions: Path,
    settings_under,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Settings of a fresh home (own store copy and outputs) using the trained champions."""
    settings = settings_under(isolated_paths, mlflow_db=fast_champions)
    settings.paths.store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(small_store, settings.paths.store)
    shutil.copytree(small_population / "extract", settings.paths.source_dir)
    for env, value in {
        "RISKSTRAT_DATA_DIR": settings.paths.data_dir,
        "RISKSTRAT_STORE": settings.paths.store,
        "RISKSTRAT_OUT_DIR": settings.paths.out_dir,
        "RISKSTRAT_SOURCE_DIR": settings.paths.source_dir,
        "MLFLOW_TRACKING_URI": settings.paths.mlflow_uri,
    }.items():
        monkeypatch.setenv(env, str(value))
    return settings
