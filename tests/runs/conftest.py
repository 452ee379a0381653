"""A trained home for run tests: the small store plus both tasks' champions in MLflow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from riskstrat.config import Paths, Settings

#: Small, fast model settings: run tests exercise the pipeline, not model quality.
FAST = {
    "lightgbm": {"n_estimators": 40, "learning_rate": 0.1, "num_leaves": 15,
                 "min_child_samples": 20},
    "early_stopping": {"rounds": 10},
    "evaluation": {"bootstrap": 10, "shap_sample": 200, "min_group_rows": 50},
}  # fmt: skip
TASKS = ("crisis", "readmission_30d")


def home_settings(home: Path, *, mlflow_db: Path) -> Settings:
    return Settings(
        paths=Paths(
            data_dir=home / "data",
            store=home / "data" / "store.duckdb",
            out_dir=home / "out",
            source_dir=home / "extract",
            mlflow_uri=f"sqlite:///{mlflow_db}",
        )
    )


@pytest.fixture(scope="session")
def trained_mlflow(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database where both tasks have a champion trained on the small store."""
    from riskstrat.models.train import train_task

    home = tmp_path_factory.mktemp("trained")
    db = home / "mlflow.db"
    settings = home_settings(home, mlflow_db=db)
    settings.paths.store.parent.mkdir(parents=True)
    shutil.copy(small_store, settings.paths.store)
    for task in TASKS:
        train_task(task, settings=settings, overrides=FAST)
    return db


@pytest.fixture
def run_settings(
    isolated_paths: Path,
    small_population: Path,
    small_store: Path,
    trained_mlflow: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Settings of a fresh home (own store copy and outputs) using the trained champions."""
    settings = home_settings(isolated_paths, mlflow_db=trained_mlflow)
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
