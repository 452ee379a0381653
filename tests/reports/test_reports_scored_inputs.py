"""Reading matured scores with the inputs they were scored with (riskstrat.scored.read_scored):
the row-by-row read gives exactly what the keyed join gives, and is used only when it must."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from riskstrat.outreach.store_io import SCORES_DDL
from riskstrat.scored import INPUT_COLUMNS, SCORED_INPUTS_DDL, _side_by_side, read_scored

DAY = date(2025, 9, 29)
KEYS = ("patient_id", "index_date")


def _rows(n: int, *, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:05d}" for i in range(n)],
            "index_date": pd.Timestamp(DAY),
            "index_spell_id": None,
            "risk": rng.random(n),
            "practice_code": rng.choice(["A1", "B2", None], n),
            **{c: rng.integers(0, 9, n).astype(float) for c in INPUT_COLUMNS[1:]},
        }
    )


def _store(scores: pd.DataFrame, inputs: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(SCORES_DDL)
    con.execute(SCORED_INPUTS_DDL)
    con.register("s", scores)
    con.execute(
        "INSERT INTO scores SELECT 'crisis', ?, patient_id, index_date, index_spell_id, risk, "
        "'m', '1', now() FROM s",
        [DAY],
    )
    con.register("i", inputs)
    con.execute(
        "INSERT INTO scored_inputs SELECT 'crisis', ?, patient_id, index_date, index_spell_id, "
        f"{', '.join(INPUT_COLUMNS)} FROM i",
        [DAY],
    )
    return con


def _expected(scores: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """The keyed join and sort, in pandas."""
    merged = scores[[*KEYS, "risk"]].merge(inputs[[*KEYS, *INPUT_COLUMNS]], on=list(KEYS))
    return merged.sort_values(list(KEYS), ignore_index=True)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == [*KEYS, "risk", *INPUT_COLUMNS]
    for column in want.columns:
        mine, theirs = got[column].to_numpy(), want[column].to_numpy()
        if column == "index_date":
            mine, theirs = pd.to_datetime(mine), pd.to_datetime(theirs)
        assert pd.Series(mine).equals(pd.Series(theirs).astype(pd.Series(mine).dtype)), column


def test_rows_written_together_in_key_order_are_read_side_by_side() -> None:
    rows = _rows(500)
    con = _store(rows, rows)
    got = read_scored(con, task="crisis", keys=KEYS, as_of=DAY)
    _same(got, _expected(rows, rows))
    assert _side_by_side(con, task="crisis", keys=KEYS, day=DAY) is not None


def test_rows_in_another_order_are_joined_on_their_keys() -> None:
    """Inputs written in another order than their scores (or scores not in key order): the
    row-by-row read is refused and the keyed join gives the right inputs for each score."""
    rows = _rows(500)
    shuffled = rows.sample(frac=1, random_state=3).reset_index(drop=True)
    for scores, inputs in ((rows, shuffled), (shuffled, shuffled)):
        con = _store(scores, inputs)
        assert _side_by_side(con, task="crisis", keys=KEYS, day=DAY) is None
        _same(read_scored(con, task="crisis", keys=KEYS, as_of=DAY), _expected(scores, inputs))


@pytest.mark.parametrize("n", [1, 2])
def test_repeated_or_few_ids(n: int) -> None:
    """A person indexed twice (first key not strictly increasing) goes through the join; one
    row is read side by side."""
    rows = _rows(n)
    if n == 2:
        rows["patient_id"] = "P00000"
        rows["index_date"] = [pd.Timestamp(DAY), pd.Timestamp(DAY) - pd.Timedelta(days=1)]
    con = _store(rows, rows)
    _same(read_scored(con, task="crisis", keys=KEYS, as_of=DAY), _expected(rows, rows))
    fast = _side_by_side(con, task="crisis", keys=KEYS, day=DAY)
    assert (fast is None) == (n == 2)
