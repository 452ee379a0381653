"""The schedule: APScheduler 3 jobs from configs/schedule.yaml, kept in a persistent job store.

Jobs are stored in a SQLAlchemy (sqlite) job store under the data folder so a restart remembers
when each job was due: with a misfire grace of hours and coalescing, a weekly run missed while the
machine was down runs once when it comes back, instead of being silently skipped (the 3.x default
grace is one second). A job whose definition is unchanged is left in the store untouched, so its
pending (possibly missed) run time survives a restart; a changed one is replaced.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from riskstrat.config import CONFIG_ERROR, ConfigError, Settings, StrictModel, config_dir, load_yaml
from riskstrat.errors import EnvironmentProblem
from riskstrat.logs import log_event
from riskstrat.runs.hook import FailureHook
from riskstrat.tasks.spec import TaskName

# APScheduler (and SQLAlchemy) are imported where a scheduler or job store is made: a
# `riskstrat run`, which reads only this module's config, does not pay their ~0.4 s import.
if TYPE_CHECKING:
    from apscheduler.job import Job
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.base import BaseScheduler
    from apscheduler.triggers.cron import CronTrigger

SCHEDULE_FILE = "schedule.yaml"
SCHEDULE_PATH = f"configs/{SCHEDULE_FILE}"  # as an error names it
JOB_FUNC = "riskstrat.runs.scheduler:run_job"  # riskstrat/runs/scheduler.py
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_OF_WEEK_NAMES_ONLY = (
    "day_of_week {value!r}: use day names (mon..sun), not numbers: APScheduler counts 0 = Monday, "
    "cron counts 0 = Sunday, so numbers are ambiguous"
)
DAY_OF_WEEK_UNKNOWN = "day_of_week {value!r}: {token!r} is not a day, use mon..sun{hint}"
#: A cron field APScheduler refuses (hour 25, minute 60, 'seven', '1st sunday'), found where the
#: trigger is made (`status`, `schedule`, the scheduler): one line naming the job and its cron.
CRON_INVALID = "{problem}; correct the cron field (APScheduler 3 cron, e.g. hour: 7)"
DUPLICATE_JOB_ID = "job id {id!r} appears more than once"
RUN_JOB_NEEDS_PATHWAYS = "job {id!r}: a run job needs pathways"
RETRAIN_JOB_NEEDS_TASKS = "job {id!r}: a retrain job needs tasks"
UNKNOWN_JOB = "no job {id!r} in {file}"
UNKNOWN_TIMEZONE = (
    "unknown timezone {value!r}{hint}: use an IANA name such as Europe/London (see the tz database)"
)


_DAY_ENDINGS = ("day", "sday", "nesday", "rsday", "day", "urday", "day")


class Cron(StrictModel):
    """APScheduler 3 cron fields (strings as in the docs, e.g. 'mon-fri', '1st sun')."""

    day_of_week: str | None = None
    day: str | int | None = None  # `day: 1` is a number in YAML: the 1st of the month
    month: str | int | None = None
    hour: str | int = 0
    minute: str | int = 0

    @field_validator("day_of_week", mode="before")
    @classmethod
    def _names_only(cls, value: object) -> str | None:
        if value is None:
            return value
        value = str(value).strip()
        for token in value.lower().split(","):
            for part in token.split("/")[0].split("-"):
                if part in (*DAY_NAMES, "*"):
                    continue
                if part.strip().isdigit():
                    raise ValueError(DAY_OF_WEEK_NAMES_ONLY.format(value=value))
                full = {f"{d}{rest}": d for d, rest in zip(DAY_NAMES, _DAY_ENDINGS, strict=True)}
                close = difflib.get_close_matches(part, [*full, *DAY_NAMES], n=3, cutoff=0.75)
                days = " or ".join(dict.fromkeys(repr(full.get(c, c)) for c in close))
                hint = f" (did you mean {days}?)" if close else ""
                raise ValueError(DAY_OF_WEEK_UNKNOWN.format(value=value, token=part, hint=hint))
        return value.lower()


class JobConfig(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Literal["run", "retrain"]
    cron: Cron
    pathways: list[str] = Field(default_factory=list)
    tasks: list[TaskName] = Field(default_factory=list)
    report: bool = True  # run jobs: write the commissioner report too
    #: When the job is due on a day that is not a working day (a bank holiday, or a catch-up
    #: falling on a weekend): skip it (the next working day's run covers the days since the
    #: last run), run it on the next working day, or run anyway (retraining).
    on_bank_holiday: Literal["skip", "next_working_day", "run"] = "skip"
    catch_up_hours: float | None = Field(None, gt=0)  # None: the schedule's catch_up_hours

    @field_validator("pathways")
    @classmethod
    def _known_pathways(cls, value: list[str]) -> list[str]:
        from riskstrat.cliopts import UNKNOWN_PATHWAY, pathway_names, unknown_name

        for name in value:
            if name not in pathway_names():
                raise ValueError(unknown_name(UNKNOWN_PATHWAY, value=name, known=pathway_names()))
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> JobConfig:
        if self.kind == "run" and not self.pathways:
            raise ValueError(RUN_JOB_NEEDS_PATHWAYS.format(id=self.id))
        if self.kind == "retrain" and not self.tasks:
            raise ValueError(RETRAIN_JOB_NEEDS_TASKS.format(id=self.id))
        return self


class ScheduleConfig(StrictModel):
    timezone: str = "Europe/London"
    jobstore: Path = Path("schedule.sqlite")
    misfire_grace_hours: float = Field(6, gt=0)
    lock_timeout_minutes: float = Field(120, ge=0)
    extract_lag_days: int = Field(1, ge=0)
    #: A run (scheduled or by hand) refuses an as-of more than this many days after the store's
    #: extract unless forced (`riskstrat run --force`): lists from stale data are wrong lists.
    max_extract_age_days: int = Field(14, ge=0)
    #: A run missed or interrupted (scheduler down, killed mid-run) still runs once on restart
    #: if at most this many hours late; later ones are recorded as missed, with the reason.
    catch_up_hours: float = Field(72, gt=0)
    on_failure: FailureHook | None = None
    jobs: list[JobConfig]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, ZoneInfoNotFoundError) as exc:
            raise ValueError(UNKNOWN_TIMEZONE.format(value=value, hint=_zone_hint(value))) from exc
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> ScheduleConfig:
        seen: set[str] = set()
        for job in self.jobs:
            if job.id in seen:
                raise ValueError(DUPLICATE_JOB_ID.format(id=job.id))
            seen.add(job.id)
        return self

    def job(self, job_id: str) -> JobConfig:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise KeyError(UNKNOWN_JOB.format(id=job_id, file=SCHEDULE_FILE))

    def local(self, when: datetime) -> str:
        """A schedule time as the operator reads it: "Mon 2026-12-28 07:00 GMT" in the
        schedule's timezone (one format for status and the ledger's reasons; a reason said
        "2026-12-28T07:00:00+00:00" before stop 28)."""
        return when.astimezone(ZoneInfo(self.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")

    def trigger(self, job: JobConfig) -> CronTrigger:
        from apscheduler.triggers.cron import CronTrigger

        fields = job.cron.model_dump(exclude_none=True)
        try:
            return CronTrigger(**fields, timezone=ZoneInfo(self.timezone))
        except ValueError as exc:
            where = f"jobs[{job.id}].cron"
            problem = CRON_INVALID.format(problem=" ".join(str(exc).split()))
            raise ConfigError(
                CONFIG_ERROR.format(file=SCHEDULE_PATH, key=where, problem=problem)
            ) from exc


def _zone_hint(value: str) -> str:
    """' (did you mean ...?)' for a mistyped zone: another case, a bare city, a close spelling."""
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    by_case = {z.lower(): z for z in zones}
    city = [z for z in zones if z.lower().endswith(f"/{value.lower()}")]
    close = difflib.get_close_matches(value, zones, n=1, cutoff=0.8)
    found = by_case.get(value.lower()) or (city or close or [None])[0]
    return f" (did you mean {found!r}?)" if found else ""


def load_schedule(path: Path | None = None) -> ScheduleConfig:
    return load_yaml(path or config_dir() / SCHEDULE_FILE, ScheduleConfig)


def jobstore_path(config: ScheduleConfig, settings: Settings) -> Path:
    return settings.paths.data_dir / config.jobstore  # an absolute jobstore path wins


#: The job store's sqlite file (APScheduler's jobs and the ledger of due runs) is damaged: a disk
#: fault, a copy cut short, an editor's save. Before, `status`, `schedule`, `--once` and
#: `--install-only` all stopped with "the database is damaged ..., on this machine, restore it
#: from a backup": no file named, no way out, and status showed not even the recent runs.
JOBSTORE_DAMAGED = (
    "the scheduler's job store {path} is damaged ({detail}); move it aside (mv {path} "
    "{path}.damaged) and run `riskstrat schedule --install-only`: the jobs are made again from "
    "configs/schedule.yaml, but its ledger of missed and failed runs is lost (the run history "
    "in `riskstrat status` is not)"
)


class JobStoreDamaged(EnvironmentProblem):
    """The job store file is not a sound sqlite database (exit 3: the machine, one line)."""


def check_jobstore(config: ScheduleConfig, *, settings: Settings) -> None:
    """Raise JobStoreDamaged when the job store file exists and is not a sound sqlite database
    (PRAGMA quick_check: milliseconds on a job store). A store busy with a writer is not
    damaged: that is left to the caller's own wait."""
    import sqlite3
    from contextlib import closing

    path = jobstore_path(config, settings)
    if not path.is_file():
        return
    try:
        with closing(sqlite3.connect(path, timeout=30)) as db:
            found = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return
        detail = str(exc)
    except sqlite3.DatabaseError as exc:
        detail = str(exc)
    else:
        if [row[0] for row in found] == ["ok"]:
            return
        detail = "; ".join(str(row[0]) for row in found[:2])
    # In its own words: sqlite's ("database disk image is malformed") would make the CLI's
    # error boundary read it as any damaged database ("restore it from a backup").
    low = detail.lower()
    if "malformed" in low:
        detail = "sqlite finds its pages malformed"
    elif "not a database" in low:
        detail = "it is not an sqlite file"
    raise JobStoreDamaged(JOBSTORE_DAMAGED.format(path=path, detail=" ".join(detail.split())))


def jobstore_url(config: ScheduleConfig, settings: Settings) -> str:
    path = jobstore_path(config, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def build_scheduler(
    config: ScheduleConfig, *, settings: Settings, background: bool = False
) -> BaseScheduler:
    """A scheduler on the persistent job store with the house job defaults."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BackgroundScheduler if background else BlockingScheduler
    return cls(
        jobstores={"default": SQLAlchemyJobStore(url=jobstore_url(config, settings))},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(config.misfire_grace_hours * 3600),
        },
        timezone=ZoneInfo(config.timezone),
    )


def _job_args(config: ScheduleConfig, spec: JobConfig) -> dict[str, object]:
    return {
        "func": JOB_FUNC,
        "trigger": config.trigger(spec),
        "kwargs": {"job_id": spec.id},
        "id": spec.id,
        "name": spec.id,
        "misfire_grace_time": int(config.misfire_grace_hours * 3600),
        "coalesce": True,
        "max_instances": 1,
    }


def _definition(job: Job) -> tuple[object, ...]:
    return (
        job.func_ref,
        repr(job.trigger),
        job.kwargs,
        job.coalesce,
        job.max_instances,
        job.misfire_grace_time,
    )


@contextmanager
def open_jobstore(config: ScheduleConfig, *, settings: Settings) -> Iterator[SQLAlchemyJobStore]:
    """The persistent job store, opened without starting a scheduler (nothing can fire)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = SQLAlchemyJobStore(url=jobstore_url(config, settings))
    store.start(build_scheduler(config, settings=settings, background=True), "default")
    try:
        yield store
    finally:
        store.shutdown()


def install_jobs(
    config: ScheduleConfig, *, settings: Settings, now: datetime | None = None
) -> dict[str, str]:
    """Make the persistent job store match the config, without running anything.

    Returns job id -> added / replaced / kept / removed. A kept job keeps its stored next run
    time, so a run missed while the scheduler was down is still due when it starts.
    """
    from apscheduler.job import Job

    now = now or datetime.now(ZoneInfo(config.timezone))
    actions: dict[str, str] = {}
    with open_jobstore(config, settings=settings) as store:
        for spec in config.jobs:
            args = _job_args(config, spec)
            job = Job(store._scheduler, executor="default", args=(), next_run_time=None, **args)
            existing = store.lookup_job(spec.id)
            if existing is not None and _definition(existing) == _definition(job):
                actions[spec.id] = "kept"
                continue
            job._modify(next_run_time=job.trigger.get_next_fire_time(None, now))
            if existing is None:
                store.add_job(job)
                actions[spec.id] = "added"
            else:
                store.update_job(job)
                actions[spec.id] = "replaced"
        wanted = {spec.id for spec in config.jobs}
        for job in store.get_all_jobs():
            if job.id not in wanted:
                store.remove_job(job.id)
                actions[job.id] = "removed"
    log_event("schedule.synced", **{k.replace("-", "_"): v for k, v in actions.items()})
    return actions


def next_fire_times(
    config: ScheduleConfig, *, now: datetime, count: int = 1
) -> dict[str, list[datetime]]:
    """The next `count` fire times of each configured job after `now` (no job store needed)."""
    out: dict[str, list[datetime]] = {}
    for spec in config.jobs:
        trigger, times, prev, at = config.trigger(spec), [], None, now
        for _ in range(count):
            nxt = trigger.get_next_fire_time(prev, at)
            if nxt is None:
                break
            times.append(nxt)
            prev, at = nxt, nxt + timedelta(microseconds=1)
        out[spec.id] = times
    return out


def stored_next_run_times(config: ScheduleConfig, *, settings: Settings) -> dict[str, datetime]:
    """Next run time of each job in the persistent store (empty if never installed)."""
    if not jobstore_path(config, settings).is_file():
        return {}
    with open_jobstore(config, settings=settings) as store:
        return {job.id: job.next_run_time for job in store.get_all_jobs()}
