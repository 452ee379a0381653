"""build_features on a hand-made registry: exact values, dtypes, order, masking, checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from feature_dates import AS_OF, D

from riskstrat.features import build_features, decode, load_catalogue
from riskstrat.features.audit import leakage_audit, memory_registry
from riskstrat.features.catalogue import feature_dir
from riskstrat.features.runner import (
    GROUP_COLUMNS_MISMATCH,
    GROUP_ROWS_MISMATCH,
    MISSING_TABLE,
    TEST_FAILED,
    _place,
    input_groups,
)
from riskstrat.slices import assign_slices
from riskstrat.tasks import build_index, load_task


@pytest.fixture
def crisis(tables: dict) -> pd.DataFrame:
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    return build_features(con, index, task="crisis").set_index("patient_id")


def test_matrix_layout(crisis: pd.DataFrame) -> None:
    task = load_task("crisis")
    columns = load_catalogue().columns(task)
    assert list(crisis.columns) == ["index_date", "practice_code", *columns]
    assert all(crisis[c].dtype == "float64" for c in columns)
    assert crisis["practice_code"].tolist() == ["P1", "P1", "P2", "P2"]
    assert (crisis["index_date"] == AS_OF).all()
    assert "los_days" not in crisis.columns  # the index-spell group is readmission only


def test_demographics_and_codebook(crisis: pd.DataFrame) -> None:
    assert crisis["age"].tolist() == [84, 43, 23, 74]  # a: birthday on the day; b: the day after
    assert crisis["sex"].tolist()[:2] == [0, 1] and np.isnan(crisis.loc["c", "sex"])  # U -> NULL
    assert np.isnan(crisis.loc["c", "ethnicity"]) and crisis.loc["b", "ethnicity"] == 2
    assert np.isnan(crisis.loc["b", "lives_alone"]) and crisis.loc["a", "lives_alone"] == 1
    assert np.isnan(crisis.loc["c", "imd_decile"]) and crisis.loc["c", "care_home"] == 1


def test_conditions_active_at_index(crisis: pd.DataFrame) -> None:
    a, b, d = crisis.loc["a"], crisis.loc["b"], crisis.loc["d"]
    assert (a["reg_hf"], a["reg_copd"], a["ltc_count"], a["hf_with_copd"]) == (1, 1, 2, 1)
    assert a["years_since_hf"] == pytest.approx(3653 / 365.25)
    assert np.isnan(b["years_since_hf"]) and b["reg_dm"] == 0  # resolved before index
    assert d["reg_ckd"] == 1  # resolved on the index date: unknown at index, still active
    assert (d["reg_pc"], d["ltc_count"]) == (1, 1)  # palliative care is not an LTC


def test_hospital_use_and_open_spell(crisis: pd.DataFrame) -> None:
    a, b = crisis.loc["a"], crisis.loc["b"]
    got = a[["emerg_adm_90d", "emerg_adm_365d", "emerg_adm_730d"]].tolist()
    assert got == [1, 2, 3]
    assert a[["bed_days_90d", "bed_days_365d", "bed_days_730d"]].tolist() == [11, 13, 15]
    assert (a["days_since_emerg_adm"], a["days_since_discharge"]) == (31, 22)
    # b is in hospital at index: bed days only up to the index, no discharge known
    assert (b["elective_adm_90d"], b["bed_days_90d"], b["in_hospital_at_index"]) == (1, 12, 1)
    assert np.isnan(b["days_since_discharge"])


def test_ae_primary_care_prescribing_observations(crisis: pd.DataFrame) -> None:
    a, b, c = crisis.loc["a"], crisis.loc["b"], crisis.loc["c"]
    assert (a["ae_90d"], a["ae_365d"], a["days_since_ae"]) == (1, 2, 32)
    assert (c["ae_90d"], c["days_since_ae"]) == (1, 1)  # 23:59 the day before counts
    assert a[
        ["gp_contacts_90d", "gp_contacts_365d", "gp_missed_90d", "home_visits_90d"]
    ].tolist() == [1, 2, 1, 1]
    assert (c["gp_contacts_90d"], c["gp_contacts_365d"]) == (0, 1)
    assert (a["distinct_drugs_90d"], a["bnf_sections_90d"]) == (3, 2)
    assert (a["anticoagulant_90d"], a["loop_diuretic_90d"], a["opioid_90d"]) == (1, 1, 0)
    assert a["egfr_latest"] == 40  # the value dated on the index date is not seen
    assert np.isnan(b["hba1c_latest"]) and np.isnan(c["bmi_latest"])  # missing stays missing


def test_readmission_index_spell_and_lace(tables: dict) -> None:
    con = memory_registry(tables)
    index = build_index(con, "readmission_30d", start="2024-05-10", end="2024-05-10")
    m = build_features(con, index, task="readmission_30d")
    row = m.iloc[0]
    assert list(m.columns[:4]) == ["patient_id", "index_date", "index_spell_id", "practice_code"]
    assert row["index_spell_id"] == "s3"
    cat = load_catalogue()
    assert cat.spec("index_icd10_chapter").label(row["index_icd10_chapter"]) == "respiratory"
    assert cat.spec("index_admission_method").label(row["index_admission_method"]) == "emergency"
    got = row[["los_days", "lace_l", "lace_a", "lace_c", "lace_e", "lace_total"]].tolist()
    assert got == [9, 5, 3, 2, 2, 12]
    assert row["chain_los_days"] == 9  # not a transfer leg: the episode is the spell
    # the index spell is excluded from hospital use: only s2 in the 90 days before discharge
    assert (row["emerg_adm_90d"], row["days_since_discharge"]) == (1, 66)


def test_lace_on_a_transfer_chain_counts_from_the_first_leg(tables: dict) -> None:
    """c: emergency admission 1 April, transferred on 3 April, discharged home on 9 April. The
    index is the transfer leg: its own stay is 6 days, the episode's 8 and it began as an
    emergency (LACE A 3, L 5 for 7-13 days), not 'transfer' (A 0) with 6 days (L 4)."""
    extra = pd.DataFrame({
        "spell_id": ["t1", "t2"], "patient_id": ["c", "c"],
        "admission_date": [D("2024-04-01"), D("2024-04-03")],
        "discharge_date": [D("2024-04-03"), D("2024-04-09")],
        "admission_method": ["emergency", "transfer"], "primary_diagnosis": ["J18", "J18"],
        "discharge_destination": ["other_hospital", "home"],
    })  # fmt: skip
    tables = {**tables, "spells": pd.concat([tables["spells"], extra], ignore_index=True)}
    con = memory_registry(tables)
    index = build_index(con, "readmission_30d", start="2024-04-01", end="2024-04-30")
    assert index["index_spell_id"].tolist() == ["t2"]  # the leg transferred out is no index
    row = build_features(con, index, task="readmission_30d").iloc[0]
    got = row[["los_days", "chain_los_days", "lace_a", "lace_l"]].tolist()
    assert got == [6, 8, 3, 5]


#: c: an emergency admission on 1 April continued by two transfer legs (each admitted the day
#: the leg before was discharged to another hospital), home on 12 April: one stay of 11 nights.
#: d: discharged to another hospital on 5 March, but the next spell began on the 6th: no link.
CHAIN = pd.DataFrame({
    "spell_id": ["t1", "t2", "t3", "u1", "u2"], "patient_id": ["c", "c", "c", "d", "d"],
    "admission_date": [D("2024-04-01"), D("2024-04-03"), D("2024-04-09"), D("2024-03-01"),
                       D("2024-03-06")],
    "discharge_date": [D("2024-04-03"), D("2024-04-09"), D("2024-04-12"), D("2024-03-05"),
                       D("2024-03-10")],
    "admission_method": ["emergency", "transfer", "transfer", "emergency", "transfer"],
    "primary_diagnosis": ["J18"] * 5,
    "discharge_destination": ["other_hospital", "other_hospital", "home", "other_hospital",
                              "home"],
})  # fmt: skip
SINCE = ["days_since_emerg_adm", "days_since_discharge", "days_since_emerg_discharge"]


def _with_chain(tables: dict) -> duckdb.DuckDBPyConnection:
    return memory_registry(
        {**tables, "spells": pd.concat([tables["spells"], CHAIN], ignore_index=True)}
    )


def _since(con: duckdb.DuckDBPyConnection, day: str, people: list[str]) -> pd.DataFrame:
    index = pd.DataFrame({"patient_id": people, "index_date": [D(day)] * len(people)})
    return build_features(con, index, task="crisis").set_index("patient_id")[SINCE]


def test_an_emergency_stay_ends_with_the_last_leg_of_its_transfer_chain(tables: dict) -> None:
    """days_since_emerg_discharge is the discharge that ended the last emergency admission's
    stay: through its transfer legs (c: the last leg's discharge, equal to the last discharge,
    so reasons say one stay), not across a gap (d: two stays)."""
    since = _since(_with_chain(tables), "2024-06-01", ["a", "c", "d"])
    assert since.loc["c"].tolist() == [61, 50, 50]  # 1 April, 12 April (not 3 April: 59)
    assert since.loc["d"].tolist() == [92, 83, 88]  # the stay ended 5 March, the last on the 10th
    assert since.loc["a"].tolist() == [31, 22, 22]  # no transfer: the spell's own discharge


def test_a_transfer_leg_discharged_on_or_after_the_index_leaves_the_stay_open(
    tables: dict,
) -> None:
    """No leakage: at an index on or before the last leg's discharge (12 April) the chain's
    stay is still open (NULL), although its earlier legs ended before the index; a day later
    the discharge is known. a: the last emergency admission (10 June) is open on 11 June, so
    the earlier emergency stay's discharge is not its end either."""
    con = _with_chain(tables)
    for day in ("2024-04-10", "2024-04-12"):
        since = _since(con, day, ["c"]).loc["c"]
        assert not np.isnan(since["days_since_discharge"])  # the legs transferred out
        assert np.isnan(since["days_since_emerg_discharge"]), day
    assert _since(con, "2024-04-13", ["c"]).loc["c"].tolist() == [12, 1, 1]
    a = _since(con, "2024-06-11", ["a"]).loc["a"]
    assert a["days_since_emerg_adm"] == 1 and a["days_since_discharge"] == 32
    assert np.isnan(a["days_since_emerg_discharge"])


#: c again, one stay in three legs (CHAIN's t1-t3: emergency 1 April, transfers on 3 and 9 April,
#: home on 12 April; t3 the readmission index), after two separate stays: an emergency admission
#: 1-5 February and a planned one 1-2 March; A&E on 20 March and on 1 April (the arrival that
#: began the stay).
EARLIER = pd.DataFrame({
    "spell_id": ["v1", "v2"], "patient_id": ["c", "c"],
    "admission_date": [D("2024-02-01"), D("2024-03-01")],
    "discharge_date": [D("2024-02-05"), D("2024-03-02")],
    "admission_method": ["emergency", "elective"], "primary_diagnosis": ["J18", "K80"],
    "discharge_destination": ["home", "home"],
})  # fmt: skip
STAY_AE = pd.DataFrame({
    "attendance_id": ["x1", "x2"], "patient_id": ["c", "c"],
    "arrival_at": [D("2024-03-20 11:00"), D("2024-04-01 08:00")], "disposal": ["discharged",
                                                                              "admitted"],
})  # fmt: skip
BEFORE_THIS_STAY = [
    "emerg_adm_90d", "emerg_adm_365d", "elective_adm_90d", "bed_days_90d", "bed_days_365d",
    "days_since_emerg_adm", "days_since_discharge", "days_since_emerg_discharge",
    "in_hospital_at_index", "emerg_adm_all", "mean_los_all",
]  # fmt: skip


def _stay_tables(tables: dict) -> dict:
    spells = [tables["spells"], CHAIN[CHAIN["patient_id"] == "c"], EARLIER]
    return {
        **tables,
        "spells": pd.concat(spells, ignore_index=True),
        "ae_attendances": pd.concat([tables["ae_attendances"], STAY_AE], ignore_index=True),
    }


def _readmission_of_c(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    index = build_index(con, "readmission_30d", start="2024-04-01", end="2024-04-30")
    return index[index["patient_id"] == "c"].reset_index(drop=True)


def test_the_legs_of_the_index_stay_are_not_previous_admissions(tables: dict) -> None:
    """Readmission row c, discharged on 12 April from the third leg of one stay: the stay's
    earlier legs (the emergency admission of 1 April, the leg of 3-9 April) are this stay, not a
    previous emergency admission, discharge or nights before it; the separate stays of February
    and March still count (emergency 1-5 Feb: 71 days ago, discharged 67 days ago; the last
    discharge 2 March, 41 days ago, a planned stay; 4 + 1 nights)."""
    con = memory_registry(_stay_tables(tables))
    index = _readmission_of_c(con)
    assert index["index_spell_id"].tolist() == ["t3"]
    row = build_features(con, index, task="readmission_30d").iloc[0]
    assert row[BEFORE_THIS_STAY].tolist() == [1, 1, 1, 5, 5, 71, 41, 67, 0, 1, 2.5]
    cat = load_catalogue()
    assert cat.spec("last_discharge_method").label(row["last_discharge_method"]) == "elective"
    # LACE reads the same stay: 11 nights from its first admission, an emergency; its A&E
    # visits are before that admission (20 March), not the arrival that began it (1 April)
    got = row[["los_days", "chain_los_days", "lace_l", "lace_a", "lace_e"]].tolist()
    assert got == [3, 11, 5, 3, 1]


def test_a_crisis_row_still_counts_every_leg(tables: dict) -> None:
    """No index stay on a crisis row: at 13 April the legs are an emergency admission 12 days
    ago, a discharge the day before, 11 nights, five spells averaging 3.2 days, as before."""
    con = memory_registry(_stay_tables(tables))
    index = pd.DataFrame({"patient_id": ["c"], "index_date": [D("2024-04-13")]})
    row = build_features(con, index, task="crisis").iloc[0]
    assert row[BEFORE_THIS_STAY].tolist() == [2, 2, 1, 16, 16, 12, 1, 1, 0, 2, 3.2]


def test_readmission_features_blind_to_after_discharge_through_a_transfer_chain(
    tables: dict,
) -> None:
    """The leakage audit (tests/features/test_features_leakage.py) on the stay's index row: the
    legs left out are known at its discharge; nothing on or after 12 April moves a feature."""
    tables = _stay_tables(tables)
    index = _readmission_of_c(memory_registry(tables))
    assert leakage_audit(tables, index, task="readmission_30d") == []


def test_decode_feeds_slices(crisis: pd.DataFrame) -> None:
    people = decode(crisis)
    assert people.loc["a", "sex"] == "F" and people.loc["b", "ethnicity"] == "Asian"
    slices = assign_slices(people)
    assert slices.loc["c", "sex"] == "Unknown" and slices.loc["a", "age_band"] == "75-84"
    assert slices.loc["c", "imd_quintile"] == "Unknown"


def _copy_features(tmp_path: Path) -> Path:
    folder = tmp_path / "features"
    shutil.copytree(feature_dir(), folder)
    return folder


def test_data_test_failure_names_group_column_test(tables: dict, tmp_path: Path) -> None:
    folder = _copy_features(tmp_path)
    yml = folder / "demographics.yml"
    yml.write_text(
        yml.read_text().replace(
            "{not_null: true, min: 0, max: 125}", "{not_null: true, min: 0, max: 80}"
        )
    )
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    expected = TEST_FAILED.format(
        group="demographics", column="age", test="max", detail="1 value(s) above 80 (highest 84)"
    )
    with pytest.raises(ValueError) as err:
        build_features(con, index, task="crisis", catalogue=load_catalogue(folder))
    assert str(err.value) == expected


def test_sql_and_yaml_must_agree(tables: dict, tmp_path: Path) -> None:
    folder = _copy_features(tmp_path)
    sql = folder / "ae.sql"
    sql.write_text(sql.read_text().replace("AS days_since_ae", "AS days_since_last_ae"))
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    with pytest.raises(ValueError) as err:
        build_features(con, index, task="crisis", catalogue=load_catalogue(folder))
    assert str(err.value) == GROUP_COLUMNS_MISMATCH.format(
        group="ae", sql="ae.sql", extra=["days_since_last_ae"], missing=["days_since_ae"]
    )


def test_optional_table_may_be_absent_required_may_not(tables: dict) -> None:
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    con.execute("DROP TABLE observations")
    m = build_features(con, index, task="crisis")
    assert m["egfr_latest"].isna().all()
    con.execute("DROP TABLE ae_attendances")
    with pytest.raises(ValueError) as err:
        build_features(con, index, task="crisis")
    assert str(err.value) == MISSING_TABLE.format(table="ae_attendances")


def test_rows_follow_the_callers_order_and_repeat(tables: dict) -> None:
    con = memory_registry(tables)
    index = pd.DataFrame(
        {"patient_id": ["d", "a", "a"], "index_date": [AS_OF, AS_OF, D("2024-05-02")]}
    )
    m = build_features(con, index, task="crisis")
    assert m["patient_id"].tolist() == ["d", "a", "a"]
    assert m["emerg_adm_90d"].tolist() == [0, 1, 2]
    assert m["days_since_emerg_adm"].tolist()[1:] == [31, 1]


def test_latest_observation_ties_take_the_higher_value(tables: dict) -> None:
    """Latest before index per code; same-day values: the higher one; older ones never win."""
    extra = pd.DataFrame(
        {
            "patient_id": ["c", "c", "c", "c", "c", "d"],
            "observed_on": [D("2024-05-01")] * 3 + [D("2023-01-01"), D("2024-06-01"), AS_OF],
            "code": ["bmi", "bmi", "bmi", "bmi", "efi_score", "efi_score"],
            "value": [31.0, 33.5, None, 40.0, 0.5, 0.9],
        }
    )
    tables["observations"] = pd.concat([tables["observations"], extra], ignore_index=True)
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    m = build_features(con, index, task="crisis").set_index("patient_id")
    assert m.loc["c", "bmi_latest"] == 33.5  # null on the same day is not a value
    assert np.isnan(m.loc["c", "efi_latest"]) and np.isnan(m.loc["d", "efi_latest"])
    assert m.loc["a", "egfr_latest"] == 40


def test_repeat_items_need_two_issue_days_inside_the_window(tables: dict) -> None:
    """A repeat item: one BNF code issued on two or more days in the 180 days before index."""
    issued = {
        "0101010A0": [D("2024-05-01"), D("2024-05-01")],  # twice on one day: not a repeat
        "0101010B0": [D("2024-03-01"), D("2024-05-20")],  # two days in the window: a repeat
        "0101010C0": [D("2023-11-01"), D("2024-05-01")],  # one day before the window: not
        "0101010D0": [D("2024-05-31"), AS_OF],  # one day on the index date (unknown): not
    }
    extra = pd.DataFrame(
        [{"patient_id": "b", "issued_on": day, "bnf_code": code, "drug_code": None}
         for code, days in issued.items() for day in days]
    )  # fmt: skip
    tables["prescriptions"] = pd.concat([tables["prescriptions"], extra], ignore_index=True)
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    m = build_features(con, index, task="crisis").set_index("patient_id")
    assert m["repeat_items_180d"].to_dict() == {"a": 1, "b": 1, "c": 0, "d": 0}


@pytest.mark.parametrize(
    ("old", "new", "rows"),
    [
        ("LEFT JOIN per_row AS r", "JOIN per_row AS r", 2),  # rows without A&E lost
        (
            "FROM index_rows AS i\nLEFT",
            "FROM (SELECT * FROM index_rows UNION ALL SELECT * FROM index_rows WHERE row_id = 0)"
            " AS i\nLEFT",
            5,
        ),
    ],
)
def test_one_result_row_per_index_row(
    tables: dict, tmp_path: Path, old: str, new: str, rows: int
) -> None:
    folder = _copy_features(tmp_path)
    sql = folder / "ae.sql"
    assert old in sql.read_text()
    sql.write_text(sql.read_text().replace(old, new))
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    with pytest.raises(ValueError) as err:
        build_features(con, index, task="crisis", catalogue=load_catalogue(folder))
    assert str(err.value) == GROUP_ROWS_MISMATCH.format(group="ae", rows=rows, expected=4)


def test_fetched_chunks_are_placed_by_row_id_with_nulls_as_nan() -> None:
    """A group's Arrow result (several chunks, NULLs) lands at its rows, NULL as NaN."""
    import pyarrow as pa

    column = pa.chunked_array([[1.5, None], [None, -2.0, 0.25]], type=pa.float64())
    row_id = np.array([4, 0, 2, 1, 3])
    values = np.full(5, 99.0)
    _place(values, row_id, column)
    np.testing.assert_array_equal(values, [np.nan, -2.0, np.nan, 0.25, 1.5])


def test_scoring_builds_only_the_groups_holding_a_model_input(tables: dict) -> None:
    """input_groups leaves out a group with no model input (history: use_in_model false) unless
    a column of it is asked for; the matrix of those groups is the full matrix's columns."""
    catalogue = load_catalogue()
    task = load_task("crisis")
    research = [g.name for g in catalogue.groups_for(task) if not set(g.columns) & set(
        catalogue.model_features(task))]  # fmt: skip
    assert research == ["history"]
    groups = input_groups(catalogue, task)
    assert [g.name for g in groups] == [
        g.name for g in catalogue.groups_for(task) if g.name != "history"
    ]
    assert "history" in [g.name for g in input_groups(catalogue, task, also=["efi_mean"])]
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    full = build_features(con, index, task="crisis")
    some = build_features(con, index, task="crisis", groups=groups)
    model = set(catalogue.model_features(task))
    assert model <= set(some.columns)
    assert "efi_mean" not in some.columns
    assert list(some.columns) == [c for c in full.columns if c in set(some.columns)]
    pd.testing.assert_frame_equal(some, full[list(some.columns)])


@pytest.mark.parametrize("needs_history", [False, True])
def test_the_run_builds_a_left_out_group_when_its_champion_needs_it(
    tables: dict, needs_history: bool
) -> None:
    """The weekly run's features step leaves history out; a champion trained on one of its
    columns (a YAML flag flipped since) gets the whole matrix, not a failed predict."""
    from types import SimpleNamespace

    from riskstrat.runs.state import TaskData
    from riskstrat.runs.steps import features_step

    task = load_task("crisis")
    inputs = load_catalogue().model_features(task) + ["efi_mean"] * needs_history
    data = TaskData(
        name="crisis", spec=task, model=SimpleNamespace(feature_names=inputs), alias="champion"
    )
    con = memory_registry(tables)
    state = SimpleNamespace(con=con, tasks={"crisis": data}, as_of=AS_OF, loading_models=None)
    assert features_step(state) == {"crisis_rows": 4}
    assert ("efi_mean" in data.matrix.columns) is needs_history
    assert set(inputs) <= set(data.matrix.columns)
