"""The store across ingests: no-op re-ingest, snapshots replaced, outcomes accumulated, engine
tables carried over."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from registry_extracts import EXTRACT_DATE, base_rows, settings, write_extract

from riskstrat.registry.checks import SAME_FILES
from riskstrat.registry.contract import DUCKDB_TYPES, TABLES, Column, Table
from riskstrat.registry.ingest import UNCHANGED, ingest
from riskstrat.registry.store import STORE_MISSING, connect

LATER = EXTRACT_DATE + dt.timedelta(days=7)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outcome(pid: str, pathway: str, listed: str, outcome: str) -> dict[str, str]:
    return {
        "patient_id": pid,
        "pathway": pathway,
        "listed_on": listed,
        "contacted_on": "",
        "outcome": outcome,
    }


def test_store_has_every_contract_table_typed(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    ingest(write_extract(tmp_path / "ex"), extract_date=EXTRACT_DATE, store_path=store,
           settings=settings())  # fmt: skip
    with connect(store) as con:
        for table in TABLES.values():
            described = con.execute(f"DESCRIBE {table.name}").fetchall()
            expected = [(c.name, duckdb_type) for c, duckdb_type in _types(table)]
            assert [(name, kind) for name, kind, *_ in described] == expected
        assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 4
        assert con.execute(
            "SELECT lives_alone, care_home, imd_decile, date_of_death FROM patients "
            "WHERE patient_id = 'p4'"
        ).fetchone() == (False, False, 3, dt.date(2025, 1, 10))


def _types(table: Table) -> list[tuple[Column, str]]:
    return [(c, DUCKDB_TYPES[c.dtype]) for c in table.columns]


def test_reingesting_the_same_extract_is_a_no_op(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    source = write_extract(tmp_path / "ex")
    first = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    before = _digest(store)
    again = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert again.status == "unchanged"
    assert again.message == UNCHANGED.format(
        extract_date=EXTRACT_DATE, hash8=first.content_hash[:8], store=store
    )
    assert again.content_hash == first.content_hash
    assert again.report_dir == first.report_dir
    assert _digest(store) == before
    with connect(store) as con:
        assert con.execute("SELECT count(*) FROM extracts").fetchone()[0] == 1


def test_same_files_with_a_later_extract_date_are_ingested(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    source = write_extract(tmp_path / "ex")
    ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    report = ingest(source, extract_date=LATER, store_path=store, settings=settings())
    assert report.status == "ingested"
    with connect(store) as con:
        dates = con.execute("SELECT extract_date FROM extracts ORDER BY 1").fetchall()
    assert dates == [(EXTRACT_DATE,), (LATER,)]


def test_newer_extract_replaces_snapshots_and_accumulates_outcomes(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    first = base_rows()
    first["outreach_outcomes"] = [
        _outcome("p1", "early_intervention", "2025-01-06", "unreachable"),
        _outcome("p3", "post_discharge", "2025-02-03", "contacted"),
    ]
    ingest(write_extract(tmp_path / "one", first), extract_date=EXTRACT_DATE, store_path=store,
           settings=settings())  # fmt: skip
    second = base_rows()
    del second["patients"][1:]  # only p1 left ...
    for name in ("contacts", "conditions", "spells", "ae_attendances", "gp_contacts",
                 "prescriptions", "observations"):  # fmt: skip
        second[name] = [r for r in second[name] if r["patient_id"] == "p1"]
    second["outreach_outcomes"] = [
        _outcome("p1", "early_intervention", "2025-01-06", "declined"),  # same key: newest wins
        _outcome("p1", "rising_risk", "2025-07-01", "contacted"),
    ]
    report = ingest(write_extract(tmp_path / "two", second), extract_date=LATER,
                    store_path=store, settings=settings())  # fmt: skip
    assert report.tables["patients"].accepted == 1
    with connect(store) as con:
        assert con.execute("SELECT patient_id FROM patients").fetchall() == [("p1",)]
        assert con.execute("SELECT count(*) FROM gp_contacts").fetchone()[0] == 1
        outcomes = con.execute(
            "SELECT patient_id, pathway, listed_on::VARCHAR, outcome FROM outreach_outcomes "
            "ORDER BY ALL"
        ).fetchall()
        history = con.execute(
            "SELECT extract_date, table_rows FROM extracts ORDER BY extract_date"
        ).fetchall()
    assert outcomes == [
        ("p1", "early_intervention", "2025-01-06", "declined"),
        ("p1", "rising_risk", "2025-07-01", "contacted"),
        ("p3", "post_discharge", "2025-02-03", "contacted"),  # kept from the earlier extract
    ]
    assert [d for d, _ in history] == [EXTRACT_DATE, LATER]
    assert json.loads(history[1][1])["patients"] == 1


def test_engine_tables_are_carried_over_with_their_constraints(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    ingest(write_extract(tmp_path / "one"), extract_date=EXTRACT_DATE, store_path=store,
           settings=settings())  # fmt: skip
    with connect(store, read_only=False) as con:
        con.execute(
            "CREATE TABLE scores (task VARCHAR, as_of DATE, patient_id VARCHAR, risk DOUBLE, "
            "PRIMARY KEY (task, as_of, patient_id))"
        )
        con.execute("INSERT INTO scores VALUES ('crisis', DATE '2025-06-30', 'p1', 0.2)")
    rows = base_rows()
    rows["practices"][0]["weekly_capacity"] = "30"
    ingest(write_extract(tmp_path / "two", rows), extract_date=LATER, store_path=store,
           settings=settings())  # fmt: skip
    with connect(store, read_only=False) as con:
        assert con.execute("SELECT task, patient_id, risk FROM scores").fetchall() == [
            ("crisis", "p1", 0.2)
        ]
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO scores VALUES ('crisis', DATE '2025-06-30', 'p1', 0.3)")
        assert con.execute(
            "SELECT weekly_capacity FROM practices WHERE practice_code = 'P1'"
        ).fetchone() == (30,)


def test_connect_is_read_only_by_default(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    with pytest.raises(FileNotFoundError) as caught:
        connect(store)
    assert str(caught.value) == STORE_MISSING.format(path=store)
    ingest(write_extract(tmp_path / "ex"), extract_date=EXTRACT_DATE, store_path=store,
           settings=settings())  # fmt: skip
    with connect(store) as con, pytest.raises(duckdb.Error):
        con.execute("DELETE FROM patients")


def test_scratch_files_of_a_killed_ingest_are_removed(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    leftover = tmp_path / ".store.duckdb.new-0123456789ab"
    leftover.write_bytes(b"half a database")
    (tmp_path / ".store.duckdb.tmp-0123456789ab").mkdir()
    ingest(write_extract(tmp_path / "ex"), extract_date=EXTRACT_DATE, store_path=store,
           settings=settings())  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex", "riskstrat-home", "store.duckdb",
                                                          "store.duckdb.lock"]  # fmt: skip


def test_a_writer_that_must_wait_for_the_store_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import subprocess
    import sys
    import time

    from riskstrat.logs import get_logger
    from riskstrat.registry.store import STORE_BUSY, store_lock

    store = tmp_path / "store.duckdb"
    logger = get_logger()  # riskstrat's logger does not propagate: listen to it directly
    logger.addHandler(caplog.handler)
    try:
        with store_lock(store):  # free: nothing is said
            pass
        assert not [r for r in caplog.records if r.getMessage().startswith(STORE_BUSY)]
        # Another process (a run, or an ingest) holds the lock for a moment.
        holder = subprocess.Popen(
            [sys.executable, "-c", "import time; from filelock import FileLock\n"
             f"lock = FileLock({str(store) + '.lock'!r}); lock.acquire()\n"
             "print('held', flush=True); time.sleep(1.0)"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        with store_lock(store):
            waited = time.perf_counter() - started
        assert waited > 0.5, waited  # it got the lock only once the holder let go
        holder.communicate(timeout=30)
    finally:
        logger.removeHandler(caplog.handler)
    waits = [r for r in caplog.records if r.getMessage().startswith(STORE_BUSY)]
    assert len(waits) == 1 and waits[0].levelname == "WARNING", waits


def test_the_same_registry_files_under_a_later_date_are_named(tmp_path: Path) -> None:
    """The feed was not refreshed: last week's files ingested as this week's extract. Before,
    nothing said so (a week-old copy passes every freshness limit), and the lists missed the
    week's admissions and discharges. Returned lists dropped in beside them do not hide it; a
    changed registry file ends it."""
    source, store = write_extract(tmp_path / "ex"), tmp_path / "s.duckdb"
    first = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert not any("rule new_extract" in w for w in first.warnings)
    (source / "feedback").mkdir()
    (source / "feedback" / "P1_list.csv").write_text(
        "patient_id,pathway,listed_on,contacted_on,outcome\np1,rising_risk,2025-06-02,,Declined\n",
        encoding="utf-8",
    )
    week = EXTRACT_DATE + dt.timedelta(days=7)
    again = ingest(source, extract_date=week, store_path=store, settings=settings())
    with connect(store) as con:
        ingested_at = con.execute(
            "SELECT ingested_at FROM extracts WHERE extract_date = ?", [EXTRACT_DATE]
        ).fetchall()[0][0]
    said = SAME_FILES.format(
        source=source.resolve(), previous=EXTRACT_DATE, ingested_at=ingested_at, extract_date=week
    )
    assert said in again.warnings
    summary = json.loads(again.summary_path.read_text(encoding="utf-8"))
    assert said in summary["warnings"]
    rows = base_rows()
    rows["gp_contacts"][0]["contact_date"] = "2025-07-01"
    write_extract(source, rows)
    later = ingest(source, extract_date=week + dt.timedelta(days=7), store_path=store,
                   settings=settings())  # fmt: skip
    assert not any("rule new_extract" in w for w in later.warnings)
