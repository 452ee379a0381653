"""The outreach stage end to end over the store: select -> explain the selected -> write.

The pure parts live in engine (selection), riskstrat.explain (reasons) and writers (files); this
module wires them to the store. A run that already has the feature matrices and models in memory
passes them in (`matrices`, `models`) so nothing is computed twice; otherwise only the selected
rows' features are rebuilt, and each task's model is loaded at the exact version that made the
scores, so the reasons explain the risk that is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.config import Settings
from riskstrat.explain import as_texts, explain, load_actions
from riskstrat.explain.actions import FOLLOWED_UP_DAYS, row_actions, stays_of
from riskstrat.explain.protocols import RiskModel
from riskstrat.explain.wording import group_features
from riskstrat.logs import log_event, timed
from riskstrat.outreach.config import OutreachConfig, Pathway
from riskstrat.outreach.engine import Selection, drop_planned_rises, select_lists
from riskstrat.outreach.store_io import (
    contacts_reader,
    load_feedback_rejects,
    load_history,
    load_outcomes,
    load_people,
    load_practices,
    load_previous,
    load_scores,
    previous_as_of,
)
from riskstrat.outreach.writers import write_practice_files
from riskstrat.registry.store import store_extract_date

MIXED_VERSIONS = "{task} scores for {as_of} come from several model versions: {versions}; re-score"
MISSING_FEATURES = "feature matrix for {task} lacks {count} listed rows; pass the run's matrix"
KEYS = ("patient_id", "index_date", "index_spell_id")


@dataclass
class OutreachResult:
    lists: pd.DataFrame
    files: list[Path] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # task -> "name vN"
    selection: Selection | None = None  # who was left out of each list, and why


def select(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    config: OutreachConfig,
    pathways: dict[str, Pathway],
    scores: pd.DataFrame | None = None,
    load_previous: Callable[..., tuple[date | None, pd.DataFrame | None]] = load_previous,
) -> Selection:
    """select_lists over the store's scores (or `scores`), people, feedback, listing history and
    capacities; the lists carry each row's model_name and model_version. load_previous: how the
    earlier scores are read (a run passes one that reads them once for all its steps)."""
    tasks = tuple(sorted({p.task for p in pathways.values()}))
    scores = load_scores(con, as_of=as_of, tasks=tasks) if scores is None else scores
    previous, compared = [], {}
    for task in sorted({p.task for p in pathways.values() if p.select.min_rise_points}):
        prev_as_of, prev = load_previous(
            con, task=task, as_of=as_of, max_days=config.rising_compare_max_days
        )
        log_event("outreach.previous", task=task, previous_as_of=prev_as_of)
        compared[task] = prev_as_of
        if prev is not None:
            previous.append(prev)
    with timed("outreach.select", as_of=as_of, scores=len(scores)) as extra:
        history = load_history(con, as_of=as_of, weeks=config.relist.weeks)
        # A last event matters only for someone listed before (engine._listed_before).
        listed_before = history["patient_id"] if history is not None else pd.Series([], dtype="str")
        selection = select_lists(
            scores,
            people=load_people(con, as_of=as_of, last_event_of=listed_before),
            outcomes=load_outcomes(con, as_of=as_of),
            practices=load_practices(con),
            pathways=pathways,
            config=config,
            as_of=as_of,
            previous=pd.concat(previous, ignore_index=True) if previous else None,
            history=history,
        )
        extra.update(listed=len(selection.lists))
    selection.compared_with = compared
    selection.feedback_rejects = load_feedback_rejects(con)
    selection.extract_date = store_extract_date(con)
    lists = selection.lists
    versions = model_versions(scores, as_of=as_of)
    lists["model_name"] = lists["task"].map({t: v[0] for t, v in versions.items()})
    lists["model_version"] = lists["task"].map({t: v[1] for t, v in versions.items()})
    return selection


def model_versions(scores: pd.DataFrame, *, as_of: date) -> dict[str, tuple[str, str]]:
    columns = ["task", "model_name", "model_version"]
    # The distinct triples, grouped in Arrow (a pandas groupby copies every task's 1M rows).
    distinct = (
        pa.table({c: pa.array(scores[c].astype("str").array) for c in columns})
        .group_by(columns)
        .aggregate([])
        .to_pandas()
    )
    out = {}
    for task, pairs in distinct.dropna(subset=["task"]).groupby("task"):
        if len(pairs) != 1:
            rows = scores.loc[scores["task"] == task, columns[1:]].drop_duplicates()
            raise ValueError(
                MIXED_VERSIONS.format(task=task, as_of=as_of, versions=rows.to_dict("records"))
            )
        out[str(task)] = (str(pairs["model_name"].iloc[0]), str(pairs["model_version"].iloc[0]))
    return out


def explain_lists(
    con: duckdb.DuckDBPyConnection,
    lists: pd.DataFrame,
    *,
    settings: Settings,
    matrices: dict[str, pd.DataFrame] | None = None,
    models: dict[str, RiskModel] | None = None,
    pathways: dict[str, Pathway] | None = None,
    config: OutreachConfig | None = None,
    matrix_rows: pd.Series | None = None,
) -> pd.DataFrame:
    """lists + reason_i, feature_i, contribution_i, modifiable_i, concept_i, recent_i, actions
    (listed rows only; riskstrat.explain.explain). Rising-risk rows (a pathway with
    min_rise_points; default: the configured pathways) are explained by what changed since the
    previous scores, from last week's features built at that as-of; rows indexed at a discharge
    get `this_discharge`.

    matrix_rows: each list row's position in its task's matrix (aligned with `lists`; the run
    knows it from selection): the listed rows are taken from `matrices` by position.
    """
    from riskstrat.features import build_features, load_catalogue
    from riskstrat.models.registry import load_model
    from riskstrat.outreach.config import load_outreach_config, load_pathways

    texts = as_texts(load_catalogue())
    actions = load_actions()
    config = config or load_outreach_config()
    pathways = pathways if pathways is not None else load_pathways(config)
    rising = {name for name, p in pathways.items() if p.select.min_rise_points}
    # A special group's own list says the group in its title: not a reason there.
    says = group_features()
    unsaid_by_list = {n: says[p.group] for n, p in pathways.items() if p.group in says}
    parts = []
    for task, rows in lists.groupby("task", sort=True):
        if models and task in models:
            model = models[task]
        else:
            version = str(rows["model_version"].iloc[0])
            model = load_model(
                task, alias=None, version=version, tracking_uri=settings.paths.mlflow_uri
            )
        keys = [k for k in KEYS if k in rows and rows[k].notna().any()]
        if matrices and task in matrices and matrix_rows is not None:
            matrix = _rows_at(matrices[task], matrix_rows.loc[rows.index], rows[keys], task=task)
        elif matrices and task in matrices:
            matrix = rows[keys].merge(
                matrices[task], on=keys, how="left", validate="one_to_one", indicator=True
            )
            missing = int((matrix.pop("_merge") != "both").sum())
            if missing:
                raise ValueError(MISSING_FEATURES.format(task=task, count=missing))
        else:
            matrix = build_features(con, rows[keys].reset_index(drop=True), task=task)
        matrix.index = rows.index
        previous = _previous_matrix(
            con,
            rows[rows["pathway"].isin(rising)],
            task=str(task),
            config=config,
            features=model.feature_names,
        )
        explained = explain(
            model,
            matrix,
            texts=texts,
            actions=actions,
            after_discharge="index_spell_id" in keys,
            previous=previous,
            rises=rows.get("rise_points"),
            unsaid=rows["pathway"].map(unsaid_by_list) if unsaid_by_list else None,
        )
        # The list decides the first action and what contradicts it (explain has no list context).
        context = rows.reindex(columns=["pathway", "group"]).join(
            explained.filter(regex=r"^feature_\d+$")
        )
        fitted = row_actions(
            context, actions=actions, values=_with_follow_up(matrix, rows), stays=stays_of(texts)
        )
        parts.append(
            explained.drop(columns=["actions", "action_why"], errors="ignore").join(fitted)
        )
    if not parts:
        return lists
    return lists.join(pd.concat(parts))


def _with_follow_up(matrix: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The matrix + FOLLOWED_UP_DAYS: days from each row's latest post-discharge listing
    (select's `followed_up_on`) to its list date, so row_actions does not suggest that
    discharge's follow-up call a second time."""
    if "followed_up_on" not in rows or rows["followed_up_on"].isna().all():
        return matrix
    days = pd.to_datetime(rows["listed_on"]) - pd.to_datetime(rows["followed_up_on"])
    return matrix.assign(**{FOLLOWED_UP_DAYS: days.dt.days.to_numpy(dtype="float64")})


def _rows_at(
    matrix: pd.DataFrame, positions: pd.Series, keys: pd.DataFrame, *, task: object
) -> pd.DataFrame:
    """The matrix rows at `positions` (one per listed row); their keys must be the listed rows'
    (a position from another frame would explain someone else)."""
    at = positions.to_numpy(dtype=np.int64)
    if len(at) and (at.min() < 0 or at.max() >= len(matrix)):
        raise ValueError(
            MISSING_FEATURES.format(task=task, count=int(((at < 0) | (at >= len(matrix))).sum()))
        )
    taken = matrix.take(at)
    for key in keys.columns:
        mine, theirs = keys[key].to_numpy(), taken[key].to_numpy()
        if key == "index_date":
            mine, theirs = pd.to_datetime(mine), pd.to_datetime(theirs)
        same = (mine == theirs) | (pd.isna(mine) & pd.isna(theirs))
        if not np.all(same):
            raise ValueError(MISSING_FEATURES.format(task=task, count=int((~same).sum())))
    return taken.reset_index(drop=True)


def _previous_matrix(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    *,
    task: str,
    config: OutreachConfig,
    features: Sequence[str],
) -> pd.DataFrame | None:
    """Last week's feature rows of `rows` (people with a previous score), built at the as-of of
    the scores their rise was measured against (the same rule as select), indexed like rows.
    Only the groups holding one of the model's `features` are built: explain compares those."""
    from riskstrat.features import build_features, load_catalogue
    from riskstrat.features.runner import input_groups

    rows = rows[rows["previous_risk"].notna()] if "previous_risk" in rows else rows.iloc[:0]
    if rows.empty or ("index_spell_id" in rows and rows["index_spell_id"].notna().any()):
        return None
    as_of = pd.Timestamp(rows["index_date"].iloc[0]).date()
    prev_as_of = previous_as_of(
        con, task=task, as_of=as_of, max_days=config.rising_compare_max_days
    )
    if prev_as_of is None:
        return None
    when = rows["index_date"]
    prev_date = (
        pd.Timestamp(prev_as_of) if pd.api.types.is_datetime64_any_dtype(when) else prev_as_of
    )
    keys = rows[["patient_id", "index_date"]].reset_index(drop=True).assign(index_date=prev_date)
    groups = input_groups(load_catalogue(), task, also=features)
    prev = build_features(con, keys, task=task, groups=groups)
    prev.index = rows.index
    return prev


def write_outreach(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    settings: Settings,
    config: OutreachConfig,
    pathways: dict[str, Pathway],
    run_dir: Path,
    scores: pd.DataFrame | None = None,
    matrices: dict[str, pd.DataFrame] | None = None,
    models: dict[str, RiskModel] | None = None,
) -> OutreachResult:
    """Select, explain and write every practice's files for `pathways` into `run_dir`. The
    caller records who was listed (store_io.record_listed) once the files are published."""
    selection = select(con, as_of=as_of, config=config, pathways=pathways, scores=scores)
    lists = explain_lists(
        con,
        selection.lists,
        settings=settings,
        matrices=matrices,
        models=models,
        pathways=pathways,
        config=config,
    )
    lists = drop_planned_rises(lists, selection=selection)
    labels = _labels(lists)
    files = write_practice_files(
        lists,
        run_dir=run_dir,
        contacts_reader=contacts_reader(con),
        pathways=pathways,
        practices=load_practices(con),
        as_of=as_of,
        model_labels=labels,
        selection=selection,
        config=config,
    )
    return OutreachResult(lists=lists, files=files, models=labels, selection=selection)


def _labels(lists: pd.DataFrame) -> dict[str, str]:
    firsts = lists.drop_duplicates("task")
    return {
        str(r.task): f"{r.model_name} v{r.model_version}"
        for r in firsts[["task", "model_name", "model_version"]].itertuples(index=False)
    }
