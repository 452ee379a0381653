"""Issue 17 on constructed Synthea exports: direct acute admissions are emergencies, the layout
is told apart (v2 / v3.0 / v3.x), only primary-care organisations become practices, and hospital
ambulatory visits are not GP contacts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from riskstrat.adapters.synthea import import_synthea
from riskstrat.adapters.synthea.clinical import NOT_PRIMARY_CARE
from riskstrat.adapters.synthea.mappings import load_mappings
from riskstrat.adapters.synthea.people import UNASSIGNED, org_code
from riskstrat.adapters.synthea.source import detect_layout

GP = "11111111-aaaa-bbbb-cccc-000000000001"
HOSP = "22222222-aaaa-bbbb-cccc-000000000002"
EYES = "33333333-aaaa-bbbb-cccc-000000000003"
COLUMNS = ["Id", "PATIENT", "ORGANIZATION", "ENCOUNTERCLASS", "START", "STOP", "CODE", "REASONCODE"]


def export(folder: Path, encounters: list[tuple], *, patients: tuple[str, ...] = ("A", "B", "C")):
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "Id": list(patients),
            "BIRTHDATE": ["1950-01-01"] * len(patients),
            "DEATHDATE": [""] * len(patients),
            "FIRST": ["Ann1"] * len(patients),
            "LAST": ["Smith2"] * len(patients),
            "GENDER": ["F"] * len(patients),
        }
    ).to_csv(folder / "patients.csv", index=False)
    pd.DataFrame(
        {
            "Id": [GP, HOSP, EYES],
            "NAME": ["Family Practice", "General Hospital", "Eye Clinic"],
            "ZIP": ["02134", "02135", "02136"],
        }
    ).to_csv(folder / "organizations.csv", index=False)
    pd.DataFrame(encounters, columns=COLUMNS).to_csv(folder / "encounters.csv", index=False)
    return folder


def t(day: str, hour: int = 9) -> str:
    return f"{day}T{hour:02d}:00:00Z"


ENCOUNTERS = [
    # A: registered at the family practice (wellness); eye clinic visits are not GP contacts
    ("w1", "A", GP, "wellness", t("2023-01-05"), t("2023-01-05", 10), "410620009", ""),
    ("a1", "A", EYES, "ambulatory", t("2023-02-05"), t("2023-02-05", 10), "185349003", ""),
    ("a2", "A", EYES, "ambulatory", t("2023-03-05"), t("2023-03-05", 10), "185349003", ""),
    ("a3", "A", EYES, "ambulatory", t("2023-04-05"), t("2023-04-05", 10), "185349003", ""),
    ("o1", "A", HOSP, "outpatient", t("2023-04-06"), t("2023-04-06", 10), "185349003", ""),
    ("a4", "A", GP, "ambulatory", t("2023-05-05"), t("2023-05-05", 10), "185349003", ""),
    # A: COVID-19 isolation admission, no emergency encounter before it
    ("c1", "A", HOSP, "inpatient", t("2023-06-01"), t("2023-06-08"), "1505002", "840539006"),
    # A: heart failure admitted to ICU directly (acute reason, no planned code)
    ("h1", "A", HOSP, "inpatient", t("2023-07-01"), t("2023-07-04"), "305351004", "88805009"),
    # A: COPD reason but a booked thoracic surgery admission: elective
    ("s1", "A", HOSP, "inpatient", t("2023-08-01"), t("2023-08-03"), "305411003", "185086009"),
    # A: chemotherapy-style admission for lung cancer: elective
    ("k1", "A", HOSP, "inpatient", t("2023-09-01"), t("2023-09-02"), "185347001", "424132000"),
    # B: only eye clinic and hospital visits: no primary-care organisation
    ("b1", "B", EYES, "ambulatory", t("2023-01-10"), t("2023-01-10", 10), "185349003", ""),
    ("b2", "B", HOSP, "emergency", t("2023-02-10"), t("2023-02-10", 11), "50849002", ""),
    # C: at the family practice
    ("w2", "C", GP, "wellness", t("2023-01-07"), t("2023-01-07", 10), "410620009", ""),
]


def test_direct_acute_admissions_are_emergencies(tmp_path: Path) -> None:
    src = export(tmp_path / "src", ENCOUNTERS)
    import_synthea(src, out_dir=tmp_path / "out", extract_date=date(2024, 1, 1))
    spells = pd.read_csv(tmp_path / "out" / "spells.csv", dtype=str).set_index("spell_id")
    assert spells["admission_method"].to_dict() == {
        "c1": "emergency",  # COVID-19 (1505002 / 840539006)
        "h1": "emergency",  # heart failure, no planned code
        "s1": "elective",  # acute-sounding reason, planned thoracic surgery admission
        "k1": "elective",  # cancer treatment
    }
    assert spells.loc["c1", "primary_diagnosis"] == "U07.1"


def test_only_primary_care_organisations_become_practices(tmp_path: Path) -> None:
    src = export(tmp_path / "src", ENCOUNTERS)
    report = import_synthea(src, out_dir=tmp_path / "out", extract_date=date(2024, 1, 1))
    practices = pd.read_csv(tmp_path / "out" / "practices.csv", dtype=str)
    patients = pd.read_csv(tmp_path / "out" / "patients.csv", dtype=str).set_index("patient_id")
    unassigned = load_mappings().rules.unassigned_practice
    gp_code = org_code(pd.Series([GP])).iloc[0]
    # A has more eye-clinic than practice encounters, yet the practice is the family practice
    assert patients["practice_code"].to_dict() == {
        "A": gp_code,
        "B": unassigned.code,
        "C": gp_code,
    }
    assert sorted(practices["practice_name"]) == sorted(["Family Practice", unassigned.name])
    assert "Eye Clinic" not in set(practices["practice_name"])
    assert report.tables["patients"].adjusted[UNASSIGNED] == 1


def test_hospital_ambulatory_visits_are_not_gp_contacts(tmp_path: Path) -> None:
    src = export(tmp_path / "src", ENCOUNTERS)
    report = import_synthea(src, out_dir=tmp_path / "out", extract_date=date(2024, 1, 1))
    gp = pd.read_csv(tmp_path / "out" / "gp_contacts.csv", dtype=str)
    assert sorted(gp["contact_date"]) == ["2023-01-05", "2023-01-07", "2023-05-05"]
    # a1-a3, b1 (eye clinic) and o1 (hospital outpatient)
    assert report.tables["gp_contacts"].dropped[NOT_PRIMARY_CARE] == 5


def test_layouts_v2_v30_v3x(tmp_path: Path) -> None:
    src = export(tmp_path / "src", ENCOUNTERS)
    assert detect_layout(src) == "v2"
    pd.DataFrame(
        columns=["DATE", "PATIENT", "ENCOUNTER", "CATEGORY", "CODE", "DESCRIPTION", "VALUE"]
    ).to_csv(src / "observations.csv", index=False)
    assert detect_layout(src) == "v3.0"  # observations CATEGORY arrived in 3.0
    (src / "observations.csv").unlink()
    (src / "claims_transactions.csv").write_text("ID,CLAIMID\n")
    assert detect_layout(src) == "v3.0"
    pd.DataFrame(columns=["START", "STOP", "PATIENT", "ENCOUNTER", "SYSTEM", "CODE"]).to_csv(
        src / "conditions.csv", index=False
    )
    assert detect_layout(src) == "v3.x"
    report = import_synthea(src, out_dir=tmp_path / "out", extract_date=date(2024, 1, 1))
    assert report.layout == "v3.x"
    assert report.lines()[0].startswith("Synthea v3.x export")
