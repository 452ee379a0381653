"""Returned lists as practice staff save them (stop 28, helper 58): a list saved as .xls by
Excel, or saved as CSV by Excel (the sheet's title rows above the headings, the Windows code
page, a semicolon list separator). Each was lost: the .xls without a word, the CSV set aside
whole as "column 'patient_id' is missing" or "not UTF-8"."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from registry_extracts import EXTRACT_DATE, read_csv_rows, settings
from registry_extracts import write_extract as write
from test_registry_feedback import JUNE2, _outcomes, returned_list

from riskstrat.registry.errors import UNSUPPORTED_FEEDBACK
from riskstrat.registry.ingest import FEEDBACK_REJECTS_DIR, ingest
from riskstrat.registry.store import FEEDBACK_REJECTS, connect


@pytest.mark.parametrize("suffix", ["xls", "ods", "XLS"])
def test_a_list_saved_in_another_spreadsheet_format_is_set_aside_and_told(
    tmp_path: Path, suffix: str
) -> None:
    """Before: the file was not even looked at (no warning, nothing told to the practice)."""
    source = write(tmp_path / "ex")
    book = returned_list(tmp_path / "list.xlsx", practice="P1",
                         rows=[("p1", JUNE2, JUNE2, "Contacted")])  # fmt: skip
    saved = source / "feedback" / f"P1_early_intervention.{suffix}"
    saved.parent.mkdir()
    shutil.copy(book, saved)  # the bytes do not matter: the format cannot be read
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert report.status == "ingested"
    assert report.tables["outreach_outcomes"].set_aside_files == 1
    problem = UNSUPPORTED_FEEDBACK.format(file=saved, fmt=suffix.lower())
    assert any(problem in w for w in report.warnings)
    with connect(store) as con:
        told = con.execute(
            f'SELECT practice_code, file, "row", value, rule FROM {FEEDBACK_REJECTS}'
        ).fetchall()
    # told as the practice knows the file (not the server's path)
    shown = UNSUPPORTED_FEEDBACK.format(file=f"feedback/{saved.name}", fmt=suffix.lower())
    assert told == [("P1", f"feedback/{saved.name}", 0, shown, "readable")]
    assert (report.rejects_dir / FEEDBACK_REJECTS_DIR / "P1.csv").is_file()


def test_rows_pasted_into_a_new_workbook_are_read(tmp_path: Path) -> None:
    """The list's rows copied into a new workbook (sheet "Sheet1", no hidden practice sheet) in
    the practice's folder. Before: set aside whole ("no sheet named 'list'")."""
    source = write(tmp_path / "ex")
    path = returned_list(
        source / "feedback" / "P1" / "my copy.xlsx",
        practice=None,
        rows=[("p1", JUNE2, JUNE2, "Contacted"), ("p3", JUNE2, None, "Died")],
    )
    book = openpyxl.load_workbook(path)
    book["list"].title = "Sheet1"
    book.create_sheet("Notes", 0).append(["called on Tuesday"])  # a sheet without headings first
    book.save(path)
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    feedback = report.tables["outreach_outcomes"]
    assert feedback.set_aside_files == 0
    assert _outcomes(store) == [("p1", "early_intervention", "2025-06-02", "contacted")]
    assert feedback.rejected_by_rule == {"own_practice": 1}  # p3 is P2's: the folder says P1


def _excel_csv(book: Path, target: Path, *, encoding: str, delimiter: str = ",") -> Path:
    """What Excel's Save As CSV writes for the list sheet: every row as shown (title rows
    included), dates as dd/mm/yyyy text, in `encoding`."""
    sheet = openpyxl.load_workbook(book)["list"]
    rows = [
        ["" if v is None else v.strftime("%d/%m/%Y") if isinstance(v, dt.datetime) else v
         for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]  # fmt: skip
    rows[0][0] = "Early intervention - Café Street Surgery (P1)"  # not ASCII
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return target


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("cp1252", ","), ("utf-8-sig", ","), ("cp1252", ";")]
)
def test_a_list_saved_as_csv_by_excel_is_read(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    source = write(tmp_path / "ex")
    book = returned_list(
        tmp_path / "list.xlsx",
        practice="P1",
        rows=[("p1", JUNE2, JUNE2, "Contacted "), ("p2", JUNE2, "2nd June", "declined"),
              ("p3", JUNE2, None, "Declined"), ("p2", JUNE2, None, None)],  # p3 is P2's
    )  # fmt: skip
    saved = _excel_csv(book, source / "feedback" / "P1" / "early_intervention.csv",
                       encoding=encoding, delimiter=delimiter)  # fmt: skip
    store = tmp_path / "s.duckdb"
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    feedback = report.tables["outreach_outcomes"]
    assert feedback.set_aside_files == 0
    assert _outcomes(store) == [
        ("p1", "early_intervention", "2025-06-02", "contacted"),
        ("p2", "early_intervention", "2025-06-02", "declined"),
    ]
    # rows named as the spreadsheet shows them (headings in row 4), like the workbook's
    p1 = read_csv_rows(report.rejects_dir / FEEDBACK_REJECTS_DIR / "P1.csv")
    assert [(r["file"], r["row"], r["column"], r["rule"]) for r in p1] == [
        ("feedback/P1/early_intervention.csv", "6", "contacted_on", "type"),
        ("feedback/P1/early_intervention.csv", "7", "patient_id", "own_practice"),
    ]
    assert feedback.skipped_blank_feedback == 1
    assert feedback.lines_read == feedback.rows_read + feedback.skipped_blank_feedback
    assert saved.read_bytes().startswith(b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b"Early")
