"""Per-practice selection in Spark: one grouped task per practice runs the pure selection.

`outreach.engine.select_lists` is separable by practice: a person belongs to one practice,
capacity and `top_k` are per practice, exclusions (opt-out, open spell, feedback, listing
history, a place on an earlier list this run) look at one person at a time, and the ordering is
(practice, pathway keys, patient_id). So Spark co-groups the scores and the people by
practice_code and each group runs `select_lists` on that practice's rows only: capacity,
tie-breaks and exclusions are the DuckDB path's by construction (one code path, not a second
copy in window functions that could drift). Each group returns its Selection serialised as one
binary cell (so dtypes survive exactly); the driver concatenates them back in the DuckDB path's
order: pathway priority, then practice, then rank. What the driver holds is the lists and the
left-out counts, never the population.

The only population-wide figure of a Selection, each task's mean risk and count (the list
header's "average risk across all N people scored"), is passed in by the caller.
"""

from __future__ import annotations

import pickle
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.logs import timed
from riskstrat.outreach.config import OutreachConfig, Pathway
from riskstrat.outreach.engine import LEFT_OUT_COLUMNS, LIST_COLUMNS, Selection, select_lists

SELECTED_SCHEMA = "practice_code string, payload binary"
HOME = "_home_practice"  # the scores side's practice column (see select_spark)
#: Score columns the selection reads, plus the previous risk joined per (task, patient).
SCORE_INPUT = ("task", "patient_id", "index_date", "index_spell_id", "risk", "previous_risk")


def _practice_selection(
    scores: pd.DataFrame,
    people: pd.DataFrame,
    *,
    outcomes: pd.DataFrame,
    history: pd.DataFrame | None,
    practices: pd.DataFrame,
    pathways: dict[str, Pathway],
    config: OutreachConfig,
    as_of: date,
    with_previous: bool,
) -> Selection:
    """select_lists for one practice's scores and people (history and feedback of its people)."""
    ids = set(people["patient_id"])
    previous = None
    if with_previous:
        prev = scores[scores["previous_risk"].notna()]
        previous = pd.DataFrame(
            {"task": prev["task"], "patient_id": prev["patient_id"], "risk": prev["previous_risk"]}
        )
    scores = scores.drop(columns="previous_risk").assign(
        index_date=pd.to_datetime(scores["index_date"]),
        index_spell_id=scores["index_spell_id"]
        .astype("str")
        .where(scores["index_spell_id"].notna(), None),
    )
    return select_lists(
        scores,
        people=people,
        outcomes=outcomes[outcomes["patient_id"].isin(ids)].reset_index(drop=True),
        practices=practices,
        pathways=pathways,
        config=config,
        as_of=as_of,
        previous=previous,
        history=None if history is None else history[history["patient_id"].isin(ids)],
    )


def select_spark(
    scores: Any,
    people: Any,
    *,
    outcomes: pd.DataFrame,
    history: pd.DataFrame | None,
    practices: pd.DataFrame,
    pathways: dict[str, Pathway],
    config: OutreachConfig,
    as_of: date,
    previous: Any = None,
    population: dict[str, tuple[float, int]],
) -> Selection:
    """The run's Selection from Spark frames of scores (SCORES_COLUMNS) and people
    (eligibility.PEOPLE_COLUMNS + in_hospital, last_event), selected per practice in Spark.

    previous: a Spark frame (task, patient_id, risk) of the scores rising risk compares with,
    or None. outcomes, history, practices: the small driver-side frames select() reads.
    population: task -> (mean risk, rows scored), as `select_lists` computes it.
    """
    from pyspark.sql import functions as F

    with_previous = previous is not None
    people = people.persist()  # read twice: the practice of each score, and the co-group
    # The practice column gets its own name on this side: both sides of the co-group come from
    # the people frame, and Spark refuses an ambiguous self-join.
    home = people.select("patient_id", F.col("practice_code").alias(HOME))
    keyed = scores.join(home, "patient_id", "inner")
    if with_previous:
        prev = previous.select("task", "patient_id", F.col("risk").alias("previous_risk"))
        keyed = keyed.join(prev.dropDuplicates(["task", "patient_id"]), ["task", "patient_id"],
                           "left")  # fmt: skip
    else:
        keyed = keyed.withColumn("previous_risk", F.lit(None).cast("double"))
    keyed = keyed.select(HOME, *SCORE_INPUT)

    def per_practice(key: tuple[Any, ...], own: pd.DataFrame, them: pd.DataFrame) -> pd.DataFrame:
        code = key[0]
        chosen = _practice_selection(
            own.drop(columns=HOME), them,
            outcomes=outcomes, history=history, practices=practices, pathways=pathways,
            config=config, as_of=as_of, with_previous=with_previous,
        )  # fmt: skip
        payload = pickle.dumps((chosen.lists, chosen.left_out, chosen.reviewed))
        return pd.DataFrame({"practice_code": [code], "payload": [payload]})

    with timed("spark.select.practices") as extra:
        parts = (
            keyed.groupBy(HOME)
            .cogroup(people.groupBy("practice_code"))
            .applyInPandas(per_practice, schema=SELECTED_SCHEMA)
            .collect()
        )
        extra.update(practices=len(parts))
    people.unpersist()
    return _combine([pickle.loads(r["payload"]) for r in parts], pathways=pathways,
                    population=population)  # fmt: skip


def _combine(
    parts: list[tuple[pd.DataFrame, pd.DataFrame, dict]],
    *,
    pathways: dict[str, Pathway],
    population: dict[str, tuple[float, int]],
) -> Selection:
    """Per-practice selections -> one, in the DuckDB path's row order."""
    order = {name: i for i, name in enumerate(pathways)}
    lists = [p[0] for p in parts if len(p[0])]
    left = [p[1] for p in parts if len(p[1])]
    reviewed: dict[tuple[str, str], int] = {}
    for part in parts:
        reviewed.update(part[2])
    if lists:
        out = pd.concat(lists, ignore_index=True)
        out = out.sort_values(
            ["pathway", "practice_code", "rank"],
            key=lambda s: s.map(order) if s.name == "pathway" else s,
            kind="mergesort",
        )
    else:
        out = parts[0][0] if parts else pd.DataFrame(columns=list(LIST_COLUMNS))
    gone = pd.concat(left, ignore_index=True) if left else pd.DataFrame()
    gone = gone.reindex(columns=list(LEFT_OUT_COLUMNS))
    if len(gone):
        gone = gone.sort_values(
            ["pathway", "practice_code", "reason"],
            key=lambda s: s.map(order) if s.name == "pathway" else s,
            kind="mergesort",
        )
    for column in LIST_COLUMNS:
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="float64")
    return Selection(
        lists=out[list(LIST_COLUMNS)].reset_index(drop=True),
        left_out=gone.reset_index(drop=True),
        reviewed=reviewed,
        population=population,
    )
