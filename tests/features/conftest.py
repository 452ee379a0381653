"""A small hand-made registry (contract tables as frames) for the feature tests."""

from __future__ import annotations

import pandas as pd
import pytest
from feature_dates import D


def frame(**cols: list) -> pd.DataFrame:
    return pd.DataFrame(cols)


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    """Patient a: frail, HF + COPD, three emergency admissions; b: an open elective spell at
    the as-of date; c: unknown sex/ethnicity, care home; d: dies and leaves after the as-of date."""
    return {
        "practices": frame(
            practice_code=["P1", "P2"],
            practice_name=["A", "B"],
            pcn_code=["N1", "N1"],
            pcn_name=["N", "N"],
            weekly_capacity=[10, 5],
        ),
        "patients": frame(
            patient_id=["a", "b", "c", "d"],
            practice_code=["P1", "P1", "P2", "P2"],
            date_of_birth=[D("1940-06-01"), D("1980-06-02"), D("2000-06-30"), D("1950-01-01")],
            sex=["F", "M", "U", "M"],
            ethnicity=["White", "Asian", "Unknown", "Black"],
            imd_decile=[1, 5, None, 10],
            registered_from=[D("2000-01-01")] * 4,
            registered_to=[None, None, None, D("2024-09-01")],
            date_of_death=[None, None, None, D("2024-08-01")],
            lives_alone=[True, None, False, False],
            care_home=[False, False, True, False],
            data_opt_out=[False] * 4,
        ),
        "conditions": frame(
            patient_id=["a", "a", "b", "d", "d"],
            register=["HF", "COPD", "DM", "CKD", "PC"],
            diagnosed_on=[
                D("2014-06-01"),
                D("2018-01-01"),
                D("2023-06-01"),
                D("2020-01-01"),
                D("2024-05-01"),
            ],
            resolved_on=[None, None, D("2024-01-01"), D("2024-06-01"), None],
        ),
        "spells": frame(
            spell_id=["s1", "s2", "s3", "s4", "s5"],
            patient_id=["a", "a", "a", "b", "a"],
            admission_date=[
                D("2022-12-01"),
                D("2024-03-01"),
                D("2024-05-01"),
                D("2024-05-20"),
                D("2024-06-10"),
            ],
            discharge_date=[
                D("2022-12-03"),
                D("2024-03-05"),
                D("2024-05-10"),
                None,
                D("2024-06-12"),
            ],
            admission_method=["emergency", "emergency", "emergency", "elective", "emergency"],
            primary_diagnosis=["J44", "I50", "J44", None, "C78"],
            discharge_destination=["home", "home", "home", None, "home"],
        ),
        "ae_attendances": frame(
            attendance_id=["e1", "e2", "e3"],
            patient_id=["a", "a", "c"],
            arrival_at=[D("2024-04-30 22:00"), D("2023-12-01 10:00"), D("2024-05-31 23:59")],
            disposal=["admitted", "discharged", "left"],
        ),
        "gp_contacts": frame(
            patient_id=["a", "a", "a", "c"],
            contact_date=[D("2024-05-20"), D("2024-05-21"), D("2023-10-01"), D("2024-01-05")],
            mode=["home_visit", "telephone", "face_to_face", "online"],
            attended=[True, False, True, True],
        ),
        "prescriptions": frame(
            patient_id=["a", "a", "a", "a"],
            issued_on=[D("2024-05-15"), D("2024-05-15"), D("2024-04-15"), D("2024-01-01")],
            bnf_code=["0208020Z0", "0202020L0", "0202020L0", "0407020A0"],
            drug_code=[None, "dmd-1", None, None],
        ),
        "observations": frame(
            patient_id=["a", "a", "a", "b"],
            observed_on=[D("2024-01-01"), D("2024-04-01"), D("2024-06-01"), D("2024-02-02")],
            code=["egfr", "egfr", "egfr", "hba1c"],
            value=[50.0, 40.0, 10.0, None],
        ),
    }
