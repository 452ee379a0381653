"""A crude, contract-valid extract of N patients (~40 event rows each) to time the ingest.

Not a test and not realistic: uniform random events written with DuckDB, plus ~0.1 % broken
gp_contacts rows so the rejects path is exercised. Usage:
    python tests/registry/make_scale_extract.py OUT_DIR [--patients 1000000] [--fmt parquet|csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from riskstrat.registry.contract import REGISTERS

EXTRACT_DATE = "2025-12-31"
#: table -> (rows per patient, SELECT over range(n) AS r(i) with a random patient `pid`)
EVENTS = {
    "conditions": (
        2,
        "SELECT 'p' || pid AS patient_id, {registers}[1 + i % {nreg}] AS register, "
        "DATE '2005-01-01' + CAST(i % 7000 AS INT) AS diagnosed_on, NULL::DATE AS resolved_on",
    ),
    "spells": (
        0.3,
        "SELECT 's' || i AS spell_id, 'p' || pid AS patient_id, 'RX1' AS provider_code, "
        "DATE '2021-01-01' + CAST(i % 1500 AS INT) AS admission_date, "
        "DATE '2021-01-01' + CAST(i % 1500 AS INT) + CAST(i % 9 AS INT) AS discharge_date, "
        "CASE i % 3 WHEN 0 THEN '21' WHEN 1 THEN 'elective' ELSE 'emergency' END "
        "AS admission_method, 'I50' AS primary_diagnosis, 'home' AS discharge_destination",
    ),
    "ae_attendances": (
        0.5,
        "SELECT 'a' || i AS attendance_id, 'p' || pid AS patient_id, "
        "TIMESTAMP '2021-01-01 08:00:00' + to_minutes(CAST(i % 2000000 AS BIGINT)) "
        "AS arrival_at, 'discharged' AS disposal",
    ),
    "gp_contacts": (
        20,
        "SELECT 'p' || pid AS patient_id, DATE '2021-01-01' + CAST(i % 1550 AS INT) AS "
        "contact_date, CASE WHEN i % 1000 = 7 THEN 'carrier pigeon' ELSE 'telephone' END AS mode, "
        "i % 10 <> 0 AS attended",
    ),
    "prescriptions": (
        15,
        "SELECT 'p' || pid AS patient_id, DATE '2021-01-01' + CAST(i % 1550 AS INT) AS issued_on, "
        "'0205' || (i % 90) AS bnf_code",
    ),
    "observations": (
        2.5,
        "SELECT 'p' || pid AS patient_id, DATE '2021-01-01' + CAST(i % 1550 AS INT) AS "
        "observed_on, 'sbp' AS code, 100.0 + i % 80 AS value",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--fmt", choices=("parquet", "csv"), default="parquet")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    n = args.patients
    fmt = "(FORMAT parquet)" if args.fmt == "parquet" else "(HEADER, DELIMITER ',')"
    con = duckdb.connect()

    def write(name: str, select: str) -> None:
        con.execute(f"COPY ({select}) TO '{args.out / f'{name}.{args.fmt}'}' {fmt}")

    write(
        "practices",
        "SELECT 'P' || i AS practice_code, 'Practice ' || i AS practice_name, 'N' || i // 5 "
        "AS pcn_code, 'PCN ' || i // 5 AS pcn_name, 50 AS weekly_capacity FROM range(100) r(i)",
    )
    write(
        "patients",
        f"SELECT 'p' || i AS patient_id, 'P' || i % 100 AS practice_code, "
        f"DATE '1930-01-01' + CAST(hash(i) % 25000 AS INT) AS date_of_birth, "
        f"['F', 'M'][1 + i % 2] AS sex, 'White' AS ethnicity, 1 + i % 10 AS imd_decile, "
        f"greatest(DATE '1930-01-01' + CAST(hash(i) % 25000 AS INT), DATE '2000-01-01') "
        f"AS registered_from, "
        f"NULL::DATE AS registered_to, "
        f"CASE WHEN i % 50 = 0 THEN DATE '2025-06-01' END AS date_of_death, "
        f"NULL::BOOLEAN AS lives_alone, false AS care_home, false AS data_opt_out "
        f"FROM range({n}) r(i)",
    )
    write(
        "contacts",
        f"SELECT 'p' || i AS patient_id, lpad(CAST(i AS VARCHAR), 10, '9') AS nhs_number, "
        f"'Ann' AS given_name, 'Smith' AS family_name, NULL AS phone, NULL AS address "
        f"FROM range({n}) r(i)",
    )
    registers = "[" + ", ".join(f"'{r}'" for r in REGISTERS) + "]"
    for name, (per_patient, select) in EVENTS.items():
        rows = int(n * per_patient)
        body = select.format(registers=registers, nreg=len(REGISTERS))
        write(name, f"{body} FROM (SELECT i, hash(i * 7919) % {n} AS pid FROM range({rows}) r(i))")


if __name__ == "__main__":
    main()
