"""NHS numbers are checked with their modulus-11 check digit (contract.COLUMN_WARNINGS
`nhs_check_digit`): a number that fails it keeps its contacts row and is flagged, per row, for
the data manager to correct at source."""

from __future__ import annotations

from pathlib import Path

from registry_extracts import EXTRACT_DATE, base_rows, read_csv_rows, settings
from registry_extracts import write_extract as write

from riskstrat.registry.contract import COLUMN_WARNINGS
from riskstrat.registry.ingest import ingest
from riskstrat.registry.quality import FLAGGED_DIR, FLAGGED_MOST, FLAGGED_ROWS, MASK, SUMMARY_MD
from riskstrat.registry.store import connect


def test_an_nhs_number_failing_its_check_digit_is_flagged_per_row_and_the_row_kept(
    tmp_path: Path,
) -> None:
    """Before: any ten digits passed (rule pattern only), so a mistyped number (943 476 5918
    for 943 476 5919) or two digits swapped reached the practice's list with nothing said
    anywhere. Now each such row is in flagged/contacts.csv (file, row, column, value masked,
    rule nhs_check_digit), counted in the summary, with one warning; the row is kept (the name
    and date of birth still find the patient: see contract.COLUMN_WARNINGS for why)."""
    rows = base_rows()
    numbers = ["943 476 5919", "4010232137", "943 476 5918", "9434675919"]
    for contact, number in zip(rows["contacts"], numbers, strict=True):
        contact["nhs_number"] = number
    source = write(tmp_path / "ex", rows)
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=settings())  # fmt: skip
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute("SELECT patient_id, nhs_number FROM contacts ORDER BY 1").fetchall()
    assert got == [("p1", "9434765919"), ("p2", "4010232137"), ("p3", "9434765918"),
                   ("p4", "9434675919")]  # fmt: skip
    contacts = report.tables["contacts"]
    assert (contacts.accepted, contacts.rejected, contacts.flagged) == (4, 0, 2)
    assert contacts.flagged_by_rule == {"nhs_number": {"nhs_check_digit": 2}}
    path = report.rejects_dir.parent / FLAGGED_DIR / "contacts.csv"
    assert read_csv_rows(path) == [
        {"file": "contacts.csv", "row": str(row), "column": "nhs_number", "value": MASK,
         "rule": "nhs_check_digit"}
        for row in (3, 4)
    ]  # fmt: skip
    warning = FLAGGED_ROWS.format(
        table="contacts", rows=2, detail="nhs_number nhs_check_digit 2", path=path
    )
    assert warning in report.warnings
    md = (report.rejects_dir.parent / SUMMARY_MD).read_text()
    assert "| contacts | nhs_number | nhs_check_digit | 2 |" in md
    assert "nhs_check_digit" in COLUMN_WARNINGS


def test_the_check_digit_sql_agrees_with_the_nhs_algorithm_on_every_kind_of_number() -> None:
    """The SQL rule against riskstrat.registry.nhs_numbers.is_valid on numbers of each kind:
    valid, one digit wrong, neighbours swapped, check digit 10 (never issued), the synthetic
    generator's reserved test numbers and its never-issued ones (invalid on purpose)."""
    import duckdb
    import numpy as np

    from riskstrat.registry.nhs_numbers import is_valid as is_valid_nhs_number
    from riskstrat.registry.nhs_numbers import never_issued_numbers, reserved_numbers
    from riskstrat.registry.validate import nhs_check_digit

    made = [*never_issued_numbers(np.random.default_rng(7), 50), *reserved_numbers(np.arange(50))]
    numbers = ["9434765919", "4010232137", "9990000018", "9434765918", "9434675919",
               "9000000010", "0000000000", *made]  # fmt: skip
    with duckdb.connect() as con:
        fails = con.execute(
            f"SELECT {nhs_check_digit('n')} FROM unnest(?) AS t(n)", [numbers]
        ).fetchall()
    assert [not f for (f,) in fails] == [is_valid_nhs_number(n) for n in numbers]
    assert [is_valid_nhs_number(n) for n in numbers[:7]] == [True] * 3 + [False] * 3 + [True]


def test_a_column_of_numbers_that_all_fail_is_said_to_be_the_export_not_typos(
    tmp_path: Path,
) -> None:
    """Every number failing (the fixtures' and the demo's synthetic numbers, or a local patient
    number exported as the NHS number): the warning says it is the column, not typos."""
    source = write(tmp_path / "ex")  # 940 000 00xx: none passes
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=settings())  # fmt: skip
    path = report.rejects_dir.parent / FLAGGED_DIR / "contacts.csv"
    line = FLAGGED_ROWS.format(
        table="contacts", rows=4, detail="nhs_number nhs_check_digit 4", path=path
    )
    assert line + FLAGGED_MOST.format(share=1.0) in report.warnings
