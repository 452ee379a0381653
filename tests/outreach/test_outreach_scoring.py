"""Scoring: the pure core on a real LightGBM model, and the store's scores table in DuckDB."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from outreach_model import TinyModel, frame

from riskstrat.outreach.scoring import RISK_OUT_OF_RANGE, score_matrix, store_scores
from riskstrat.outreach.store_io import NO_SCORES, load_previous, load_scores


@pytest.fixture(scope="module")
def model():
    return TinyModel()


def _matrix(n: int, *, day: date, seed: int = 0) -> pd.DataFrame:
    X = frame(n, seed=seed)
    keys = pd.DataFrame({"patient_id": [f"id{i:04d}" for i in range(n)], "index_date": day})
    return pd.concat([keys.assign(practice_code="P1"), X], axis=1)


def test_score_matrix_rows_and_columns(model):
    day = date(2025, 6, 2)
    m = _matrix(50, day=day)
    scores = score_matrix(m, model=model, task="crisis", as_of=day, scored_at=datetime(2025, 6, 2))
    assert len(scores) == 50 and scores["patient_id"].tolist() == m["patient_id"].tolist()
    np.testing.assert_allclose(scores["risk"], model.predict_risk(m))
    assert set(scores["model_version"]) == {"1"} and scores["index_spell_id"].isna().all()


def test_out_of_range_risk_is_refused(model):
    class Broken(TinyModel):
        def predict_risk(self, X):
            return np.full(len(X), 1.5)

    broken = Broken.__new__(Broken)
    day = date(2025, 6, 2)
    with pytest.raises(ValueError) as err:
        score_matrix(_matrix(3, day=day), model=broken, task="crisis", as_of=day)
    assert str(err.value) == RISK_OUT_OF_RANGE.format(model="crisis", count=3, task="crisis")


def test_store_is_idempotent_and_keeps_history(model):
    con = duckdb.connect()
    with pytest.raises(LookupError) as err:
        load_scores(con, as_of=date(2025, 6, 9), tasks=("crisis",))
    assert str(err.value) == NO_SCORES.format(task="crisis", as_of=date(2025, 6, 9))
    # the option the operator types (--as-of), not the code's name for it (as_of)
    assert "as_of" not in str(err.value) and "for as-of 2025-06-09" in str(err.value)
    for week in (date(2025, 6, 2), date(2025, 6, 9), date(2025, 6, 9)):  # the 9th twice
        m = _matrix(40, day=week, seed=week.day)
        scored = score_matrix(m, model=model, task="crisis", as_of=week)
        store_scores(con, scored, task="crisis", as_of=week, model=model)
    counts = con.execute("SELECT as_of, count(*) FROM scores GROUP BY 1 ORDER BY 1").fetchall()
    assert counts == [(date(2025, 6, 2), 40), (date(2025, 6, 9), 40)]
    assert len(load_scores(con, as_of=date(2025, 6, 9), tasks=("crisis",))) == 40
    prev_as_of, prev = load_previous(con, task="crisis", as_of=date(2025, 6, 9), max_days=14)
    assert prev_as_of == date(2025, 6, 2) and len(prev) == 40
    assert load_previous(con, task="crisis", as_of=date(2025, 6, 30), max_days=14) == (None, None)


def test_failed_store_leaves_the_old_scores(model):
    con = duckdb.connect()
    day = date(2025, 6, 2)
    good = score_matrix(_matrix(10, day=day), model=model, task="crisis", as_of=day)
    store_scores(con, good, task="crisis", as_of=day, model=model)
    bad = good.assign(risk=None)  # violates NOT NULL: the whole replacement is rolled back
    with pytest.raises(duckdb.ConstraintException):
        store_scores(con, bad, task="crisis", as_of=day, model=model)
    assert con.execute("SELECT count(*), min(risk) > 0 FROM scores").fetchone() == (10, True)


def test_a_day_with_nobody_to_score_is_still_scored(model):
    """Zero discharges since the last working day: lists are empty, not 'never scored'."""
    con = duckdb.connect()
    day = date(2025, 6, 3)
    empty = score_matrix(_matrix(0, day=day), model=model, task="readmission_30d", as_of=day)
    assert store_scores(con, empty, task="readmission_30d", as_of=day, model=model) == 0
    assert len(load_scores(con, as_of=day, tasks=("readmission_30d",))) == 0
    with pytest.raises(LookupError) as err:
        load_scores(con, as_of=date(2025, 6, 4), tasks=("readmission_30d",))
    assert str(err.value) == NO_SCORES.format(task="readmission_30d", as_of=date(2025, 6, 4))
