"""A local SparkSession for riskstrat: the one place Spark settings are chosen.

`local_session()` starts (or returns the running) session in local mode with settings that make
Spark results match the DuckDB path and keep a small machine usable: a fixed number of cores,
few shuffle partitions, the UTC session time zone (dates never shift), partition folder names
read as strings (practice code `12345` stays a string), quiet logging, no web UI and no console
progress bar. On a cluster, pass `master` (or build the session with spark-submit and skip this).

Needs Java 17 (Debian `openjdk-17-jre-headless`; `make test` installs it when `java` is missing)
and the `spark` extra (`pip install 'riskstrat[spark]'`). See docs/spark.md.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_MISSING = (
    "Java is not installed (no `java` on PATH and no JAVA_HOME), needed by the Spark engine, "
    "install Debian openjdk-17-jre-headless (`make test` does it) or set JAVA_HOME"
)
PYSPARK_MISSING = (
    "pyspark is not installed, needed by the Spark engine, "
    "install the spark extra: pip install 'riskstrat[spark]'"
)

#: Settings every riskstrat session carries (the keyword arguments of local_session add more).
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}

#: For small data (tests, a demo-sized population): compiling Spark's generated code and warming
#: the JIT cost more than they save, so expressions are interpreted and the JVM uses its quick
#: C1 compiler only. Measured on a 10,640-row crisis matrix under load: first build 126 s with
#: the defaults, 48 s with these (docs/spark.md). Leave them off for real populations.
#: C1-only leaves the JVM's code cache at its non-tiered default of 48 MB; a long session
#: (the test suite's) filled it and died with "Out of space in CodeCache for adapters"
#: (CI, stop 22), so the cache gets the tiered default back.
SMALL_DATA_CONF: dict[str, str] = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m",
}


def check_java() -> None:
    """Raise a one-line error when no Java runtime can be found (before Spark tries)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.isfile(os.path.join(home, "bin", "java")):
        return
    if shutil.which("java") is None:
        raise ValueError(JAVA_MISSING)


def local_session(
    *,
    app_name: str = "riskstrat",
    master: str = "local[2]",
    shuffle_partitions: int = 4,
    driver_memory: str = "2g",
    log_level: str = "FATAL",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """The SparkSession riskstrat runs in: `master` local[2] by default, UTC, quiet.

    Driver memory and the other start-up settings apply only when this call starts the JVM;
    a second call returns the running session (with runtime settings such as the number of
    shuffle partitions updated).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - the spark extra is installed in CI
        raise ValueError(PYSPARK_MISSING) from exc
    check_java()
    # Python workers (mapInPandas, applyInPandas, createDataFrame from rows) run this
    # interpreter, the project's environment, not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {
        **BASE_CONF,
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.default.parallelism": str(shuffle_partitions),
        "spark.driver.memory": driver_memory,
        **(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    spark.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return spark
