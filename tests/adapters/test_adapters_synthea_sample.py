"""The Synthea adapter on the shared sample export: counts against SOURCE.md facts, ingest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.adapters.synthea import import_synthea
from riskstrat.adapters.synthea.clinical import NOT_PRIMARY_CARE
from riskstrat.adapters.synthea.hospital import MERGED
from riskstrat.adapters.synthea.people import fake_nhs_numbers
from riskstrat.adapters.synthea.report import AFTER_DEATH, AFTER_EXTRACT, SAME_ROW
from riskstrat.cli import main
from riskstrat.config import load_settings
from riskstrat.registry.contract import TABLES

SAMPLE = Path("/work/shared/data/synthea_small")
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared Synthea sample not present")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("synthea") / "extract"
    report = import_synthea(SAMPLE, out_dir=out)
    tables = {p.stem: pd.read_csv(p, dtype=str) for p in out.glob("*.csv")}
    return report, tables, out


def nhs_check_ok(number: str) -> bool:
    """The NHS modulus-11 check, written independently of the adapter."""
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[9])


def test_sample_facts(imported) -> None:
    report, tables, _ = imported
    assert report.layout == "v3.x"
    assert report.extract_date == date(2025, 6, 10)  # the last encounter's date
    patients = tables["patients"]
    assert len(patients) == 105 and patients["patient_id"].is_unique
    assert patients["date_of_death"].notna().sum() == 5
    # 84 inpatient encounters in 33 patients: every one is a spell or merged into one
    spells = report.tables["spells"]
    assert spells.produced + spells.dropped[MERGED] == 84
    assert sum(spells.dropped.values()) == spells.dropped[MERGED]
    assert tables["spells"]["patient_id"].nunique() == 33
    # emergency 211 + urgentcare 246 attendances, none after the extract date
    assert len(tables["ae_attendances"]) == 211 + 246
    # ambulatory + wellness + outpatient + virtual encounters, each accounted for; those at
    # hospitals and clinics (not primary-care organisations) are not GP contacts
    gp = report.tables["gp_contacts"]
    accounted = gp.produced + gp.dropped[AFTER_DEATH] + gp.dropped[SAME_ROW]
    assert accounted + gp.dropped[NOT_PRIMARY_CARE] == 2170 + 1245 + 685 + 5
    assert gp.dropped[NOT_PRIMARY_CARE] > 2000  # most ambulatory visits are at hospitals
    assert set(tables["gp_contacts"]["mode"]) == {"face_to_face"}  # the 5 virtual: not at a GP


def test_admission_method_and_disposal_agree(imported) -> None:
    _, tables, _ = imported
    spells, ae = tables["spells"], tables["ae_attendances"]
    emergency = spells["admission_method"] == "emergency"
    # every attendance followed by an admission makes that admission an emergency; Synthea's
    # direct acute admissions (COVID-19, heart failure, MI, appendicitis) are emergencies too
    assert emergency.sum() > (ae["disposal"] == "admitted").sum() > 0
    acute = spells["primary_diagnosis"].isin(["U07.1", "I50.0", "I21.4", "K37"])
    assert emergency[acute].all() and acute.sum() >= 10
    planned = spells["primary_diagnosis"].isin(["Z30.2", "F19.2", "C34.9"])  # never acute
    assert (spells.loc[planned, "admission_method"] == "elective").all()
    died = spells[spells["discharge_destination"] == "died"]
    deaths = tables["patients"].set_index("patient_id")["date_of_death"]
    assert (died["discharge_date"] == died["patient_id"].map(deaths)).all()
    assert spells["primary_diagnosis"].dropna().str.fullmatch(r"[A-Z][0-9]{2}[0-9A-Z.]*").all()


def test_contract_columns_and_values(imported) -> None:
    _, tables, out = imported
    assert {p.stem for p in out.glob("*.csv")} == set(TABLES) - {
        "observations",
        "outreach_outcomes",
    }
    for name, frame in tables.items():
        assert list(frame.columns) == list(TABLES[name].column_names), name
    patients = tables["patients"]
    assert set(patients["practice_code"]) == set(tables["practices"]["practice_code"])
    assert set(patients["ethnicity"]) <= {"White", "Black", "Asian", "Other", "Unknown"}
    assert patients["imd_decile"].astype(int).between(1, 10).all()
    assert (patients["registered_from"] >= patients["date_of_birth"]).all()
    assert set(tables["conditions"]["register"]) >= {"HYP", "DM", "CHD", "OB", "PC"}
    bnf = tables["prescriptions"]["bnf_code"].dropna()
    assert bnf.str.startswith(("0208", "040702", "060101", "020202")).all() and len(bnf) > 0


def test_nhs_numbers_can_never_be_real(imported) -> None:
    _, tables, _ = imported
    numbers = tables["contacts"]["nhs_number"]
    assert numbers.str.fullmatch(r"\d{10}").all() and numbers.is_unique
    assert not any(nhs_check_ok(n) for n in numbers)
    assert nhs_check_ok("9434765919")  # a documented valid example passes the same check
    many = fake_nhs_numbers(5000)
    assert len(set(many)) == 5000 and not any(nhs_check_ok(n) for n in many)


def test_extract_date_cuts_everything_later(tmp_path: Path) -> None:
    report = import_synthea(SAMPLE, out_dir=tmp_path, extract_date=date(2020, 1, 1))
    cut = "2020-01-01"
    for name, column in (
        ("spells", "admission_date"),
        ("gp_contacts", "contact_date"),
        ("prescriptions", "issued_on"),
        ("conditions", "diagnosed_on"),
        ("ae_attendances", "arrival_at"),
    ):
        values = pd.read_csv(tmp_path / f"{name}.csv", dtype=str)[column]
        assert (values.str[:10] <= cut).all(), name
        assert report.tables[name].dropped[AFTER_EXTRACT] > 0, name
    patients = pd.read_csv(tmp_path / "patients.csv", dtype=str)
    assert (patients["date_of_birth"] <= cut).all()
    assert patients["date_of_death"].notna().sum() == 3  # two deaths are after 2020-01-01
    spells = pd.read_csv(tmp_path / "spells.csv", dtype=str)
    assert (spells["discharge_date"].dropna() <= cut).all()
    resolved = pd.read_csv(tmp_path / "conditions.csv", dtype=str)["resolved_on"].dropna()
    assert (resolved <= cut).all()


def test_cli_prints_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import-synthea", str(SAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "patients: 105 rows" in result.output
    assert f"  dropped 9: {MERGED}" in result.output
    as_json = CliRunner().invoke(
        main, ["import-synthea", str(SAMPLE), "--out", str(tmp_path), "--json"]
    )
    assert '"produced": 105' in as_json.output


def test_parquet_output_has_contract_types(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    import_synthea(SAMPLE, out_dir=tmp_path, fmt="parquet")
    schema = pq.read_schema(tmp_path / "spells.parquet")
    assert str(schema.field("admission_date").type) == "date32[day]"
    assert str(pq.read_schema(tmp_path / "ae_attendances.parquet").field("arrival_at").type) in {
        "timestamp[us]",
        "timestamp[ns]",
    }
    assert str(pq.read_schema(tmp_path / "patients.parquet").field("care_home").type) == "bool"
    assert not list(tmp_path.glob("*.csv"))


def test_output_passes_ingest_with_zero_rejects(imported, tmp_path: Path) -> None:
    from riskstrat.registry.ingest import ingest

    report, _, out = imported
    result = ingest(
        out,
        extract_date=report.extract_date,
        store_path=tmp_path / "store.duckdb",
        settings=load_settings(),
    )
    assert result.status == "ingested"
    for name, table in result.tables.items():
        assert table.rejected == 0 and table.duplicates == 0, (name, table.rejected_by_rule)
        if name in report.tables:
            assert table.accepted == report.tables[name].produced, name
