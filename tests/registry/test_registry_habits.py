"""Real extract habits: BOM, CRLF, padding, UK dates, empty strings, boolean spellings, NHS codes,
Parquet with native types, and practices' returned feedback (CSV and XLSX)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from registry_extracts import EXTRACT_DATE, base_rows, lenient, read_csv_rows, settings
from registry_extracts import write_extract as write

from riskstrat.registry.ingest import ingest
from riskstrat.registry.store import connect

PATIENTS_CSV = (
    "\ufeffPatient_ID , practice_code,date_of_birth,sex,ethnicity,imd_decile,registered_from,"
    "registered_to,date_of_death,lives_alone,care_home,data_opt_out\r\n"
    "p1 ,P1,1950-01-01,F,White,3,2000-01-01,,,Y,N,0\r\n"
    "p2,P1 ,05/06/1960,M,,,01/02/2001,,,,1,false\r\n"
    '"p3",P2,1970-07-07, U ,Asian,10.0,2001-03-04,2020-01-31,,no,TRUE,yes\r\n'
    "p4,P2,1940-02-02,F,Unknown,1,2000-01-01,,10/01/2025,true,false,f\r\n"
)


def test_bom_crlf_padding_uk_dates_empty_strings_and_booleans(tmp_path: Path) -> None:
    source = write(tmp_path / "ex", skip=("patients",))
    (source / "patients.csv").write_bytes(PATIENTS_CSV.encode("utf-8"))
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=settings())  # fmt: skip
    assert report.tables["patients"].rejected == 0
    assert any("optional column 'lsoa_code' absent" in w for w in report.warnings)
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute(
            "SELECT patient_id, practice_code, date_of_birth, sex, ethnicity, imd_decile, "
            "registered_from, registered_to, date_of_death, lives_alone, care_home, data_opt_out "
            "FROM patients ORDER BY patient_id"
        ).fetchall()
    d = dt.date
    assert got == [
        ("p1", "P1", d(1950, 1, 1), "F", "White", 3, d(2000, 1, 1), None, None, True, False, False),
        ("p2", "P1", d(1960, 6, 5), "M", None, None, d(2001, 2, 1), None, None, None, True, False),
        ("p3", "P2", d(1970, 7, 7), "U", "Asian", 10, d(2001, 3, 4), d(2020, 1, 31), None, False,
         True, True),
        ("p4", "P2", d(1940, 2, 2), "F", "Unknown", 1, d(2000, 1, 1), None, d(2025, 1, 10), True,
         False, False),
    ]  # fmt: skip
    assert report.tables["patients"].null_share["ethnicity"] == 0.25


def test_nhs_admission_method_codes_are_normalised(tmp_path: Path) -> None:
    rows = base_rows()
    rows["spells"][0]["admission_method"] = "21"
    rows["spells"][1]["admission_method"] = " 11 "
    source = write(tmp_path / "ex", rows)
    ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
           settings=settings())  # fmt: skip
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute("SELECT spell_id, admission_method FROM spells ORDER BY 1").fetchall()
    assert got == [("s1", "emergency"), ("s2", "elective")]


def test_nhs_numbers_written_in_groups_are_read_as_their_digits(tmp_path: Path) -> None:
    """An NHS number as people write it and the lists print it (943 476 5919): the contacts row
    was rejected (pattern), so its patient had no name or phone on the lists (on the demo, 200
    such numbers left 177 current patients without contacts; all of them stopped the ingest).
    Other shapes are still rejected."""
    rows = base_rows()
    numbers = ["940 000 0001", " 940-000-0002 ", "94000 00003", "940 000 000"]
    for contact, number in zip(rows["contacts"], numbers, strict=True):
        contact["nhs_number"] = number
    source = write(tmp_path / "ex", rows)
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute("SELECT patient_id, nhs_number FROM contacts ORDER BY 1").fetchall()
    assert got == [("p1", "9400000001"), ("p2", "9400000002")]
    rejected = read_csv_rows(report.rejects_dir / "contacts.csv")
    assert [(r["row"], r["column"], r["rule"]) for r in rejected] == [
        ("3", "nhs_number", "pattern"),
        ("4", "nhs_number", "pattern"),
    ]


def test_timestamps_in_iso_and_uk_forms(tmp_path: Path) -> None:
    rows = base_rows()
    rows["ae_attendances"][0]["arrival_at"] = "01/02/2024 10:30"
    rows["ae_attendances"][1]["arrival_at"] = "2024-04-01T23:59:00"
    source = write(tmp_path / "ex", rows)
    ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
           settings=settings())  # fmt: skip
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute("SELECT arrival_at FROM ae_attendances ORDER BY 1").fetchall()
    assert got == [
        (dt.datetime(2024, 2, 1, 10, 30),),
        (dt.datetime(2024, 4, 1, 23, 59),),
        (dt.datetime(2024, 5, 1, 8, 0),),
    ]


def test_parquet_extract_with_text_columns(tmp_path: Path) -> None:
    rows = base_rows()
    rows["patients"][1]["sex"] = "Q"
    source = write(tmp_path / "ex", rows, fmt="parquet")
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    assert read_csv_rows(report.rejects_dir / "patients.csv") == [
        {"file": "patients.parquet", "row": "2", "column": "sex", "value": "Q", "rule": "allowed"}
    ]
    assert report.tables["gp_contacts"].accepted == 3


def test_parquet_with_native_types_is_taken_as_is(tmp_path: Path) -> None:
    source = write(tmp_path / "ex", skip=("gp_contacts",))
    pq.write_table(
        pa.table(
            {
                "patient_id": ["p1", "p3", "p4", "p1"],
                "contact_date": pa.array(
                    [
                        dt.date(2024, 3, 1),
                        dt.date(2024, 3, 2),
                        dt.date(2025, 1, 5),
                        dt.date(2025, 7, 2),
                    ],
                    type=pa.date32(),
                ),
                "mode": ["telephone", "online", "home_visit", "online"],
                "attended": [True, False, None, True],
            }
        ),
        source / "gp_contacts.parquet",
    )
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    assert read_csv_rows(report.rejects_dir / "gp_contacts.csv") == [
        {"file": "gp_contacts.parquet", "row": "3", "column": "attended", "value": "",
         "rule": "not_null"},
        {"file": "gp_contacts.parquet", "row": "4", "column": "contact_date",
         "value": "2025-07-02", "rule": "not_after_extract"},
    ]  # fmt: skip
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute("SELECT * FROM gp_contacts ORDER BY contact_date").fetchall()
    assert got == [
        ("p1", dt.date(2024, 3, 1), "telephone", True),
        ("p3", dt.date(2024, 3, 2), "online", False),
    ]


def _feedback_xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("list")
    sheet.append(["Early intervention list, Practice P1"])  # a title row above the header
    sheet.append(["Rank", "Given name", "patient_id", "pathway", "listed_on", "contacted_on",
                  "outcome", "notes"])  # fmt: skip
    sheet.append([1, "Ann", "p1", "early_intervention", dt.datetime(2025, 6, 2),
                  dt.datetime(2025, 6, 4), "contacted", "booked review"])  # fmt: skip
    sheet.append([2, "Bob", "p2", "early_intervention", dt.datetime(2025, 6, 2), None, None, ""])
    sheet.append([3, "Cat", "p3", "early_intervention", "02/06/2025", None, "declined", None])
    sheet.append([4, "Dan", "p4", "early_intervention", "2025-06-02", None, "moved away", None])
    book.save(path)


def test_feedback_xlsx_and_csv_read_back(tmp_path: Path) -> None:
    source = write(tmp_path / "ex")
    (source / "feedback").mkdir()
    _feedback_xlsx(source / "feedback" / "P1-early_intervention.xlsx")
    (source / "feedback" / "P2-post_discharge.csv").write_text(
        "patient_id,family_name,pathway,listed_on,contacted_on,outcome\n"
        "p3,Ng,post_discharge,2025-06-09,,unreachable\n"
        "p4,Ng,post_discharge,2025-06-09,,\n",
        encoding="utf-8",
    )
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    outcomes = report.tables["outreach_outcomes"]
    assert outcomes.files == [
        "outreach_outcomes.csv",
        "feedback/P1-early_intervention.xlsx",
        "feedback/P2-post_discharge.csv",
    ]
    assert outcomes.skipped_blank_feedback == 2  # Bob (xlsx) and p4 (csv): no outcome
    assert (outcomes.rows_read, outcomes.accepted, outcomes.rejected) == (5, 3, 2)
    # The file name ties the workbook to P1: its rows for P2's patients p3 and p4 are refused.
    # Rows as the sheet shows them (title row 1, headings row 2: Cat is row 5, Dan row 6).
    assert read_csv_rows(report.rejects_dir / "outreach_outcomes.csv") == [
        {"file": "feedback/P1-early_intervention.xlsx", "row": "5", "column": "patient_id",
         "value": "p3", "rule": "own_practice"},
        {"file": "feedback/P1-early_intervention.xlsx", "row": "6", "column": "listed_on",
         "value": "2025-06-02", "rule": "not_after_death"},  # p4 died on 2025-01-10
        {"file": "feedback/P1-early_intervention.xlsx", "row": "6", "column": "patient_id",
         "value": "p4", "rule": "own_practice"},
    ]  # fmt: skip
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute(
            "SELECT patient_id, pathway, listed_on, contacted_on, outcome FROM outreach_outcomes "
            "ORDER BY ALL"
        ).fetchall()
    d = dt.date
    assert got == [
        ("p1", "early_intervention", d(2025, 1, 6), d(2025, 1, 7), "contacted"),
        ("p1", "early_intervention", d(2025, 6, 2), d(2025, 6, 4), "contacted"),
        ("p3", "post_discharge", d(2025, 6, 9), None, "unreachable"),
    ]
