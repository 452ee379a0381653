"""Scoring inside Spark: the champion applied partition by partition with `mapInPandas`.

Each Arrow batch of the feature matrix goes through `outreach.scoring.score_matrix`, the very
function the DuckDB path calls (the same column selection, calibrated `predict_risk` and range
check), so a row's risk is computed by the same code on both engines; LightGBM scores each row
independently of the others, so the partitioning cannot change a value. The model object is
captured in the function's closure: Spark serialises it once per task and each Python worker
unpickles it once per partition (not per row or per batch).

Why not MLflow's `spark_udf`: it would reload the artifact from the tracking server on every
executor and go through the pyfunc signature, while the run already holds the exact registered
version (recorded in the manifest) with its calibrator; mapInPandas keeps one code path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pandas as pd

#: The scores table's columns as a Spark schema (outreach.store_io.SCORES_COLUMNS, same order).
SCORES_SCHEMA = (
    "task string, as_of date, patient_id string, index_date date, index_spell_id string, "
    "risk double, model_name string, model_version string, scored_at timestamp_ntz"
)


def score_frame(matrix: Any, *, model: Any, task: str, as_of: date, scored_at: datetime) -> Any:
    """SCORES_COLUMNS for every row of a Spark feature matrix (keys + features), in Spark.

    scored_at is fixed by the caller so every partition stamps the same time.
    """
    from riskstrat.outreach.scoring import score_matrix

    has_spell = "index_spell_id" in matrix.columns
    needed = ["patient_id", "index_date", *(["index_spell_id"] if has_spell else [])]
    columns = list(dict.fromkeys([*needed, *model.feature_names]))

    def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if batch.empty:
                continue
            out = score_matrix(batch, model=model, task=task, as_of=as_of, scored_at=scored_at)
            yield out.assign(
                as_of=as_of,
                index_date=pd.to_datetime(out["index_date"]).dt.date,
                index_spell_id=out["index_spell_id"].astype("object"),
                scored_at=pd.Timestamp(scored_at).floor("s"),
            )

    return matrix.select(*columns).mapInPandas(score_batches, schema=SCORES_SCHEMA)
