"""The quick paths of select and lists at scale (issue 19) give what the plain pandas ways give."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from riskstrat.db import fetch_frame
from riskstrat.outreach.engine import _lookup, _population
from riskstrat.outreach.lists import MIXED_VERSIONS, model_versions


def test_lookup_gives_the_first_position_of_each_id_and_minus_one_when_absent() -> None:
    keys = pd.Series(["a", "b", "c", "b", None, "d"], dtype="str")
    ids = pd.Series(["b", "z", None, "d", "a", "b"], dtype="str")
    assert _lookup(keys, ids).tolist() == [1, -1, -1, 5, 0, 1]
    # Object columns (frames built by hand) match the same way.
    assert _lookup(keys.astype(object), ids.astype(object)).tolist() == [1, -1, -1, 5, 0, 1]
    assert _lookup(keys, ids.iloc[:0]).tolist() == []
    assert _lookup(keys.iloc[:0], ids).tolist() == [-1] * 6


def test_lookup_among_looks_only_in_the_masked_keys() -> None:
    keys = pd.Series(["a", "b", "c", "b", "a", "d"], dtype="str")
    ids = pd.Series(["a", "b", "c", "d", "e"], dtype="str")
    among = np.array([False, True, False, True, True, True])
    # "a" only at 4 among the masked keys, "b" first at 1, "c" masked out, "e" absent.
    assert _lookup(keys, ids, among=among).tolist() == [4, 1, -1, 5, -1]
    assert _lookup(keys, ids, among=np.zeros(6, dtype=bool)).tolist() == [-1] * 5


def test_lookup_takes_the_first_of_many_repeats_in_any_order() -> None:
    rng = np.random.default_rng(5)
    keys = pd.Series([f"P{i:04d}" for i in rng.integers(0, 300, 4000)], dtype="str")
    ids = pd.Series([f"P{i:04d}" for i in rng.integers(0, 400, 2000)], dtype="str")
    first = pd.Series(np.arange(len(keys)), index=keys.to_numpy()).groupby(level=0).min()
    expected = ids.map(first).fillna(-1).astype("int64").tolist()
    assert _lookup(keys, ids).tolist() == expected


def test_population_is_the_groupby_mean_and_count_to_the_last_bit() -> None:
    rng = np.random.default_rng(7)
    tasks = pd.Series(rng.choice(["crisis", "readmission", None], 5000), dtype="str")
    scores = pd.DataFrame({"task": tasks, "risk": rng.random(5000) ** 3})
    expected = {
        str(t): (float(rows["risk"].mean()), len(rows)) for t, rows in scores.groupby("task")
    }
    assert _population(scores) == expected
    assert list(_population(scores)) == ["crisis", "readmission"]
    assert _population(scores.iloc[:0]) == {}


def test_lookup_agrees_with_a_pandas_index_on_many_ids() -> None:
    rng = np.random.default_rng(3)
    keys = pd.Series([f"P{i:07d}" for i in rng.permutation(5000)], dtype="str")
    ids = pd.Series([f"P{i:07d}" for i in rng.integers(0, 6000, 3000)], dtype="str")
    assert np.array_equal(_lookup(keys, ids), pd.Index(keys).get_indexer(ids))


def test_fetch_frame_gives_what_df_gives() -> None:
    con = duckdb.connect()
    sql = """SELECT * FROM (VALUES
        ('p1', DATE '2025-01-02', TRUE, 1.5::DOUBLE, NULL::DATE, 'x', 2.25, TRUE, 3, NULL::INT),
        ('p2', NULL, FALSE, NULL, DATE '2024-12-31', NULL, NULL, NULL, 4, 5)
    ) t(patient_id, day, flag, risk, other_day, text, amount, maybe, n, maybe_n)
    WHERE day IS NULL OR day <= $until"""
    params = {"until": date(2025, 1, 5)}
    got, want = fetch_frame(con, sql, params), con.execute(sql, params).df()
    pd.testing.assert_frame_equal(got, want)
    assert str(got["maybe"].dtype) == "boolean" and str(got["n"].dtype) == "int32"
    empty = "SELECT 'a' AS s, DATE '2025-01-01' AS d WHERE FALSE"
    none = fetch_frame(con, empty)
    assert none.empty and list(none.columns) == ["s", "d"]
    assert str(none["s"].dtype) == "str"  # (`.df()` leaves an empty text column `object`)


def test_model_versions_names_each_task_s_model_and_refuses_a_mix() -> None:
    scores = pd.DataFrame(
        {
            "task": ["crisis"] * 3 + ["readmission_30d"] * 2,
            "model_name": ["riskstrat-crisis"] * 3 + ["riskstrat-readmission_30d"] * 2,
            "model_version": ["4", "4", "4", "2", "3"],
        }
    )
    assert model_versions(scores.iloc[:4], as_of=date(2025, 12, 29)) == {
        "crisis": ("riskstrat-crisis", "4"),
        "readmission_30d": ("riskstrat-readmission_30d", "2"),
    }
    versions = [
        {"model_name": "riskstrat-readmission_30d", "model_version": "2"},
        {"model_name": "riskstrat-readmission_30d", "model_version": "3"},
    ]
    message = MIXED_VERSIONS.format(
        task="readmission_30d", as_of=date(2025, 12, 29), versions=versions
    )
    with pytest.raises(ValueError) as raised:
        model_versions(scores, as_of=date(2025, 12, 29))
    assert str(raised.value) == message
