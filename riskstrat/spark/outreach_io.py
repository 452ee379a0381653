"""What outreach reads from the registry, in Spark: the people frame (eligibility inputs) and the
identifiable contacts of the listed patients only.

Both run on the registry's temp views (patients, spells, ae_attendances, conditions, contacts)
that riskstrat.spark.tables registers from the Parquet layout. The people query is the DuckDB
path's own text (`outreach.store_io.PEOPLE_SQL`), so eligibility has one definition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from riskstrat.outreach.store_io import PEOPLE_SQL
from riskstrat.registry.contract import TABLES


def people_frame(spark: Any, *, as_of: date) -> Any:
    """eligibility.PEOPLE_COLUMNS + in_hospital, last_event at as_of, as a Spark DataFrame."""
    return spark.sql(PEOPLE_SQL.replace("$as_of", f"DATE '{as_of.isoformat()}'"))


def contacts_reader_spark(spark: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The Spark twin of `outreach.store_io.contacts_reader`: `read(listed)` joins the listed
    (practice_code, patient_id) pairs to patients (same id and practice) and contacts in Spark
    and returns only those rows, ordered as the DuckDB reader orders them. Only the pairs go
    to the cluster; only the listed patients' identifiers come back to the driver."""
    names = [c for c in TABLES["contacts"].column_names if c != "patient_id"]
    cols = ", ".join(f"c.{c}" for c in names)

    def read(listed: pd.DataFrame) -> pd.DataFrame:
        pairs = listed[["practice_code", "patient_id"]].drop_duplicates().astype("object")
        view = spark.createDataFrame(pairs, schema="practice_code string, patient_id string")
        view.createOrReplaceTempView("outreach_listed_pairs")
        try:
            frame = spark.sql(
                f"""
                SELECT l.practice_code, l.patient_id, p.date_of_birth, {cols}
                FROM outreach_listed_pairs l
                JOIN patients p
                  ON p.patient_id = l.patient_id AND p.practice_code = l.practice_code
                LEFT JOIN contacts c ON c.patient_id = l.patient_id
                ORDER BY l.practice_code, l.patient_id
                """
            ).toPandas()
        finally:
            spark.catalog.dropTempView("outreach_listed_pairs")
        return frame

    return read
