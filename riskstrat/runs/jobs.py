"""What the scheduled jobs do: a pipeline run for today, or a monthly retrain + promotion gate."""

from __future__ import annotations

from datetime import date, timedelta

from riskstrat.config import Settings
from riskstrat.logs import log_event
from riskstrat.runs.lock import run_lock
from riskstrat.runs.manifest import Manifest
from riskstrat.runs.schedule import JobConfig, ScheduleConfig
from riskstrat.runs.state import RunOptions


def run_scheduled(
    spec: JobConfig, *, as_of: date, config: ScheduleConfig, settings: Settings
) -> Manifest:
    """Today's run for the job's pathways (waits for a run in progress; skips if already done)."""
    from riskstrat.runs.pipeline import run_once

    options = RunOptions(
        extract_date=as_of - timedelta(days=config.extract_lag_days),
        report=spec.report,
        lock_timeout_seconds=config.lock_timeout_minutes * 60,
        skip_if_published=True,
        max_extract_age_days=config.max_extract_age_days,
    )
    return run_once(as_of=as_of, pathways=spec.pathways, settings=settings, options=options)


def retrain(spec: JobConfig, *, config: ScheduleConfig, settings: Settings) -> dict[str, object]:
    """Retrain each task (new version = challenger) and let the promotion gate decide."""
    from riskstrat.models.promote import promote_task
    from riskstrat.models.train import train_task

    decisions: dict[str, object] = {}
    with run_lock(settings.paths.data_dir, timeout=config.lock_timeout_minutes * 60):
        for task in spec.tasks:
            result = train_task(task, settings=settings)
            if result.alias == "champion":  # the task's first model: nothing to compare with
                decisions[task] = "first model: champion"
            else:
                decision = promote_task(task, settings=settings)
                decisions[task] = "promoted" if decision.promote else "kept champion"
            log_event("retrain.done", task=task, version=result.version, outcome=decisions[task])
    return decisions
