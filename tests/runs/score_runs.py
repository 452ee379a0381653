"""The store's record of post-discharge scorings (score_runs), set and read by the run tests:
"the last published post-discharge list was on day D" is one row; what each run scored is read
back per as-of date."""

from __future__ import annotations

from datetime import date, datetime, time

from riskstrat.config import Settings
from riskstrat.outreach.store_io import SCORE_RUNS_DDL, SCORE_RUNS_TABLE
from riskstrat.registry.store import connect


def last_post_discharge_list(settings: Settings, day: date) -> None:
    """Record a readmission scoring on `day` at 07:00 (0 rows), as a published list leaves."""
    with connect(settings.paths.store, read_only=False) as con:
        con.execute(SCORE_RUNS_DDL)
        con.execute(
            f"INSERT INTO {SCORE_RUNS_TABLE} VALUES ('readmission_30d', ?, 'm', '1', 0, ?)",
            [day, datetime.combine(day, time(7))],
        )


def readmission_scorings(settings: Settings) -> dict[date, int]:
    """As-of date -> discharges scored, for every readmission scoring in the store."""
    with connect(settings.paths.store, read_only=True) as con:
        rows = con.execute(
            "SELECT as_of, rows FROM score_runs WHERE task = 'readmission_30d'"
        ).fetchall()
    return {as_of: scored for as_of, scored in rows}
