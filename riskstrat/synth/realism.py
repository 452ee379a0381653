"""How realistic is a population? Measured from contract tables in DuckDB (what the pipeline sees),
beside the DESIGN section 8 reference figures, which are declared here once.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from riskstrat.registry.contract import TABLES, ddl

#: DESIGN section 8 (England, approximate).
REFERENCE_AGE = {"age <18 (%)": 21.0, "age 18-64 (%)": 60.0, "age 65+ (%)": 19.0}
REFERENCE_EMERGENCY_PER_1000 = 110.0
REFERENCE_ANY_EMERGENCY_PCT = 8.0  # 7-9 %
REFERENCE_DEPRIVATION_PCT = {1: 11.3, 10: 6.3}  # SPARRA, most vs least deprived decile
REFERENCE_READMISSION_PCT = 14.5  # 14-15 %
REFERENCE_AE_PER_PERSON_YEAR = 0.45
#: Emergency admissions per registered person-day, January / August: NHS England's monthly
#: A&E attendances and emergency admissions statistics put January ~10-15 % above August
#: (docs/synthetic.md).
REFERENCE_JANUARY_AUGUST = 1.12
#: Secular trend of emergency admissions (%/year): England ~+1-2 %/year before 2020.
REFERENCE_TREND_PCT = 1.5
#: Register prevalence, % of the registered list (adults only where marked True).
REFERENCE_PREVALENCE = {
    "HYP": (14.0, False), "DEP": (13.0, True), "OB": (13.0, True), "DM": (7.5, False),
    "AST": (6.5, False), "CKD": (4.0, True), "CAN": (3.5, False), "CHD": (3.0, False),
    "AF": (2.0, False), "COPD": (2.0, False), "STIA": (2.0, False), "HF": (1.0, False),
    "MH": (1.0, False), "EP": (0.8, False), "DEM": (0.7, False), "LD": (0.6, False),
    "PC": (0.5, False),
}  # fmt: skip
NO_EXTRACT_FILE = "{folder}: no file for required table {table!r} (.parquet or .csv)"


def load_extract(folder: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding an extract folder's tables, typed by the contract."""
    folder = Path(folder)
    con = duckdb.connect(":memory:")
    for table in TABLES.values():
        files = [folder / f"{table.name}.{ext}" for ext in ("parquet", "csv")]
        path = next((p for p in files if p.is_file()), None)
        con.execute(ddl(table))
        if path is None:
            if table.required:
                raise FileNotFoundError(NO_EXTRACT_FILE.format(folder=folder, table=table.name))
            continue
        reader = (
            f"read_parquet('{path}')" if path.suffix == ".parquet"
            else f"read_csv('{path}', header = true, all_varchar = true)"
        )  # fmt: skip
        present = set(con.execute(f"SELECT * FROM {reader} LIMIT 0").fetchdf().columns)
        cols = ", ".join(c.name for c in table.columns if c.name in present)
        con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {reader}")
    return con


def _cohort_sql(day: str) -> str:
    return (
        f"SELECT * FROM patients WHERE registered_from <= DATE '{day}' "
        f"AND (registered_to IS NULL OR registered_to >= DATE '{day}') "
        f"AND (date_of_death IS NULL OR date_of_death >= DATE '{day}')"
    )


def realism_table(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Generated figures over the year before as_of (people registered at its start) and
    prevalences at as_of, beside the DESIGN references."""
    start = (as_of - timedelta(days=365)).isoformat()
    end = as_of.isoformat()
    rows: list[tuple[str, float, float | None]] = []
    age = con.execute(f"""
        SELECT avg((age < 18)::INT) * 100, avg((age >= 18 AND age < 65)::INT) * 100,
               avg((age >= 65)::INT) * 100
        FROM (SELECT date_sub('year', date_of_birth, DATE '{end}') AS age
              FROM ({_cohort_sql(end)}))
    """).fetchall()[0]  # fmt: skip
    rows += [(m, v, r) for (m, r), v in zip(REFERENCE_AGE.items(), age, strict=True)]
    cohort = con.execute(f"""
        WITH c AS ({_cohort_sql(start)}),
        em AS (SELECT patient_id, count(*) AS n FROM spells
               WHERE admission_method = 'emergency'
                 AND admission_date >= DATE '{start}' AND admission_date < DATE '{end}'
               GROUP BY patient_id),
        ae AS (SELECT patient_id, count(*) AS n FROM ae_attendances
               WHERE arrival_at >= DATE '{start}' AND arrival_at < DATE '{end}'
               GROUP BY patient_id)
        SELECT c.imd_decile, date_sub('year', c.date_of_birth, DATE '{start}') AS age,
               coalesce(em.n, 0) AS n_em, coalesce(ae.n, 0) AS n_ae
        FROM c LEFT JOIN em USING (patient_id) LEFT JOIN ae USING (patient_id)
    """).fetchdf()  # fmt: skip
    any_em = cohort["n_em"] > 0
    rows.append(("emergency admissions per 1,000 per year", cohort["n_em"].mean() * 1000,
                 REFERENCE_EMERGENCY_PER_1000))  # fmt: skip
    rows.append(("people with >= 1 emergency admission in 12 months (%)", any_em.mean() * 100,
                 REFERENCE_ANY_EMERGENCY_PCT))  # fmt: skip
    for decile, ref in REFERENCE_DEPRIVATION_PCT.items():
        sel = cohort["imd_decile"] == decile
        rows.append((f">= 1 emergency admission, IMD decile {decile} (%)",
                     any_em[sel].mean() * 100, ref))  # fmt: skip
    for lo, hi in ((0, 18), (18, 65), (65, 75), (75, 85), (85, 200)):
        sel = (cohort["age"] >= lo) & (cohort["age"] < hi)
        label = f"{lo}+" if hi == 200 else f"{lo}-{hi - 1}"
        rows.append((f">= 1 emergency admission, age {label} (%)", any_em[sel].mean() * 100,
                     None))  # fmt: skip
    rows.append(("A&E attendances per person-year", cohort["n_ae"].mean(),
                 REFERENCE_AE_PER_PERSON_YEAR))  # fmt: skip
    rows += _calendar(con, as_of=as_of)
    rows += _readmission(con, start=start, end=end)
    rows += _prevalence(con, day=end)
    return pd.DataFrame(rows, columns=["measure", "generated", "reference"]).astype(
        {"generated": "float64", "reference": "float64"}
    )


def _readmission(con: duckdb.DuckDBPyConnection, *, start: str, end: str) -> list:
    """30-day emergency readmission after discharges in the year, excluding deaths, transfers
    out and maternity; the index spell never counts as its own readmission."""
    df = con.execute(f"""
        WITH idx AS (
            SELECT s.spell_id, s.patient_id, s.discharge_date,
                   date_sub('year', p.date_of_birth, s.discharge_date) AS age,
                   EXISTS (SELECT 1 FROM conditions c WHERE c.patient_id = s.patient_id
                           AND c.register IN ('HF', 'COPD')
                           AND c.diagnosed_on < s.discharge_date) AS hf_copd
            FROM spells s JOIN patients p USING (patient_id)
            WHERE s.discharge_date >= DATE '{start}' - 30
              AND s.discharge_date < DATE '{end}' - 30
              AND s.discharge_destination NOT IN ('died', 'other_hospital')
              AND s.admission_method <> 'maternity')
        SELECT idx.age, idx.hf_copd, EXISTS (
            SELECT 1 FROM spells r WHERE r.patient_id = idx.patient_id
              AND r.admission_method = 'emergency' AND r.spell_id <> idx.spell_id
              AND r.admission_date >= idx.discharge_date
              AND r.admission_date < idx.discharge_date + 30) AS readmitted
        FROM idx
    """).fetchdf()  # fmt: skip
    r = df["readmitted"]
    return [
        ("30-day emergency readmission (%)", r.mean() * 100, REFERENCE_READMISSION_PCT),
        ("30-day emergency readmission, age 75+ (%) [DESIGN: higher]",
         r[df["age"] >= 75].mean() * 100, None),
        ("30-day emergency readmission, HF or COPD (%) [DESIGN: higher]",
         r[df["hf_copd"]].mean() * 100, None),
    ]  # fmt: skip


def _prevalence(con: duckdb.DuckDBPyConnection, *, day: str) -> list:
    df = con.execute(f"""
        WITH c AS ({_cohort_sql(day)})
        SELECT k.register, count(DISTINCT k.patient_id) AS n_all,
               count(DISTINCT k.patient_id) FILTER (
                   WHERE date_sub('year', c.date_of_birth, DATE '{day}') >= 18) AS n_adult
        FROM conditions k JOIN c USING (patient_id)
        WHERE k.diagnosed_on < DATE '{day}'
          AND (k.resolved_on IS NULL OR k.resolved_on >= DATE '{day}')
        GROUP BY k.register
    """).fetchdf().set_index("register")  # fmt: skip
    size, adults = con.execute(f"""
        SELECT count(*), count(*) FILTER (
            WHERE date_sub('year', date_of_birth, DATE '{day}') >= 18)
        FROM ({_cohort_sql(day)})
    """).fetchall()[0]  # fmt: skip
    rows = []
    for code, (ref, adult) in REFERENCE_PREVALENCE.items():
        n = df["n_adult" if adult else "n_all"].get(code, 0)
        label = f"prevalence {code}{' (18+)' if adult else ''} (%)"
        rows.append((label, n / (adults if adult else size) * 100, ref))
    return rows


def monthly_admissions(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Emergency admissions per 1,000 registered people per day, by whole month before as_of
    (list size on each month's 15th), from the first whole month with any spell."""
    return con.execute(f"""
        WITH bounds AS (
            SELECT date_trunc('month', min(admission_date)) + INTERVAL 1 MONTH AS first_month
            FROM spells),
        months AS (
            SELECT CAST(m AS DATE) AS month FROM bounds,
                   generate_series(first_month, DATE '{as_of}' - INTERVAL 1 MONTH,
                                   INTERVAL 1 MONTH) AS g(m)
            WHERE m + INTERVAL 1 MONTH <= DATE '{as_of}'),
        em AS (SELECT date_trunc('month', admission_date) AS month, count(*) AS n
               FROM spells WHERE admission_method = 'emergency' GROUP BY 1),
        size AS (
            SELECT m.month, count(p.patient_id) AS listed FROM months m JOIN patients p
              ON p.registered_from <= m.month + 14
             AND (p.registered_to IS NULL OR p.registered_to >= m.month + 14)
             AND (p.date_of_death IS NULL OR p.date_of_death >= m.month + 14)
            GROUP BY m.month)
        SELECT m.month, coalesce(em.n, 0) AS admissions, size.listed,
               coalesce(em.n, 0) * 1000.0 / size.listed
                   / date_diff('day', m.month, m.month + INTERVAL 1 MONTH) AS per_1000_per_day
        FROM months m JOIN size USING (month) LEFT JOIN em ON em.month = m.month
        ORDER BY m.month
    """).fetchdf()  # fmt: skip


def _calendar(con: duckdb.DuckDBPyConnection, *, as_of: date) -> list:
    """Seasonality (January / August) and the yearly trend of the monthly admission rate."""
    df = monthly_admissions(con, as_of=as_of)
    month = pd.to_datetime(df["month"]).dt.month
    rate = df["per_1000_per_day"]
    jan, aug = rate[month == 1], rate[month == 8]
    season = jan.mean() / aug.mean() if len(jan) and len(aug) else float("nan")
    trend = float("nan")
    if len(df) >= 24:
        last, before = rate.iloc[-12:].mean(), rate.iloc[-24:-12].mean()
        trend = (last / before - 1) * 100
    return [
        ("emergency admissions, January / August (per registered day)", season,
         REFERENCE_JANUARY_AUGUST),
        ("emergency admissions, last 12 months vs 12 before (%)", trend, REFERENCE_TREND_PCT),
    ]  # fmt: skip
