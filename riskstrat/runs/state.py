"""What a run carries from step to step: options, the store connection and the frames.

Features are computed once per task and handed to scoring, explanation, the report and
monitoring through this state, so no step re-reads or recomputes what an earlier one made.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from riskstrat.config import Settings

UNKNOWN_PATHWAY = "unknown pathway {name!r}: configured pathways are {known}"
REPORT_TASK = "crisis"


@dataclass(frozen=True)
class RunOptions:
    """How to run: where the extract comes from and which optional parts to do."""

    extract_date: date | None = None  # None: as_of - 1 day (the day before the run)
    source_dir: Path | None = None  # None: settings.paths.source_dir
    ingest: bool = True  # False: use the store as it is (benchmarks, re-runs)
    report: bool = True  # write the commissioner report
    lock_timeout_seconds: float = 0.0  # wait this long for another run to finish
    #: Scheduled runs: do nothing when a succeeded run of this as-of already covers the pathways.
    skip_if_published: bool = False
    #: Refuse an as-of more than this many days after the store's extract (stale data) ...
    max_extract_age_days: int = 14
    force: bool = False  # ... unless forced
    #: "duckdb" or "spark" (riskstrat.runs.engine); None: `engine` in configs/riskstrat.yaml.
    engine: str | None = None


@dataclass
class TaskData:
    """One prediction task's share of a run: the champion model, features and scores."""

    name: str
    spec: Any  # riskstrat.tasks TaskSpec
    model: Any  # riskstrat.models.registry RiskModel
    alias: str
    matrix: pd.DataFrame | None = None  # keys + practice_code + features
    scores: pd.DataFrame | None = None  # the scores table rows of this run
    frame: Any = None  # Spark engine: the feature matrix as a Spark DataFrame
    scored: Any = None  # Spark engine: the scores as a Spark DataFrame


@dataclass
class RunState:
    as_of: date
    pathways: tuple[str, ...]
    all_pathways: tuple[str, ...]
    pathway_specs: dict[str, Any]
    settings: Settings
    options: RunOptions
    extract_date: date
    manifest: Any = None
    run_dir: Path | None = None
    con: Any = None
    tasks: dict[str, TaskData] = field(default_factory=dict)
    lists: pd.DataFrame | None = None
    selection: Any = None  # outreach.engine.Selection: the lists + what their headers say
    explained: pd.DataFrame | None = None
    #: (task, scoring date) -> matured rows with labels (reports.loader.matured_rows), made once
    #: by monitoring and reused by the report.
    matured: dict[tuple[str, date], pd.DataFrame] = field(default_factory=dict)
    #: (task, max_days) -> the earlier scores a rise and the score shift are measured against
    #: (outreach.store_io.load_previous), read once for select and monitoring.
    previous: dict[tuple[str, int], tuple[Any, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    held: ExitStack = field(default_factory=ExitStack)  # locks held until the run ends
    spark: Any = None  # Spark engine: the SparkSession (registry views registered)
    #: models_step's background load of the champions (a concurrent.futures.Future of
    #: {task: model}), until runs.steps.await_models puts them into `tasks`.
    loading_models: Any = None
    #: score_step's background store of the scores (a Future), until runs.steps.await_stored.
    storing: Any = None
    #: Tasks with no scoring at this as-of before the run (validate_step): if the run fails, the
    #: scores it stored for them are removed again (runs.pipeline.forget_failed_scores), so the
    #: next post-discharge window still starts at the last published list.
    unscored_before: tuple[str, ...] = ()
    #: The side lane's way to the final lists (explain_step's `explained`), which the main lane
    #: makes beside it (runs.pipeline): a concurrent.futures.Future that `lane_copy` makes and
    #: both copies share, fulfilled by explain_step; read through runs.steps.await_explained.
    explaining: Any = None

    @classmethod
    def start(
        cls,
        *,
        as_of: date,
        pathways: Sequence[str] | None,
        settings: Settings,
        options: RunOptions,
    ) -> RunState:
        from datetime import timedelta

        from riskstrat.outreach.config import load_outreach_config, load_pathways

        specs = load_pathways(load_outreach_config())
        chosen = tuple(pathways) if pathways else tuple(specs)
        for name in chosen:
            if name not in specs:
                raise ValueError(UNKNOWN_PATHWAY.format(name=name, known=", ".join(specs)))
        return cls(
            as_of=as_of,
            pathways=tuple(p for p in specs if p in chosen),  # configured priority order
            all_pathways=tuple(specs),
            pathway_specs={p: specs[p] for p in specs if p in chosen},
            settings=settings,
            options=options,
            extract_date=options.extract_date or as_of - timedelta(days=1),
        )

    @property
    def task_names(self) -> tuple[str, ...]:
        """Tasks the chosen pathways need, in first-use order."""
        return tuple(dict.fromkeys(spec.task for spec in self.pathway_specs.values()))

    @property
    def writes_report(self) -> bool:
        """The commissioner report describes the crisis cohort: only runs that score it."""
        return self.options.report and REPORT_TASK in self.task_names

    @property
    def engine(self) -> str:
        return self.options.engine or self.settings.engine

    def lane_copy(self) -> RunState:
        """The state the run's side lane works on (runs.pipeline): the same tasks, lists,
        manifest and caches, with its own cursor of the store (a DuckDB connection is not safe
        across threads) and its own copy of the warnings so far, whose additions the run appends
        after the main lane's. Side steps add to the shared frames and caches but rebind no
        attribute of the state. The run closes the cursor; `close` stays the run's.

        Both copies share a new `explaining` Future: the main lane's explain_step puts the
        final lists there, for a side step that needs them (the report's listed people)."""
        from concurrent.futures import Future

        self.explaining = Future()
        return replace(
            self,
            con=None if self.con is None else self.con.cursor(),
            warnings=list(self.warnings),
        )

    def close(self) -> None:
        """Unpersist Spark frames, close the store, release the locks; and unfreeze what the
        models' load froze (runs.steps._load_champions), for the collector to see again."""
        import gc
        from concurrent.futures import wait

        # A run that failed before awaiting its store or its models: let them end first (the
        # models' load freezes what it made when it ends; unfrozen only after that).
        wait([f for f in (self.storing, self.loading_models) if f is not None])
        gc.unfreeze()
        for data in self.tasks.values():
            for frame in (data.frame, data.scored):
                if frame is not None:
                    frame.unpersist()
        if self.con is not None:
            self.con.close()
            self.con = None
        self.held.close()
