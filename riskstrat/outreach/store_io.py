"""Reading what outreach needs from the DuckDB store (the I/O edge of the outreach stage).

Only pseudonymous tables are read here, except `contacts_reader`, which reads the contacts of the
listed patients only, each for the practice that lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import duckdb
import pandas as pd
import pyarrow as pa

from riskstrat.db import fetch_frame
from riskstrat.outreach.eligibility import OUTCOME_COLUMNS
from riskstrat.registry.contract import TABLES
from riskstrat.scored import SCORE_RUNS_TABLE, SCORES_TABLE

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
#: One row per (task, as_of) scored, even when nobody was eligible (a weekday with no discharges):
#: "scored, nothing to list" must not read as "never scored".
SCORE_RUNS_DDL = f"""CREATE TABLE IF NOT EXISTS {SCORE_RUNS_TABLE} (
  task VARCHAR NOT NULL,
  as_of DATE NOT NULL,
  model_name VARCHAR NOT NULL,
  model_version VARCHAR NOT NULL,
  rows BIGINT NOT NULL,
  scored_at TIMESTAMP NOT NULL
)"""
LISTED_VIEW = "outreach_listed_pairs"  # the run's listed pairs, registered for the contacts join
#: Who each run listed (the history behind "no duplicates across days"): one row per listed
#: person, replaced per (as_of, pathway) when a date is re-run. Pseudonymous ids only.
LISTED_TABLE = "outreach_listed"
LISTED_DDL = f"""CREATE TABLE IF NOT EXISTS {LISTED_TABLE} (
  as_of DATE NOT NULL,
  pathway VARCHAR NOT NULL,
  practice_code VARCHAR NOT NULL,
  patient_id VARCHAR NOT NULL,
  index_spell_id VARCHAR,
  risk DOUBLE NOT NULL,
  section VARCHAR NOT NULL,
  recorded_at TIMESTAMP NOT NULL
)"""
HISTORY_WEEKS_MIN = 6  # history read back at least this far (discharge lists: a few days)
NO_SCORES = (
    "store has no {task} scores for as-of {as_of}: run `riskstrat score --as-of {as_of}` first"
)


#: Each person's dated events before `$as_of` (one row per event: patient_id, d): emergency
#: admissions, discharges and A&E arrivals; `last_event` is the latest.
EVENT_DATES_SQL = """
            SELECT patient_id, admission_date AS d FROM spells
            WHERE admission_method = 'emergency' AND admission_date < $as_of
            UNION ALL
            SELECT patient_id, discharge_date FROM spells WHERE discharge_date < $as_of
            UNION ALL
            SELECT patient_id, CAST(arrival_at AS DATE) FROM ae_attendances
            WHERE CAST(arrival_at AS DATE) < $as_of
        """
#: The people frame without `last_event`; `$as_of` is the list date.
PEOPLE_BASE_SQL = """
        SELECT p.patient_id, p.practice_code, p.registered_from, p.registered_to,
               p.date_of_death, p.data_opt_out, p.care_home,
               pc.patient_id IS NOT NULL AS palliative,
               o.patient_id IS NOT NULL AS in_hospital
        FROM patients p
        LEFT JOIN (
            SELECT DISTINCT patient_id FROM conditions
            WHERE register = 'PC' AND diagnosed_on <= $as_of
              AND (resolved_on IS NULL OR resolved_on > $as_of)
        ) pc USING (patient_id)
        LEFT JOIN (
            SELECT DISTINCT patient_id FROM spells
            WHERE admission_date <= $as_of
              AND (discharge_date IS NULL OR discharge_date > $as_of)
        ) o USING (patient_id)
        """
#: The people frame's query (load_people): PEOPLE_BASE_SQL + everyone's `last_event`. Plain SQL
#: that DuckDB and Spark SQL both run (the Spark engine substitutes a DATE literal for `$as_of`).
PEOPLE_SQL = f"""
        SELECT b.*, e.last_event
        FROM ({PEOPLE_BASE_SQL}) b
        LEFT JOIN (
            SELECT patient_id, max(d) AS last_event FROM ({EVENT_DATES_SQL}) GROUP BY patient_id
        ) e USING (patient_id)
        """
#: PEOPLE_SQL with `last_event` for the people in the view `people_wanted` only (DuckDB): the
#: events are cut to them before they are grouped.
PEOPLE_SOME_EVENTS_SQL = f"""
        SELECT b.*, e.last_event
        FROM ({PEOPLE_BASE_SQL}) b
        LEFT JOIN (
            SELECT ev.patient_id, max(ev.d) AS last_event FROM ({EVENT_DATES_SQL}) ev
            SEMI JOIN people_wanted w ON w.patient_id = ev.patient_id
            GROUP BY ev.patient_id
        ) e USING (patient_id)
        """

#: PEOPLE_SQL's DATE columns (load_people reads them as timestamps).
PEOPLE_DATE_COLUMNS = ("registered_from", "registered_to", "date_of_death", "last_event")


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()[0]
    return bool(found and found[0])


def load_people(
    con: duckdb.DuckDBPyConnection, *, as_of: date, last_event_of: pd.Series | None = None
) -> pd.DataFrame:
    """eligibility.PEOPLE_COLUMNS + OPTIONAL_PEOPLE_COLUMNS.

    `palliative` = on the PC register at as_of. `in_hospital` = an open spell at as_of: admitted
    on or before it and not discharged before it (no discharge date, or one after as_of).
    `last_event` = the latest emergency admission, discharge or A&E arrival before as_of; only
    for the patient ids in `last_event_of` when given (NaT for everyone else): grouping every
    person's events costs most of the query, and a run needs them only for people listed
    before (engine._listed_before).
    """
    # The dates come as TIMESTAMP (the same datetime64[us] values): converting DATE columns in
    # pandas wrote four new 1M-row arrays (~0.4 s at 1M); DuckDB's timestamps pass as they are.
    as_timestamps = ", ".join(f"CAST({c} AS TIMESTAMP) AS {c}" for c in PEOPLE_DATE_COLUMNS)
    if last_event_of is None:
        return fetch_frame(
            con, f"SELECT * REPLACE ({as_timestamps}) FROM ({PEOPLE_SQL})", {"as_of": as_of}
        )
    wanted = pa.table(
        {"patient_id": pa.array(last_event_of.astype("str").array, pa.large_string())}
    )
    con.register("people_wanted", wanted)
    try:
        sql = f"SELECT * REPLACE ({as_timestamps}) FROM ({PEOPLE_SOME_EVENTS_SQL})"
        return fetch_frame(con, sql, {"as_of": as_of})
    finally:
        con.unregister("people_wanted")


def load_history(
    con: duckdb.DuckDBPyConnection, *, as_of: date, weeks: int, days: int | None = None
) -> pd.DataFrame | None:
    """Rows of LISTED_TABLE listed before as_of, within max(weeks, HISTORY_WEEKS_MIN) weeks and
    at least `days` days (default: how long a discharge calls for its follow-up call,
    outreach/actions.yaml `once_per_discharge`, so a weekly row sees every post-discharge
    listing that already asked for it)."""
    if not has_table(con, LISTED_TABLE):
        return None
    if days is None:
        from riskstrat.explain.actions import follow_up_days, load_actions

        days = follow_up_days(load_actions())
    since = as_of - max(timedelta(weeks=max(weeks, HISTORY_WEEKS_MIN)), timedelta(days=days))
    return con.execute(
        f"""SELECT as_of, pathway, practice_code, patient_id, index_spell_id, risk, section
        FROM {LISTED_TABLE} WHERE as_of < ? AND as_of >= ?""",
        [as_of, since],
    ).df()


def record_listed(
    con: duckdb.DuckDBPyConnection,
    lists: pd.DataFrame,
    *,
    as_of: date,
    pathways: Sequence[str],
) -> int:
    """Replace `pathways`' rows of as_of in LISTED_TABLE with `lists` (one transaction)."""
    con.execute(LISTED_DDL)
    cols = ["pathway", "practice_code", "patient_id", "index_spell_id", "risk", "section"]
    rows = lists.loc[lists["pathway"].isin(list(pathways)), cols].copy()
    rows["index_spell_id"] = (
        rows["index_spell_id"].astype("object").where(rows["index_spell_id"].notna(), None)
    )
    rows.insert(0, "as_of", pd.Timestamp(as_of))
    rows["recorded_at"] = pd.Timestamp.now().floor("s")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM {LISTED_TABLE} WHERE as_of = ? AND list_contains(?, pathway)",
            [as_of, list(pathways)],
        )
        if len(rows):
            con.register("new_listed", rows)
            con.execute(f"INSERT INTO {LISTED_TABLE} SELECT * FROM new_listed")
            con.unregister("new_listed")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(rows)


def load_outcomes(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Feedback recorded up to as_of (empty when the optional table is absent), with
    `listed_practice`: the practice whose list the outcome was returned for (the listing
    history's; NULL when that listing is not recorded), for outcomes that hold at that
    practice only (engine.PRACTICE_BOUND: 'Moved away')."""
    if not has_table(con, "outreach_outcomes"):
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in OUTCOME_COLUMNS})
        return frame.assign(listed_practice=pd.Series(dtype="object"))
    cols = ", ".join(f"o.{c}" for c in OUTCOME_COLUMNS)
    if not has_table(con, LISTED_TABLE):
        sql = f"SELECT {cols}, NULL::VARCHAR AS listed_practice FROM outreach_outcomes AS o"
    else:
        sql = f"""SELECT {cols}, l.practice_code AS listed_practice
        FROM outreach_outcomes AS o
        LEFT JOIN (SELECT as_of, pathway, patient_id, any_value(practice_code) AS practice_code
                   FROM {LISTED_TABLE} GROUP BY ALL) AS l
          ON l.patient_id = o.patient_id AND l.pathway = o.pathway AND l.as_of = o.listed_on"""
    return con.execute(f"{sql} WHERE o.listed_on <= ?", [as_of]).df()


def load_feedback_rejects(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """practice_code -> (file, row, column, value, rule) of the latest ingest's rejected
    returned rows and set-aside files (the store's feedback_rejects; empty when absent)."""
    if not has_table(con, "feedback_rejects"):
        return {}
    rows = con.execute(
        'SELECT practice_code, file, "row", "column", value, rule FROM feedback_rejects '
        'WHERE rule <> \'duplicate_row\' ORDER BY practice_code, file, "row", "column"'
    ).fetchall()
    out: dict[str, list[tuple]] = {}
    for code, *rest in rows:
        out.setdefault(str(code), []).append(tuple(rest))
    return out


def load_practices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    cols = ", ".join(TABLES["practices"].column_names)
    return con.execute(f"SELECT {cols} FROM practices ORDER BY practice_code").df()


def load_scores(
    con: duckdb.DuckDBPyConnection, *, as_of: date, tasks: Sequence[str]
) -> pd.DataFrame:
    if not has_table(con, SCORE_RUNS_TABLE):
        raise LookupError(NO_SCORES.format(task=", ".join(tasks), as_of=as_of))
    scored = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT task FROM {SCORE_RUNS_TABLE} WHERE as_of = ?", [as_of]
        ).fetchall()
    }
    for task in tasks:
        if task not in scored:
            raise LookupError(NO_SCORES.format(task=task, as_of=as_of))
    return con.execute(
        f"SELECT * FROM {SCORES_TABLE} WHERE as_of = ? AND list_contains(?, task)",
        [as_of, list(tasks)],
    ).df()


def load_previous(
    con: duckdb.DuckDBPyConnection, *, task: str, as_of: date, max_days: int
) -> tuple[date | None, pd.DataFrame | None]:
    """The latest earlier scores of `task` no more than max_days before as_of (None if none)."""
    then = previous_as_of(con, task=task, as_of=as_of, max_days=max_days)
    if then is None:
        return None, None
    prev = fetch_frame(
        con,
        f"SELECT task, patient_id, risk FROM {SCORES_TABLE} WHERE task = ? AND as_of = ?",
        [task, then],
    )
    return then, prev


def previous_as_of(
    con: duckdb.DuckDBPyConnection, *, task: str, as_of: date, max_days: int
) -> date | None:
    """The date of load_previous's scores (None if none), without reading them."""
    if not has_table(con, SCORES_TABLE):
        return None
    row = con.execute(
        f"SELECT max(as_of) FROM {SCORES_TABLE} WHERE task = ? AND as_of < ? AND as_of >= ?",
        [task, as_of, as_of - timedelta(days=max_days)],
    ).fetchall()[0]
    return row[0] if row else None


def contacts_reader(
    con: duckdb.DuckDBPyConnection,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A reader of the listed patients' contacts, each for the practice that lists them.

    `read(listed)` takes (practice_code, patient_id) pairs and returns the contacts columns and
    the date of birth (from patients) for those patients registered at that very practice,
    nobody else. A listed patient with no contacts row comes back with null contacts (the
    writer marks the row "contact details missing"), never silently dropped. The pairs are
    joined to patients (id and practice) and contacts in one query, so a run reads identifiers
    once, not once per practice (a scan of the whole contacts table each time).
    """
    cols = ", ".join(f"c.{c}" for c in TABLES["contacts"].column_names if c != "patient_id")

    def read(listed: pd.DataFrame) -> pd.DataFrame:
        pairs = listed[["practice_code", "patient_id"]].drop_duplicates()
        con.register(LISTED_VIEW, pairs)
        try:
            return con.execute(
                f"""
                SELECT l.practice_code, l.patient_id, p.date_of_birth, {cols}
                FROM {LISTED_VIEW} l
                JOIN patients p
                  ON p.patient_id = l.patient_id AND p.practice_code = l.practice_code
                LEFT JOIN contacts c ON c.patient_id = l.patient_id
                ORDER BY l.practice_code, l.patient_id
                """
            ).df()
        finally:
            con.unregister(LISTED_VIEW)

    return read
