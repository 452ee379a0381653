"""Per-practice files: isolation, XLSX features, formula injection, feedback template."""

from __future__ import annotations

import csv
from datetime import date

import openpyxl
import pandas as pd
import pytest
from outreach_frames import AS_OF, CODES, EVIL, outreach_store, practices

from riskstrat import filehash
from riskstrat.filehash import content_hash
from riskstrat.outreach.columns import CONTACTS_MISSING, INVALID_NHS_MARK, PHONE_MISSING
from riskstrat.outreach.file_worker import WORKER_FAILED, FileWorkers
from riskstrat.outreach.listfiles import PUBLISHED_DECIMALS, PracticeFiles, with_modifiable_mark
from riskstrat.outreach.store_io import contacts_reader
from riskstrat.outreach.writers import (
    FOREIGN_CONTACTS,
    MISPLACED_ROW,
    _own_rows,
    write_practice_files,
)
from riskstrat.outreach.xlsx import SHEET
from riskstrat.registry.contract import FEEDBACK_HEADINGS, FEEDBACK_META_SHEET, OUTCOME_LABELS


def test_every_practice_gets_every_pathway(written):
    for code in CODES:
        folder = written["run"] / "practices" / code
        names = sorted(p.name for p in folder.iterdir())
        expected = sorted(
            [f"{p}.{ext}" for p in written["pathways"] for ext in ("csv", "xlsx", "html")]
            + ["feedback.csv"]
        )
        assert names == expected


def test_no_patient_in_another_practices_files(written):
    pop = written["pop"]
    contacts_names = {f"Family{i}": pid for i, pid in enumerate(pop["patient_id"])}
    home = dict(zip(pop["patient_id"], pop["practice_code"], strict=True))
    seen = 0
    for code in CODES:
        for path in (written["run"] / "practices" / code).iterdir():
            if path.suffix == ".xlsx":
                wb = openpyxl.load_workbook(path)
                text = " ".join(str(c.value) for row in wb[SHEET].iter_rows() for c in row)
            else:
                text = path.read_text(encoding="utf-8")
            for pid, practice in home.items():
                if f"{pid}," in text or f"{pid} " in text or f">{pid}<" in text:
                    assert practice == code, (path, pid)
                    seen += 1
            for family, pid in contacts_names.items():
                if f"{family} " in text or f"{family}," in text or f"{family}<" in text:
                    assert home[pid] == code, (path, family)
    assert seen > 50


def test_csv_rows_match_the_lists(written):
    lists = written["lists"]
    for code in CODES:
        path = written["run"] / "practices" / code / "early_intervention.csv"
        rows = pd.read_csv(path, dtype="str", keep_default_na=False)
        expected = lists[
            (lists["practice_code"] == code) & (lists["pathway"] == "early_intervention")
        ]
        assert rows["patient_id"].tolist() == expected["patient_id"].tolist()
        assert rows["rank"].astype(int).tolist() == expected["rank"].tolist()
        assert set(rows["outcome"]) == {""} and set(rows["contacted_on"]) == {""}


def _sheet(path):
    """(worksheet, 1-based heading row, heading -> 1-based column) of a list workbook."""
    ws = openpyxl.load_workbook(path)[SHEET]
    for row in ws.iter_rows(min_row=1, max_row=12):
        values = [c.value for c in row]
        if FEEDBACK_HEADINGS["patient_id"] in values:
            return ws, row[0].row, {v: i + 1 for i, v in enumerate(values) if v}
    raise AssertionError(f"no heading row in {path}")


def test_xlsx_risk_is_the_number_the_csv_prints(written):
    """The same published risk in both files: rounded to PUBLISHED_DECIMALS, not the model's
    last binary digits (those moved with a library upgrade and changed the spreadsheets)."""
    checked = 0
    for code in CODES:
        folder = written["run"] / "practices" / code
        rows = pd.read_csv(folder / "early_intervention.csv", dtype="str", keep_default_na=False)
        ws, top, col = _sheet(folder / "early_intervention.xlsx")
        cells = [ws.cell(row=top + 1 + i, column=col["Risk"]).value for i in range(len(rows))]
        assert cells == [float(v) for v in rows["risk"]]
        assert all(c == round(c, PUBLISHED_DECIMALS) for c in cells)
        checked += len(cells)
    assert checked > 0


@pytest.mark.parametrize(
    ("reason", "marked"),
    [
        ("Taking 12 different medicines (polypharmacy)",
         "Taking 12 different medicines (polypharmacy; modifiable)"),
        ("HbA1c in the diabetes range: 58 mmol/mol",
         "HbA1c in the diabetes range: 58 mmol/mol (modifiable)"),
        ("Lives alone (+3 points)", "Lives alone (+3 points; modifiable)"),
    ],
)  # fmt: skip
def test_a_modifiable_reason_has_one_bracket_not_two(reason, marked):
    assert with_modifiable_mark(reason) == marked


def test_formula_injection_neutralised_in_csv_and_xlsx(written):
    folder = written["run"] / "practices" / "P1"
    with (folder / "early_intervention.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    assert first["patient_id"] == "id00000"
    assert first["name"] == "'" + EVIL["given_name"] + " " + EVIL["family_name"]
    assert first["phone"] == "'" + EVIL["phone"]
    assert first["address"] == "'" + EVIL["address"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    ws, top, col = _sheet(folder / "early_intervention.xlsx")
    name = ws.cell(row=top + 1, column=col["Name"])
    assert name.value == EVIL["given_name"] + " " + EVIL["family_name"]
    assert name.data_type == "s"  # text, not a formula
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    # The raw sheet XML holds no <f> (formula) element at all; the text is a (shared) string.
    import zipfile

    with zipfile.ZipFile(folder / "early_intervention.xlsx") as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert "HYPERLINK" not in sheet_xml and "HYPERLINK" in strings


def test_xlsx_is_native_title_headings_dates_dropdown_print_setup(written):
    """Opened with openpyxl: a title row (practice, list, date), human headings, dd/mm/yyyy date
    cells, wrapped text, the outcome drop-down of human labels, notes, print set-up, and the
    hidden sheet naming the file's practice, list and date (the returned-file contract)."""
    path = written["run"] / "practices" / "P2" / "post_discharge.xlsx"
    wb = openpyxl.load_workbook(path)
    ws, top, col = _sheet(path)
    title = ws.cell(row=1, column=1).value
    assert "Post-discharge follow-up" in title and "Practice P2 (P2)" in title
    assert AS_OF.strftime("%d/%m/%Y") in title
    assert any("Confidential" in str(ws.cell(row=r, column=1).value) for r in range(2, top))
    headings = [ws.cell(row=top, column=c).value for c in range(1, ws.max_column + 1)]
    for column in ("patient_id", "pathway", "listed_on", "contacted_on", "outcome"):
        assert FEEDBACK_HEADINGS[column] in headings
    assert not [h for h in headings if h and "_" in h]  # no snake_case on show
    assert headings[-1] == "Patient ID" and "Notes" in headings and "Date of birth" in headings
    # Frozen below the headings and right of the name (#, List, Name stay in view): the
    # Outcome is typed 15-20 columns to the right, where the name had scrolled out of sight.
    name_letter = openpyxl.utils.get_column_letter(col["Name"] + 1)
    assert ws.freeze_panes == f"{name_letter}{top + 1}" and col["Name"] == 3
    assert ws.auto_filter.ref.startswith(f"A{top}:")
    assert ws.max_row > top
    risk = ws.cell(row=top + 1, column=col["Risk"])
    assert risk.number_format == "0.0%" and 0 < risk.value < 1
    listed = ws.cell(row=top + 1, column=col["Listed on"])
    assert listed.is_date and listed.value.date() == AS_OF and listed.number_format == "dd/mm/yyyy"
    contact_by = ws.cell(row=top + 1, column=col["Contact by"])
    assert contact_by.number_format == "dd/mm/yyyy"
    assert contact_by.value.date() == date(2025, 6, 3)  # Friday 30 May + 2 working days
    born = ws.cell(row=top + 1, column=col["Date of birth"])
    assert born.is_date and born.number_format == "dd/mm/yyyy"
    assert ws.cell(row=top + 1, column=col["Age"]).value == 85  # born 1 Jan 1940, on 2 Jun 2025
    assert ws.cell(row=top + 1, column=col["NHS number"]).value.count(" ") == 2
    assert ws.cell(row=top + 1, column=col["Suggested actions"]).alignment.wrap_text
    # Rows grow with wrapped text: no data row has a fixed height.
    assert not any(ws.row_dimensions[r].customHeight for r in range(top, ws.max_row + 1))
    assert 0 < _width(ws, col["#"]) < 10 and _width(ws, col["Reason 1"]) >= 30
    kinds = {dv.type: dv for dv in ws.data_validations.dataValidation}
    outcome_letter = openpyxl.utils.get_column_letter(col["Outcome"])
    contacted_letter = openpyxl.utils.get_column_letter(col["Contacted on"])
    assert kinds["list"].formula1 == '"' + ",".join(OUTCOME_LABELS.values()) + '"'
    assert {"In hospital", "Died", "Moved away"} <= set(OUTCOME_LABELS.values())
    assert str(kinds["list"].sqref).startswith(f"{outcome_letter}{top + 1}:{outcome_letter}")
    assert str(kinds["date"].sqref).startswith(f"{contacted_letter}{top + 1}:{contacted_letter}")
    # Contacted on: from the list's date to today, what ingest accepts (a contact dated before
    # the listing, "05/01/2025" typed for 05/01/2026, lost the row's outcome at ingest).
    contacted = kinds["date"]
    # (no operator attribute = "between", the OOXML default)
    assert contacted.operator in (None, "between") and contacted.formula2 == "TODAY()"
    listed_serial = (AS_OF - date(1899, 12, 30)).days
    assert contacted.formula1 == str(listed_serial)
    assert AS_OF.strftime("%d/%m/%Y") in contacted.error and contacted.showErrorMessage
    # Print set-up: A4 landscape, one page wide, heading rows repeated, page numbers.
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # fitToWidth omitted = 1 (the OOXML default); fitToHeight 0 = as many pages tall as needed.
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows.replace("$", "") == f"{top}:{top}"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    meta = wb[FEEDBACK_META_SHEET]
    assert meta.sheet_state == "hidden"
    assert {r[0].value: r[1].value for r in meta.iter_rows()} == {
        "practice_code": "P2", "pathway": "post_discharge", "listed_on": AS_OF.isoformat(),
    }  # fmt: skip


def _width(ws, column: int) -> float:
    """A column's width; a <col> element may cover a range of equal-width columns."""
    spans = [d for d in ws.column_dimensions.values() if d.min <= column <= d.max]
    assert len(spans) == 1 and spans[0].customWidth, column
    return spans[0].width


def test_feedback_template_lists_every_listed_person(written):
    lists = written["lists"]
    for code in CODES:
        path = written["run"] / "practices" / code / "feedback.csv"
        rows = pd.read_csv(path, dtype="str", keep_default_na=False)
        assert rows.columns.tolist() == [
            "practice_code",
            "patient_id",
            "pathway",
            "listed_on",
            "contacted_on",
            "outcome",
        ]
        assert set(rows["practice_code"]) == {code}
        own = lists[lists["practice_code"] == code]
        assert sorted(rows["patient_id"]) == sorted(own["patient_id"])
        assert set(rows["listed_on"]) == {AS_OF.isoformat()}
        listed = pd.read_csv(written["run"] / "practices" / code / "early_intervention.csv",
                             dtype="str")  # fmt: skip
        assert listed.columns[0] == "practice_code" and set(listed["practice_code"]) <= {code}


def test_contacts_reader_reads_each_practice_own_patients_only(written):
    con = outreach_store(written["pop"])
    read = contacts_reader(con)
    pop = written["pop"]
    mixed = pop["patient_id"].iloc[:6].tolist()  # practices P1, P2, P3, P1, P2, P3
    claimed = pd.DataFrame({"practice_code": ["P1"] * 6 + ["P2"], "patient_id": [*mixed, mixed[1]]})
    got = read(claimed)
    pairs = sorted(zip(got["practice_code"], got["patient_id"], strict=True))
    assert pairs == [("P1", "id00000"), ("P1", "id00003"), ("P2", "id00001")]
    assert got.loc[got["patient_id"] == "id00003", "given_name"].tolist() == ["Given3"]
    assert read(claimed.iloc[0:0]).empty


def _leaky(extra: dict[str, str]):
    """A reader that answers correctly, plus one row it should never have returned."""

    def read(listed):
        rows = listed[["practice_code", "patient_id"]].drop_duplicates()
        rows = pd.concat([rows, pd.DataFrame([extra])], ignore_index=True)
        return rows.assign(nhs_number="9000000000", given_name="A", family_name="B", phone=None,
                           address=None)  # fmt: skip

    return read


@pytest.mark.parametrize("who", ["not listed anywhere", "listed by P2"])
def test_foreign_contacts_stop_the_write(written, tmp_path, who):
    lists = written["lists"]
    p2 = lists.loc[lists["practice_code"] == "P2", "patient_id"].iloc[0]
    extra = {"practice_code": "P1", "patient_id": "someone-else" if who.startswith("not") else p2}
    with pytest.raises(ValueError) as err:
        write_practice_files(
            lists, run_dir=tmp_path / "run", contacts_reader=_leaky(extra),
            pathways=written["pathways"], practices=practices(CODES), as_of=AS_OF,
        )  # fmt: skip
    assert str(err.value) == FOREIGN_CONTACTS.format(count=1, practice="P1")
    assert not (tmp_path / "run").exists()  # stopped before any file was written


def test_honest_reader_writes_identifiers_to_the_own_practice(written, tmp_path):
    lists = written["lists"]
    write_practice_files(
        lists,
        run_dir=tmp_path,
        contacts_reader=_leaky({"practice_code": "P1", "patient_id": "id00000"}),
        pathways=written["pathways"],
        practices=practices(CODES),
        as_of=AS_OF,
    )  # fmt: skip  (a duplicate of a listed pair is the practice's own row, not foreign)
    rows = pd.read_csv(tmp_path / "practices" / "P2" / "early_intervention.csv", dtype="str")
    assert set(rows["name"]) == {"A B"} and len(rows) > 0


def test_identifiers_are_read_once_for_exactly_the_listed_pairs(written, tmp_path):
    lists = written["lists"]
    real = contacts_reader(outreach_store(written["pop"]))
    calls = []

    def counting(listed):
        calls.append(listed.copy())
        return real(listed)

    write_practice_files(
        lists, run_dir=tmp_path / "run", contacts_reader=counting,
        pathways=written["pathways"], practices=practices(CODES), as_of=AS_OF,
    )  # fmt: skip
    assert len(calls) == 1
    asked = sorted(zip(calls[0]["practice_code"], calls[0]["patient_id"], strict=True))
    assert asked == sorted(set(zip(lists["practice_code"], lists["patient_id"], strict=True)))


def test_a_row_of_another_practice_never_reaches_a_practices_files():
    rows = [{"practice_code": "P1", "patient_id": "a"}, {"practice_code": "P2", "patient_id": "b"}]
    assert _own_rows(rows[:1], practice="P1") == rows[:1]
    with pytest.raises(ValueError) as err:
        _own_rows(rows, practice="P1")
    assert str(err.value) == MISPLACED_ROW.format(row="P2", practice="P1")


def test_listed_patient_without_contacts_is_listed_with_a_visible_marker(written, tmp_path):
    """Issue 12: no contacts row (or one without name or NHS number) never gives a silently
    blank row: the person stays listed, the name cell says so in every format, and the header
    counts them."""
    p1 = _p1_early(written)
    gone, blank = p1["patient_id"].iloc[1], p1["patient_id"].iloc[2]
    folder, rows = _rewrite_p1(
        written, tmp_path,
        ("DELETE FROM contacts WHERE patient_id = ?", gone),
        ("UPDATE contacts SET nhs_number = NULL WHERE patient_id = ?", blank),
    )  # fmt: skip
    marked = rows.loc[rows["name"] == CONTACTS_MISSING, "patient_id"]
    assert sorted(marked) == sorted([gone, blank])
    assert len(rows) == len(p1)  # nobody dropped
    assert rows.loc[rows["patient_id"] == gone, "date_of_birth"].item() == "1940-01-01"
    ws, top, col = _sheet(folder / "early_intervention.xlsx")
    names = [ws.cell(row=r, column=col["Name"]).value for r in range(top + 1, ws.max_row + 1)]
    assert names.count(CONTACTS_MISSING) == 2
    assert any("2 listed people have no contact details" in str(ws.cell(row=r, column=1).value)
               for r in range(1, top))  # fmt: skip
    html = (folder / "early_intervention.html").read_text(encoding="utf-8")
    assert html.count(f'<td class="missing">{CONTACTS_MISSING}</td>') == 2
    assert "2 listed people have no contact details in the extract" in html


def test_xlsx_title_and_page_header_keep_hostile_practice_names_as_text(tmp_path):
    from riskstrat.outreach.columns import columns_for
    from riskstrat.outreach.xlsx import XlsxMeta, write_xlsx

    name = "=cmd|' /C calc'!A0 & Co"
    meta = XlsxMeta(practice_code="P1", pathway="care_home", listed_on=AS_OF,
                    title=f"Care-home residents - {name} (P1)", lines=("-1+1",),
                    confidential=f"Confidential: for {name} staff only.")  # fmt: skip
    path = tmp_path / "list.xlsx"
    write_xlsx([], columns_for("care_home"), path, meta=meta)
    ws = openpyxl.load_workbook(path)[SHEET]
    title, line = ws.cell(row=1, column=1), ws.cell(row=2, column=1)
    assert title.value == meta.title and title.data_type == "s"
    assert line.value == "-1+1" and line.data_type == "s"
    assert "& Co" not in ws.oddHeader.left.text.replace("&& Co", "")  # a literal & is doubled
    assert [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"] == []


def test_the_file_worker_writes_the_same_files_as_the_callers_process(written, tmp_path):
    lists = written["lists"]
    files = write_practice_files(
        lists, run_dir=tmp_path, contacts_reader=contacts_reader(outreach_store(written["pop"])),
        pathways=written["pathways"], practices=practices(CODES, capacity=30), as_of=AS_OF,
        in_workers=True,
    )  # fmt: skip
    assert [p.relative_to(tmp_path) for p in files] == [
        p.relative_to(written["run"]) for p in written["files"]
    ]
    # the workers' hashes (riskstrat.filehash, used by the run's manifest) are the ones the
    # caller's process computes from the files
    assert {str(p) for p in files} <= set(filehash._KNOWN)
    for mine, theirs in zip(files, written["files"], strict=True):
        assert content_hash(mine) == content_hash(theirs), mine.name


def test_an_error_in_the_file_worker_is_raised_as_it_is(tmp_path):
    job = PracticeFiles(folder=tmp_path / "no such folder", code="P1", lists=(), feedback=[],
                        pathways=("early_intervention",))  # fmt: skip
    with FileWorkers() as workers, pytest.raises(FileNotFoundError):
        workers.write([job], templates=None)


class _OnlyInTheTests:
    """A job the worker cannot even read (its class is not importable there)."""


def test_a_worker_that_exits_without_answering_fails_the_write():
    with FileWorkers() as workers, pytest.raises(RuntimeError) as err:
        workers.write([_OnlyInTheTests()], templates=None)
    assert str(err.value) == WORKER_FAILED.format(code=1)


def test_a_listed_patient_without_a_phone_number_says_so(written, tmp_path):
    """A list for calling with a blank Phone cell: nothing told a missing number from a
    printing fault, and the header said nothing. Now the cell says "not recorded" (red in the
    HTML) in every format and the header counts them; someone with no contacts at all is said
    once, by the name cell."""
    p1 = _p1_early(written)
    none, empty, gone = (p1["patient_id"].iloc[i] for i in (1, 2, 3))
    folder, rows = _rewrite_p1(
        written, tmp_path,
        ("UPDATE contacts SET phone = NULL WHERE patient_id = ?", none),
        ("UPDATE contacts SET phone = ' ' WHERE patient_id = ?", empty),
        ("DELETE FROM contacts WHERE patient_id = ?", gone),
    )  # fmt: skip
    assert sorted(rows.loc[rows["phone"] == PHONE_MISSING, "patient_id"]) == sorted([none, empty])
    ws, top, col = _sheet(folder / "early_intervention.xlsx")
    phones = [ws.cell(row=r, column=col["Phone"]).value for r in range(top + 1, ws.max_row + 1)]
    assert phones.count(PHONE_MISSING) == 2
    said = "2 listed people have no phone number in the extract: shown as 'not recorded'"
    assert any(said in str(ws.cell(row=r, column=1).value) for r in range(1, top))
    from html import unescape

    html = (folder / "early_intervention.html").read_text(encoding="utf-8")
    assert html.count(f'<td class="missing">{PHONE_MISSING}</td>') == 2
    assert said in unescape(html) and "1 listed person has no contact details" in html


def test_an_nhs_number_that_fails_its_check_digit_is_marked_on_the_list(written, tmp_path):
    """Ingest keeps a contacts row whose NHS number fails the modulus-11 check (flagged for the
    data manager); the list showed it as if valid, so a nurse looking it up found nobody or the
    wrong record. Now it is marked in the XLSX and the printed list; a valid one is not. The CSV
    (for importing into a clinical system) keeps the ten digits as they came."""
    p1 = _p1_early(written)
    typo, good = (p1["patient_id"].iloc[i] for i in (1, 2))
    folder, rows = _rewrite_p1(
        written, tmp_path,
        ("UPDATE contacts SET nhs_number = '9434765918' WHERE patient_id = ?", typo),
        ("UPDATE contacts SET nhs_number = '9434765919' WHERE patient_id = ?", good),
    )  # fmt: skip
    shown = dict(zip(rows["patient_id"], rows["nhs_number"], strict=True))
    assert shown[typo] == "9434765918" and shown[good] == "9434765919"
    ws, top, col = _sheet(folder / "early_intervention.xlsx")
    cells = [ws.cell(row=r, column=col["NHS number"]).value for r in range(top + 1, ws.max_row + 1)]
    assert cells.count(f"943 476 5918{INVALID_NHS_MARK}") == 1 and "943 476 5919" in cells
    html = (folder / "early_intervention.html").read_text(encoding="utf-8")
    assert html.count(f"943 476 5918{INVALID_NHS_MARK}") == 1


def _p1_early(written: dict) -> pd.DataFrame:
    """Practice P1's early-intervention rows of the shared lists."""
    lists = written["lists"]
    return lists[(lists["practice_code"] == "P1") & (lists["pathway"] == "early_intervention")]


def _rewrite_p1(written: dict, tmp_path, *edits: tuple[str, str]) -> tuple:
    """Apply (SQL, patient_id) edits to a fresh copy of the contacts, write every practice's
    files under tmp_path, and return P1's folder and its early-intervention CSV rows."""
    con = outreach_store(written["pop"])
    for sql, patient_id in edits:
        con.execute(sql, [patient_id])
    write_practice_files(
        written["lists"], run_dir=tmp_path, contacts_reader=contacts_reader(con),
        pathways=written["pathways"], practices=practices(CODES), as_of=AS_OF,
    )  # fmt: skip
    folder = tmp_path / "practices" / "P1"
    rows = pd.read_csv(folder / "early_intervention.csv", dtype="str", keep_default_na=False)
    return folder, rows
