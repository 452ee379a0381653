"""Reading what outreach needs from the DuckDB store (the I/O edge of the outreach stage).

Only pseudonymous tables are read here, except `contacts_reader`, which reads the contacts of one
practice's listed patients and nobody else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import duckdb
import pandas as pd

from riskstrat.outreach.eligibility import OUTCOME_COLUMNS
from riskstrat.registry.contract import TABLES

SCORES_TABLE = "scores"
#: The engine's scores table (history kept; one row per task, as_of, patient_id, index_spell_id).
SCORES_DDL = f"""CREATE TABLE IF NOT EXISTS {SCORES_TABLE} (
  task VARCHAR NOT NULL,
  as_of DATE NOT NULL,
  patient_id VARCHAR NOT NULL,
  index_date DATE NOT NULL,
  index_spell_id VARCHAR,
  risk DOUBLE NOT NULL,
  model_name VARCHAR NOT NULL,
  model_version VARCHAR NOT NULL,
  scored_at TIMESTAMP NOT NULL
)"""
SCORES_COLUMNS = (
    "task", "as_of", "patient_id", "index_date", "index_spell_id", "risk", "model_name",
    "model_version", "scored_at",
)  # fmt: skip
NO_SCORES = (
    "store has no {task} scores for as_of {as_of}: run `riskstrat score --as-of {as_of}` first"
)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def load_people(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """eligibility.PEOPLE_COLUMNS; `palliative` = on the PC register at as_of."""
    return con.execute(
        """
        SELECT p.patient_id, p.practice_code, p.registered_from, p.registered_to,
               p.date_of_death, p.data_opt_out, p.care_home,
               pc.patient_id IS NOT NULL AS palliative
        FROM patients p
        LEFT JOIN (
            SELECT DISTINCT patient_id FROM conditions
            WHERE register = 'PC' AND diagnosed_on <= $as_of
              AND (resolved_on IS NULL OR resolved_on > $as_of)
        ) pc USING (patient_id)
        """,
        {"as_of": as_of},
    ).df()


def load_outcomes(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Feedback recorded up to as_of (empty when the optional table is absent)."""
    if not has_table(con, "outreach_outcomes"):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in OUTCOME_COLUMNS})
    cols = ", ".join(OUTCOME_COLUMNS)
    return con.execute(f"SELECT {cols} FROM outreach_outcomes WHERE listed_on <= ?", [as_of]).df()


def load_practices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    cols = ", ".join(TABLES["practices"].column_names)
    return con.execute(f"SELECT {cols} FROM practices ORDER BY practice_code").df()


def load_scores(
    con: duckdb.DuckDBPyConnection, *, as_of: date, tasks: Sequence[str]
) -> pd.DataFrame:
    if not has_table(con, SCORES_TABLE):
        raise LookupError(NO_SCORES.format(task=", ".join(tasks), as_of=as_of))
    frame = con.execute(
        f"SELECT * FROM {SCORES_TABLE} WHERE as_of = ? AND list_contains(?, task)",
        [as_of, list(tasks)],
    ).df()
    for task in tasks:
        if not (frame["task"] == task).any():
            raise LookupError(NO_SCORES.format(task=task, as_of=as_of))
    return frame


def load_previous(
    con: duckdb.DuckDBPyConnection, *, task: str, as_of: date, max_days: int
) -> tuple[date | None, pd.DataFrame | None]:
    """The latest earlier scores of `task` no more than max_days before as_of (None if none)."""
    if not has_table(con, SCORES_TABLE):
        return None, None
    row = con.execute(
        f"SELECT max(as_of) FROM {SCORES_TABLE} WHERE task = ? AND as_of < ? AND as_of >= ?",
        [task, as_of, as_of - timedelta(days=max_days)],
    ).fetchone()
    if not row or row[0] is None:
        return None, None
    prev = con.execute(
        f"SELECT task, patient_id, risk FROM {SCORES_TABLE} WHERE task = ? AND as_of = ?",
        [task, row[0]],
    ).df()
    return row[0], prev


def contacts_reader(
    con: duckdb.DuckDBPyConnection,
) -> Callable[[str, Sequence[str]], pd.DataFrame]:
    """A reader of one practice's contacts: only listed patients registered at that practice.

    Each call reads the rows of the given patient_ids that are registered at `practice_code`,
    nobody else's (an id list bound as parameters, so DuckDB filters while scanning).
    """
    cols = ", ".join(f"c.{c}" for c in TABLES["contacts"].column_names)

    def read(practice_code: str, patient_ids: Sequence[str]) -> pd.DataFrame:
        marks = ", ".join("?" for _ in patient_ids) or "NULL"
        return con.execute(
            f"""
            SELECT {cols} FROM contacts c JOIN patients p USING (patient_id)
            WHERE c.patient_id IN ({marks}) AND p.patient_id IN ({marks})
              AND p.practice_code = ?
            """,
            [*patient_ids, *patient_ids, practice_code],
        ).df()

    return read
