"""A returned list dated after the extract it is ingested with (returned before the extract that
follows it: a re-run re-ingesting the same extract reads it): its rows wait for the next extract,
and the practice is not asked to correct what it cannot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from registry_extracts import EXTRACT_DATE, settings
from registry_extracts import write_extract as write

from riskstrat.outreach.header import returned_text
from riskstrat.outreach.store_io import load_feedback_rejects
from riskstrat.registry.checks import FEEDBACK_WAITING
from riskstrat.registry.ingest import ingest
from riskstrat.registry.store import connect

LIST_DAY = EXTRACT_DATE + dt.timedelta(days=1)  # the run of the day after the extract


def _outcomes(store: Path) -> list[tuple]:
    with connect(store) as con:
        return con.execute(
            "SELECT patient_id, CAST(listed_on AS VARCHAR), outcome FROM outreach_outcomes "
            "WHERE listed_on > ? ORDER BY ALL",
            [EXTRACT_DATE],
        ).fetchall()


def test_a_returned_list_newer_than_the_extract_waits_for_the_next_one_untold(
    tmp_path: Path,
) -> None:
    """P1 returns the list of 1 July before the extract dated 1 July exists, and the list run is
    re-run on the extract of 30 June. Before: the row was rejected `not_after_extract` and P1's
    next lists said "Not used from your returned sheets (1 entry): list.csv row 1, Listed on:
    '2025-07-01' breaks rule not_after_extract. Correct them and return the sheet again": a
    rule it cannot fix, for a row the next extract takes anyway. Now P1 is not told, the
    operator is told once that the row waits, and the next extract takes it. A listed_on
    after today (a slip: no such list can have been returned) is still told."""
    source = write(tmp_path / "ex")
    folder = source / "feedback" / "P1"
    folder.mkdir(parents=True)
    (folder / "list.csv").write_text(
        "patient_id,pathway,listed_on,contacted_on,outcome\n"
        f"p1,early_intervention,{LIST_DAY},,declined\n"
        "p2,early_intervention,2099-07-01,,declined\n",  # a slip for 2025
        encoding="utf-8",
    )
    store, today = tmp_path / "s.duckdb", LIST_DAY + dt.timedelta(days=1)
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings(),
                    today=today)  # fmt: skip
    assert report.tables["outreach_outcomes"].rejected_by_rule == {"not_after_extract": 2}
    assert FEEDBACK_WAITING.format(n=1, extract=EXTRACT_DATE, dates=LIST_DAY) in report.warnings
    with connect(store) as con:
        told = load_feedback_rejects(con)
    assert told == {"P1": [("feedback/P1/list.csv", 2, "listed_on", "2099-07-01",
                            "not_after_extract")]}  # fmt: skip
    assert str(LIST_DAY) not in returned_text(told["P1"])
    assert _outcomes(store) == []
    ingest(source, extract_date=LIST_DAY, store_path=store, settings=settings(), today=today)
    assert _outcomes(store) == [("p1", str(LIST_DAY), "declined")]
