"""Training rows sampled from Spark: the same share of every (label, practice) stratum."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("pyspark")


def test_stratified_sample_keeps_event_rate_and_every_practice(spark) -> None:
    from riskstrat.spark.runtime import quiet_pyspark
    from riskstrat.spark.training import NO_ROWS, stratified_sample

    quiet_pyspark()  # PySpark's own pandas-3 warnings (pytest resets filters per test)
    # 4 practices of very different sizes, 5 % events, some immature (null) labels.
    rows = [
        (f"p{i}", code, None if i % 50 == 0 else int(i % 20 == 0))
        for code, n in (("A", 40_000), ("B", 12_000), ("C", 3_000), ("D", 1_000))
        for i in range(n)
    ]
    frame = spark.createDataFrame(rows, "patient_id string, practice_code string, label int")
    sample, share = stratified_sample(frame, max_rows=8_000, seed=1)
    got = sample.groupBy("practice_code", "label").count().toPandas()
    labelled = frame.where("label IS NOT NULL").groupBy("practice_code", "label").count()
    want = labelled.toPandas().merge(got, on=["practice_code", "label"], suffixes=("", "_s"))
    assert len(want) == 8  # every (practice, label) stratum is in the sample
    assert share == pytest.approx(8_000 / 54_880)
    big = want[want["count"] >= 1_500]  # share's sampling SD there is <= 0.009
    assert len(big) >= 4
    assert ((big["count_s"] / big["count"] - share).abs() < 0.03).all()  # the same share
    assert abs(want["count_s"].sum() - 8_000) < 400
    again, _ = stratified_sample(frame, max_rows=8_000, seed=1)
    assert again.count() == sample.count()  # seeded: the same draw
    everyone, whole = stratified_sample(frame, max_rows=10**6, seed=1)
    assert whole == 1.0 and everyone.count() == 54_880
    with pytest.raises(ValueError, match=re.escape(NO_ROWS)):
        stratified_sample(frame.where("label IS NULL"), max_rows=10, seed=1)
