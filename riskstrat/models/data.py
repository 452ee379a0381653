"""Build a task's modelling data from the store: index -> labels -> split -> features.

The I/O edge of training: reads the store through the tasks and features stages, and returns
one frame with keys, practice_code, the feature columns, `label` and `split`, plus the subgroup
labels of every row (riskstrat.slices over the decoded matrix).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.features import build_features, decode, load_catalogue
from riskstrat.logs import log_event, timed
from riskstrat.models.booster import FeatureInfo
from riskstrat.models.config import ModelConfig
from riskstrat.models.level import TOO_FEW_WEEKS, LevelModel, fit_level
from riskstrat.models.level_data import weekly_admissions
from riskstrat.models.split import Periods, as_of_grid, assign_split, cap_rows, periods
from riskstrat.registry.store import connect, latest_extract
from riskstrat.slices import SLICES, assign_slices
from riskstrat.tasks import attach_labels, build_index, load_task
from riskstrat.tasks.spec import TaskSpec

NO_EXTRACT = "{store}: the store has no extract yet; run `riskstrat ingest` first"
#: Activity tables whose first date marks the start of the extract's history.
ACTIVITY_DATES = (
    ("spells", "admission_date"),
    ("gp_contacts", "contact_date"),
    ("prescriptions", "issued_on"),
)


@dataclass
class TaskData:
    task: TaskSpec
    dataset: pd.DataFrame  # keys, practice_code, features, label, split
    groups: pd.DataFrame  # slice labels, aligned with dataset
    features: list[FeatureInfo]
    periods: Periods
    extract_date: date
    data_hash: str
    codebook_version: str
    as_of_dates: dict[str, list[date]]
    #: calendar level forecast fitted on admissions before the test period (config.level)
    level: LevelModel | None = None


def model_features(task: TaskSpec) -> list[FeatureInfo]:
    """The model's inputs from the catalogue: use_in_model columns, monotone, categorical."""
    cat = load_catalogue()
    return [
        FeatureInfo(
            name, monotone=cat.spec(name).monotone, categorical=cat.spec(name).dtype == "category"
        )
        for name in cat.model_features(task)
    ]


def data_start(con: object) -> date:
    firsts = [
        con.execute(f"SELECT min({col}) FROM {table}").fetchall()[0][0]  # type: ignore[attr-defined]
        for table, col in ACTIVITY_DATES
    ]
    return min(d for d in firsts if d is not None)


def slice_groups(matrix: pd.DataFrame) -> pd.DataFrame:
    """Subgroup labels per row: decode the categorical codes, then the one slice declaration."""
    decoded = decode(matrix)
    names = tuple(s.name for s in SLICES if s.column in decoded.columns)
    return assign_slices(decoded, names=names)


def load_task_data(
    task_name: str,
    *,
    store_path: Path,
    config: ModelConfig,
    extract_date: date | None = None,
    splits: tuple[str, ...] = ("train", "valid", "calib", "test"),
) -> TaskData:
    """Everything training needs; `extract_date` < the store's pretends the extract ended then
    (rolling-origin backtests): labels past it are immature and periods end there. `splits`
    limits which rows are built (promotion needs only the test rows)."""
    task = load_task(task_name)
    extract = latest_extract(store_path)
    if extract is None:
        raise FileNotFoundError(NO_EXTRACT.format(store=store_path))
    end = extract_date or extract["extract_date"]
    with connect(store_path) as con:
        first = data_start(con)
        p = periods(
            start=first,
            end=end,
            horizon_days=task.label.horizon_days,
            rules=config.split,
            kind="discharge" if task.has_index_spell else "crisis",
        )
        level = fit_task_level(con, task, config=config, start=first, cutoff=p.test[0])
        grid: dict[str, list[date]] = {}
        with timed("models.index", task=task_name):
            if task.has_index_spell:
                index = build_index(con, task, start=p.train[0], end=p.test[1])
            else:
                grid = as_of_grid(p, step_days=config.split.step_days)
                wanted = {"valid": "calib"}  # the valid rows come from the calibration dates
                dates = {d for s in splits for d in grid[wanted.get(s, s)]}
                index = build_index(con, task, as_of_dates=sorted(dates))
        with timed("models.split", rows=len(index)):
            index = index.reset_index(drop=True)
            index["split"] = assign_split(index, p=p, rules=config.split, seed=config.seed)
            caps = {
                "train": config.split.max_train_rows,
                "valid": config.split.max_calib_rows,
                "calib": config.split.max_calib_rows,
            }
            for name, cap in caps.items():
                index["split"] = cap_rows(index["split"], name=name, max_rows=cap, seed=config.seed)
            index = index[index["split"].isin(splits)]
        with timed("models.labels", rows=len(index)):
            labelled = attach_labels(con, task, index.drop(columns="split"), extract_date=end)
        labelled = labelled.assign(split=index["split"].to_numpy())
        immature = int(labelled["label"].isna().sum())
        labelled = labelled[labelled["label"].notna()].reset_index(drop=True)
        with timed("models.features", task=task_name, rows=len(labelled)):
            matrix = build_features(con, labelled[task.keys], task=task)
    dataset = matrix.merge(
        labelled[[*task.keys, "label", "split"]], on=task.keys, how="inner", validate="one_to_one"
    )
    dataset["label"] = dataset["label"].astype(int)
    counts = dataset["split"].value_counts()
    log_event(
        "models.data",
        task=task_name,
        immature_dropped=immature,
        **{f"rows_{k}": int(counts.get(k, 0)) for k in ("train", "valid", "calib", "test")},
        events_test=int(dataset.loc[dataset["split"] == "test", "label"].sum()),
    )
    return TaskData(
        task=task,
        dataset=dataset,
        groups=slice_groups(dataset),
        features=model_features(task),
        periods=p,
        extract_date=end,
        data_hash=str(extract["content_hash"]),
        codebook_version=load_catalogue().codebook_version,
        as_of_dates=grid,
        level=level,
    )


def fit_task_level(
    con: object, task: TaskSpec, *, config: ModelConfig, start: date, cutoff: date
) -> LevelModel | None:
    """The calendar level forecast of `config.level` (None when disabled), fitted on the
    store's weekly emergency admissions in [start, cutoff): the cutoff is the first test index
    date, so no admission the test rows' labels count can inform it. An extract with fewer
    than `level.min_weeks` whole weeks before the cutoff gets no level (logged with the
    reason, like a skipped baseline): the model is then calibrated as it is."""
    if not config.level.enabled:
        return None
    with timed("models.level", task=task.name):
        weeks = weekly_admissions(con, start=start, cutoff=cutoff)  # type: ignore[arg-type]
        n_weeks = weeks["week_start"].nunique()
        if n_weeks < config.level.min_weeks:
            reason = TOO_FEW_WEEKS.format(
                weeks=n_weeks, cutoff=cutoff, needed=config.level.min_weeks
            )
            log_event("models.level.skipped", task=task.name, reason=reason)
            return None
        level = fit_level(
            weeks,
            cutoff=cutoff,
            gap_days=task.label.gap_days,
            horizon_days=task.label.horizon_days,
            harmonics=config.level.harmonics,
            min_weeks=config.level.min_weeks,
            use_trend=config.level.trend,
            link=config.level.link,
        )
    log_event(
        "models.level", task=task.name, weeks=level.weeks, trend=round(level.trend, 4),
        cos=[round(c, 4) for c in level.cos], sin=[round(v, 4) for v in level.sin],
        link=level.link,
    )  # fmt: skip
    return level


def test_rows(data: TaskData) -> np.ndarray:
    return (data.dataset["split"] == "test").to_numpy()
