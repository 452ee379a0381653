"""The steps of a run, in order. Each takes the run state, does one stage, returns its counts.

Steps call the stages' public functions (docs/architecture.md) and keep what later steps need
in the state: features are built once per task and reused by scoring, explanation, the report
and monitoring.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd

from riskstrat.db import fetch_one, fetch_value
from riskstrat.logs import log_event
from riskstrat.runs.forget import forget_killed_scores
from riskstrat.runs.manifest import InputsInfo, ModelInfo, StoreInfo
from riskstrat.runs.state import RunState, TaskData

if TYPE_CHECKING:
    from riskstrat.registry.ingest import IngestReport

STORE_EMPTY = "store {store}: no extract has been ingested; run `riskstrat ingest` first"
#: `run --no-ingest` on a store that is not there: it used to create an empty store file and stop
#: with "internal error CatalogException ... report it" (exit 70).
STORE_MISSING = (
    "store {store} does not exist: run without --no-ingest to ingest the extract first "
    "(or `riskstrat ingest`), or point paths.store / RISKSTRAT_STORE at the store"
)
STORE_AHEAD = (
    "store {store}: extract dated {extract} is after the run date {as_of}: a back-dated run "
    "would list from data nobody had on that date; run for a date after the extract"
)
STORE_STALE = (
    "store {store}: newest extract is {extract}, but this run expects {expected}: "
    "ingest the newer extract or pass --extract-date"
)
NO_PATIENTS = "store {store}: the patients table is empty"
NOT_EXPLAINED = "the run's lists are not explained yet: the explain step runs before this one"
#: From this many practices a run's list files are written by processes of their own
#: (outreach/file_worker.py), so they no longer take turns on the GIL with the report beside
#: them (runs/pipeline.py); for fewer, starting the processes costs more than it frees.
FILE_WORKERS_MIN_PRACTICES = 20
EXTRACT_TOO_OLD = (
    "run date {as_of} is {days} days after the store's extract ({extract}), more than "
    "max_extract_age_days ({limit}) in configs/schedule.yaml: ingest a newer extract, "
    "or pass --force to list from stale data"
)
#: Checked before ingest, so a mistyped --extract-date never changes the store: once ingested,
#: an extract dated after the run would make every later run refuse the store (an older extract
#: never replaces a newer one) until someone undid it with `riskstrat ingest --replace-latest`.
EXTRACT_AFTER_RUN = (
    "--extract-date {extract} is after the run date {as_of}: nothing was ingested; "
    "pass the date of the extract the run should read, on or before {as_of}"
)
EXTRACT_DATE_TOO_OLD = (
    "--extract-date {extract} is {days} days before the run date {as_of}, more than "
    "max_extract_age_days ({limit}) in configs/schedule.yaml: nothing was ingested; "
    "pass the right --extract-date, or --force to list from stale data"
)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[RunState], dict[str, int]]
    applies: Callable[[RunState], bool] = lambda state: True
    #: None: the step runs after the one before it (the main lane). A step's name: the step
    #: belongs to the side lane, which starts once that step is done and runs beside the main
    #: steps after it (runs.pipeline._run_steps; docs/architecture.md, "Run steps").
    waits_for: str | None = None


def ingest_step(state: RunState) -> dict[str, int]:
    from riskstrat.registry.ingest import ingest

    check_extract_date(state)
    source = state.options.source_dir or state.settings.paths.source_dir
    report = ingest(
        source,
        extract_date=state.extract_date,
        store_path=state.settings.paths.store,
        settings=state.settings,
    )
    state.manifest.inputs = InputsInfo(
        source_dir=str(source),
        extract_date=report.extract_date,
        ingested=report.status == "ingested",
        ingest_message=report.status,
    )
    for warning in report.warnings or recorded_ingest_warnings(report):
        state.warnings.append(f"ingest: {warning}")
    return {"tables": len(report.tables)}


def recorded_ingest_warnings(report: IngestReport) -> list[str]:
    """The warnings of the ingest that put an unchanged extract into the store (its summary.json).

    A re-run of a date finds its extract already ingested; without these its manifest and the
    commissioner report (report.html, warnings.csv) lost the ingest warnings the first run had,
    so re-running the same week did not republish the same content."""
    import json

    path = report.summary_path
    if report.status != "unchanged" or path is None or not path.is_file():
        return []
    try:
        return [str(w) for w in json.loads(path.read_text()).get("warnings", [])]
    except (OSError, ValueError, AttributeError):  # a damaged summary: no warnings to carry
        return []


def check_extract_date(state: RunState) -> None:
    """The extract the run is told to ingest must fit its run date (the rules validate_step
    applies to the store), checked before anything is ingested."""
    extract, as_of = state.extract_date, state.as_of
    if extract > as_of:
        raise ValueError(EXTRACT_AFTER_RUN.format(extract=extract, as_of=as_of))
    age, limit = (as_of - extract).days, state.options.max_extract_age_days
    if age > limit and not state.options.force:
        raise ValueError(
            EXTRACT_DATE_TOO_OLD.format(extract=extract, days=age, as_of=as_of, limit=limit)
        )


def validate_step(state: RunState) -> dict[str, int]:
    """The store is there, holds the expected extract and has patients: fail before any work."""
    from riskstrat.outreach.store_io import has_table
    from riskstrat.registry.store import EXTRACTS, connect, store_lock

    store = state.settings.paths.store
    if not store.is_file():  # a writable connect would create an empty store (a typo's store)
        raise ValueError(STORE_MISSING.format(store=store))
    # Hold the store's writer lock for the rest of the run: no ingest swaps the file under us.
    state.held.enter_context(store_lock(store))
    state.con = connect(store, read_only=False)
    if not has_table(state.con, EXTRACTS):
        raise ValueError(STORE_EMPTY.format(store=store))
    row = fetch_one(
        state.con,
        f"SELECT extract_date, content_hash, CAST(ingested_at AS VARCHAR) FROM {EXTRACTS} "
        "ORDER BY extract_date DESC, ingested_at DESC LIMIT 1",
    )
    if row is None:
        raise ValueError(STORE_EMPTY.format(store=store))
    extract_date, content_hash, ingested_at = row
    if extract_date > state.as_of:
        raise ValueError(STORE_AHEAD.format(store=store, extract=extract_date, as_of=state.as_of))
    age = (state.as_of - extract_date).days
    if age > state.options.max_extract_age_days and not state.options.force:
        raise ValueError(
            EXTRACT_TOO_OLD.format(
                as_of=state.as_of,
                days=age,
                extract=extract_date,
                limit=state.options.max_extract_age_days,
            )
        )
    if age > state.options.max_extract_age_days:
        state.warnings.append(f"forced: run date {state.as_of} is {age} days after the extract")
    if state.options.ingest and extract_date != state.extract_date:
        raise ValueError(
            STORE_STALE.format(store=store, extract=extract_date, expected=state.extract_date)
        )
    state.extract_date = extract_date
    state.manifest.store = StoreInfo(
        extract_date=extract_date, content_hash=content_hash, ingested_at=ingested_at
    )
    if not state.options.ingest:
        state.manifest.inputs = InputsInfo(extract_date=extract_date)
    forget_killed_scores(state)  # before unscored_tasks: a killed run's scores are not a run's
    state.unscored_before = unscored_tasks(state.con, state.task_names, as_of=state.as_of)
    patients = fetch_value(state.con, "SELECT count(*) FROM patients")
    if not patients:
        raise ValueError(NO_PATIENTS.format(store=store))
    return {"patients": patients}


def unscored_tasks(con: object, tasks: tuple[str, ...], *, as_of: date) -> tuple[str, ...]:
    """The tasks with no scoring recorded at as_of (the store's score_runs)."""
    from riskstrat.outreach.store_io import has_table
    from riskstrat.scored import SCORE_RUNS_TABLE

    if not has_table(con, SCORE_RUNS_TABLE):  # type: ignore[arg-type]
        return tasks
    scored = {
        row[0]
        for row in con.execute(  # type: ignore[attr-defined]
            f"SELECT DISTINCT task FROM {SCORE_RUNS_TABLE} WHERE as_of = ?", [as_of]
        ).fetchall()
    }
    return tuple(task for task in tasks if task not in scored)


def models_step(state: RunState) -> dict[str, int]:
    """Each needed task's champion, recorded in the manifest with its version and aliases.

    On the DuckDB engine the champions load in a background thread while features_step builds
    the matrices: importing MLflow (and LightGBM) is most of a run's fixed cost, and DuckDB
    releases the GIL while it runs the feature SQL. features_step waits for them before it
    returns, so every later step sees them loaded; a missing champion fails the run there,
    before anything is scored or stored. The Spark engine loads them here (its own features
    step does not wait)."""
    from riskstrat.tasks import load_task

    for task in state.task_names:
        state.tasks[task] = TaskData(name=task, spec=load_task(task), model=None, alias="champion")
    state.loading_models = _in_background(
        "models", _load_champions, state.task_names, uri=state.settings.paths.mlflow_uri
    )
    if state.engine != "duckdb":
        await_models(state)
    return {"models": len(state.tasks)}


def _in_background(
    name: str, fn: Callable[..., object], /, *args: object, **kwargs: object
) -> Future[object]:
    """fn(*args, **kwargs) in a thread of its own (`riskstrat-<name>`): its Future, which a later
    step awaits (await_models, await_stored) and RunState.close waits for."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"riskstrat-{name}")
    try:
        return pool.submit(fn, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)  # the thread ends when fn does


def _load_champions(tasks: tuple[str, ...], *, uri: str) -> dict[str, object]:
    """The champions, loaded with the cyclic garbage collector off, then frozen.

    Importing MLflow, LightGBM and scikit-learn makes ~400k objects that live as long as the
    process; with the collector on, each full collection meanwhile walked every one of them
    (5 at 1M, 2.4 s under load, each freeing <= 50 objects). Frozen (gc.freeze) after the load,
    the later steps' full collections skip them too; RunState.close unfreezes them, so a
    long-lived process (the scheduler) still collects what a run left behind.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        from riskstrat.models.registry import load_model

        return {task: load_model(task, alias="champion", tracking_uri=uri) for task in tasks}
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def await_models(state: RunState) -> None:
    """The champions models_step started loading: into the tasks and the run's manifest."""
    if state.loading_models is None:
        return
    loading, state.loading_models = state.loading_models, None
    for task, model in loading.result().items():
        state.tasks[task].model = model
        state.manifest.models.append(
            ModelInfo(
                task=task,
                name=model.name,
                version=str(model.version),
                alias="champion",
                run_id=model.run_id,
                aliases=sorted(model.aliases),
            )
        )


def features_step(state: RunState) -> dict[str, int]:
    """Index rows and the feature matrix per task, built once for the whole run (while the
    champions load: models_step)."""
    from riskstrat.features import build_features, load_catalogue
    from riskstrat.features.runner import input_groups
    from riskstrat.outreach.config import load_outreach_config
    from riskstrat.outreach.scoring import task_index
    from riskstrat.scored import INPUT_COLUMNS

    config, catalogue = load_outreach_config(), load_catalogue()
    counts, indexes = {}, {}
    for task, data in state.tasks.items():
        indexes[task] = task_index(state.con, task, as_of=state.as_of, config=config)
        # only the groups holding a model input or a kept slice input (docs/scale.md, stop 23)
        groups = input_groups(catalogue, data.spec, also=INPUT_COLUMNS)
        data.matrix = build_features(state.con, indexes[task], task=task, groups=groups)
        counts[f"{task}_rows"] = len(data.matrix)
    await_models(state)
    for task, data in state.tasks.items():  # a champion trained on a group no longer an input
        if not set(data.model.feature_names) <= set(data.matrix.columns):
            data.matrix = build_features(state.con, indexes[task], task=task)
    return counts


def score_step(state: RunState) -> dict[str, int]:
    """Each task's scores and population check; the scores are stored in a background thread
    (its own cursor of the store) while select runs, which reads none of them: select_step
    waits for it (await_stored) before the steps that do (the report) start."""
    from riskstrat.models.recalibrate import check_population
    from riskstrat.outreach.scoring import score_matrix
    from riskstrat.runs.monitor_run import shared_matured

    counts = {}
    for task, data in state.tasks.items():
        # An empty matrix (no discharges since the last working day) is still recorded as scored.
        data.scores = score_matrix(data.matrix, model=data.model, task=task, as_of=state.as_of)
        # The population vs the model's training reference: caveats reach manifest and report.
        state.warnings.extend(
            check_population(
                state.con, data.matrix, data.scores["risk"].to_numpy(), model=data.model,
                task=task, labelled=partial(shared_matured, state, data),
            )
        )  # fmt: skip
        counts[f"{task}_scored"] = len(data.scores)  # what store_scores writes
    state.storing = _in_background(
        "store", _store_all, state.con.cursor(), state.tasks, as_of=state.as_of
    )
    return counts


def _store_all(cursor: object, tasks: dict[str, TaskData], *, as_of: date) -> None:
    """Every task's scores (and slice inputs) into the store, in task order, on `cursor`."""
    from riskstrat.outreach.scoring import store_scores

    try:
        for task, data in tasks.items():
            store_scores(cursor, data.scores, task=task, as_of=as_of, model=data.model,
                         matrix=data.matrix)  # fmt: skip
    finally:
        cursor.close()  # type: ignore[attr-defined]


def await_stored(state: RunState) -> None:
    """Wait for score_step's background store; its error, if any, fails the run here."""
    if state.storing is None:
        return
    storing, state.storing = state.storing, None
    storing.result()


def select_step(state: RunState) -> dict[str, int]:
    """Per-practice lists for the chosen pathways from this run's scores."""
    from riskstrat.outreach.config import load_outreach_config
    from riskstrat.outreach.lists import select
    from riskstrat.runs.monitor_run import previous_scores

    frames = [d.scores for d in state.tasks.values()]
    # Empty frames (a task with nobody to score) carry no dtypes: leave them out of the concat.
    # Row i of the concat is row i - offset of its task's matrix (explain finds rows by that).
    scores = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    state.selection = select(
        state.con,
        as_of=state.as_of,
        config=load_outreach_config(),
        pathways=state.pathway_specs,
        scores=scores,
        load_previous=previous_scores(state),
    )
    state.lists = state.selection.lists
    await_stored(state)  # stored beside select (score_step); the report reads them
    return pathway_counts(state, state.lists, suffix="selected")


def pathway_counts(state: RunState, lists: pd.DataFrame, *, suffix: str) -> dict[str, int]:
    """Rows per pathway of the run, as manifest counts `<pathway>_<suffix>`: `selected` by
    select (before explain leaves out the rises due only to a planned admission), `listed` by
    lists (the rows written on the practice lists)."""
    by_pathway = lists.groupby("pathway").size()
    return {f"{p}_{suffix}": int(by_pathway.get(p, 0)) for p in state.pathways}


def explain_step(state: RunState) -> dict[str, int]:
    """Reasons and actions for the listed rows only, from the run's matrices and models."""
    from riskstrat.outreach.engine import drop_planned_rises
    from riskstrat.outreach.lists import explain_lists

    explained = explain_lists(
        state.con,
        state.lists,
        settings=state.settings,
        matrices={t: d.matrix for t, d in state.tasks.items()},
        models={t: d.model for t, d in state.tasks.items()},
        matrix_rows=matrix_rows(state),
    )
    # A rise driven only by a planned admission is not rising risk: reserve names move up.
    state.explained = drop_planned_rises(explained, selection=state.selection)
    if state.explaining is not None:  # the report, beside this lane, waits for these lists
        state.explaining.set_result(state.explained)
    return {"explained": len(state.explained)}


def await_explained(state: RunState) -> pd.DataFrame:
    """The run's final lists (explain_step's, the rows the practice lists get). A step of the
    side lane, which starts after select, beside explain (runs.pipeline), waits here until
    explain has made them; it gets an error if the main lane ended without them (the run then
    fails with the main lane's error). In an in-order run they are already there."""
    if state.explained is None and state.explaining is not None:
        start = time.perf_counter()
        explained = state.explaining.result()
        log_event("run.waited_for_explain", seconds=round(time.perf_counter() - start, 2))
        return explained
    if state.explained is None:
        raise ValueError(NOT_EXPLAINED)
    return state.explained


def matrix_rows(state: RunState) -> pd.Series | None:
    """Each list row's position in its task's matrix: its row in select_step's scores frame
    (Selection.score_rows) minus the rows of the tasks before it in that frame. None when the
    selection carries no positions (the Spark engine selects on the cluster): explain then
    finds the listed rows by their keys."""
    if len(state.selection.score_rows) != len(state.lists):
        return None
    offsets, start = {}, 0
    for task, data in state.tasks.items():
        if len(data.scores):
            offsets[task] = start
            start += len(data.scores)
    before = state.lists["task"].map(offsets).to_numpy(dtype="int64")
    return pd.Series(state.selection.score_rows - before, index=state.lists.index)


def lists_step(state: RunState) -> dict[str, int]:
    from riskstrat.outreach.store_io import contacts_reader

    return write_lists(state, contacts_reader=contacts_reader(state.con))


def write_lists(state: RunState, *, contacts_reader) -> dict[str, int]:
    """Each practice's list files; `contacts_reader` is the engine's way to the identifiers of
    the listed people (DuckDB store or Spark's Parquet registry)."""
    from riskstrat.models.population import LIST_CAVEAT, SEVERE
    from riskstrat.outreach.config import load_outreach_config
    from riskstrat.outreach.store_io import load_practices
    from riskstrat.outreach.writers import write_practice_files

    practices = load_practices(state.con)
    labels = {t: f"{d.model.name} v{d.model.version}" for t, d in state.tasks.items()}
    # A severe new-population check (score step) shows on every list of that task's model.
    labels = {
        t: v + LIST_CAVEAT * (SEVERE.format(task=t) in state.warnings) for t, v in labels.items()
    }
    written = write_practice_files(
        state.explained,
        run_dir=state.run_dir,
        contacts_reader=contacts_reader,
        pathways=state.pathway_specs,
        practices=practices,
        as_of=state.as_of,
        model_labels=labels,
        selection=state.selection,
        config=load_outreach_config(),
        in_workers=len(practices) >= FILE_WORKERS_MIN_PRACTICES,
    )
    listed = pathway_counts(state, state.explained, suffix="listed")
    return {"files": len(written), "practices": len(practices), **listed}


def monitoring_step(state: RunState) -> dict[str, int]:
    from riskstrat.runs.monitor_run import monitor

    counts = monitor(state)
    log_event("monitoring.done", warnings=counts.get("warnings", 0))
    return counts


def report_step(state: RunState) -> dict[str, int]:
    """The commissioner report (crisis cohort), with this run's monitoring warnings in it.

    It reuses the run's crisis matrix and scores (same rows, same order), so features are built
    once per run. Its listed people are those on the final lists (after explain leaves out the
    rises due only to a planned admission), not select's: the report makes every figure that
    does not count them first and waits for explain (beside it in the main lane) only then
    (reports.commissioner.write_report's `listed`), never for the list files.
    """
    from riskstrat.reports.commissioner import write_report

    crisis = state.tasks["crisis"]
    paths = write_report(
        state.con,
        as_of=state.as_of,
        run_dir=state.run_dir,
        settings=state.settings,
        cohort=crisis.matrix.assign(risk=crisis.scores["risk"].to_numpy()),
        listed=lambda: set(await_explained(state)["patient_id"]),
        warnings=list(state.warnings),
        matured={day: rows for (task, day), rows in state.matured.items() if task == "crisis"},
    )
    return {"files": len(paths)}


STEPS: tuple[tuple[str, Step], ...] = tuple(
    (s.name, s)
    for s in (
        Step("ingest", ingest_step, applies=lambda s: s.options.ingest),
        Step("validate", validate_step),
        Step("models", models_step),
        Step("features", features_step),
        Step("score", score_step),
        Step("select", select_step),
        Step("explain", explain_step),
        Step("lists", lists_step),
        # Beside explain -> lists (they need select's lists and score's warnings; the report's
        # listed count waits for explain's final lists: await_explained): monitoring, then the
        # report, so monitoring's warnings reach the commissioner report.
        Step("monitoring", monitoring_step, waits_for="select"),
        Step("report", report_step, applies=lambda s: s.writes_report, waits_for="monitoring"),
    )
)
