"""riskstrat.spark.dialect: DuckDB SQL to Spark SQL; and the small-data JVM settings."""

from __future__ import annotations

import pytest

from riskstrat.features.catalogue import load_catalogue
from riskstrat.features.runner import encoded_sql
from riskstrat.spark.dialect import TRANSPILE_FAILED, to_spark


def test_duckdb_functions_become_spark_functions() -> None:
    sql = to_spark("SELECT date_diff('day', a, b) / 365.25 AS y, ARG_MAX(m, (d, s)) AS last FROM t")
    assert "DATEDIFF(DAY, a, b) / CAST(365.25 AS DOUBLE)" in sql
    assert "MAX_BY(m, (d, s))" in sql


def test_decimal_literals_become_double_and_strings_stay() -> None:
    sql = to_spark("SELECT GREATEST(x, 0.25), 3, '0.5', CAST(d - INTERVAL '90' DAY AS DATE) FROM t")
    assert "CAST(0.25 AS DOUBLE)" in sql
    assert "'0.5'" in sql and "CAST(3 AS DOUBLE)" not in sql
    assert "INTERVAL '90' DAY" in sql


@pytest.mark.parametrize("group", load_catalogue().groups, ids=lambda g: g.name)
def test_every_feature_group_transpiles(group) -> None:
    assert "date_diff('day'" not in to_spark(encoded_sql(group)).lower()


def test_unparseable_sql_is_one_line() -> None:
    with pytest.raises(ValueError) as error:
        to_spark("SELECT (1", what="feature group 'x'")
    assert str(error.value).startswith(
        TRANSPILE_FAILED.format(what="feature group 'x'", detail="")[:-1]
    )


def test_no_java_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from riskstrat.errors import EXIT_BAD_INPUT, describe
    from riskstrat.spark.session import JAVA_MISSING, check_java

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ValueError) as error:
        check_java()
    assert describe(error.value) == (JAVA_MISSING, EXIT_BAD_INPUT)


def test_small_data_jvm_keeps_a_tiered_size_code_cache(spark) -> None:
    """C1-only would leave a 48 MB code cache, which a long session fills ("Out of space in
    CodeCache for adapters", CI of stop 22); the small-data settings restore 240 MB."""
    jvm = spark.sparkContext._jvm
    bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    assert bean.getVMOption("TieredStopAtLevel").getValue() == "1"
    assert int(bean.getVMOption("ReservedCodeCacheSize").getValue()) >= 240 * 1024 * 1024
