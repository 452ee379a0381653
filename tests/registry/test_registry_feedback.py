"""Practices' returned lists: tied to the practice that returned them, read in the current list
format (title rows, headings, hidden practice sheet, human outcome labels) and the old one, and
never able to stop the extract (issue 12 items 2 and 10; issue 13: two XLSX under DuckDB 2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from registry_extracts import EXTRACT_DATE, base_rows, read_csv_rows, settings
from registry_extracts import write_extract as write

from riskstrat.registry.checks import UNKNOWN_PRACTICE
from riskstrat.registry.contract import (
    FEEDBACK_HEADINGS,
    FEEDBACK_META_SHEET,
    OUTCOME_LABELS,
)
from riskstrat.registry.ingest import FEEDBACK_REJECTS_DIR, ingest
from riskstrat.registry.readers import NO_PRACTICE
from riskstrat.registry.store import FEEDBACK_REJECTS, connect

HEADINGS = [
    "Rank",
    FEEDBACK_HEADINGS["patient_id"],
    "NHS number",
    "Name",
    "Reasons",
    FEEDBACK_HEADINGS["pathway"],
    FEEDBACK_HEADINGS["listed_on"],
    FEEDBACK_HEADINGS["contacted_on"],
    FEEDBACK_HEADINGS["outcome"],
    "Notes",
]


def returned_list(
    path: Path, *, practice: str | None, rows: list[tuple], pathway: str = "early_intervention"
) -> Path:
    """A workbook in the list format practices get back: title rows, headings, date cells, a
    hidden `riskstrat` sheet naming the practice (A: key, B: value)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "list"
    sheet.append([f"Early intervention list - {practice}"])
    sheet.append(["Week of 2 June 2025. Fill in Contacted on and Outcome."])
    sheet.append([])
    sheet.append(HEADINGS)
    for i, (pid, listed_on, contacted_on, outcome) in enumerate(rows, start=1):
        sheet.append([i, pid, "9400000001", "Ann Smith", "2 admissions", pathway, listed_on,
                      contacted_on, outcome, "called twice"])  # fmt: skip
    if practice is not None:
        meta = book.create_sheet(FEEDBACK_META_SHEET)
        meta.append(["practice_code", practice])
        meta.append(["pathway", pathway])
        meta.append(["listed_on", dt.date(2025, 6, 2)])
        meta.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


JUNE2 = dt.datetime(2025, 6, 2)


def _outcomes(store: Path) -> list[tuple]:
    with connect(store) as con:
        return con.execute(
            "SELECT patient_id, pathway, CAST(listed_on AS VARCHAR), outcome "
            "FROM outreach_outcomes WHERE listed_on = DATE '2025-06-02' ORDER BY ALL"
        ).fetchall()


def test_a_practice_cannot_take_another_practices_patients_off_its_lists(tmp_path: Path) -> None:
    """Item 2: a file returned by P1 holding P2's patients marked already_in_care."""
    source = write(tmp_path / "ex")
    returned_list(
        source / "feedback" / "early_intervention.xlsx",
        practice="P1",
        rows=[
            ("p1", JUNE2, JUNE2, "Contacted"),
            ("p3", JUNE2, None, "Already in care"),  # P2's patient
            ("p4", JUNE2, None, "already_in_care"),
        ],
    )
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert _outcomes(store) == [("p1", "early_intervention", "2025-06-02", "contacted")]
    rejects = read_csv_rows(report.rejects_dir / "outreach_outcomes.csv")
    own = [(r["row"], r["value"]) for r in rejects if r["rule"] == "own_practice"]
    assert own == [("6", "p3"), ("7", "p4")]  # as the sheet shows them: headings in row 4
    # reported back to the practice that sent them (P1), in its own file and in the store
    p1 = read_csv_rows(report.rejects_dir / FEEDBACK_REJECTS_DIR / "P1.csv")
    assert {(r["row"], r["rule"]) for r in p1} >= {("6", "own_practice"), ("7", "own_practice")}
    assert not (report.rejects_dir / FEEDBACK_REJECTS_DIR / "P2.csv").exists()
    with connect(store) as con:
        stored = con.execute(
            f'SELECT DISTINCT practice_code, "row", rule FROM {FEEDBACK_REJECTS} '
            "WHERE rule = 'own_practice' ORDER BY ALL"
        ).fetchall()
    assert stored == [("P1", 6, "own_practice"), ("P1", 7, "own_practice")]


def test_csv_practice_column_ties_each_row(tmp_path: Path) -> None:
    source = write(tmp_path / "ex")
    (source / "feedback").mkdir()
    (source / "feedback" / "returned.csv").write_text(
        "practice_code,Patient ID,Pathway,Listed on,Contacted on,Outcome\n"
        " p2 ,p3,post_discharge,02/06/2025,03/06/2025,COULD NOT REACH\n"  # code in any case
        "P2,p1,post_discharge,02/06/2025,,declined\n",  # p1 is P1's
        encoding="utf-8",
    )
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert _outcomes(store) == [("p3", "post_discharge", "2025-06-02", "unreachable")]
    rejects = read_csv_rows(report.rejects_dir / "outreach_outcomes.csv")
    assert [(r["file"], r["row"], r["rule"]) for r in rejects] == [
        ("feedback/returned.csv", "2", "own_practice")
    ]


def test_folder_names_the_practice_of_an_old_format_file(tmp_path: Path) -> None:
    source = write(tmp_path / "ex")
    folder = source / "feedback" / "P2"
    folder.mkdir(parents=True)
    (folder / "list.csv").write_text(
        "patient_id,pathway,listed_on,contacted_on,outcome\n"
        "p3,early_intervention,2025-06-02,,declined\n"
        "p2,early_intervention,2025-06-02,,declined\n",  # P1's patient
        encoding="utf-8",
    )
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert _outcomes(store) == [("p3", "early_intervention", "2025-06-02", "declined")]
    assert report.tables["outreach_outcomes"].files[-1] == "feedback/P2/list.csv"
    assert report.tables["outreach_outcomes"].rejected_by_rule == {"own_practice": 1}


def test_old_format_file_without_practice_is_read_with_a_warning(tmp_path: Path) -> None:
    """Snake-case header in row 1, no practice anywhere: each row goes to its patient's own
    practice only (nothing to cross-check), and the ingest says so."""
    source = write(tmp_path / "ex")
    (source / "feedback").mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "list"
    sheet.append(["patient_id", "pathway", "listed_on", "contacted_on", "outcome"])
    sheet.append(["p1", "early_intervention", JUNE2, None, "Declined"])
    sheet.append(["p3", "early_intervention", "02/06/2025", None, "not_appropriate"])
    path = source / "feedback" / "returned.xlsx"
    book.save(path)
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert _outcomes(store) == [
        ("p1", "early_intervention", "2025-06-02", "declined"),
        ("p3", "early_intervention", "2025-06-02", "not_appropriate"),
    ]
    assert NO_PRACTICE.format(file=path, meta=FEEDBACK_META_SHEET) in report.warnings


def test_every_outcome_label_in_any_case_is_read(tmp_path: Path) -> None:
    """Item 10's trigger: a capitalised "Contacted" stopped the whole extract."""
    rows = base_rows()
    patients = rows["patients"]
    for i in range(len(OUTCOME_LABELS)):
        patients.append({**patients[0], "patient_id": f"q{i}"})
        rows["contacts"].append({**rows["contacts"][0], "patient_id": f"q{i}"})
    source = write(tmp_path / "ex", rows)
    spellings = []
    for i, (code, label) in enumerate(OUTCOME_LABELS.items()):
        shown = [label, label.upper(), code, f"  {label.lower()} ", code.upper()][i % 5]
        spellings.append((f"q{i}", JUNE2, None, shown))
    returned_list(source / "feedback" / "P1.xlsx", practice="P1", rows=spellings)
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.tables["outreach_outcomes"].rejected == 0
    assert [o for *_, o in _outcomes(store)] == list(OUTCOME_LABELS)


def test_a_bad_feedback_row_is_rejected_alone_and_never_stops_the_extract(tmp_path: Path) -> None:
    """Item 10: the feedback table is tiny, so one bad row used to exceed max_reject_share."""
    source = write(tmp_path / "ex")
    returned_list(
        source / "feedback" / "P1.xlsx",
        practice="P1",
        rows=[("p1", JUNE2, None, "phoned, left message"), ("p2", JUNE2, None, "Declined")],
    )
    returned_list(source / "feedback" / "P2.xlsx", practice="P2", rows=[("p3", "31/02/2025",
                  None, "Contacted")])  # fmt: skip
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.status == "ingested"
    assert _outcomes(store) == [("p2", "early_intervention", "2025-06-02", "declined")]
    feedback = report.tables["outreach_outcomes"]
    assert feedback.rejected == 2 and feedback.rows_read == 4
    p1 = read_csv_rows(report.rejects_dir / FEEDBACK_REJECTS_DIR / "P1.csv")
    p2 = read_csv_rows(report.rejects_dir / FEEDBACK_REJECTS_DIR / "P2.csv")
    assert [(r["file"], r["row"], r["column"], r["rule"]) for r in p1] == [
        ("feedback/P1.xlsx", "5", "outcome", "allowed")
    ]
    assert [(r["row"], r["column"], r["rule"]) for r in p2] == [("5", "listed_on", "type")]
    # 2 of 4 feedback rows rejected: over no budget of the extract tables, and only a warning
    # once the feedback's own budget is exceeded
    tight = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "t.duckdb",
                   settings=settings(feedback_max_reject_share=0.25))  # fmt: skip
    assert tight.status == "ingested"
    assert any("ingest.feedback_max_reject_share" in w for w in tight.warnings)


def test_an_unreadable_returned_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    source = write(tmp_path / "ex")
    (source / "feedback").mkdir()
    (source / "feedback" / "P2_list.xlsx").write_bytes(b"not a workbook")
    (source / "feedback" / "P1_list.csv").write_text(
        "patient_id,pathway,listed_on,contacted_on\np1,early_intervention,2025-06-02,\n",
        encoding="utf-8",
    )  # no outcome column
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.status == "ingested"
    assert report.tables["outreach_outcomes"].set_aside_files == 2
    with connect(store) as con:
        got = con.execute(
            f'SELECT practice_code, file, "row", rule FROM {FEEDBACK_REJECTS} ORDER BY ALL'
        ).fetchall()
    assert got == [
        ("P1", "feedback/P1_list.csv", 0, "required_column"),
        ("P2", "feedback/P2_list.xlsx", 0, "readable"),
    ]
    assert (report.rejects_dir / FEEDBACK_REJECTS_DIR / "P2.csv").is_file()


def test_two_xlsx_and_a_csv_feedback_ingest_under_duckdb_2(tmp_path: Path) -> None:
    """Issue 13: `load_raw` left a count unfetched before `con.register` of the next workbook."""
    source = write(tmp_path / "ex")
    returned_list(source / "feedback" / "a.xlsx", practice="P1", rows=[("p1", JUNE2, JUNE2,
                  "Contacted"), ("p2", JUNE2, None, None)])  # fmt: skip
    returned_list(source / "feedback" / "b.xlsx", practice="P2", pathway="post_discharge",
                  rows=[("p3", JUNE2, None, "Declined")])  # fmt: skip
    (source / "feedback" / "c.csv").write_text(
        "practice_code,patient_id,pathway,listed_on,contacted_on,outcome\n"
        "P1,p2,rising_risk,2025-06-02,,In hospital\n"
        "P1,p1,rising_risk,2025-06-02,,\n",
        encoding="utf-8",
    )
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert _outcomes(store) == [
        ("p1", "early_intervention", "2025-06-02", "contacted"),
        ("p2", "rising_risk", "2025-06-02", "in_hospital"),
        ("p3", "post_discharge", "2025-06-02", "declined"),
    ]
    feedback = report.tables["outreach_outcomes"]
    assert feedback.skipped_blank_feedback == 2
    assert feedback.lines_read == feedback.rows_read + feedback.skipped_blank_feedback
    summary = json.loads(report.summary_path.read_text(encoding="utf-8"))
    assert summary["tables"]["outreach_outcomes"]["rejected"] == 0
    # two XLSX and nothing else
    (source / "feedback" / "c.csv").unlink()
    again = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert again.tables["outreach_outcomes"].accepted == 3  # 1 from outreach_outcomes.csv


def test_traversal_practice_in_a_returned_file_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "ex")
    returned_list(source / "feedback" / "x.xlsx", practice="../../../../PWNED",
                  rows=[("p1", JUNE2, None, "Declined")])  # fmt: skip
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.tables["outreach_outcomes"].rejected_by_rule == {"own_practice": 1}
    written = sorted(p.name for p in (report.rejects_dir / FEEDBACK_REJECTS_DIR).iterdir())
    assert written == [f"{UNKNOWN_PRACTICE}.csv"]
    assert not list(tmp_path.rglob("PWNED*"))


def test_pathway_and_list_date_come_from_the_hidden_sheet(tmp_path: Path) -> None:
    """A list whose rows do not repeat pathway and list date (and repeats a column we ignore)."""
    source = write(tmp_path / "ex")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "list"
    sheet.append(["Post-discharge follow-up - P2"])
    sheet.append(["Patient ID", "Notes", "Contacted on", "Outcome", "Notes"])
    sheet.append(["p3", "", dt.datetime(2025, 6, 3), "Contacted", "rang back"])
    meta = book.create_sheet(FEEDBACK_META_SHEET)
    for key, value in (("practice_code", "P2"), ("pathway", "post_discharge"),
                       ("listed_on", dt.date(2025, 6, 2))):  # fmt: skip
        meta.append([key, value])
    meta.sheet_state = "hidden"
    (source / "feedback").mkdir()
    book.save(source / "feedback" / "pd.xlsx")
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.tables["outreach_outcomes"].set_aside_files == 0
    assert _outcomes(store) == [("p3", "post_discharge", "2025-06-02", "contacted")]


def test_a_returned_slip_is_named_as_the_sheet_shows_it_on_the_next_list(tmp_path: Path) -> None:
    """A nurse's typo'd outcome (rejected alone) and a date typed as words (the date dropped, the
    outcome kept: the whole row was rejected, so a 'Declined' was lost), the rest applied, and
    the next list of that practice names each slip by file, spreadsheet row (the row the nurse
    sees: under the title rows and headings, blank rows counted) and heading; another
    practice's lists say nothing."""
    from riskstrat.outreach.header import returned_text
    from riskstrat.outreach.store_io import load_feedback_rejects

    source = write(tmp_path / "ex")
    path = returned_list(
        source / "feedback" / "P1_early_intervention.xlsx",
        practice="P1",
        rows=[("p1", JUNE2, JUNE2, "Contaced"), ("p2", JUNE2, "2nd June", "Declined"),
              ("p2", dt.datetime(2025, 5, 26), JUNE2, None)],  # a date but no outcome
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    book["list"].insert_rows(6)  # an extra blank row between the two
    book.save(path)
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.status == "ingested"
    told = [w for w in report.warnings if w.startswith("returned feedback:")]
    assert len(told) == 1 and "3 entries not used (rows, dates or files; P1 3)" in told[0]
    # The typo'd outcome is rejected; the unreadable date is dropped and the outcome kept (its
    # date falls back to the list date), told to the practice all the same.
    feedback = report.tables["outreach_outcomes"]
    assert (feedback.rejected, feedback.repaired) == (2, 1)
    with connect(store) as con:
        kept = con.execute(
            "SELECT patient_id, contacted_on, outcome FROM outreach_outcomes "
            "WHERE listed_on = DATE '2025-06-02' ORDER BY ALL"
        ).fetchall()
    assert kept == [("p2", None, "declined")]
    p1 = read_csv_rows(report.rejects_dir / FEEDBACK_REJECTS_DIR / "P1.csv")
    assert [(r["row"], r["column"], r["rule"]) for r in p1] == [
        ("5", "outcome", "allowed"),
        ("7", "contacted_on", "type"),
        ("8", "outcome", "not_null"),
    ]
    sheet = openpyxl.load_workbook(path)["list"]
    assert sheet["I5"].value == "Contaced" and sheet["H7"].value == "2nd June"
    with connect(store) as con:
        found = load_feedback_rejects(con)
    assert set(found) == {"P1"}
    text = returned_text(found["P1"])
    assert "P1_early_intervention.xlsx row 5, Outcome: 'Contaced' is not one of the choices" in text
    assert (
        "row 7, Contacted on: '2nd June' is not a date (type it as dd/mm/yyyy), so the outcome "
        "was recorded without it" in text
    )
    assert "row 8, Outcome: is empty although Contacted on is filled in" in text
    assert returned_text(found.get("P2", [])) == ""


def test_a_slip_corrected_in_another_returned_sheet_is_no_longer_told(tmp_path: Path) -> None:
    """A practice corrected its sheet and returned it again, while a stale copy ('... (1).xlsx',
    the first download) still holds the slip: the listing now has an outcome, so the slip is not
    told (a nurse's month, helper-54: the copy asked for the correction on every list for three
    weeks, and the operator's count kept it). A slip nobody corrected is still told, and two
    different outcomes for one listing still are."""
    from riskstrat.outreach.store_io import load_feedback_rejects

    source = write(tmp_path / "ex")
    folder = source / "feedback"
    returned_list(
        folder / "P1_early_intervention.xlsx",
        practice="P1",
        rows=[("p1", JUNE2, JUNE2, "Contacted"), ("p2", JUNE2, JUNE2, "Declined")],
    )
    returned_list(folder / "P1_early_intervention (1).xlsx", practice="P1",
                  rows=[("p1", JUNE2, JUNE2, "Contaced"), ("p2", JUNE2, JUNE2, "Declined."),
                        ("p3", JUNE2, JUNE2, "Contaced")])  # fmt: skip
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.status == "ingested"
    assert _outcomes(store) == [
        ("p1", "early_intervention", "2025-06-02", "contacted"),
        ("p2", "early_intervention", "2025-06-02", "declined"),
    ]
    with connect(store) as con:
        told = load_feedback_rejects(con)["P1"]
    assert [(f, r, c, v) for f, r, c, v, _ in told] == [
        ("feedback/P1_early_intervention (1).xlsx", 7, "outcome", "Contaced")  # p3: not corrected
    ]
    warned = [w for w in report.warnings if w.startswith("returned feedback:")]
    assert len(warned) == 1 and "1 entry not used (rows, dates or files; P1 1)" in warned[0]
