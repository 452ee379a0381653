"""The Spark run's inputs: the session, the registry views and each task's feature matrix.

The session, the Parquet registry and the feature SQL on Spark belong to riskstrat.spark.session,
tables and features (one feature definition for both engines); this module is the weekly run's
one door to them, so the run's steps do not depend on how they are spelled.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

#: Key columns of a feature matrix, as the DuckDB path types them.
KEY_TYPES = {"patient_id": "str", "index_spell_id": "str", "practice_code": "str"}


def matrix_to_pandas(frame: Any) -> pd.DataFrame:
    """A Spark feature matrix on the driver with the DuckDB path's dtypes: keys as str,
    index_date as datetime64, every feature float64."""
    out = frame.toPandas()
    if "index_date" in out:
        out["index_date"] = pd.to_datetime(out["index_date"]).astype("datetime64[us]")
    for column, kind in KEY_TYPES.items():
        if column in out:
            out[column] = out[column].astype(kind)
    features = [c for c in out.columns if c not in (*KEY_TYPES, "index_date")]
    return out.astype({c: "float64" for c in features})


def registry_dir(settings: Any) -> Path:
    """The Parquet registry the Spark engine reads (one folder per table)."""
    return Path(settings.paths.data_dir) / "parquet"


#: PySpark 4 warns on every pandas conversion that it "does not yet fully support pandas >= 3";
#: the equivalence tests (tests/spark) are what show the conversions this project uses are right.
PANDAS3_WARNING = "PySpark does not yet fully support pandas"


def quiet_pyspark() -> None:
    """Silence PySpark's pandas-3 FutureWarning in this process and its Python workers."""
    import os
    import warnings

    warnings.filterwarnings("ignore", message=PANDAS3_WARNING, category=FutureWarning)
    # pandas 3 deprecations that PySpark's own conversion code triggers (the `copy` keyword,
    # Series.values of tz-aware data): not ours to fix, and under `-W error` they would make
    # PySpark abandon Arrow mid-conversion. Warnings raised in our code still show.
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"pyspark(\.|$)")
    rule = f"ignore:{PANDAS3_WARNING}:FutureWarning"
    current = os.environ.get("PYTHONWARNINGS", "")
    if rule not in current:
        os.environ["PYTHONWARNINGS"] = ",".join(p for p in (current, rule) if p)


def open_session(settings: Any) -> Any:
    import os
    import sys

    from pyspark.sql import SparkSession

    quiet_pyspark()
    # Python workers run this interpreter (the project's environment), not whatever is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

    return (
        SparkSession.builder.master("local[2]")
        .appName("riskstrat-weekly")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def register_registry(spark: Any, con: Any, *, settings: Any) -> None:
    """Temp views of every registry table, read from the Parquet layout (exported from the
    store when missing)."""
    from riskstrat.registry.contract import TABLES

    root = registry_dir(settings)
    for table in TABLES:
        folder = root / table
        if not folder.is_dir():
            folder.mkdir(parents=True)
            con.execute(f"COPY {table} TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")
        spark.read.parquet(str(folder)).createOrReplaceTempView(table)


def feature_matrix(spark: Any, con: Any, *, task: str, as_of: date, config: Any) -> Any:
    """keys + practice_code + features of the task's index rows at as_of, as a Spark frame."""
    from riskstrat.features import build_features
    from riskstrat.outreach.scoring import task_index

    index = task_index(con, task, as_of=as_of, config=config)
    matrix = build_features(con, index, task=task)
    # Dates as dates: PySpark's Arrow path turns datetime64 columns tz-aware and trips over a
    # pandas 3 deprecation, silently falling back to row-by-row conversion.
    return spark.createDataFrame(matrix.assign(index_date=matrix["index_date"].dt.date))
