"""The Spark weekly run's inputs: the session, the Parquet registry and each task's matrix.

The session, the registry views and the feature SQL on Spark are riskstrat.spark.session,
tables and features (one feature definition for both engines); this module is the weekly run's
one door to them: it adds what a run needs around them (the run's interpreter for the Python
workers, PySpark's pandas-3 noise kept out of `-W error`, the readmission window of the
post-discharge list, driver-side frames with the DuckDB path's dtypes).
"""

from __future__ import annotations

import os
import sys
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

EXPORT_STALE = (
    "Parquet registry {root} holds extract {found}, but the store's newest extract is "
    "{expected}: re-export it with `riskstrat export --format parquet --out {root}` "
    "(or run with ingest on, which exports after ingesting)"
)
#: PySpark 4 warns on every pandas conversion that it "does not yet fully support pandas >= 3";
#: the equivalence tests (tests/spark) are what show the conversions this project uses are right.
PANDAS3_WARNING = "PySpark does not yet fully support pandas"


def quiet_pyspark() -> None:
    """Silence PySpark's pandas-3 warnings in this process and in its Python workers."""
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


#: A Spark master for a run started outside spark-submit (e.g. spark://host:7077, local[8]).
MASTER_ENV = "RISKSTRAT_SPARK_MASTER"
#: Local mode runs every task inside the driver JVM: 2 GiB ran out of execution memory at 100k
#: patients (a sort in the feature build); 4 GiB of the 24 GiB machine.
DRIVER_MEMORY = "4g"
DRIVER_MEMORY_ENV = "RISKSTRAT_SPARK_DRIVER_MEMORY"  # e.g. 12g for 1M patients in local mode
#: Session settings the run relies on (riskstrat.spark.session.BASE_CONF) that can be set on a
#: session someone else started (spark-submit, a Databricks job).
RUNTIME_CONF = (
    "spark.sql.session.timeZone",
    "spark.sql.sources.partitionColumnTypeInference.enabled",
    "spark.sql.execution.arrow.pyspark.enabled",
)


def open_session() -> Any:
    """The run's SparkSession: the one spark-submit or a Databricks job started (with the
    settings the run relies on), else riskstrat.spark.session.local_session on
    RISKSTRAT_SPARK_MASTER (default local[2]), its Python workers on this interpreter."""
    from pyspark.sql import SparkSession

    from riskstrat.spark.session import BASE_CONF, local_session

    quiet_pyspark()
    active = SparkSession.getActiveSession()
    if active is None and os.environ.get("PYSPARK_GATEWAY_PORT"):  # under spark-submit
        active = SparkSession.builder.appName("riskstrat-weekly").getOrCreate()
    if active is not None:
        for key in RUNTIME_CONF:
            active.conf.set(key, BASE_CONF[key])
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = os.environ.get(MASTER_ENV)
    extra = {"master": master} if master else {}
    memory = os.environ.get(DRIVER_MEMORY_ENV, DRIVER_MEMORY)
    return local_session(app_name="riskstrat-weekly", driver_memory=memory, **extra)


def registry_root(settings: Any) -> Path:
    """The Parquet registry of these settings (paths.parquet_dir, else <data_dir>/parquet)."""
    return Path(settings.paths.parquet_dir or Path(settings.paths.data_dir) / "parquet")


def ensure_export(*, store: Path, root: Path, extract_date: date | None) -> bool:
    """Export the store to the Parquet layout at `root` unless it already holds `extract_date`
    (None: export if missing). Returns whether it exported."""
    from riskstrat.registry.export import export_parquet
    from riskstrat.spark.tables import export_extract_date

    current = extract_date is not None and (Path(root) / "export.json").is_file()
    if current and export_extract_date(root) == extract_date:
        return False
    export_parquet(store=store, out=root)
    return True


def check_export(root: Path, *, extract_date: date) -> None:
    """The Parquet registry must hold the same extract as the store the run validated."""
    from riskstrat.spark.tables import export_extract_date

    found = export_extract_date(root)
    if found != extract_date:
        raise ValueError(EXPORT_STALE.format(root=root, found=found, expected=extract_date))


def task_matrix(spark: Any, con: Any, *, task: str, as_of: date, config: Any) -> Any:
    """keys + practice_code + features of the rows a run scores for `task` at as_of, on Spark:
    everyone eligible (crisis), or the discharges of the post-discharge window (readmission,
    the window from outreach.scoring.readmission_window and the store's scoring history)."""
    from pyspark.sql import functions as F

    from riskstrat.outreach.scoring import READMISSION_PREFIX, last_scored, readmission_window
    from riskstrat.spark.features import build_features_spark
    from riskstrat.spark.tasks import build_index_spark

    if not task.startswith(READMISSION_PREFIX):
        return build_features_spark(spark, task=task, as_of=as_of)
    start, end = readmission_window(
        as_of, config=config, last_run=last_scored(con, task, before=as_of)
    )
    index = build_index_spark(spark, task=task, start=start, end=end)
    index = index.where((F.col("index_date") >= F.lit(start)) & (F.col("index_date") < F.lit(end)))
    return build_features_spark(spark, task=task, index=index)


def to_driver(frame: Any) -> pd.DataFrame:
    """A Spark matrix on the driver with the DuckDB path's dtypes (riskstrat.spark.features
    .collect_matrix), index_date at the DuckDB matrix's resolution."""
    from riskstrat.spark.features import collect_matrix

    out = collect_matrix(frame)
    if "index_date" in out:
        out["index_date"] = out["index_date"].astype("datetime64[us]")
    return out
