"""The run's engine switch: which implementation of each step a run uses.

`duckdb` (default) is runs/steps.py. `spark` swaps in the steps below for features, score,
select, explain and lists; ingest, validate, models, monitoring and report are shared. The
Spark steps keep the run's contract: the same scores table rows, lists, report inputs and
manifest, written into the run folder that runs/publish.py swaps in (docs/spark.md, "Weekly
run", says what runs in Spark and what on the driver).

Chosen by `riskstrat run --engine spark|duckdb`, else `engine:` in configs/riskstrat.yaml.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pandas as pd

from riskstrat.logs import log_event
from riskstrat.runs.state import RunState
from riskstrat.runs.steps import STEPS, Step, pathway_counts, write_lists

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
UNKNOWN_ENGINE = "unknown engine {name!r}: choose one of duckdb, spark"


def spark_export_step(state: RunState) -> dict[str, int]:
    """The Parquet registry the Spark engine reads, exported from the store when it does not
    hold the store's newest extract (before validate opens the store for the run; validate's
    check then refuses an export another process changed in between)."""
    from riskstrat.spark.runtime import ensure_export, registry_root

    exported = ensure_export(
        store=state.settings.paths.store,
        root=registry_root(state.settings),
        extract_date=_newest_extract(state.settings.paths.store),
    )
    return {"exported": int(exported)}


def _newest_extract(store: object) -> object:
    from riskstrat.registry.store import connect, store_extract_date

    with connect(store, read_only=True) as con:  # type: ignore[arg-type]
        return store_extract_date(con)


def spark_validate_step(state: RunState) -> dict[str, int]:
    """validate, then: the Parquet registry holds the very extract the run lists from."""
    from riskstrat.runs.steps import validate_step
    from riskstrat.spark.runtime import check_export, registry_root

    counts = validate_step(state)
    check_export(registry_root(state.settings), extract_date=state.extract_date)
    return counts


def spark_features_step(state: RunState) -> dict[str, int]:
    """Open the Spark session, register the Parquet registry, build each task's matrix in Spark
    (riskstrat.spark.features: the same feature SQL as DuckDB)."""
    from riskstrat.outreach.config import load_outreach_config
    from riskstrat.spark.runtime import open_session, registry_root, task_matrix
    from riskstrat.spark.tables import register_tables

    state.spark = open_session()
    register_tables(state.spark, root=registry_root(state.settings))
    config = load_outreach_config()
    counts = {}
    for task, data in state.tasks.items():
        data.frame = task_matrix(
            state.spark, state.con, task=task, as_of=state.as_of, config=config
        ).persist()
        counts[f"{task}_rows"] = data.frame.count()
    return counts


def spark_score_step(state: RunState) -> dict[str, int]:
    """Score in Spark (mapInPandas over the champion); the scores and the matrix then come to
    the driver for the store's scores table, the population check, monitoring and the report."""
    from riskstrat.models.recalibrate import check_population
    from riskstrat.outreach.scoring import store_scores
    from riskstrat.outreach.store_io import SCORES_COLUMNS
    from riskstrat.spark.runtime import to_driver
    from riskstrat.spark.scoring import score_frame

    stamp = datetime.now().replace(microsecond=0)
    counts = {}
    for task, data in state.tasks.items():
        data.scored = score_frame(
            data.frame, model=data.model, task=task, as_of=state.as_of, scored_at=stamp
        ).persist()
        data.matrix = to_driver(data.frame)
        data.scores = _scores_to_pandas(data.scored, keys=data.matrix)[list(SCORES_COLUMNS)]
        state.warnings.extend(
            check_population(
                state.con, data.matrix, data.scores["risk"].to_numpy(), model=data.model, task=task
            )
        )
        counts[f"{task}_scored"] = store_scores(
            state.con, data.scores, task=task, as_of=state.as_of, model=data.model
        )
    return counts


def _scores_to_pandas(scored: object, *, keys: pd.DataFrame) -> pd.DataFrame:
    """The Spark scores in the matrix's row order with the DuckDB path's dtypes."""
    join = [k for k in ("patient_id", "index_date", "index_spell_id") if k in keys]
    out = scored.toPandas()  # type: ignore[attr-defined]
    out["as_of"] = pd.to_datetime(out["as_of"])
    out["index_date"] = pd.to_datetime(out["index_date"]).astype(keys["index_date"].dtype)
    out["scored_at"] = pd.to_datetime(out["scored_at"])
    if "index_spell_id" in join:
        out["index_spell_id"] = out["index_spell_id"].astype(keys["index_spell_id"].dtype)
    out["patient_id"] = out["patient_id"].astype(keys["patient_id"].dtype)
    ordered = keys[join].merge(out, on=join, how="left", validate="one_to_one")
    if "index_spell_id" not in join:
        ordered["index_spell_id"] = None
    return ordered


def spark_select_step(state: RunState) -> dict[str, int]:
    """Per-practice selection in Spark (riskstrat.spark.select)."""
    from riskstrat.outreach.config import load_outreach_config
    from riskstrat.outreach.lists import model_versions
    from riskstrat.outreach.store_io import (
        load_feedback_rejects,
        load_history,
        load_outcomes,
        load_practices,
        load_previous,
    )
    from riskstrat.registry.store import store_extract_date
    from riskstrat.spark.outreach_io import people_frame
    from riskstrat.spark.select import select_spark

    config = load_outreach_config()
    spark = state.spark
    scored = [d.scored for d in state.tasks.values()]
    scores = scored[0]
    for more in scored[1:]:
        scores = scores.unionByName(more)
    previous, compared = [], {}
    rising = {p.task for p in state.pathway_specs.values() if p.select.min_rise_points}
    for task in sorted(rising):
        prev_as_of, prev = load_previous(
            state.con, task=task, as_of=state.as_of, max_days=config.rising_compare_max_days
        )
        log_event("outreach.previous", task=task, previous_as_of=prev_as_of)
        compared[task] = prev_as_of
        if prev is not None:
            previous.append(prev)
    prev_frame = (
        spark.createDataFrame(
            pd.concat(previous, ignore_index=True).astype({"task": "object",
                                                           "patient_id": "object"}),
            schema="task string, patient_id string, risk double",
        )
        if previous
        else None
    )  # fmt: skip
    state.selection = select_spark(
        scores,
        people_frame(spark, as_of=state.as_of),
        outcomes=load_outcomes(state.con, as_of=state.as_of),
        history=load_history(state.con, as_of=state.as_of, weeks=config.relist.weeks),
        practices=load_practices(state.con),
        pathways=state.pathway_specs,
        config=config,
        as_of=state.as_of,
        previous=prev_frame,
        # The header's population mean from the scores the driver already holds: the very
        # pandas mean the DuckDB path takes (a Spark mean may differ in the last bits).
        population={
            t: (float(d.scores["risk"].mean()), len(d.scores))
            for t, d in state.tasks.items()
            if len(d.scores)
        },
    )
    state.selection.compared_with = compared
    state.selection.feedback_rejects = load_feedback_rejects(state.con)  # as the DuckDB path
    state.selection.extract_date = store_extract_date(state.con)
    lists = state.selection.lists
    frames = [d.scores for d in state.tasks.values() if len(d.scores)]
    versions = (
        model_versions(pd.concat(frames, ignore_index=True), as_of=state.as_of) if frames else {}
    )
    lists["model_name"] = lists["task"].map({t: v[0] for t, v in versions.items()})
    lists["model_version"] = lists["task"].map({t: v[1] for t, v in versions.items()})
    state.lists = lists
    return pathway_counts(state, lists, suffix="selected")


def spark_lists_step(state: RunState) -> dict[str, int]:
    """Per-practice files; identifiers joined in Spark for the listed pairs only."""
    from riskstrat.spark.outreach_io import contacts_reader_spark
    from riskstrat.spark.runtime import registry_root

    reader = contacts_reader_spark(state.spark, root=registry_root(state.settings))
    return write_lists(state, contacts_reader=reader)


SPARK_STEPS: dict[str, Step] = {
    "validate": Step("validate", spark_validate_step),
    "features": Step("features", spark_features_step),
    "score": Step("score", spark_score_step),
    "select": Step("select", spark_select_step),
    "lists": Step("lists", spark_lists_step),
}


def steps_for(engine: str) -> tuple[tuple[str, Step], ...]:
    """The run's steps in order for `engine` (the DuckDB steps with the Spark ones swapped in)."""
    if engine not in ENGINES:
        raise ValueError(UNKNOWN_ENGINE.format(name=engine))
    if engine == "duckdb":
        return STEPS
    steps = []
    for name, step in STEPS:
        if name == "validate":
            steps.append(("export", Step("export", spark_export_step)))
        steps.append((name, SPARK_STEPS.get(name, step)))
    return tuple(steps)
