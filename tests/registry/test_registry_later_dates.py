"""Defect L1: an implausible LATER date is repaired, the row and its earlier facts are kept.

A diagnosis resolved "two months after death", a discharge after the extract date or a death
dated in the future used to reject the whole row (and a patient row takes every other row of the
patient with it), so facts known for years vanished from every earlier as-of date. Now the later
date is nulled (or a death clipped to the extract date, `validate.LATER_DATES`), the row is kept,
and the repair is reported: `repaired/<table>.csv`, the summary and a warning.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from registry_extracts import EXTRACT_DATE, base_rows, lenient, read_csv_rows, write_extract

from riskstrat.registry.contract import TABLES
from riskstrat.registry.ingest import ingest
from riskstrat.registry.quality import REPAIRED_DIR, REPAIRED_LATER_DATES
from riskstrat.registry.store import connect
from riskstrat.registry.validate import CLIPPED, LATER_DATES, NULLED

d = dt.date


def _rows() -> dict[str, list[dict[str, str]]]:
    rows = base_rows()
    # p4 died on 2025-01-10 (grace 7 days): a CKD diagnosis from 2018 "resolved" in March 2025.
    rows["conditions"].append(
        {"patient_id": "p4", "register": "CKD", "diagnosed_on": "2018-04-01",
         "resolved_on": "2025-03-01"}
    )  # fmt: skip
    rows["conditions"][0]["resolved_on"] = "2025-08-01"  # p1 HYP: after the extract date
    rows["spells"][0]["discharge_date"] = "2025-07-15"  # s1: discharged after the extract date
    rows["spells"].append(
        {"spell_id": "s3", "patient_id": "p4", "provider_code": "RX1",
         "admission_date": "2025-01-02", "discharge_date": "2025-02-20",
         "admission_method": "emergency", "primary_diagnosis": "J44",
         "discharge_destination": "home"}
    )  # fmt: skip
    rows["patients"][2]["date_of_death"] = "2026-02-01"  # p3: a death dated in the future
    rows["outreach_outcomes"][0]["contacted_on"] = "2025-07-05"  # after the extract date
    return rows


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_implausible_later_dates_are_repaired_and_the_rows_kept(tmp_path: Path, fmt: str) -> None:
    write_extract(tmp_path / "ex", _rows(), fmt=fmt)
    store = tmp_path / "s.duckdb"
    report = ingest(tmp_path / "ex", extract_date=EXTRACT_DATE, store_path=store,
                    settings=lenient())  # fmt: skip
    for name in ("patients", "conditions", "spells", "outreach_outcomes"):
        assert report.tables[name].rejected == 0, name
    with connect(store) as con:
        conditions = con.execute(
            "SELECT patient_id, register, diagnosed_on, resolved_on FROM conditions ORDER BY ALL"
        ).fetchall()
        spells = con.execute(
            "SELECT spell_id, admission_date, discharge_date FROM spells ORDER BY ALL"
        ).fetchall()
        deaths = con.execute(
            "SELECT patient_id, date_of_death FROM patients ORDER BY ALL"
        ).fetchall()
        outcomes = con.execute(
            "SELECT patient_id, listed_on, contacted_on, outcome FROM outreach_outcomes"
        ).fetchall()
    # The diagnosis of the patient who died is still there (active until death), as is p1's.
    assert conditions == [
        ("p1", "HYP", d(2010, 1, 1), None),
        ("p2", "DM", d(2015, 3, 1), None),
        ("p4", "CKD", d(2018, 4, 1), None),
    ]
    assert spells == [
        ("s1", d(2024, 1, 1), None),  # still in hospital as far as the extract can know
        ("s2", d(2024, 2, 1), d(2024, 2, 3)),
        ("s3", d(2025, 1, 2), None),
    ]
    assert deaths == [("p1", None), ("p2", None), ("p3", EXTRACT_DATE), ("p4", d(2025, 1, 10))]
    assert outcomes == [("p1", d(2025, 1, 6), None, "contacted")]

    label = {"csv": "{}.csv", "parquet": "{}.parquet"}[fmt]
    folder = report.report_dir / REPAIRED_DIR
    assert read_csv_rows(folder / "conditions.csv") == [
        {"file": label.format("conditions"), "row": "1", "column": "resolved_on",
         "value": "2025-08-01", "rule": "not_after_extract"},
        {"file": label.format("conditions"), "row": "3", "column": "resolved_on",
         "value": "2025-03-01", "rule": "not_after_death"},
    ]  # fmt: skip
    assert read_csv_rows(folder / "patients.csv") == [
        {"file": label.format("patients"), "row": "3", "column": "date_of_death",
         "value": "2026-02-01", "rule": "not_after_extract"},
    ]  # fmt: skip
    assert [r["rule"] for r in read_csv_rows(folder / "spells.csv")] == [
        "not_after_extract",
        "not_after_death",
    ]
    assert not (report.rejects_dir / "conditions.csv").exists()  # nothing rejected

    # Counted in the data-quality summary (json and md) and warned about.
    cond = report.tables["conditions"]
    assert cond.repaired == 2
    assert cond.repaired_by_rule == {"resolved_on": {"not_after_death": 1, "not_after_extract": 1}}
    doc = json.loads(report.summary_path.read_text(encoding="utf-8"))
    assert doc["tables"]["conditions"]["repaired"] == 2
    assert doc["tables"]["spells"]["repaired_by_rule"] == {
        "discharge_date": {"not_after_death": 1, "not_after_extract": 1}
    }
    assert doc["tables"]["outreach_outcomes"]["repaired"] == 1
    md = (report.report_dir / "summary.md").read_text(encoding="utf-8")
    assert "| conditions | resolved_on | not_after_death | 1 |" in md
    assert "| patients | date_of_death | not_after_extract | 1 |" in md
    expected = REPAIRED_LATER_DATES.format(
        table="conditions",
        rows=2,
        detail="resolved_on not_after_death 1, resolved_on not_after_extract 1",
        path=report.report_dir / REPAIRED_DIR / "conditions.csv",
    )
    assert expected in report.warnings
    assert expected in doc["warnings"]


def test_a_clean_extract_has_no_repairs(tmp_path: Path) -> None:
    write_extract(tmp_path / "ex")
    report = ingest(tmp_path / "ex", extract_date=EXTRACT_DATE,
                    store_path=tmp_path / "s.duckdb", settings=lenient())  # fmt: skip
    assert all(t.repaired == 0 for t in report.tables.values())
    assert not (report.report_dir / REPAIRED_DIR).exists()
    md = (report.report_dir / "summary.md").read_text(encoding="utf-8")
    assert "| (none) | | | |" in md


@pytest.mark.parametrize(
    ("table", "index", "change", "column", "rule"),
    [
        # Out of order with the defining date: which of the two is wrong cannot be told.
        ("conditions", 1, {"resolved_on": "2015-02-28"}, "resolved_on", "resolved_after_diagnosed"),
        ("spells", 1, {"discharge_date": "2024-01-31"}, "discharge_date",
         "discharge_after_admission"),
        ("patients", 1, {"date_of_death": "1959-01-01"}, "date_of_death", "not_before_birth"),
        # The defining date itself is implausible: the fact is unusable.
        ("conditions", 0, {"diagnosed_on": "2025-07-01"}, "diagnosed_on", "not_after_extract"),
        ("spells", 0, {"admission_date": "2025-07-01", "discharge_date": ""}, "admission_date",
         "not_after_extract"),
    ],
)  # fmt: skip
def test_unusable_facts_are_still_rejected(
    tmp_path: Path, table: str, index: int, change: dict, column: str, rule: str
) -> None:
    rows = base_rows()
    rows[table][index].update(change)
    write_extract(tmp_path / "ex", rows)
    report = ingest(tmp_path / "ex", extract_date=EXTRACT_DATE,
                    store_path=tmp_path / "s.duckdb", settings=lenient())  # fmt: skip
    assert report.tables[table].rejected == 1
    assert report.tables[table].repaired == 0
    got = read_csv_rows(report.rejects_dir / f"{table}.csv")
    assert {"file": f"{table}.csv", "row": str(index + 1), "column": column,
            "value": change[column], "rule": rule} in got  # fmt: skip


def test_later_dates_are_nullable_event_columns_of_their_table() -> None:
    """The repair table names real later dates: event columns, not the first (defining) one."""
    for name, columns in LATER_DATES.items():
        table = TABLES[name]
        for column, action in columns.items():
            assert column in table.event_columns
            assert column != table.event_columns[0]
            assert table.column(column).nullable
            assert action in (NULLED, CLIPPED)
