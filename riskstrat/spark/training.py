"""Training rows from Spark to the driver: a sample stratified by label and practice.

Training stays on one machine (docs/spark.md, "Training"): the fit needs at most a few hundred
thousand rows, while the population they are drawn from may only fit a cluster. The same share
of every (label, practice) stratum is drawn, so the event rate (calibration) and each practice's
mix (subgroup evaluation) are kept, and no small practice is dropped.
"""

from __future__ import annotations

from typing import Any

STRATUM = "_stratum"
NO_ROWS = "no labelled rows to sample from (every label is null or the frame is empty)"


def stratified_sample(
    rows: Any, *, max_rows: int, seed: int, by: tuple[str, ...] = ("label", "practice_code")
) -> tuple[Any, float]:
    """(sample, share): about `max_rows` rows of a Spark frame with a non-null `label`, the same
    share of each stratum of `by` (Bernoulli per row, `DataFrame.sampleBy`: a stratum's size is
    its share up to sampling noise; the same seed and partitioning give the same sample)."""
    from pyspark.sql import functions as F

    labelled = rows.where(F.col("label").isNotNull())
    keyed = labelled.withColumn(STRATUM, F.concat_ws("|", *(F.col(c).cast("string") for c in by)))
    counts = {r[STRATUM]: r["count"] for r in keyed.groupBy(STRATUM).count().collect()}
    total = sum(counts.values())
    if not total:
        raise ValueError(NO_ROWS)
    share = min(1.0, max_rows / total)
    if share >= 1.0:
        return labelled, 1.0
    sample = keyed.sampleBy(STRATUM, {s: share for s in counts}, seed=seed)
    return sample.drop(STRATUM), share
