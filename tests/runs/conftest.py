"""Run tests' MLflow helpers; `run_settings` (the trained home: the small store plus both tasks'
champions) is in tests/conftest.py, shared with tests/outreach."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from riskstrat.config import Settings


def copy_mlflow(settings: Settings, to: Path) -> tuple[Path, Path]:
    """A private copy of the champions' MLflow database and artifacts, paths rewritten."""
    db = Path(settings.paths.mlflow_uri.removeprefix("sqlite:///"))
    artifacts = db.parent / "mlartifacts"
    to.mkdir()
    new_db, new_artifacts = to / "mlflow.db", to / "mlartifacts"
    shutil.copy(db, new_db)
    shutil.copytree(artifacts, new_artifacts)
    with sqlite3.connect(new_db) as con:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = [
                r[1]
                for r in con.execute(f"PRAGMA table_info({table})")
                if "CHAR" in r[2].upper() or "TEXT" in r[2].upper()
            ]
            for column in columns:
                con.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?)',
                    [str(artifacts), str(new_artifacts)],
                )
    return new_db, new_artifacts


@pytest.fixture
def private_mlflow(
    run_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """A copy of the champions' MLflow (database, artifacts) this test may damage or register
    into; MLFLOW_TRACKING_URI points at it."""
    db, artifacts = copy_mlflow(run_settings, tmp_path / "private-mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    return db, artifacts
