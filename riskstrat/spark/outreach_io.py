"""What outreach reads from the registry, in Spark: the people frame (eligibility inputs) and the
identifiable contacts of the listed patients only.

The people frame runs on the registry's temp views (patients, spells, ae_attendances,
conditions) that riskstrat.spark.tables registers from the Parquet layout. Its query is the DuckDB
path's own text (`outreach.store_io.PEOPLE_SQL`), so eligibility has one definition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from riskstrat.outreach.store_io import PEOPLE_SQL
from riskstrat.registry.contract import TABLES


def people_frame(spark: Any, *, as_of: date) -> Any:
    """eligibility.PEOPLE_COLUMNS + in_hospital, last_event at as_of, as a Spark DataFrame."""
    return spark.sql(PEOPLE_SQL.replace("$as_of", f"DATE '{as_of.isoformat()}'"))


def contacts_reader_spark(spark: Any, *, root: Path) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The Spark twin of `outreach.store_io.contacts_reader`: `read(listed)` joins the listed
    (practice_code, patient_id) pairs to patients (same id and practice) and contacts in Spark
    and returns only those rows, ordered as the DuckDB reader orders them. Only the pairs go
    to the cluster and only the listed patients' identifiers come back to the driver; contacts
    is read from the Parquet layout for this join only (it is never a view the feature SQL
    could read); patients is pruned to the listed practices' partition folders."""
    from pyspark.sql import functions as F

    from riskstrat.spark.tables import read_table

    names = [c for c in TABLES["contacts"].column_names if c != "patient_id"]

    def read(listed: pd.DataFrame) -> pd.DataFrame:
        pairs = listed[["practice_code", "patient_id"]].drop_duplicates().astype("object")
        codes = sorted(pairs["practice_code"].unique())
        wanted = spark.createDataFrame(pairs, schema="practice_code string, patient_id string")
        patients = read_table(spark, root=root, name="patients").where(
            F.col("practice_code").isin(codes)
        )
        contacts = read_table(spark, root=root, name="contacts")
        frame = (
            wanted.join(patients.select("patient_id", "practice_code", "date_of_birth"),
                        ["patient_id", "practice_code"], "inner")
            .join(contacts, "patient_id", "left")
            .select("practice_code", "patient_id", "date_of_birth", *names)
            .orderBy("practice_code", "patient_id")
            .toPandas()
        )  # fmt: skip
        frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"])
        return frame

    return read
