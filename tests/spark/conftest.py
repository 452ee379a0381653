"""A real local Spark (local[2]) for the Spark engine's tests, and the small store exported to
the Parquet layout it reads. One session per test worker; started once, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The riskstrat local SparkSession (riskstrat.spark.session.local_session)."""
    from riskstrat.spark.session import SMALL_DATA_CONF, local_session

    session = local_session(
        app_name="riskstrat-tests", shuffle_partitions=1, driver_memory="1g", conf=SMALL_DATA_CONF
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_export(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small store written by `export_parquet` (read it; don't write into it)."""
    from riskstrat.registry.export import export_parquet

    out = tmp_path_factory.mktemp("spark-export") / "registry"
    export_parquet(store=small_store, out=out)
    return out


@pytest.fixture
def registry(spark: Any, spark_export: Path) -> Path:
    """The export's tables registered as Spark temp views (again for every test: other tests
    may register another export in the same session)."""
    from riskstrat.spark.tables import register_tables

    register_tables(spark, root=spark_export)
    return spark_export
