"""The OMOP adapter's rules on a hand-made instance: admission method, A&E disposal, discharge
destination, the GP-contact rule (provider specialty), concept_ancestor registers and drugs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from riskstrat.adapters.omop import import_omop
from riskstrat.adapters.omop.people import NO_REGISTRATION
from riskstrat.adapters.omop.visits import NOT_PRIMARY_CARE, UNKNOWN_SPECIALTY_COUNTED

EXTRACT = date(2024, 6, 30)


def write(folder: Path, name: str, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)


def visit(vid: int, person: int, concept: int, start: str, end: str | None = None, **extra) -> dict:
    return {"visit_occurrence_id": vid, "person_id": person, "visit_concept_id": concept,
            "visit_start_date": start, "visit_end_date": end or start, **extra}  # fmt: skip


def instance(folder: Path) -> Path:
    folder.mkdir()
    write(folder, "person", [
        {"person_id": p, "gender_concept_id": g, "year_of_birth": 1940, "month_of_birth": 3,
         "day_of_birth": 4, "race_concept_id": r, "care_site_id": cs}
        for p, g, r, cs in ((1, 8532, 8527, 10), (2, 8507, 8516, 10), (3, 8507, 0, None),
                            (4, 8532, 0, None))  # 4: no observation period
    ])  # fmt: skip
    write(folder, "observation_period", [
        {"person_id": p, "observation_period_start_date": "2015-01-01",
         "observation_period_end_date": "2024-06-30"} for p in (1, 2, 3)
    ])  # fmt: skip
    write(folder, "death", [{"person_id": 2, "death_date": "2024-03-05"}])
    write(folder, "care_site", [{"care_site_id": 10, "care_site_name": "Riverside Surgery"}])
    write(
        folder,
        "provider",
        [
            {"provider_id": 100, "specialty_concept_id": 38004446},  # General Practice
            {"provider_id": 200, "specialty_concept_id": 38004451},  # Cardiology
        ],
    )
    write(
        folder,
        "visit_occurrence",
        [
            # 1: ER on 1 May, admitted the next day: emergency; ER disposal admitted
            visit(1, 1, 9203, "2023-05-01"),
            visit(2, 1, 9201, "2023-05-02", "2023-05-06", discharged_to_concept_id=8536),
            # 1: planned admission, discharged to a nursing facility
            visit(3, 1, 9201, "2023-08-04", "2023-08-05", discharged_to_concept_id=8676),
            # 1: admitted from the emergency room (admitted_from_concept_id)
            visit(4, 1, 9201, "2023-10-01", "2023-10-03", admitted_from_concept_id=8870),
            # 1: ER-and-inpatient visit (262): a spell AND an attendance
            visit(5, 1, 262, "2023-11-01", "2023-11-04"),
            # 1: direct admission with COVID-19 recorded at the visit: emergency
            visit(6, 1, 9201, "2024-01-10", "2024-01-15"),
            # 1: transfer in from another hospital
            visit(7, 1, 9201, "2024-02-01", "2024-02-02", admitted_from_concept_id=8717),
            # 2: dies during a stay that "ends" after the death
            visit(8, 2, 9201, "2024-03-01", "2024-03-09"),
            # GP contacts: GP provider counted, cardiologist not, unknown counted (fallback)
            visit(9, 1, 9202, "2024-04-01", provider_id=100, care_site_id=10),
            visit(10, 1, 9202, "2024-04-02", provider_id=200),
            visit(11, 3, 581477, "2024-04-03"),
            visit(12, 3, 5083, "2024-04-04", provider_id=100),
            # 1: nothing recorded on the visit; its details: admitted from ER, discharged home
            visit(13, 1, 9201, "2024-05-10", "2024-05-12"),
        ],
    )
    write(folder, "visit_detail", [
        {"visit_detail_id": 1, "visit_occurrence_id": 13, "visit_detail_start_date": "2024-05-10",
         "admitted_from_concept_id": 8870, "discharged_to_concept_id": 0},
        {"visit_detail_id": 2, "visit_occurrence_id": 13, "visit_detail_start_date": "2024-05-11",
         "admitted_from_concept_id": 0, "discharged_to_concept_id": 8536},
    ])  # fmt: skip
    write(folder, "condition_occurrence", [
        {"person_id": 1, "condition_concept_id": 0, "condition_start_date": "2024-01-10",
         "visit_occurrence_id": 6, "condition_source_value": "840539006"},  # COVID-19
        {"person_id": 1, "condition_concept_id": 88888801, "condition_start_date": "2020-01-01"},
        {"person_id": 3, "condition_concept_id": 0, "condition_start_date": "2019-01-01",
         "condition_source_value": "I50.9"},  # ICD-10 source value: heart failure
    ])  # fmt: skip
    write(folder, "concept_ancestor", [  # a made-up type 2 diabetes child of 201820
        {"ancestor_concept_id": 201820, "descendant_concept_id": 88888801,
         "min_levels_of_separation": 2, "max_levels_of_separation": 2},
        {"ancestor_concept_id": 1310149, "descendant_concept_id": 88888802,
         "min_levels_of_separation": 2, "max_levels_of_separation": 2},
    ])  # fmt: skip
    write(folder, "drug_exposure", [
        {"person_id": 1, "drug_concept_id": 88888802, "drug_exposure_start_date": "2024-05-01",
         "drug_exposure_end_date": "2024-06-25"},  # warfarin by ancestry: 2 issues (28-day)
    ])  # fmt: skip
    return folder


def test_spells_attendances_and_destinations(tmp_path: Path) -> None:
    import_omop(instance(tmp_path / "src"), out_dir=tmp_path / "out", extract_date=EXTRACT)
    spells = pd.read_csv(tmp_path / "out" / "spells.csv", dtype="str").set_index("spell_id")
    assert spells["admission_method"].to_dict() == {
        "2": "emergency", "3": "elective", "4": "emergency", "5": "emergency",
        "6": "emergency", "7": "transfer", "8": "elective", "13": "emergency",
    }  # fmt: skip
    assert spells.loc["13", "discharge_destination"] == "home"  # from the last visit_detail
    assert spells.loc["2", "discharge_destination"] == "home"
    assert spells.loc["3", "discharge_destination"] == "care_home"
    assert spells.loc["8", ["discharge_date", "discharge_destination"]].tolist() == [
        "2024-03-05",
        "died",
    ]
    assert pd.isna(spells.loc["4", "discharge_destination"])  # not recorded: unknown
    ae = pd.read_csv(tmp_path / "out" / "ae_attendances.csv", dtype="str").set_index(
        "attendance_id"
    )
    assert ae["disposal"].to_dict() == {"1": "admitted", "5": "admitted"}


def test_gp_contacts_follow_the_provider_specialty(tmp_path: Path) -> None:
    report = import_omop(instance(tmp_path / "src"), out_dir=tmp_path / "out", extract_date=EXTRACT)
    gp = pd.read_csv(tmp_path / "out" / "gp_contacts.csv", dtype="str")
    assert sorted(zip(gp["contact_date"], gp["mode"], strict=True)) == [
        ("2024-04-01", "face_to_face"),  # GP
        ("2024-04-03", "face_to_face"),  # office visit, no provider: fallback counts it
        ("2024-04-04", "online"),  # telehealth with the GP
    ]
    counts = report.tables["gp_contacts"]
    assert counts.dropped[NOT_PRIMARY_CARE] == 1  # the cardiologist
    assert counts.adjusted[UNKNOWN_SPECIALTY_COUNTED] == 1
    patients = pd.read_csv(tmp_path / "out" / "patients.csv", dtype="str").set_index("patient_id")
    practices = pd.read_csv(tmp_path / "out" / "practices.csv", dtype="str")
    assert patients["practice_code"].to_dict() == {"1": "CS10", "2": "CS10", "3": "OMUNASSIGNED"}
    assert "Riverside Surgery" in set(practices["practice_name"])
    assert patients["ethnicity"].to_dict() == {"1": "White", "2": "Black", "3": "Unknown"}
    assert report.tables["patients"].dropped[NO_REGISTRATION] == 1  # person 4: never registered


def test_registers_and_drugs_through_concept_ancestor(tmp_path: Path) -> None:
    report = import_omop(instance(tmp_path / "src"), out_dir=tmp_path / "out", extract_date=EXTRACT)
    conditions = pd.read_csv(tmp_path / "out" / "conditions.csv", dtype="str")
    assert sorted(zip(conditions["patient_id"], conditions["register"], strict=True)) == [
        ("1", "DM"),  # a descendant of 201820 Diabetes mellitus
        ("3", "HF"),  # ICD-10 I50.9 source value
    ]
    routes = report.tables["conditions"].adjusted
    assert routes["register found by ancestor"] == 1 and routes["register found by icd10"] == 1
    issues = pd.read_csv(tmp_path / "out" / "prescriptions.csv", dtype="str")
    assert list(issues["issued_on"]) == ["2024-05-01", "2024-05-29"]  # runs to 25 June
    assert set(issues["bnf_code"]) == {"020802"}


def test_practice_codes_pass_the_ingest_rule_and_are_stable(tmp_path: Path) -> None:
    """A care site id too long for `CS<id>` (OMOP ids are 64-bit) gets a hashed code that passes
    ingest's practice-code rule, is the same in every import, and keeps the care site's name;
    spells at that care site carry the same code as provider."""
    import re

    from riskstrat.registry.contract import PRACTICE_CODE_PATTERN

    src = instance(tmp_path / "src")
    big = "9223372036854775000"
    for path in src.glob("*.csv"):
        table = pd.read_csv(path, dtype="str")
        if "care_site_id" in table:
            table["care_site_id"] = table["care_site_id"].replace({"10": big, "10.0": big})
            table.to_csv(path, index=False)
    codes = []
    for out in (tmp_path / "a", tmp_path / "b"):
        import_omop(src, out_dir=out, extract_date=EXTRACT)
        practices = pd.read_csv(out / "practices.csv", dtype="str")
        patients = pd.read_csv(out / "patients.csv", dtype="str").set_index("patient_id")
        assert all(re.fullmatch(PRACTICE_CODE_PATTERN, c) for c in practices["practice_code"])
        assert set(patients["practice_code"]) == set(practices["practice_code"])
        codes.append(patients["practice_code"].to_dict())
    assert codes[0] == codes[1] and codes[0]["1"] == codes[0]["2"] != "CS" + big
    site = codes[0]["1"]
    assert practices.set_index("practice_code").loc[site, "practice_name"] == "Riverside Surgery"
    spells = pd.read_csv(tmp_path / "a" / "spells.csv", dtype="str")
    assert set(spells["provider_code"].dropna()) <= {site}


def test_people_born_before_the_earliest_birth_date_are_left_out(tmp_path: Path) -> None:
    """Ingest rejects a date of birth before ingest.earliest_birth_date (and then every record of
    that person): the importer leaves such people out, with their records, and counts them."""
    from riskstrat.adapters.omop.people import BORN_TOO_EARLY

    src = instance(tmp_path / "src")
    person = pd.read_csv(src / "person.csv", dtype="str")
    person.loc[person["person_id"] == "1", "year_of_birth"] = "1885"
    person.to_csv(src / "person.csv", index=False)
    report = import_omop(src, out_dir=tmp_path / "out", extract_date=EXTRACT)
    assert report.tables["patients"].dropped[BORN_TOO_EARLY] == 1
    for name in ("patients", "contacts", "gp_contacts", "spells", "ae_attendances"):
        table = pd.read_csv(tmp_path / "out" / f"{name}.csv", dtype="str")
        assert "1" not in set(table["patient_id"]), name
    import_omop(
        src, out_dir=tmp_path / "old", extract_date=EXTRACT, earliest_birth=date(1880, 1, 1)
    )
    patients = pd.read_csv(tmp_path / "old" / "patients.csv", dtype="str")
    assert "1885-03-04" in set(patients["date_of_birth"])
