"""One SQL source, two engines: the same store through DuckDB and through a real local Spark
gives identical index rows, labels and feature matrices (exact for counts, flags, categories and
dates; 1e-9 for floats), and every feature group of the catalogue runs on both."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from riskstrat.features.catalogue import load_catalogue
from riskstrat.features.runner import build_features, run_group
from riskstrat.registry.store import connect
from riskstrat.tasks import attach_labels, build_index, load_task
from riskstrat.tasks.relation import INDEX_RELATION, index_relation

CRISIS_DATES = [date(2024, 6, 3), date(2025, 6, 2)]
READMISSION_DATES = [date(2025, 3, 3), date(2025, 6, 2)]
#: Discharges of half a year: enough spells (transfer chains included) to exercise index_spell.
READMISSION_RANGE = {"start": date(2024, 10, 1), "end": date(2025, 3, 31)}
EXTRACT_DATE = date(2025, 12, 28)
FLOAT_TOLERANCE = 1e-9
GROUPS = load_catalogue().groups


@pytest.fixture(scope="module")
def con(small_store: Path) -> Any:
    with connect(small_store, read_only=True) as connection:
        yield connection


def duck_index(con: Any, task: str, **window: Any) -> pd.DataFrame:
    return build_index(con, task, **window)


def spark_index_from(spark: Any, index: pd.DataFrame, *, task: str) -> Any:
    """The DuckDB index frame as a Spark index (row_id = its position)."""
    spec = load_task(task)
    columns = {
        "row_id": pa.array(np.arange(len(index), dtype=np.int64)),
        "patient_id": pa.array(index["patient_id"].astype("str")),
        "index_date": pa.array(pd.to_datetime(index["index_date"]).dt.date),
    }
    if spec.has_index_spell:
        columns["index_spell_id"] = pa.array(index["index_spell_id"].astype("str"))
    return spark.createDataFrame(pa.table(columns))


def assert_same_matrix(duck: pd.DataFrame, other: pd.DataFrame) -> None:
    """Same columns in the same order, same rows in the same order; features exact unless the
    catalogue types them float (then within 1e-9), NULL/NaN in the same places."""
    catalogue = load_catalogue()
    assert list(other.columns) == list(duck.columns)
    assert len(other) == len(duck)
    for column in duck.columns:
        left, right = duck[column], other[column]
        if column in ("patient_id", "index_spell_id", "practice_code"):
            assert right.astype("str").tolist() == left.astype("str").tolist(), column
        elif column == "index_date":
            assert (pd.to_datetime(right).dt.date == pd.to_datetime(left).dt.date).all()
        elif catalogue.spec(column).dtype == "float":
            np.testing.assert_allclose(
                right.to_numpy(), left.to_numpy(), rtol=0, atol=FLOAT_TOLERANCE, err_msg=column
            )
        else:
            np.testing.assert_array_equal(right.to_numpy(), left.to_numpy(), err_msg=column)


@pytest.mark.parametrize(
    ("task", "window"),
    [
        ("crisis", {"as_of_dates": CRISIS_DATES}),
        ("readmission_30d", {"as_of_dates": READMISSION_DATES}),
        ("readmission_30d", READMISSION_RANGE),
    ],
    ids=["crisis-as-of", "readmission-as-of", "readmission-range"],
)
def test_index_rows_and_labels_identical(
    spark: Any, registry: Path, con: Any, task: str, window: dict
) -> None:
    from riskstrat.spark.features import collect_matrix
    from riskstrat.spark.tasks import attach_labels_spark, build_index_spark

    duck = attach_labels(con, task, duck_index(con, task, **window), extract_date=EXTRACT_DATE)
    index = build_index_spark(spark, task=task, **window)
    labelled = attach_labels_spark(spark, task=task, index=index, extract_date=EXTRACT_DATE)
    other = collect_matrix(labelled.orderBy("row_id"))
    assert len(duck) > 0
    assert other["row_id"].tolist() == list(range(len(duck)))
    assert list(other.columns) == ["row_id", *duck.columns]
    for column in load_task(task).keys:
        assert other[column].astype("str").tolist() == duck[column].astype("str").tolist()
    assert other["label"].dtype == duck["label"].dtype == "Int8"
    assert other["label"].fillna(-1).tolist() == duck["label"].fillna(-1).tolist()
    assert duck["label"].notna().any()


def test_crisis_matrix_identical_at_two_as_of_dates(spark: Any, registry: Path, con: Any) -> None:
    from riskstrat.spark.features import build_features_spark, collect_matrix
    from riskstrat.spark.tasks import build_index_spark

    duck = build_features(con, build_index(con, "crisis", as_of_dates=CRISIS_DATES), task="crisis")
    index = build_index_spark(spark, task="crisis", as_of_dates=CRISIS_DATES)
    other = collect_matrix(build_features_spark(spark, task="crisis", index=index))
    assert set(duck["index_date"].dt.date) == set(CRISIS_DATES)
    assert_same_matrix(duck, other)


def test_readmission_matrix_identical(spark: Any, registry: Path, con: Any) -> None:
    """Half a year of discharges (transfer chains included): the same matrix, with the
    documented Spark types (keys, practice_code, doubles)."""
    from riskstrat.spark.features import build_features_spark, collect_matrix
    from riskstrat.spark.tasks import build_index_spark

    task = "readmission_30d"
    duck = build_features(con, build_index(con, task, **READMISSION_RANGE), task=task)
    index = build_index_spark(spark, task=task, **READMISSION_RANGE)
    matrix = build_features_spark(spark, task=task, index=index)
    types = dict(matrix.dtypes)
    assert [types[c] for c in ("patient_id", "index_date", "index_spell_id", "practice_code")] == [
        "string",
        "date",
        "string",
        "string",
    ]
    assert {types[c] for c in load_catalogue().columns(load_task(task))} == {"double"}
    assert len(duck) > 50
    assert (duck["chain_los_days"] != duck["los_days"]).any()  # a transfer chain is exercised
    assert_same_matrix(duck, collect_matrix(matrix))


def compare_group(spark: Any, con: Any, group: Any) -> None:
    """Run one feature group on readmission index rows (every group applies, with an index
    spell to exclude) through both engines; fail if either cannot run it or they disagree."""
    from riskstrat.spark.features import collect_matrix, group_frame
    from riskstrat.spark.tasks import index_view

    task = load_task("readmission_30d")
    index = duck_index(con, task.name, **READMISSION_RANGE)
    with index_relation(con, index, task=task) as n:
        duck = run_group(con, group, n=n, check=False)
    rows = index_view(spark_index_from(spark, index, task=task.name), task=task)
    rows.createOrReplaceTempView(INDEX_RELATION)
    try:
        other = collect_matrix(group_frame(spark, group).orderBy("row_id"))
    finally:
        spark.catalog.dropTempView(INDEX_RELATION)
    assert other["row_id"].tolist() == list(range(n))
    frame = pd.DataFrame(duck)
    assert_same_matrix(frame, other[list(frame.columns)])


@pytest.mark.parametrize("group", GROUPS, ids=[g.name for g in GROUPS])
def test_every_feature_group_runs_on_both_engines(
    spark: Any, registry: Path, con: Any, group: Any
) -> None:
    """Each group found in features/ (new ones included) must run on both engines and agree."""
    compare_group(spark, con, group)


def test_a_group_only_duckdb_can_run_fails_the_check(spark: Any, registry: Path, con: Any) -> None:
    """The check above is not vacuous: demographics with a DuckDB-only function (gamma(1.0) is
    1, so DuckDB's values do not change) runs on DuckDB and fails on Spark."""
    from pyspark.errors import AnalysisException

    group = next(g for g in GROUPS if g.name == "demographics")
    duckdb_only = "  CAST(gamma(1.0) AS BIGINT) * imd_decile AS imd_decile,"
    sql = group.sql.replace("  imd_decile,", duckdb_only)
    assert sql != group.sql
    changed = group.model_copy(update={"sql": sql})
    task = load_task("crisis")
    index = duck_index(con, task.name, as_of_dates=CRISIS_DATES[:1])
    with index_relation(con, index, task=task) as n:
        assert len(run_group(con, changed, n=n, check=False)["imd_decile"]) == n
    with pytest.raises(AnalysisException, match=r"(?i)gamma"):
        compare_group(spark, con, changed)
