"""Identifiers never reach MLflow through the public API: a text column is a categorical
feature whose levels are stored with the model (bundle meta.json), so an inferred text feature
with about one value per patient (a date of birth, a postcode, a name) is refused by name."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.models import fit
from riskstrat.models.frame import IDENTIFIER_LIKE

FAST = {"lightgbm": {"n_estimators": 20}, "evaluation": {"bootstrap": 5}}


def _frame(n: int = 3000, patients: int = 1200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "patient_nbr": rng.integers(0, patients, n).astype(str),
            "insulin": rng.choice(["No", "Steady", "Up", "Down"], n),
            "number_inpatient": rng.poisson(0.6, n),
            "diag_1": rng.choice([f"{c:03d}" for c in range(60)], n),  # a real categorical
        }
    )
    people = frame["patient_nbr"].unique()
    born = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 20000, len(people)), "D")
    dob = dict(zip(people, born.strftime("%Y-%m-%d"), strict=True))
    frame["date_of_birth"] = frame["patient_nbr"].map(dob)  # as a CSV reads it: text
    logit = -2.5 + 0.9 * frame["number_inpatient"]
    frame["readmitted_30d"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def test_an_identifier_like_text_column_is_refused_by_name() -> None:
    frame = _frame()
    with pytest.raises(ValueError, match=IDENTIFIER_LIKE.split("{")[0]) as err:
        fit(frame, label="readmitted_30d", group="patient_nbr", overrides=FAST)
    assert "'date_of_birth'" in str(err.value) and "training groups" in str(err.value)
    # excluded, the model fits, and no date of birth is among the levels it would store
    model = fit(
        frame, label="readmitted_30d", group="patient_nbr", exclude=["date_of_birth"],
        overrides=FAST,
    )  # fmt: skip
    stored = model.bundle().meta["categories"]
    assert set(stored) == {"insulin", "diag_1"} and len(stored["diag_1"]) == 60
    # without a group the unit is the row: still refused
    with pytest.raises(ValueError, match="training rows"):
        fit(frame.drop(columns="patient_nbr").drop_duplicates("date_of_birth"),
            label="readmitted_30d", overrides=FAST)  # fmt: skip
    # listed explicitly, it is the caller's decision
    kept = fit(
        frame, label="readmitted_30d", group="patient_nbr", overrides=FAST,
        features=["insulin", "number_inpatient", "date_of_birth"],
    )  # fmt: skip
    assert "date_of_birth" in kept.bundle().meta["categories"]


def test_fit_frame_says_so_in_one_line(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "training"))
    from fit_frame import main

    path = tmp_path / "own.csv"
    _frame().to_csv(path, index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = CliRunner().invoke(
        main, [str(path), "--label", "readmitted_30d", "--group", "patient_nbr", "--mlflow", uri]
    )
    assert run.exit_code == 1
    assert run.output.startswith("Error: ") and len(run.output.strip().splitlines()) == 1
    assert "'date_of_birth'" in run.output and "Traceback" not in run.output
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()
