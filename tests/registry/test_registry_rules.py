"""One failing example per contract rule: the row is rejected, shown in rejects, not stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_extracts import (
    EXTRACT_DATE,
    base_rows,
    lenient,
    read_csv_rows,
    write_extract,
)

from riskstrat.registry.contract import COLUMN_RULES, CROSS_TABLE_RULES, ROW_RULES, TABLES
from riskstrat.registry.ingest import ingest
from riskstrat.registry.quality import MASK
from riskstrat.registry.store import connect

# (rule, table, row index (0-based), {column: new value}, rejected column, value in rejects file)
CASES = [
    ("not_null", "patients", 1, {"date_of_birth": "  "}, "date_of_birth", ""),
    ("type", "patients", 1, {"date_of_birth": "1960-02-30"}, "date_of_birth", "1960-02-30"),
    ("type", "patients", 1, {"imd_decile": "three"}, "imd_decile", "three"),
    ("type", "patients", 1, {"date_of_birth": "05/13/1960"}, "date_of_birth", "05/13/1960"),
    ("type", "patients", 1, {"imd_decile": "3.5"}, "imd_decile", "3.5"),
    ("type", "observations", 0, {"value": "nan"}, "value", "nan"),
    ("type", "patients", 1, {"care_home": "maybe"}, "care_home", "maybe"),
    ("type", "observations", 0, {"value": "high"}, "value", "high"),
    ("type", "ae_attendances", 0, {"arrival_at": "yesterday"}, "arrival_at", "yesterday"),
    ("allowed", "patients", 1, {"sex": "X"}, "sex", "X"),
    ("allowed", "spells", 1, {"admission_method": "99"}, "admission_method", "99"),
    ("pattern", "contacts", 1, {"nhs_number": "12345"}, "nhs_number", MASK),
    ("pattern", "spells", 1, {"primary_diagnosis": "i50"}, "primary_diagnosis", "i50"),
    ("range", "patients", 1, {"imd_decile": "11"}, "imd_decile", "11"),
    ("range", "practices", 1, {"weekly_capacity": "-1"}, "weekly_capacity", "-1"),
    (
        "discharge_after_admission",
        "spells",
        1,
        {"discharge_date": "2024-01-31"},
        "discharge_date",
        "2024-01-31",
    ),
    (
        "registered_to_after_from",
        "patients",
        1,
        {"registered_to": "1999-12-31"},
        "registered_to",
        "1999-12-31",
    ),
    (
        "born_before_registration",
        "patients",
        1,
        {"registered_from": "1960-05-04"},
        "registered_from",
        "1960-05-04",
    ),
    (
        "resolved_after_diagnosed",
        "conditions",
        1,
        {"resolved_on": "2015-02-28"},
        "resolved_on",
        "2015-02-28",
    ),
    (
        "contacted_after_listed",
        "outreach_outcomes",
        0,
        {"contacted_on": "2025-01-05"},
        "contacted_on",
        "2025-01-05",
    ),
    ("patient_exists", "gp_contacts", 1, {"patient_id": "p99"}, "patient_id", "p99"),
    ("practice_known", "patients", 1, {"practice_code": "P9"}, "practice_code", "P9"),
    (
        "not_after_extract",
        "gp_contacts",
        1,
        {"contact_date": "2025-07-01"},
        "contact_date",
        "2025-07-01",
    ),
    (
        "not_before_birth",
        "gp_contacts",
        1,
        {"contact_date": "1970-07-06"},
        "contact_date",
        "1970-07-06",
    ),
    (
        "not_after_death",
        "gp_contacts",
        2,
        {"contact_date": "2025-01-18"},
        "contact_date",
        "2025-01-18",
    ),
    ("duplicate_key", "spells", 1, {"spell_id": "s1"}, "spell_id", "s1"),
    # Two-digit years: a named rule, never year 0098 and never `not_before_birth`.
    ("four_digit_year", "patients", 1, {"date_of_birth": "05/05/60"}, "date_of_birth", "05/05/60"),
    ("four_digit_year", "gp_contacts", 0, {"contact_date": "01/03/24"}, "contact_date", "01/03/24"),
    ("four_digit_year", "ae_attendances", 0, {"arrival_at": "24-02-01 10:30"}, "arrival_at",
     "24-02-01 10:30"),
    ("plausible_birth_date", "patients", 1, {"date_of_birth": "1850-05-05"}, "date_of_birth",
     "1850-05-05"),
    ("plausible_birth_date", "patients", 1, {"date_of_birth": "0001-01-01"}, "date_of_birth",
     "0001-01-01"),
    ("plausible_birth_date", "patients", 1, {"date_of_birth": "2025-07-01",
     "registered_from": "2025-07-01"}, "date_of_birth", "2025-07-01"),
    ("no_control_characters", "spells", 0, {"provider_code": "RX\x001"}, "provider_code", "RX?1"),
    ("no_control_characters", "patients", 1, {"lsoa_code": "E0\x07"}, "lsoa_code", "E0?"),
]  # fmt: skip


def test_every_rule_has_a_failing_example() -> None:
    # duplicate_row: test below; own_practice: tests/registry/test_registry_feedback.py
    covered = {case[0] for case in CASES} | {"duplicate_row", "own_practice"}
    assert covered == set(COLUMN_RULES) | set(ROW_RULES) | set(CROSS_TABLE_RULES)


@pytest.mark.parametrize(
    ("rule", "table", "index", "change", "column", "shown"),
    CASES,
    ids=[f"{c[0]}-{c[1]}.{c[4]}" for c in CASES],
)
def test_rule_rejects_the_row(
    tmp_path: Path,
    rule: str,
    table: str,
    index: int,
    change: dict[str, str],
    column: str,
    shown: str,
) -> None:
    rows = base_rows()
    rows[table][index].update(change)
    write_extract(tmp_path / "ex", rows)
    report = ingest(
        tmp_path / "ex",
        extract_date=EXTRACT_DATE,
        store_path=tmp_path / "store.duckdb",
        settings=lenient(),
    )
    rejects = read_csv_rows(report.rejects_dir / f"{table}.csv")
    assert {
        "file": f"{table}.csv",
        "row": str(index + 1),
        "column": column,
        "value": shown,
        "rule": rule,
    } in rejects
    summary = report.tables[table]
    assert summary.rows_read == len(rows[table])
    assert summary.rejected == 1
    assert summary.accepted == len(rows[table]) - 1
    assert summary.rejected_by_rule[rule] == 1
    with connect(tmp_path / "store.duckdb") as con:
        stored = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert stored == len(rows[table]) - 1


def test_exact_duplicate_kept_once(tmp_path: Path) -> None:
    rows = base_rows()
    rows["gp_contacts"].append(dict(rows["gp_contacts"][1]))
    write_extract(tmp_path / "ex", rows)
    report = ingest(
        tmp_path / "ex",
        extract_date=EXTRACT_DATE,
        store_path=tmp_path / "store.duckdb",
        settings=lenient(),
    )
    assert read_csv_rows(report.rejects_dir / "gp_contacts.csv") == [
        {
            "file": "gp_contacts.csv",
            "row": "4",
            "column": "*",
            "value": "copy of gp_contacts.csv row 2",
            "rule": "duplicate_row",
        }
    ]
    gp = report.tables["gp_contacts"]
    assert (gp.rows_read, gp.accepted, gp.rejected, gp.duplicates) == (4, 3, 0, 1)
    summary_md = (report.report_dir / "summary.md").read_text(encoding="utf-8")
    assert "| gp_contacts | 4 | 4 | 3 | 0 | 1 | 0 |" in summary_md
    assert "| gp_contacts | duplicate_row | 1 |" in summary_md
    summary = json.loads(report.summary_path.read_text(encoding="utf-8"))
    assert summary["status"] == "passed"
    assert summary["tables"]["gp_contacts"]["null_share"] == {
        "patient_id": 0.0, "contact_date": 0.0, "mode": 0.0, "attended": 0.0
    }  # fmt: skip
    with connect(tmp_path / "store.duckdb") as con:
        assert con.execute("SELECT count(*) FROM gp_contacts").fetchone()[0] == 3


def test_duplicate_key_keeps_the_first_row(tmp_path: Path) -> None:
    rows = base_rows()
    rows["spells"][1]["spell_id"] = "s1"
    write_extract(tmp_path / "ex", rows)
    ingest(
        tmp_path / "ex",
        extract_date=EXTRACT_DATE,
        store_path=tmp_path / "store.duckdb",
        settings=lenient(),
    )
    with connect(tmp_path / "store.duckdb") as con:
        assert con.execute("SELECT spell_id, patient_id FROM spells").fetchall() == [("s1", "p1")]


def test_rejected_patient_cascades_to_their_rows(tmp_path: Path) -> None:
    rows = base_rows()
    rows["patients"][0]["sex"] = "female"  # p1: rejected (allowed)
    write_extract(tmp_path / "ex", rows)
    report = ingest(
        tmp_path / "ex",
        extract_date=EXTRACT_DATE,
        store_path=tmp_path / "store.duckdb",
        settings=lenient(),
    )
    for table in ("contacts", "conditions", "spells", "gp_contacts", "observations"):
        rejects = read_csv_rows(report.rejects_dir / f"{table}.csv")
        assert rejects == [
            {"file": f"{table}.csv", "row": "1", "column": "patient_id", "value": "p1",
             "rule": "patient_exists"}
        ]  # fmt: skip
    with connect(tmp_path / "store.duckdb") as con:
        for table in TABLES:
            if "patient_id" in TABLES[table].column_names:
                found = con.execute(f"SELECT count(*) FROM {table} WHERE patient_id = 'p1'")
                assert found.fetchone()[0] == 0, table


def test_death_grace_period_is_inclusive(tmp_path: Path) -> None:
    rows = base_rows()
    rows["gp_contacts"][2]["contact_date"] = "2025-01-17"  # p4 died 2025-01-10; grace 7 days
    write_extract(tmp_path / "ex", rows)
    report = ingest(
        tmp_path / "ex",
        extract_date=EXTRACT_DATE,
        store_path=tmp_path / "store.duckdb",
        settings=lenient(),
    )
    assert report.tables["gp_contacts"].rejected == 0


def test_identifiable_values_never_reach_rejects(tmp_path: Path) -> None:
    rows = base_rows()
    rows["contacts"][0]["nhs_number"] = "940 0000 001"  # grouped wrongly: still not an NHS number
    rows["contacts"][1]["given_name"] = ""
    rows["contacts"][3]["patient_id"] = "p3"  # duplicate key
    write_extract(tmp_path / "ex", rows)
    report = ingest(
        tmp_path / "ex",
        extract_date=EXTRACT_DATE,
        store_path=tmp_path / "store.duckdb",
        settings=lenient(),
    )
    text = (report.rejects_dir / "contacts.csv").read_text(encoding="utf-8")
    assert "940" not in text and "Ann" not in text and "Smith" not in text
    rejects = read_csv_rows(report.rejects_dir / "contacts.csv")
    assert [(r["row"], r["column"], r["value"], r["rule"]) for r in rejects] == [
        ("1", "nhs_number", MASK, "pattern"),
        ("2", "given_name", MASK, "not_null"),
        ("4", "patient_id", "p3", "duplicate_key"),
    ]
