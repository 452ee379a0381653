"""Both tasks on the shared synthetic store: matrices with labels, and no leakage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskstrat.cli import main
from riskstrat.features import build_features, load_catalogue
from riskstrat.features.audit import leakage_audit, read_registry
from riskstrat.registry.store import connect
from riskstrat.tasks import attach_labels, build_index, load_task

pytest.importorskip("riskstrat.synth.generate")
EXTRACT = date(2025, 12, 28)


@pytest.mark.parametrize(
    ("task", "window"),
    [
        ("crisis", dict(as_of_dates=["2025-03-03", "2025-06-02"])),
        ("readmission_30d", dict(start="2025-01-01", end="2025-12-27")),
    ],
)
def test_both_tasks_make_labelled_matrices(small_store: Path, task: str, window: dict) -> None:
    with connect(small_store) as con:
        index = build_index(con, task, **window)
        matrix = build_features(con, index, task=task)
        labelled = attach_labels(con, task, index, extract_date=EXTRACT)
    assert len(index) > 100 and len(matrix) == len(index)
    features = load_catalogue().model_features(load_task(task))
    assert (matrix[features].dtypes == "float64").all()
    rate = labelled["label"].astype("float64").mean()
    assert 0 < rate < 0.5
    if task == "readmission_30d":  # discharges in the last 30 days are not yet labelled
        assert labelled["label"].isna().any() and labelled["label"].notna().mean() > 0.8


def test_no_leakage_on_the_synthetic_store(small_store: Path) -> None:
    with connect(small_store) as con:
        tables = read_registry(con)
        index = build_index(con, "crisis", as_of_dates=["2025-06-02"]).head(1500)
        discharges = build_index(con, "readmission_30d", start="2025-03-01", end="2025-06-30")
    assert leakage_audit(tables, index, task="crisis") == []
    assert leakage_audit(tables, discharges.head(300), task="readmission_30d") == []


def test_features_command_writes_parquet(small_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "features"
    result = CliRunner().invoke(
        main,
        [
            "features",
            "crisis",
            "--as-of",
            "2025-06-02",
            "--store",
            str(small_store),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    matrix = pd.read_parquet(out / "crisis-2025-06-02.parquet")  # --out is the folder
    assert "label" in matrix.columns and matrix["label"].notna().all()
    assert f"{len(matrix)} rows x {matrix.shape[1]} columns" in result.output
