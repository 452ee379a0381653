"""v2 vs v3 layouts, missing optional files/columns, and bad input errors (word for word)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.adapters.synthea import SyntheaInputError, import_synthea
from riskstrat.adapters.synthea.clinical import NOT_MAPPED_LOINC, NOT_NUMERIC
from riskstrat.adapters.synthea.source import (
    BAD_DATE,
    EMPTY_VALUE,
    MISSING_COLUMN,
    MISSING_FILE,
    OPTIONAL_COLUMN_MISSING,
    OPTIONAL_FILE_MISSING,
    SOURCES,
)
from riskstrat.cli import main

SAMPLE = Path("/work/shared/data/synthea_small")
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared Synthea sample not present")
FILES = ("patients", "encounters", "organizations", "conditions", "medications")


def copy_sample(folder: Path, *, files: tuple[str, ...] = FILES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copy(SAMPLE / f"{name}.csv", folder / f"{name}.csv")
    return folder


def rewrite(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False)


def test_v2_layout(tmp_path: Path) -> None:
    src = copy_sample(tmp_path / "v2")
    rewrite(src / "patients.csv", lambda f: f.drop(columns=["MIDDLE", "FIPS", "INCOME"]))
    rewrite(src / "conditions.csv", lambda f: f.drop(columns=["SYSTEM"]))
    v2 = import_synthea(src, out_dir=tmp_path / "out2")
    v3 = import_synthea(SAMPLE, out_dir=tmp_path / "out3")
    assert (v2.layout, v3.layout) == ("v2", "v3.x")
    for name in ("patients", "spells", "conditions", "prescriptions", "gp_contacts"):
        assert v2.tables[name].produced == v3.tables[name].produced, name
    patients = pd.read_csv(tmp_path / "out2" / "patients.csv", dtype=str)
    assert patients["imd_decile"].isna().all()
    expected = OPTIONAL_COLUMN_MISSING.format(
        file=src / "patients.csv",
        column="INCOME",
        consequence=SOURCES["patients"].optional["INCOME"],
    )
    assert expected in v2.warnings


def test_missing_optional_file_is_a_warning(tmp_path: Path) -> None:
    src = copy_sample(tmp_path / "src", files=("patients", "encounters", "organizations"))
    report = import_synthea(src, out_dir=tmp_path / "out")
    for name in ("conditions", "medications", "observations"):
        expected = OPTIONAL_FILE_MISSING.format(
            file=src / f"{name}.csv", consequence=SOURCES[name].missing
        )
        assert expected in report.warnings
    assert report.tables["prescriptions"].produced == 0
    assert pd.read_csv(tmp_path / "out" / "prescriptions.csv").empty
    conditions = pd.read_csv(tmp_path / "out" / "conditions.csv", dtype=str)
    assert set(conditions["register"]) == {"PC"}  # from hospice stays only


def test_missing_required_column_is_an_error(tmp_path: Path) -> None:
    src = copy_sample(tmp_path / "src")
    rewrite(src / "encounters.csv", lambda f: f.drop(columns=["ENCOUNTERCLASS"]))
    out = tmp_path / "out"
    message = MISSING_COLUMN.format(file=src / "encounters.csv", column="ENCOUNTERCLASS")
    with pytest.raises(SyntheaInputError) as caught:
        import_synthea(src, out_dir=out)
    assert str(caught.value) == message
    assert not out.exists()  # nothing written
    result = CliRunner().invoke(main, ["import-synthea", str(src), "--out", str(out)])
    assert result.exit_code == 2 and message in result.output


def test_missing_required_file_is_an_error(tmp_path: Path) -> None:
    src = copy_sample(tmp_path / "src", files=("patients", "encounters"))
    with pytest.raises(SyntheaInputError) as caught:
        import_synthea(src, out_dir=tmp_path / "out")
    assert str(caught.value) == MISSING_FILE.format(file=src / "organizations.csv")


def test_bad_values_name_file_column_and_row(tmp_path: Path) -> None:
    src = copy_sample(tmp_path / "src")
    rewrite(
        src / "patients.csv",
        lambda f: f.assign(BIRTHDATE=f["BIRTHDATE"].mask(f.index == 3, "19/04/1997")),
    )
    with pytest.raises(SyntheaInputError) as caught:
        import_synthea(src, out_dir=tmp_path / "out")
    assert str(caught.value) == BAD_DATE.format(
        file=src / "patients.csv", column="BIRTHDATE", row=5, value="19/04/1997"
    )
    shutil.copy(SAMPLE / "patients.csv", src / "patients.csv")
    rewrite(src / "encounters.csv", lambda f: f.assign(PATIENT=f["PATIENT"].mask(f.index < 2, "")))
    with pytest.raises(SyntheaInputError) as caught:
        import_synthea(src, out_dir=tmp_path / "out")
    assert str(caught.value) == EMPTY_VALUE.format(
        file=src / "encounters.csv", column="PATIENT", row=2, count=2
    )


def test_earlier_output_survives_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    import_synthea(SAMPLE, out_dir=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    src = copy_sample(tmp_path / "src")
    rewrite(src / "patients.csv", lambda f: f.drop(columns=["GENDER"]))
    with pytest.raises(SyntheaInputError):
        import_synthea(src, out_dir=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_observations_when_present(tmp_path: Path) -> None:
    src = copy_sample(tmp_path / "src")
    patients = pd.read_csv(SAMPLE / "patients.csv", dtype=str)
    alive = patients.loc[patients["DEATHDATE"].isna(), "Id"].iloc[0]
    pd.DataFrame(
        {
            "DATE": ["2024-01-02T10:00:00Z"] * 5 + ["2030-01-01T00:00:00Z"],
            "PATIENT": [alive] * 6,
            "ENCOUNTER": ["e"] * 6,
            "CATEGORY": ["laboratory"] * 6,
            "CODE": ["4548-4", "8480-6", "39156-5", "72166-2", "33914-3", "8480-6"],
            "DESCRIPTION": ["x"] * 6,
            "VALUE": ["7.0", "128", "31.5", "Never smoked tobacco (finding)", "55.1", "120"],
            "UNITS": ["%", "mm[Hg]", "kg/m2", "", "mL/min", "mm[Hg]"],
            "TYPE": ["numeric"] * 3 + ["text", "numeric", "numeric"],
        }
    ).to_csv(src / "observations.csv", index=False)
    report = import_synthea(
        src, out_dir=tmp_path / "out", extract_date=pd.Timestamp("2025-06-10").date()
    )
    obs = pd.read_csv(tmp_path / "out" / "observations.csv").set_index("code")["value"]
    assert obs["hba1c"] == pytest.approx(53.0, abs=0.1)  # 7.0 % = 53 mmol/mol
    assert (obs["sbp"], obs["bmi"], obs["egfr"]) == (128.0, 31.5, 55.1)
    counts = report.tables["observations"]
    assert counts.produced == 4
    assert counts.dropped[NOT_MAPPED_LOINC] == 1  # smoking status is text
    assert counts.dropped[NOT_NUMERIC] == 0
    assert sum(counts.dropped.values()) == 2  # and one dated after the extract
