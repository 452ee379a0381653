"""Reads the report's inputs from the store (the I/O edge of the report).

Only scores, outcomes (spells, outreach feedback) and practices are read with SQL here. Who a
patient is at a scoring date (age, sex, ethnicity, IMD, LTCs, registers) comes from the feature
stage and matured labels from the task's label builder, so the report uses the model's
definitions (riskstrat.reports.cohort). Listed patients come from the run's practice lists
(patient_id column) when the caller does not pass them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from riskstrat.config import Settings
from riskstrat.features import build_features
from riskstrat.registry.store import store_extract_date
from riskstrat.reports.cohort import people_frame, report_catalogue
from riskstrat.reports.context import NO_CARD, Context, ModelContext, model_context
from riskstrat.reports.frames import MATURED_COLUMNS, OUTCOME_COLUMNS
from riskstrat.reports.plain import report_warnings
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.trend import comparable_days, history
from riskstrat.scored import INPUT_COLUMNS, SCORES_TABLE, read_scored
from riskstrat.tasks import TaskSpec, attach_labels

NO_SCORES = (
    "no scores for task {task!r} at as-of {as_of} in the store: score that date first "
    "(riskstrat score --as-of {as_of})"
)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }


def scored_rows(con: duckdb.DuckDBPyConnection, *, task: TaskSpec, as_of: date) -> pd.DataFrame:
    """The task's index keys and risk of every row scored at `as_of` (empty if none)."""
    if SCORES_TABLE not in _tables(con):
        return pd.DataFrame(columns=[*task.keys, "risk"])
    keys = ", ".join(task.keys)
    return con.execute(
        f"SELECT {keys}, risk FROM {SCORES_TABLE} WHERE task = ? AND as_of = ? ORDER BY {keys}",
        [task.name, as_of],
    ).df()


def scored_matrix(
    con: duckdb.DuckDBPyConnection,
    *,
    task: TaskSpec,
    as_of: date,
    registers: tuple[str, ...],
) -> pd.DataFrame:
    """The report's feature groups for the rows scored at `as_of`, plus their `risk`."""
    rows = scored_rows(con, task=task, as_of=as_of)
    if rows.empty:
        raise ValueError(NO_SCORES.format(task=task.name, as_of=as_of))
    matrix = build_features(con, rows[task.keys], task=task, catalogue=report_catalogue(registers))
    return matrix.assign(risk=rows["risk"].to_numpy(dtype="float64"))


#: A report that reads its listed people from the run's folder and finds no list there (a
#: report made on its own for a date no run listed: the demo's `riskstrat report --as-of
#: 2025-12-22` published "Listed 0" for every group and practice, which reads as no one
#: listed). The page says so (reports/plain.py); warnings.csv keeps this wording.
NO_LISTS = (
    "report: no practice lists in the run's folder for {as_of}: every listed count is 0 "
    "because no list was read"
)


def _list_files(run_dir: Path) -> list[Path]:
    """The run's practice list CSVs (not the practices' feedback files)."""
    return [
        path
        for path in sorted(Path(run_dir).glob("practices/*/*.csv"))
        if path.name != "feedback.csv"
    ]


def list_warnings(run_dir: Path, *, as_of: date, listed: object) -> list[str]:
    """NO_LISTS when the listed people are to be read from `run_dir` and it has no list."""
    if listed is not None or _list_files(run_dir):
        return []
    return [NO_LISTS.format(as_of=as_of.isoformat())]


def listed_from_run(run_dir: Path) -> set[str]:
    """Patient ids on the run's practice lists (every list CSV with a patient_id column)."""
    ids: set[str] = set()
    for path in _list_files(run_dir):
        frame = pd.read_csv(path, dtype=str)
        if "patient_id" in frame.columns:
            ids |= set(frame["patient_id"].dropna())
    return ids


def extract_date(con: duckdb.DuckDBPyConnection, *, as_of: date) -> date:
    """The latest ingested extract's date (the day before as-of when the store has no history)."""
    held = store_extract_date(con)
    return as_of - timedelta(days=1) if held is None else held


def matured_date(con: duckdb.DuckDBPyConnection, *, task: TaskSpec, as_of: date) -> date | None:
    """The latest scoring at least one label window old whose window lies inside the extract."""
    if SCORES_TABLE not in _tables(con):
        return None
    extract = extract_date(con, as_of=as_of)
    span = task.label.gap_days + task.label.horizon_days
    last_ok = min(as_of, extract + timedelta(days=1)) - timedelta(days=span)
    (row,) = con.execute(
        f"SELECT max(as_of) FROM {SCORES_TABLE} WHERE task = ? AND as_of <= ?",
        [task.name, last_ok],
    ).fetchall()
    return None if row is None or row[0] is None else pd.Timestamp(row[0]).date()


def matured_rows(
    con: duckdb.DuckDBPyConnection, *, task: TaskSpec, scored_on: date, extract: date
) -> pd.DataFrame:
    """Every row scored at `scored_on`: keys, risk, the slicing inputs as scored
    (riskstrat.scored.INPUT_COLUMNS) and the task's `label` now (null = window not yet inside
    the extract), ordered by the keys. The inputs are read back from what scoring kept; only a
    scoring that kept none (older stores) has them rebuilt from the store. Monitoring and the
    report share this frame within a run (labels computed once)."""
    frame = read_scored(con, task=task.name, keys=task.keys, as_of=scored_on)
    if frame is None:
        rows = scored_rows(con, task=task, as_of=scored_on)
        if rows.empty:
            raise ValueError(NO_SCORES.format(task=task.name, as_of=scored_on))
        built = build_features(con, rows[task.keys], task=task, catalogue=report_catalogue(()))
        frame = rows.assign(**{c: built[c].to_numpy() for c in INPUT_COLUMNS})
    labelled = attach_labels(con, task, frame[task.keys], extract_date=extract)
    return frame.assign(label=labelled["label"].to_numpy())


def matured_matrix(
    con: duckdb.DuckDBPyConnection,
    *,
    task: TaskSpec,
    as_of: date,
    known: Mapping[date, pd.DataFrame] | None = None,
) -> tuple[date | None, pd.DataFrame]:
    """The latest scores at least one label window old whose window lies inside the extract,
    with their slicing inputs, `risk` and the task's `label` (matured rows only).

    known: matured_rows frames already made in this run (by monitoring), by scoring date."""
    scored_on = matured_date(con, task=task, as_of=as_of)
    if scored_on is None:
        return None, pd.DataFrame()
    frame = (known or {}).get(scored_on)
    if frame is None:
        extract = extract_date(con, as_of=as_of)
        frame = matured_rows(con, task=task, scored_on=scored_on, extract=extract)
    known = frame["label"].notna().to_numpy()
    mature = frame if known.all() else frame[known]  # all mature: no copy of every row
    return scored_on, mature.reset_index(drop=True)


def outreach_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if "outreach_outcomes" not in _tables(con):
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    return con.execute(
        "SELECT p.practice_code, o.pathway, o.listed_on, o.contacted_on, o.outcome "
        "FROM outreach_outcomes o JOIN patients p USING (patient_id)"
    ).df()


def bed_days(con: duckdb.DuckDBPyConnection, *, as_of: date, horizon_days: int) -> pd.Series:
    """Emergency bed days per admitted person over the last horizon (completed spells)."""
    return con.execute(
        "SELECT sum(date_diff('day', admission_date, discharge_date))::DOUBLE AS days "
        "FROM spells WHERE admission_method = 'emergency' AND admission_date >= ? "
        "AND discharge_date < ? GROUP BY patient_id",
        [as_of - timedelta(days=horizon_days), as_of],
    ).df()["days"]


def practices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT practice_code, practice_name, pcn_code, pcn_name FROM practices"
    ).df()


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    config: ReportConfig,
    task: TaskSpec,
    run_dir: Path,
    listed: Collection[str] | Callable[[], Collection[str]] | None = None,
    cohort: pd.DataFrame | None = None,
    matured: Mapping[date, pd.DataFrame] | None = None,
) -> dict[str, object]:
    """Keyword arguments for build_aggregates (without config and warnings).

    cohort: the feature matrix scored at `as_of` with its `risk` (the run's, computed once);
    None builds it from the store's scores. listed: the patient ids on the run's lists, or a
    function giving them, which build_aggregates calls only once the figures that do not count
    them are made (a run's report: its final lists are made beside it); None: read from the
    run's practice lists, then. The people frame has no `listed` column: build_aggregates
    adds it. matured: the run's matured_rows frames by scoring date (monitoring made them),
    reused when the report's matured date is among them.
    """
    if cohort is None:
        cohort = scored_matrix(con, task=task, as_of=as_of, registers=config.registers)
    areas = practices(con)
    people = people_frame(cohort, practices=areas, registers=config.registers)
    if listed is None:
        ids = partial(listed_from_run, run_dir)
    elif callable(listed):
        ids = listed
    else:
        ids = partial(frozenset, listed)
    _, matured_frame = matured_matrix(con, task=task, as_of=as_of, known=matured)
    return {
        "cohort": people,
        "listed": ids,
        "as_of": as_of,
        "practices": areas,
        "matured": (
            people_frame(matured_frame, practices=areas, registers=())
            if len(matured_frame)
            else pd.DataFrame(columns=list(MATURED_COLUMNS))
        ),
        "outcomes": outreach_outcomes(con),
        "history": history(con, as_of=as_of, config=config),
        "bed_days": bed_days(con, as_of=as_of, horizon_days=task.label.horizon_days),
    }


def data_from(con: duckdb.DuckDBPyConnection) -> date | None:
    """Earliest hospital activity in the store (the start of the data period)."""
    (row,) = con.execute("SELECT min(admission_date) FROM spells").fetchall()
    return pd.Timestamp(row[0]).date() if row and row[0] is not None else None


def scored_model(
    con: duckdb.DuckDBPyConnection, *, task: TaskSpec, as_of: date
) -> tuple[str | None, str | None]:
    """Name and version of the model that produced the scores at `as_of`."""
    if SCORES_TABLE not in _tables(con):
        return None, None
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [SCORES_TABLE],
        ).fetchall()
    }
    if not {"model_name", "model_version"} <= columns:
        return None, None
    (row,) = con.execute(
        f"SELECT any_value(model_name), any_value(model_version) FROM {SCORES_TABLE} "
        "WHERE task = ? AND as_of = ?",
        [task.name, as_of],
    ).fetchall()
    return (str(row[0]), str(row[1])) if row and row[0] is not None else (None, None)


def model_card_context(
    *,
    task: TaskSpec,
    name: str | None,
    version: str | None,
    settings: Settings,
    config: ReportConfig,
) -> ModelContext:
    """The model's measured performance and limitations from its card in MLflow."""
    if name is None or version is None:
        return ModelContext(problem=NO_CARD.format(why="no model recorded with the scores"))
    uri = settings.paths.mlflow_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return ModelContext(
            name=name, version=version, problem=NO_CARD.format(why="no model registry found")
        )
    from riskstrat.models.card import load_card
    from riskstrat.models.mlflow_import import quiet

    try:
        with quiet():  # MLflow's own warnings, as everywhere MLflow is called
            card = load_card(task.name, tracking_uri=uri, alias=None, version=version)
    except Exception as exc:  # any registry failure: the report still renders
        why = type(exc).__name__
        return ModelContext(name=name, version=version, problem=NO_CARD.format(why=why))
    # Named inside the output folder, not by the server's absolute path: the report is read
    # away from the server (emailed, shared), where an absolute path means nothing.
    folder = settings.paths.out_dir
    path = folder / "model_cards" / f"{card.name}-v{card.version}.html"
    shown = path.relative_to(folder).as_posix() if path.is_file() else None
    return model_context(card, config=config, card_path=shown)


def load_context(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    task: TaskSpec,
    settings: Settings,
    config: ReportConfig,
    warnings: list[str],
) -> Context:
    """Dates, model and plain-English monitoring warnings for the report's context block."""
    name, version = scored_model(con, task=task, as_of=as_of)
    extract = extract_date(con, as_of=as_of) if "extracts" in _tables(con) else None
    scored_on = matured_date(con, task=task, as_of=as_of)
    label = task.label
    matured = (
        None
        if scored_on is None
        else (
            scored_on,
            scored_on + timedelta(days=label.gap_days),
            scored_on + timedelta(days=label.gap_days + label.horizon_days - 1),
        )
    )
    return Context(
        as_of=as_of,
        extract_date=extract,
        data_from=data_from(con) if "spells" in _tables(con) else None,
        horizon_days=task.label.horizon_days,
        model=model_card_context(
            task=task, name=name, version=version, settings=settings, config=config
        ),
        warnings=report_warnings(warnings, task=task.name),
        matured=matured,
        trend_left_out=tuple(comparable_days(con, as_of=as_of, config=config)[1]),
    )
