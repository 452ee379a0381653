"""Due runs: what the scheduler does when a job fires, on start, and on bank holidays.

Every fire is first written to the ledger (riskstrat/runs/ledger.py) and then processed from it,
so a run is done exactly once whichever way it became due: a normal fire, a run interrupted by a
kill (found `running` on start), or a fire missed while the scheduler was down (found from the
job store's stored next run time on start, within `catch_up_hours`).

Bank holidays (riskstrat/calendar.py): a run job due on a day that is not a working day follows
its `on_bank_holiday`: the weekday post-discharge job skips (the next working day's run covers
the discharges since the last run), the weekly job runs on the next working day at the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from riskstrat import calendar
from riskstrat.config import Settings
from riskstrat.logs import log_event
from riskstrat.runs.hook import notify_failure
from riskstrat.runs.ledger import (
    DEFERRED,
    DONE,
    FAILED,
    MISSED,
    RUNNING,
    SKIPPED,
    DueRun,
    Ledger,
)
from riskstrat.runs.schedule import JobConfig, ScheduleConfig, jobstore_path, open_jobstore

#: A run interrupted this many times is not tried again (a run that kills its machine).
MAX_ATTEMPTS = 2
NOT_CONFIGURED = "job no longer in configs/schedule.yaml"
TOO_LATE = (
    "not run: {late:.0f} h late, beyond catch_up_hours ({limit:g} h) in configs/schedule.yaml; "
    "run it by hand with `{command}` if its lists are still wanted"
)
HOLIDAY_SKIP = "{day} is {name}: not run; the next working day's run covers the days since"
HOLIDAY_DEFER = "{day} is {name}: deferred to the next working day, {then}"
COALESCED = "missed while the scheduler was down; the run due {later} covers it"
INTERRUPTED = "interrupted: the scheduler stopped during this run (attempt {attempts}); re-run"
ALREADY_PUBLISHED = "nothing to do: run {as_of} ({run_id}), already published, lists these pathways"
GAVE_UP = (
    "interrupted {attempts} times; not retried: see the logs, then run it by hand with `{command}`"
)


def rerun_command(pathways: list[str], *, as_of: date) -> str:
    """The hand run doing a scheduled run's work as of `as_of`: its pathways (all when it has
    every configured pathway; before 2026-12-03 the weekday job's hint ran every pathway, so the
    week's lists were made again mid-week)."""
    from riskstrat.cliopts import pathway_names

    every = set(pathways) == set(pathway_names())
    options = "".join(f" --pathway {p}" for p in pathways if not every)
    return f"riskstrat run --as-of {as_of}{options}"


#: Does a job's work for a run date and returns a short outcome text.
Executor = Callable[[JobConfig, date], str]


def ledger_for(config: ScheduleConfig, *, settings: Settings) -> Ledger:
    return Ledger(jobstore_path(config, settings))


def fire_times(
    config: ScheduleConfig, spec: JobConfig, *, start: datetime, end: datetime
) -> list[datetime]:
    """The job's fire times t with start <= t <= end."""
    trigger, out = config.trigger(spec), list[datetime]()
    prev, at = None, start
    while True:
        nxt = trigger.get_next_fire_time(prev, at)
        if nxt is None or nxt > end:
            return out
        out.append(nxt)
        prev, at = nxt, nxt + timedelta(microseconds=1)


def latest_fire_time(config: ScheduleConfig, spec: JobConfig, *, now: datetime) -> datetime:
    """The job's latest fire time at or before now (now itself when none in 40 days)."""
    times = fire_times(config, spec, start=now - timedelta(days=40), end=now)
    return times[-1] if times else now


def holiday_extra() -> tuple[date, ...]:
    """One-off closures from configs/outreach.yaml (one place for the working-day calendar)."""
    from riskstrat.outreach.config import load_outreach_config

    return tuple(load_outreach_config().bank_holidays)


def default_executor(config: ScheduleConfig, settings: Settings) -> Executor:
    def execute(spec: JobConfig, as_of: date) -> str:
        from riskstrat.runs.jobs import retrain, run_scheduled

        if spec.kind == "run":
            called = datetime.now(UTC).replace(microsecond=0)
            manifest = run_scheduled(spec, as_of=as_of, config=config, settings=settings)
            if manifest.started_at < called:  # run_once's skip_if_published: nothing ran
                return ALREADY_PUBLISHED.format(as_of=manifest.run_name, run_id=manifest.run_id)
            return f"run {manifest.run_name} {manifest.status} ({manifest.run_id})"
        decisions = retrain(spec, config=config, settings=settings)
        return "; ".join(f"{task}: {outcome}" for task, outcome in decisions.items())

    return execute


def one_line(exc: BaseException) -> str:
    from riskstrat.errors import describe

    return describe(exc)[0]


def on_fire(
    job_id: str,
    *,
    config: ScheduleConfig,
    settings: Settings,
    now: datetime,
    execute: Executor | None = None,
) -> list[tuple[str, str, str]]:
    """APScheduler fired `job_id`: record it as due, then run everything waiting."""
    ledger = ledger_for(config, settings=settings)
    ledger.record_due(job_id, latest_fire_time(config, config.job(job_id), now=now), now=now)
    return process_waiting(config=config, settings=settings, now=now, execute=execute)


def process_waiting(
    *,
    config: ScheduleConfig,
    settings: Settings,
    now: datetime,
    execute: Executor | None = None,
) -> list[tuple[str, str, str]]:
    """Run (or skip, defer, give up on) every waiting ledger row whose time has come.

    Returns (job, state, reason) per row settled, oldest first.
    """
    ledger = ledger_for(config, settings=settings)
    execute = execute or default_executor(config, settings)
    handled = []
    for row in in_config_order(ledger.waiting(now=now), config):
        settled = _settle_one(row, ledger=ledger, config=config, now=now, execute=execute)
        if settled is None:
            continue  # claimed by another process meanwhile
        state, reason, extra = settled
        ledger.set_state(row.job_id, row.due_at, state=state, now=now, reason=reason, **extra)
        handled.append((row.job_id, state, reason))
        log_event("schedule.due", job=row.job_id, due=row.due_at.isoformat(), state=state)
        if state == FAILED:
            notify_failure(config.on_failure, reason=reason, job_id=row.job_id, due=row.due_at)
    return handled


def in_config_order(rows: list[DueRun], config: ScheduleConfig) -> list[DueRun]:
    """Rows due at the same time run in the order of configs/schedule.yaml's jobs: the weekly
    run (every pathway) before the weekday post-discharge run, which then finds the day's
    post-discharge list published and does nothing. (By job id the weekday run came first, and
    on a Monday the post-discharge list was made twice.) Otherwise by run time, then due time."""
    order = {job.id: i for i, job in enumerate(config.jobs)}
    return sorted(rows, key=lambda r: (r.run_on, order.get(r.job_id, len(order)), r.due_at))


def _settle_one(
    row: DueRun, *, ledger: Ledger, config: ScheduleConfig, now: datetime, execute: Executor
) -> tuple[str, str, dict] | None:
    """What becomes of one waiting row: (state, reason, extra ledger fields)."""
    spec = next((j for j in config.jobs if j.id == row.job_id), None)
    if spec is None:
        return MISSED, NOT_CONFIGURED, {}
    zone = ZoneInfo(config.timezone)
    today = now.astimezone(zone).date()
    limit = spec.catch_up_hours or config.catch_up_hours
    late = (now - row.run_on).total_seconds() / 3600
    if late > limit:
        return MISSED, TOO_LATE.format(late=late, limit=limit, command=_by_hand(spec, today)), {}
    extra = holiday_extra()
    if spec.on_bank_holiday != "run" and not calendar.is_working_day(today, extra=extra):
        name = calendar.holiday_name(today, extra=extra) or today.strftime("a %A")
        if spec.on_bank_holiday == "skip":
            return SKIPPED, HOLIDAY_SKIP.format(day=today, name=name), {}
        local = row.due_at.astimezone(zone)
        then = datetime.combine(
            calendar.next_working_day(today, extra=extra), local.time(), tzinfo=zone
        )
        return DEFERRED, HOLIDAY_DEFER.format(day=today, name=name, then=then), {"run_on": then}
    claimed = ledger.claim(row.job_id, row.due_at, now=now)
    if claimed is None:
        return None
    if claimed.attempts > MAX_ATTEMPTS:
        gave_up = GAVE_UP.format(attempts=claimed.attempts - 1, command=_by_hand(spec, today))
        return FAILED, gave_up, {}
    log_event("schedule.run", job=row.job_id, as_of=today, attempt=claimed.attempts)
    try:
        outcome = execute(spec, today)
    except Exception as exc:
        return FAILED, one_line(exc), {"as_of": today.isoformat()}
    return DONE, outcome, {"as_of": today.isoformat()}


def _by_hand(spec: JobConfig, today: date) -> str:
    """What to type instead of the scheduled run (a retrain's was a pipeline run before)."""
    if spec.kind == "run":
        return rerun_command(spec.pathways, as_of=today)
    return " && ".join(f"riskstrat train {t} && riskstrat promote {t}" for t in spec.tasks)


def reconcile(config: ScheduleConfig, *, settings: Settings, now: datetime) -> dict[str, list[str]]:
    """On start: interrupted runs become due again; fires missed while down become due (the
    latest per job; earlier ones are covered by it); the job store moves on past now, so only
    the ledger runs them (once). Call with the scheduler lock held and before it starts."""
    ledger = ledger_for(config, settings=settings)
    found: dict[str, list[str]] = {"interrupted": [], "missed": []}
    for row in ledger.rows(states=(RUNNING,)):
        ledger.set_state(
            row.job_id,
            row.due_at,
            state="due",
            now=now,
            reason=INTERRUPTED.format(attempts=row.attempts),
        )
        found["interrupted"].append(row.job_id)
        log_event("schedule.interrupted", job=row.job_id, due=row.due_at.isoformat())
    with open_jobstore(config, settings=settings) as store:
        for spec in config.jobs:
            job = store.lookup_job(spec.id)
            if job is None or job.next_run_time is None or job.next_run_time > now:
                continue
            times = fire_times(config, spec, start=job.next_run_time, end=now)
            for earlier in times[:-1]:
                ledger.record_due(
                    spec.id,
                    earlier,
                    now=now,
                    state=MISSED,
                    reason=COALESCED.format(later=config.local(times[-1])),
                )
            if times:
                ledger.record_due(spec.id, times[-1], now=now)
                found["missed"].append(spec.id)
                log_event("schedule.missed", job=spec.id, due=times[-1].isoformat())
            job._modify(next_run_time=config.trigger(spec).get_next_fire_time(None, now))
            store.update_job(job)
    return found
