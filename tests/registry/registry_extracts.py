"""A tiny, valid extract for registry tests: each test breaks one thing and writes it."""

from __future__ import annotations

import copy
import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from riskstrat.config import IngestConfig, Settings, load_settings
from riskstrat.registry.contract import TABLES

EXTRACT_DATE = dt.date(2025, 6, 30)


def _patient(pid: str, practice: str, dob: str, died: str = "") -> dict[str, str]:
    return {
        "patient_id": pid,
        "practice_code": practice,
        "date_of_birth": dob,
        "sex": "F",
        "ethnicity": "White",
        "lsoa_code": "E01000001",
        "imd_decile": "3",
        "registered_from": "2000-01-01",
        "registered_to": "",
        "date_of_death": died,
        "lives_alone": "false",
        "care_home": "false",
        "data_opt_out": "false",
    }


BASE: dict[str, list[dict[str, str]]] = {
    "practices": [
        {
            "practice_code": code,
            "practice_name": f"Practice {code}",
            "pcn_code": "N1",
            "pcn_name": "North PCN",
            "weekly_capacity": "20",
        }
        for code in ("P1", "P2")
    ],
    "patients": [
        _patient("p1", "P1", "1950-01-01"),
        _patient("p2", "P1", "1960-05-05"),
        _patient("p3", "P2", "1970-07-07"),
        _patient("p4", "P2", "1940-02-02", died="2025-01-10"),
    ],
    "contacts": [
        {
            "patient_id": f"p{i}",
            "nhs_number": f"94000000{i:02d}",
            "given_name": "Ann",
            "family_name": "Smith",
            "phone": "0100 000000",
            "address": "1 High St",
        }
        for i in range(1, 5)
    ],
    "conditions": [
        {"patient_id": "p1", "register": "HYP", "diagnosed_on": "2010-01-01", "resolved_on": ""},
        {"patient_id": "p2", "register": "DM", "diagnosed_on": "2015-03-01", "resolved_on": ""},
    ],
    "spells": [
        {
            "spell_id": "s1",
            "patient_id": "p1",
            "provider_code": "RX1",
            "admission_date": "2024-01-01",
            "discharge_date": "2024-01-05",
            "admission_method": "emergency",
            "primary_diagnosis": "I50",
            "discharge_destination": "home",
        },
        {
            "spell_id": "s2",
            "patient_id": "p2",
            "provider_code": "RX1",
            "admission_date": "2024-02-01",
            "discharge_date": "2024-02-03",
            "admission_method": "elective",
            "primary_diagnosis": "K40.9",
            "discharge_destination": "home",
        },
    ],
    "ae_attendances": [
        {
            "attendance_id": "a1",
            "patient_id": "p2",
            "arrival_at": "2024-02-01 10:30:00",
            "disposal": "admitted",
        },
        {
            "attendance_id": "a2",
            "patient_id": "p3",
            "arrival_at": "2024-04-01 23:59:00",
            "disposal": "discharged",
        },
        {
            "attendance_id": "a3",
            "patient_id": "p1",
            "arrival_at": "2024-05-01 08:00:00",
            "disposal": "discharged",
        },
    ],
    "gp_contacts": [
        {"patient_id": "p1", "contact_date": "2024-03-01", "mode": "telephone", "attended": "true"},
        {"patient_id": "p3", "contact_date": "2024-03-02", "mode": "online", "attended": "false"},
        {"patient_id": "p4", "contact_date": "2025-01-05", "mode": "home_visit", "attended": "1"},
    ],
    "prescriptions": [
        {"patient_id": "p2", "issued_on": "2024-03-01", "bnf_code": "0205", "drug_code": ""},
        {"patient_id": "p1", "issued_on": "2024-04-01", "bnf_code": "0601", "drug_code": ""},
    ],
    "observations": [
        {"patient_id": "p1", "observed_on": "2024-03-01", "code": "sbp", "value": "140"},
        {"patient_id": "p2", "observed_on": "2024-03-01", "code": "hba1c", "value": "48.5"},
    ],
    "outreach_outcomes": [
        {
            "patient_id": "p1",
            "pathway": "early_intervention",
            "listed_on": "2025-01-06",
            "contacted_on": "2025-01-07",
            "outcome": "contacted",
        }
    ],
}


def base_rows() -> dict[str, list[dict[str, str]]]:
    """A fresh deep copy of the valid extract's rows (every value a string, as in a CSV)."""
    return copy.deepcopy(BASE)


def write_extract(
    folder: Path,
    rows: dict[str, list[dict[str, str]]] | None = None,
    *,
    fmt: str = "csv",
    skip: tuple[str, ...] = (),
) -> Path:
    """Write one file per table into `folder` (created); returns the folder."""
    rows = base_rows() if rows is None else rows
    folder.mkdir(parents=True, exist_ok=True)
    for name, table_rows in rows.items():
        if name in skip:
            continue
        header = list(table_rows[0]) if table_rows else list(TABLES[name].column_names)
        if fmt == "csv":
            with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=header)
                writer.writeheader()
                writer.writerows(table_rows)
        else:
            pq.write_table(
                pa.table({h: [r.get(h) or None for r in table_rows] for h in header}),
                folder / f"{name}.parquet",
            )
    return folder


def settings(**ingest: object) -> Settings:
    """Settings from the (isolated) environment, with ingest options overridden."""
    base = load_settings()
    return base.model_copy(
        update={"ingest": IngestConfig(**{**base.ingest.model_dump(), **ingest})}
    )


def lenient() -> Settings:
    """Settings that never stop for the share of rejects or of patients without contacts (to
    look at single rejected rows)."""
    return settings(max_reject_share=1.0, contacts_missing_share=1.0)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
