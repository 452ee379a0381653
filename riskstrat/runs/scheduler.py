"""The scheduler process: start-up reconciliation, `riskstrat schedule` (serve / --once) and the
functions APScheduler calls when a job fires.

riskstrat.runs.schedule holds the configuration and the APScheduler wiring; riskstrat.runs.due the
ledger of due runs; this module drives both, so neither imports the other.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from riskstrat.config import Settings, load_settings
from riskstrat.logs import log_event
from riskstrat.runs.due import ledger_for, on_fire, process_waiting, reconcile
from riskstrat.runs.lock import RunLocked
from riskstrat.runs.schedule import (
    ScheduleConfig,
    build_scheduler,
    check_jobstore,
    install_jobs,
    jobstore_path,
    load_schedule,
)

if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent
    from apscheduler.schedulers.base import BaseScheduler

SCHEDULER_ACTIVE = (
    "another scheduler holds {path}: only one `riskstrat schedule` may run per data folder; "
    "stop it first (or leave it running: it does the work)"
)
#: `schedule --install-only` while a scheduler (serve, or a cron `--once` tick) holds the lock:
#: both would write the job store at once (two adds of one job id: ConflictingIdError; a job
#: replaced under a running scheduler), so it waits INSTALL_WAIT_SECONDS (another
#: --install-only takes under a second), then is refused.
INSTALL_WAIT_SECONDS = 10.0
INSTALL_BUSY = (
    "another scheduler holds {path} (a `riskstrat schedule`, or a cron `schedule --once` tick; "
    "waited {timeout:g} s): "
    "it syncs the job store with configs/schedule.yaml itself when it starts; restart it to "
    "apply an edit, or run --install-only when it has stopped"
)
DUE_JOB_ID = "riskstrat-due-runs"  # in-memory: runs ledger rows whose time has come
DUE_FUNC = "riskstrat.runs.scheduler:run_due"
DUE_EVERY_MINUTES = 15


class SchedulerActive(RunLocked):
    """Another scheduler process already serves this data folder (a lock held: exit 3, one
    line, like RunLocked; it was reported as an internal error, exit 70, "report it")."""


def scheduler_lock_path(config: ScheduleConfig, *, settings: Settings) -> Path:
    """data/schedule.lock: held by the one scheduler (serve, or a `--once` tick) of the folder."""
    return jobstore_path(config, settings).with_suffix(".lock")


@contextmanager
def scheduler_lock(
    config: ScheduleConfig,
    *,
    settings: Settings,
    busy: str = SCHEDULER_ACTIVE,
    timeout: float = 0.0,
) -> Iterator[None]:
    """One scheduler per data folder (so `running` rows found on start were really killed).
    busy: the message ({path}, {timeout}) of the SchedulerActive raised when another still
    holds it after `timeout` seconds."""
    from filelock import FileLock, Timeout

    path = scheduler_lock_path(config, settings=settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise SchedulerActive(busy.format(path=path, timeout=timeout)) from exc
    try:
        yield
    finally:
        lock.release()


def install_only(config: ScheduleConfig, *, settings: Settings) -> dict[str, str]:
    """`riskstrat schedule --install-only`: sync the job store under the scheduler lock, so it
    never writes the store beside a scheduler or another --install-only (it waits for the
    lock INSTALL_WAIT_SECONDS, then is refused)."""
    with scheduler_lock(config, settings=settings, busy=INSTALL_BUSY, timeout=INSTALL_WAIT_SECONDS):
        check_jobstore(config, settings=settings)
        return install_jobs(config, settings=settings)


def start_up(config: ScheduleConfig, *, settings: Settings, now: datetime) -> dict[str, object]:
    """Sync the job store with the config, then reconcile: interrupted and missed runs become
    due in the ledger (each runs once, by the ledger, not by APScheduler's misfire). A damaged
    job store stops it first, in one line naming the file (JobStoreDamaged)."""
    check_jobstore(config, settings=settings)
    actions = install_jobs(config, settings=settings, now=now)
    found = reconcile(config, settings=settings, now=now)
    return {"jobs": actions, **found}


def run_once_now(
    config: ScheduleConfig, *, settings: Settings, now: datetime | None = None
) -> list[tuple[str, str, str]]:
    """`riskstrat schedule --once` (cron): start up, run what is due, exit."""
    now = now or datetime.now(ZoneInfo(config.timezone))
    with scheduler_lock(config, settings=settings):
        start_up(config, settings=settings, now=now)
        return process_waiting(config=config, settings=settings, now=now)


def serve(config: ScheduleConfig, *, settings: Settings) -> None:
    """Run the schedule in the foreground until SIGTERM or SIGINT, then stop cleanly."""
    with scheduler_lock(config, settings=settings):
        now = datetime.now(ZoneInfo(config.timezone))
        found = start_up(config, settings=settings, now=now)
        scheduler = live_scheduler(config, settings=settings, now=now)

        def stop(signum: int, _frame: object) -> None:
            log_event("scheduler.stopping", signal=signal.Signals(signum).name)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log_event(
            "scheduler.started",
            jobs=len(found["jobs"]),
            timezone=config.timezone,
            interrupted=len(found["interrupted"]),
            missed=len(found["missed"]),
        )
        scheduler.start()
        log_event("scheduler.stopped")


def live_scheduler(
    config: ScheduleConfig, *, settings: Settings, now: datetime, background: bool = False
) -> BaseScheduler:
    """The running scheduler (not started): the persistent jobs, the in-memory tick that runs
    ledger rows whose time has come (now, then every few minutes), and the ledger told of every
    fire APScheduler gives up on."""
    from apscheduler.events import EVENT_JOB_MISSED
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = build_scheduler(config, settings=settings, background=background)
    scheduler.add_jobstore(MemoryJobStore(), "memory")
    scheduler.add_job(
        DUE_FUNC,
        trigger=IntervalTrigger(minutes=DUE_EVERY_MINUTES, timezone=ZoneInfo(config.timezone)),
        id=DUE_JOB_ID,
        jobstore="memory",
        next_run_time=now,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_listener(partial(record_missed, config=config, settings=settings),
                           EVENT_JOB_MISSED)  # fmt: skip
    return scheduler


def record_missed(event: JobExecutionEvent, *, config: ScheduleConfig, settings: Settings) -> None:
    """APScheduler gave up on a fire more than misfire_grace_hours late while the scheduler was
    running (the machine slept, the clock jumped, or the one worker was busy with a long run):
    the fire goes into the ledger as due, so the tick runs it once within catch_up_hours, or
    records why not (`riskstrat status`). Before, APScheduler logged a warning and moved the job
    on: the week's run was skipped with nothing in the ledger or in status."""
    if event.job_id not in {job.id for job in config.jobs}:
        return  # the in-memory tick: the next one comes in minutes
    now = datetime.now(ZoneInfo(config.timezone))
    ledger_for(config, settings=settings).record_due(event.job_id, event.scheduled_run_time,
                                                     now=now)  # fmt: skip
    log_event("schedule.missed", job=event.job_id, due=event.scheduled_run_time.isoformat())


def run_job(*, job_id: str) -> None:
    """What APScheduler calls when a job fires: record it in the ledger and run what is due.

    Reads the config afresh at fire time (the store holds only the job id), so edits to pathways
    or tasks apply from the next run without reinstalling.
    """
    config = load_schedule()
    now = datetime.now(ZoneInfo(config.timezone))
    log_event("job.fired", job=job_id)
    for job, state, _reason in on_fire(job_id, config=config, settings=load_settings(), now=now):
        log_event("job.settled", job=job, state=state)


def run_due() -> None:
    """The in-memory tick: run ledger rows whose time has come (catch-ups, deferred runs)."""
    config = load_schedule()
    now = datetime.now(ZoneInfo(config.timezone))
    for job, state, _reason in process_waiting(config=config, settings=load_settings(), now=now):
        log_event("job.settled", job=job, state=state)
