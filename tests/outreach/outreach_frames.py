"""Tiny frames for the outreach tests (kept small so every rule is visible by eye)."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from riskstrat.registry.contract import TABLES, ddl
from riskstrat.registry.nhs_numbers import reserved_numbers

AS_OF = date(2025, 6, 2)  # a Monday


def people(n: int, *, practices: tuple[str, ...] = ("P1", "P2"), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "patient_id": [f"id{i:05d}" for i in range(n)],
            "practice_code": [practices[i % len(practices)] for i in range(n)],
            "registered_from": pd.Timestamp("2020-01-01"),
            "registered_to": pd.NaT,
            "date_of_death": pd.NaT,
            "data_opt_out": False,
            "care_home": False,
            "palliative": False,
            "risk": rng.uniform(0, 0.6, n),
        }
    )


def crisis_scores(frame: pd.DataFrame, *, as_of: date = AS_OF) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": "crisis",
            "patient_id": frame["patient_id"],
            "index_date": pd.Timestamp(as_of),
            "index_spell_id": None,
            "risk": frame["risk"],
        }
    )


def practices(codes: tuple[str, ...] = ("P1", "P2"), capacity: int = 20) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "practice_code": list(codes),
            "practice_name": [f"Practice {c}" for c in codes],
            "weekly_capacity": capacity,
        }
    )


def no_outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": pd.Series(dtype="str"),
            "pathway": pd.Series(dtype="str"),
            "listed_on": pd.Series(dtype="datetime64[s]"),
            "contacted_on": pd.Series(dtype="datetime64[s]"),
            "outcome": pd.Series(dtype="str"),
        }
    )


CODES = ("P1", "P2", "P3")
EVIL = {  # contact values a spreadsheet could run as formulas
    "given_name": '=HYPERLINK("http://evil.example","x")',
    "family_name": "@SUM(A1:A9)",
    "phone": "+44 7700 900123",
    "address": "-2+3",
}


def outreach_store(pop: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("patients", "contacts"):
        con.execute(ddl(TABLES[name]))
    patients = pop.drop(columns=["risk", "palliative"]).assign(
        date_of_birth=pd.Timestamp("1940-01-01"), sex="F", ethnicity="White", lsoa_code=None,
        imd_decile=5, lives_alone=None,
    )[list(TABLES["patients"].column_names)]  # fmt: skip
    con.register("p", patients)
    con.execute("INSERT INTO patients SELECT * FROM p")
    contacts = pd.DataFrame(
        {
            "patient_id": pop["patient_id"],
            "nhs_number": reserved_numbers(np.arange(len(pop))),  # valid, never issued
            "given_name": [f"Given{i}" for i in range(len(pop))],
            "family_name": [f"Family{i}" for i in range(len(pop))],
            "phone": "01632 960000",
            "address": "1 Test Street",
        }
    )
    for column, value in EVIL.items():
        contacts.loc[0, column] = value
    con.register("c", contacts)
    con.execute("INSERT INTO contacts SELECT * FROM c")
    return con
