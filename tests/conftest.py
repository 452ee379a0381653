"""Shared fixtures. Every test runs with its own data, output and MLflow locations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from riskstrat.config import Paths, Settings

#: The small synthetic population most integration tests share (built once per test worker).
SMALL_POPULATION = dict(
    patients=6000, practices=4, start=date(2023, 1, 2), end=date(2025, 12, 28), seed=11
)


#: Small, fast model settings for tests of the stages after training (not of model quality).
FAST_MODEL = {
    "lightgbm": {"n_estimators": 40, "learning_rate": 0.1, "num_leaves": 15,
                 "min_child_samples": 20, "num_threads": 1},
    "early_stopping": {"rounds": 10},
    "evaluation": {"bootstrap": 10, "shap_sample": 200, "min_group_rows": 50},
}  # fmt: skip
TASKS = ("crisis", "readmission_30d")


def home_settings(home: Path, *, mlflow_db: Path) -> Settings:
    """Settings with every path under `home` and MLflow in `mlflow_db`."""
    return Settings(
        paths=Paths(
            data_dir=home / "data",
            store=home / "data" / "store.duckdb",
            out_dir=home / "out",
            source_dir=home / "extract",
            mlflow_uri=f"sqlite:///{mlflow_db}",
        )
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
    from riskstrat.config import load_settings
    from riskstrat.registry.ingest import ingest

    store = tmp_path_factory.mktemp("store") / "store.duckdb"
    ingest(
        small_population / "extract",
        extract_date=SMALL_POPULATION["end"],
        store_path=store,
        settings=load_settings(),
    )
    return store


@pytest.fixture(scope="session")
def settings_under():
    """`home_settings` for tests in other folders (conftest modules are not importable)."""
    return home_settings


@pytest.fixture(scope="session")
def fast_champions(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow sqlite database where both tasks have a champion trained (FAST_MODEL) on the
    small store. Shared by the whole session: read and score with it; don't register into it."""
    import shutil

    from riskstrat.models.train import train_task

    home = tmp_path_factory.mktemp("fast-champions")
    db = home / "mlflow.db"
    settings = home_settings(home, mlflow_db=db)
    settings.paths.store.parent.mkdir(parents=True)
    shutil.copy(small_store, settings.paths.store)
    for task in TASKS:
        train_task(task, settings=settings, overrides=FAST_MODEL)
    return db


@pytest.fixture
def run_settings(
    isolated_paths: Path,
    small_population: Path,
    small_store: Path,
    fast_champions: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Settings of a fresh home (own store copy and outputs) using the trained champions; the
    RISKSTRAT_* paths and MLFLOW_TRACKING_URI point at it."""
    import shutil

    settings = home_settings(isolated_paths, mlflow_db=fast_champions)
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
