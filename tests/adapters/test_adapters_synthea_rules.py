"""The adapter's rules on tiny hand-made Synthea exports: spells, A&E, prescriptions, registers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from riskstrat.adapters.synthea import import_synthea
from riskstrat.adapters.synthea.clinical import merge_episodes
from riskstrat.adapters.synthea.prescribing import BEFORE_HISTORY, HOSPITAL_ONLY

ORG, HOSP = "11111111-aaaa-bbbb-cccc-000000000001", "22222222-aaaa-bbbb-cccc-000000000002"


def write_export(folder: Path, *, encounters: list[tuple], medications: list[tuple] = ()) -> Path:
    """Two patients (A alive, B died 2024-03-05); encounters (id, patient, class, start, stop)."""
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "Id": ["A", "B"],
            "BIRTHDATE": ["1950-01-01", "1940-01-01"],
            "DEATHDATE": ["", "2024-03-05"],
            "FIRST": ["Ann1", "Bob2"],
            "LAST": ["Smith3", "Jones4"],
            "GENDER": ["F", "M"],
            "RACE": ["white", "black"],
        }
    ).to_csv(folder / "patients.csv", index=False)
    pd.DataFrame(
        {"Id": [ORG, HOSP], "NAME": ["Practice", "Hospital"], "ZIP": ["02134", "02135"]}
    ).to_csv(folder / "organizations.csv", index=False)
    rows = [(i, p, HOSP if c != "wellness" else ORG, c, s, t) for i, p, c, s, t in encounters]
    pd.DataFrame(
        rows, columns=["Id", "PATIENT", "ORGANIZATION", "ENCOUNTERCLASS", "START", "STOP"]
    ).to_csv(folder / "encounters.csv", index=False)
    pd.DataFrame(
        list(medications), columns=["START", "STOP", "PATIENT", "ENCOUNTER", "CODE"]
    ).to_csv(folder / "medications.csv", index=False)
    return folder


BASE = [
    ("w1", "A", "wellness", "2020-01-01T09:00:00Z", "2020-01-01T09:30:00Z"),
    ("w2", "B", "wellness", "2020-01-01T09:00:00Z", "2020-01-01T09:30:00Z"),
]


def test_spells_emergency_merge_died_and_care_home(tmp_path: Path) -> None:
    encounters = [
        *BASE,
        # A: A&E at 22:00, admitted next morning (emergency), ICU transfer continues the stay,
        # then a skilled nursing facility the day after discharge
        ("ed1", "A", "emergency", "2023-05-01T22:00:00Z", "2023-05-01T23:00:00Z"),
        ("in1", "A", "inpatient", "2023-05-02T08:00:00Z", "2023-05-04T08:00:00Z"),
        ("in2", "A", "inpatient", "2023-05-04T08:00:00Z", "2023-05-06T08:00:00Z"),
        ("snf", "A", "snf", "2023-05-06T12:00:00Z", "2023-05-20T12:00:00Z"),
        # A: urgent care 3 days before an admission: elective; home
        ("uc1", "A", "urgentcare", "2023-08-01T10:00:00Z", "2023-08-01T11:00:00Z"),
        ("in3", "A", "inpatient", "2023-08-04T10:00:00Z", "2023-08-05T10:00:00Z"),
        # B: admitted, dies during the stay (the encounter runs past the death date)
        ("in4", "B", "inpatient", "2024-03-01T10:00:00Z", "2024-03-09T10:00:00Z"),
        # B: an encounter after death is dropped
        ("w3", "B", "wellness", "2024-04-01T10:00:00Z", "2024-04-01T10:30:00Z"),
        # A: admitted before the extract date, discharged after it: still in hospital
        ("in5", "A", "inpatient", "2024-12-30T10:00:00Z", "2025-01-03T10:00:00Z"),
    ]
    src = write_export(tmp_path / "src", encounters=encounters)
    report = import_synthea(src, out_dir=tmp_path / "out", extract_date=date(2024, 12, 31))
    spells = pd.read_csv(tmp_path / "out" / "spells.csv", dtype=str).set_index("spell_id")
    assert list(spells.index) == ["in1", "in3", "in5", "in4"] or set(spells.index) == {
        "in1", "in3", "in4", "in5"
    }  # fmt: skip
    assert spells.loc["in1", ["admission_date", "discharge_date"]].tolist() == [
        "2023-05-02",
        "2023-05-06",
    ]
    assert spells.loc["in1", "admission_method"] == "emergency"
    assert spells.loc["in1", "discharge_destination"] == "care_home"
    assert spells.loc["in3", ["admission_method", "discharge_destination"]].tolist() == [
        "elective",
        "home",
    ]
    assert spells.loc["in4", ["discharge_date", "discharge_destination"]].tolist() == [
        "2024-03-05",
        "died",
    ]
    assert spells.loc["in5"].isna()[["discharge_date", "discharge_destination"]].all()
    ae = pd.read_csv(tmp_path / "out" / "ae_attendances.csv", dtype=str).set_index("attendance_id")
    assert ae["disposal"].to_dict() == {"ed1": "admitted", "uc1": "discharged"}
    assert report.tables["gp_contacts"].produced == 2  # w3 after B's death is dropped
    patients = pd.read_csv(tmp_path / "out" / "patients.csv", dtype=str).set_index("patient_id")
    assert patients["ethnicity"].to_dict() == {"A": "White", "B": "Black"}
    assert set(patients["practice_code"]) == {"SY11111111AA"}  # the wellness organisation


def test_prescription_issues(tmp_path: Path) -> None:
    meds = [
        ("2024-01-01T10:00:00Z", "2024-03-01T10:00:00Z", "A", "w1", "855332"),  # 60 days: 3
        ("2024-06-01T10:00:00Z", "", "A", "w1", "106892"),  # open: to the extract date
        ("2024-01-01T10:00:00Z", "", "B", "w2", "313988"),  # open: stops at death 2024-03-05
        ("2024-02-01T10:00:00Z", "2024-02-03T10:00:00Z", "B", "in1", "1719286"),  # in hospital
        ("2024-02-01T10:00:00Z", "2024-05-01T10:00:00Z", "B", "in1", "313988"),  # from discharge
        ("2010-01-01T10:00:00Z", "", "A", "w1", "314076"),  # long course: history window
    ]
    encounters = [*BASE, ("in1", "B", "inpatient", "2024-02-01T08:00:00Z", "2024-02-10T08:00:00Z")]
    src = write_export(tmp_path / "src", encounters=encounters, medications=meds)
    report = import_synthea(src, out_dir=tmp_path / "out", extract_date=date(2024, 7, 15))
    issues = pd.read_csv(tmp_path / "out" / "prescriptions.csv", dtype=str)
    by = issues.groupby(["patient_id", "drug_code"])["issued_on"].agg(list).to_dict()
    assert by[("A", "855332")] == ["2024-01-01", "2024-01-29", "2024-02-26"]
    assert by[("A", "106892")] == ["2024-06-01", "2024-06-29"]
    assert issues.set_index("drug_code").loc["106892", "bnf_code"].iloc[0] == "060101"
    # B: furosemide from 2024-01-01 every 28 days until death on 2024-03-05 (3 issues), and the
    # course started in hospital issued from discharge (2024-02-10) until 2024-04-30, capped at
    # death: one issue on 2024-02-10 (same drug, different day)
    assert by[("B", "313988")] == ["2024-01-01", "2024-01-29", "2024-02-10", "2024-02-26"]
    assert ("B", "1719286") not in by
    assert report.tables["prescriptions"].dropped[HOSPITAL_ONLY] == 1
    long = by[("A", "314076")]
    assert min(long) >= "2019-07-15" and max(long) <= "2024-07-15"
    assert report.tables["prescriptions"].dropped[BEFORE_HISTORY] == pytest.approx(
        (pd.Timestamp("2019-07-15") - pd.Timestamp("2010-01-01")).days / 28, abs=1
    )


def test_merge_episodes() -> None:
    d = pd.Timestamp
    rows = pd.DataFrame(
        {
            "patient_id": ["A", "A", "A", "A", "B"],
            "register": ["CKD", "CKD", "CKD", "HYP", "CKD"],
            "diagnosed_on": [
                d("2020-01-01"),
                d("2021-01-01"),
                d("2023-01-01"),
                d("2020-01-01"),
                d("2020-01-01"),
            ],
            "resolved_on": [d("2021-01-01"), d("2022-01-01"), pd.NaT, pd.NaT, d("2020-02-01")],
        }
    )
    out = merge_episodes(rows)
    assert out.to_dict("records") == [
        {
            "patient_id": "A",
            "register": "CKD",
            "diagnosed_on": d("2020-01-01"),
            "resolved_on": d("2022-01-01"),
        },
        {
            "patient_id": "A",
            "register": "CKD",
            "diagnosed_on": d("2023-01-01"),
            "resolved_on": pd.NaT,
        },
        {
            "patient_id": "A",
            "register": "HYP",
            "diagnosed_on": d("2020-01-01"),
            "resolved_on": pd.NaT,
        },
        {
            "patient_id": "B",
            "register": "CKD",
            "diagnosed_on": d("2020-01-01"),
            "resolved_on": d("2020-02-01"),
        },
    ]
