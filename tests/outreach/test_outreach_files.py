"""Per-practice files: isolation, XLSX features, formula injection, feedback template."""

from __future__ import annotations

import csv
from datetime import date

import openpyxl
import pandas as pd
import pytest
from outreach_frames import AS_OF, CODES, EVIL, outreach_store, practices

from riskstrat.outreach.store_io import contacts_reader
from riskstrat.outreach.writers import (
    FOREIGN_CONTACTS,
    MISPLACED_ROW,
    _own_rows,
    write_practice_files,
)
from riskstrat.outreach.xlsx import SHEET
from riskstrat.registry.contract import OUTREACH_OUTCOMES


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


def test_formula_injection_neutralised_in_csv_and_xlsx(written):
    folder = written["run"] / "practices" / "P1"
    with (folder / "early_intervention.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    assert first["patient_id"] == "id00000"
    assert first["name"] == "'" + EVIL["given_name"] + " " + EVIL["family_name"]
    assert first["phone"] == "'" + EVIL["phone"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    ws = openpyxl.load_workbook(folder / "early_intervention.xlsx")[SHEET]
    header = [c.value for c in ws[1]]
    name = ws.cell(row=2, column=header.index("name") + 1)
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


def test_xlsx_layout_formats_and_feedback_validation(written):
    ws = openpyxl.load_workbook(written["run"] / "practices" / "P2" / "post_discharge.xlsx")[SHEET]
    header = [c.value for c in ws[1]]
    for column in ("patient_id", "pathway", "listed_on", "contacted_on", "outcome"):
        assert column in header
    assert header[-2:] == ["contacted_on", "outcome"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{ws.max_row}"
    assert ws.max_row > 1
    col = {name: i + 1 for i, name in enumerate(header)}
    risk = ws.cell(row=2, column=col["risk"])
    assert risk.number_format == "0.0%" and 0 < risk.value < 1
    listed = ws.cell(row=2, column=col["listed_on"]).value
    assert listed.date() == AS_OF
    contact_by = ws.cell(row=2, column=col["contact_by"])
    assert contact_by.number_format == "yyyy-mm-dd"
    assert contact_by.value.date() == date(2025, 6, 3)  # Friday 30 May + 2 working days
    assert 0 < _width(ws, col["rank"]) < 10 and _width(ws, col["reason_1"]) >= 30
    kinds = {dv.type: dv for dv in ws.data_validations.dataValidation}
    outcome_letter = openpyxl.utils.get_column_letter(col["outcome"])
    contacted_letter = openpyxl.utils.get_column_letter(col["contacted_on"])
    assert kinds["list"].formula1 == '"' + ",".join(OUTREACH_OUTCOMES) + '"'
    assert str(kinds["list"].sqref).startswith(f"{outcome_letter}2:{outcome_letter}")
    assert str(kinds["date"].sqref).startswith(f"{contacted_letter}2:{contacted_letter}")


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
            "patient_id",
            "pathway",
            "listed_on",
            "contacted_on",
            "outcome",
        ]
        own = lists[lists["practice_code"] == code]
        assert sorted(rows["patient_id"]) == sorted(own["patient_id"])
        assert set(rows["listed_on"]) == {AS_OF.isoformat()}


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
