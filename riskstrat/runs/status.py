"""`riskstrat status`: what needs attention first (scheduled runs missed, failed, interrupted or
deferred, from the ledger, with their reasons), then recent runs (from their manifests, with the
failure's one line), the next scheduled times, and model versions without an alias."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from riskstrat.config import Settings
from riskstrat.runs.ledger import FAILED, DueRun, Ledger
from riskstrat.runs.lock import lock_path
from riskstrat.runs.manifest import Manifest
from riskstrat.runs.schedule import (
    JobConfig,
    ScheduleConfig,
    jobstore_path,
    next_fire_times,
    stored_next_run_times,
)

INTERRUPTED = "interrupted"  # a manifest left "running" by a process that no longer holds the lock
INTERRUPTED_REASON = "the process stopped mid-run (killed?); the last good outputs are kept"
UNREADABLE = "unreadable"  # a history manifest that cannot be read
UNREADABLE_REASON = (
    "{path} cannot be read (cut short, or from another riskstrat version): the run's outputs "
    "are not affected; move the file away to hide this row"
)
HOLIDAY_SKIP_NOTE = "{name}: skipped, the next working day's run covers it"
HOLIDAY_DEFER_NOTE = "{name}: runs {then} instead"
ATTENTION_HEADER = "ATTENTION: {n} scheduled run(s) missed, failed, interrupted or deferred"
#: Appended to a FAILED scheduled run's reason: the scheduler does not retry it. The command is
#: for today (a run is done as of the day it runs, like the scheduler's catch-ups) and names only
#: the pathways no run has published since; before 2026-12-03 it was for the failed date with all
#: the job's pathways: after the next day's run that command failed ("an older extract never
#: replaces a newer one ... --replace-latest"), and with --no-ingest it listed again the
#: discharges the next day's post-discharge list already had.
RERUN_HINT = "; not retried: once the cause is fixed, `{command}`{covered}"
#: In RERUN_HINT: the job's pathways a run has published since the failure (not to be re-run).
RERUN_COVERED = " ({pathways}: published since by run {as_of} ({run_id}))"
#: Every pathway of the failed run has been published since (a re-run, or a later run: the next
#: post-discharge list takes every discharge since the last published one).
RERUN_DONE = "; nothing to re-run: run {as_of} ({run_id}) has published {pathways} since"
SCHEDULED_HEADER = "Scheduled runs (the scheduler's ledger, newest due first)"
#: A job's stored next run time this far in the past means no scheduler has looked at the job
#: store since: `riskstrat schedule` moves it on when the job fires, and a cron `--once` tick
#: (every 15 minutes) on start. Before 2026-12-03 status showed that time as the "next run", so
#: a scheduler that was never started again after a reboot looked like one about to run.
OVERDUE_MINUTES = 30
SCHEDULER_DOWN = (
    "ATTENTION: no scheduler is running: {jobs} was due {due} and has not fired; start it "
    "(`riskstrat schedule`, or the service from `riskstrat schedule --install systemd|cron`): "
    "on start it runs what is due once, if at most catch_up_hours ({limit:g} h) late"
)
SCHEDULER_BUSY = (
    "ATTENTION: {jobs} was due {due} and has not fired: the scheduler holding {lock} is busy "
    "(a long run or catch-up, see Recent runs); it runs it once when that ends, if at most "
    "catch_up_hours ({limit:g} h) late"
)
OVERDUE_NOTE = "overdue: has not fired"


def _lock_held(settings: Settings) -> bool:
    return _held(lock_path(settings.paths.data_dir))


def _held(path: Path) -> bool:
    """Another process holds the file lock at `path`."""
    from filelock import FileLock, Timeout

    if not path.exists():
        return False
    try:
        FileLock(str(path)).acquire(timeout=0).lock.release()
    except Timeout:
        return True
    return False


def history(out_dir: Path, *, limit: int) -> list[Manifest | Path]:
    """The latest run attempts, newest first; a history file that cannot be read (cut short,
    or written by another riskstrat version) is its path, shown as UNREADABLE rather than
    stopping `status`, the command an operator turns to when things went wrong."""
    from riskstrat.runs.manifest import HISTORY_DIR, read_manifest

    folder = Path(out_dir) / HISTORY_DIR
    paths = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
    found: list[Manifest | Path] = []
    for path in paths[:limit]:
        try:
            found.append(read_manifest(path))
        except (ValueError, OSError):
            found.append(path)
    return found


def run_rows(manifests: list[Manifest | Path], *, lock_held: bool) -> list[dict[str, str]]:
    rows = []
    for i, m in enumerate(manifests):
        if isinstance(m, Path):
            stamp, _, rest = m.stem.partition("-")
            rows.append(
                {
                    "started (UTC)": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:"
                    f"{stamp[11:13]}",
                    "as of": rest[:10],
                    "status": UNREADABLE,
                    "pathways": "",
                    "seconds": "",
                    "warnings": "",
                    "reason": UNREADABLE_REASON.format(path=m),
                }
            )
            continue
        status = m.status
        reason = m.error or ""
        if status == "running" and not (lock_held and i == 0):
            status, reason = INTERRUPTED, INTERRUPTED_REASON
        seconds = sum(m.timings.values())
        rows.append(
            {
                "started (UTC)": m.started_at.strftime("%Y-%m-%d %H:%M"),
                "as of": m.as_of.isoformat(),
                "status": status,
                "pathways": ",".join(m.pathways),
                "seconds": f"{seconds:.0f}",
                "warnings": str(len(m.warnings)),
                "reason": _clip(reason),
            }
        )
    return rows


def _clip(text: str) -> str:
    """One line (the reason is the last column, shown whole: its end says what to do)."""
    return " ".join(text.split())


def _ledger(config: ScheduleConfig, *, settings: Settings) -> Ledger | None:
    """The scheduler's ledger, or None when no scheduler has recorded anything yet."""
    from riskstrat.runs.ledger import TABLE

    path = jobstore_path(config, settings)
    if not path.is_file():
        return None
    import sqlite3

    with sqlite3.connect(path) as db:
        present = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [TABLE]
        ).fetchall()[0][0]
    return Ledger(path) if present else None


def attention_rows(
    config: ScheduleConfig, *, settings: Settings, limit: int, now: datetime | None = None
) -> list[dict]:
    """Scheduled runs that did not simply succeed (ledger), newest due first; `now` (default:
    the clock) is the day a failed run's re-run command is for."""
    from riskstrat.runs.ledger import ATTENTION

    today = (now or datetime.now(ZoneInfo(config.timezone))).astimezone(ZoneInfo(config.timezone))
    covered = _covered_misses(config, settings=settings)
    return [
        {
            "job": r.job_id,
            "due": due,
            "state": r.state.upper(),
            "tries": str(r.attempts),
            "reason": _clip(r.reason)
            + _failed_next(r, config=config, settings=settings, today=today.date()),
        }
        for r, due in _ledger_rows(config, settings=settings, limit=limit, states=ATTENTION)
        if not covered(r)
    ]


def _covered_misses(config: ScheduleConfig, *, settings: Settings) -> Callable[[DueRun], bool]:
    """Is a row a fire missed while the scheduler was down (runs.due.COALESCED) whose job has
    run since (a later due time done, within CATCH_UP_MAX_DAYS)? Its work was done by that run:
    it stays in the ledger table, not under ATTENTION. After a longer outage the later run's
    post-discharge window did not reach back to it, so it stays under ATTENTION (stop 28).
    Before 2026-12-03 such rows (two after a Christmas shutdown) kept the ATTENTION header up for
    weeks, until ten newer rows pushed them out, so the header no longer meant that something
    needed doing."""
    from riskstrat.outreach.scoring import CATCH_UP_MAX_DAYS
    from riskstrat.runs.due import COALESCED
    from riskstrat.runs.ledger import DONE, MISSED

    ledger = _ledger(config, settings=settings)
    done: dict[str, list[datetime]] = {}
    for r in ledger.rows(states=(DONE,), limit=100) if ledger else []:
        done.setdefault(r.job_id, []).append(r.due_at)
    prefix = COALESCED.split("{")[0]
    reach = timedelta(days=CATCH_UP_MAX_DAYS)  # how far a later run's window reaches back

    def covered(row: DueRun) -> bool:
        return (
            row.state == MISSED
            and row.reason.startswith(prefix)
            and any(row.due_at < d <= row.due_at + reach for d in done.get(row.job_id, []))
        )

    return covered


def _ledger_rows(
    config: ScheduleConfig, *, settings: Settings, limit: int, states: tuple[str, ...] | None
) -> list[tuple[DueRun, str]]:
    """The ledger's rows, newest due first, each with its due time as status shows it (local
    time, weekday first); [] before any scheduler has recorded anything."""
    ledger = _ledger(config, settings=settings)
    if ledger is None:
        return []
    zone = ZoneInfo(config.timezone)
    return [
        (r, r.due_at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M"))
        for r in ledger.rows(states=states, limit=limit)
    ]


def _failed_next(row: DueRun, *, config: ScheduleConfig, settings: Settings, today: date) -> str:
    """What follows a failed scheduled run: the command that re-runs it (a failed run is not
    retried), for today and for the pathways no run has published since; or the run(s) that
    have published its pathways since (a re-run, or a later run)."""
    from riskstrat.runs.due import rerun_command

    spec = next((j for j in config.jobs if j.id == row.job_id), None)
    if row.state != FAILED or not row.as_of or spec is None or spec.kind != "run":
        return ""
    failed_on = date.fromisoformat(row.as_of)
    since = published_since(settings.paths.out_dir, first=failed_on, after=row.updated_at)
    covering = {p: next((m for m in since if p in m.pathways), None) for p in spec.pathways}
    left = [p for p, m in covering.items() if m is None]
    by_run: dict[str, tuple[Manifest, list[str]]] = {}
    for pathway, m in covering.items():
        if m is not None:
            by_run.setdefault(m.run_id, (m, []))[1].append(pathway)
    if not left:
        return "".join(
            RERUN_DONE.format(as_of=m.as_of, run_id=m.run_id, pathways=", ".join(ps))
            for m, ps in by_run.values()
        )
    covered = "".join(
        RERUN_COVERED.format(pathways=", ".join(ps), as_of=m.as_of, run_id=m.run_id)
        for m, ps in by_run.values()
    )
    command = rerun_command(left, as_of=max(failed_on, today))
    return RERUN_HINT.format(command=command, covered=covered)


def published_since(out_dir: Path, *, first: date, after: datetime) -> list[Manifest]:
    """The runs as of `first` or later that started after `after` and succeeded (so published
    their pathways), newest first. From the history (one manifest per attempt): a run folder's
    own manifest names only the pathways of its last run, and a post-discharge-only run of a
    date keeps the other pathways' files of the run before it."""
    from riskstrat.runs.manifest import HISTORY_DIR, read_manifest

    folder = Path(out_dir) / HISTORY_DIR
    since = after.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    paths = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
    found = []
    for path in paths:
        if path.name[:15] < since:
            break  # named by start time (UTC): the rest started before
        try:
            manifest = read_manifest(path)
        except (ValueError, OSError):
            continue  # the runs table shows it as unreadable
        if manifest.status == "succeeded" and manifest.as_of >= first:
            found.append(manifest)
    return found


def scheduled_rows(config: ScheduleConfig, *, settings: Settings, limit: int) -> list[dict]:
    """What the scheduler did with each recent due time, newest first: run (as of which day;
    a bank-holiday Monday's weekly run says Tuesday), skipped for a bank holiday, deferred,
    missed or failed, with the reason or the outcome (a retrain's decision too)."""
    return [
        {
            "job": r.job_id,
            "due": due,
            "state": r.state,
            "as of": r.as_of or "-",
            "outcome or reason": _clip(r.reason),
        }
        for r, due in _ledger_rows(config, settings=settings, limit=limit, states=None)
    ]


def model_rows(settings: Settings) -> list[dict[str, str]]:
    from riskstrat.models.registry import versions_without_alias

    return versions_without_alias(settings.paths.mlflow_uri)


def schedule_rows(
    config: ScheduleConfig, *, settings: Settings, now: datetime | None = None, stored: bool = True
) -> list[dict[str, str]]:
    """Next time of each job: from the job store when installed, else from the config (always
    from the config when `stored` is False: a damaged job store)."""
    zone = ZoneInfo(config.timezone)
    now = now or datetime.now(zone)
    stored_times = stored_next_run_times(config, settings=settings) if stored else {}
    computed = next_fire_times(config, now=now)
    rows = []
    for spec in config.jobs:
        when = stored_times.get(spec.id)
        source = "job store"
        if when is None:
            when = (computed[spec.id] or [None])[0]
            source = "config (not installed)" if stored else "config (job store damaged)"
        note = _holiday_note(spec, when.astimezone(zone)) if when else ""
        if when is not None and source == "job store" and _overdue(when, now=now):
            note = OVERDUE_NOTE
        rows.append(
            {
                "job": spec.id,
                "kind": spec.kind,
                "next run": config.local(when) if when else "-",
                "from": source,
                "note": note,
            }
        )
    return rows


def _overdue(when: datetime, *, now: datetime) -> bool:
    return (now - when).total_seconds() > OVERDUE_MINUTES * 60


def scheduler_line(config: ScheduleConfig, *, settings: Settings, now: datetime) -> str | None:
    """ATTENTION when the job store holds a next run time long past: no scheduler is running
    (or the one running is busy); None when every job's next time is ahead (or not installed)."""
    from riskstrat.runs.scheduler import scheduler_lock_path

    stored = stored_next_run_times(config, settings=settings)
    late = {j.id: stored[j.id] for j in config.jobs if stored.get(j.id) is not None}
    late = {job: when for job, when in late.items() if _overdue(when, now=now)}
    if not late:
        return None
    due = config.local(min(late.values()))
    jobs = ", ".join(late)
    lock = scheduler_lock_path(config, settings=settings)
    if _held(lock):
        return SCHEDULER_BUSY.format(jobs=jobs, due=due, lock=lock, limit=config.catch_up_hours)
    return SCHEDULER_DOWN.format(jobs=jobs, due=due, limit=config.catch_up_hours)


def _holiday_note(spec: JobConfig, when: datetime) -> str:
    """What the job will do when its next time falls on a bank holiday (what the ledger will
    do then: runs.due._settle_one), so the next-run column is not read as "runs that day"."""
    from riskstrat import calendar
    from riskstrat.runs.due import holiday_extra

    extra = holiday_extra()
    day = when.date()
    if spec.on_bank_holiday == "run" or calendar.is_working_day(day, extra=extra):
        return ""
    name = calendar.holiday_name(day, extra=extra) or day.strftime("a %A")
    if spec.on_bank_holiday == "skip":
        return HOLIDAY_SKIP_NOTE.format(name=name)
    then = calendar.next_working_day(day, extra=extra)
    return HOLIDAY_DEFER_NOTE.format(name=name, then=f"{then:%a %Y-%m-%d} {when:%H:%M}")


def table(rows: list[dict[str, str]]) -> str:
    """Plain aligned text table (no identifiers: manifests and jobs hold none)."""
    if not rows:
        return "(none)"
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def status_text(
    config: ScheduleConfig,
    *,
    settings: Settings,
    limit: int = 10,
    models: bool = True,
    now: datetime | None = None,
) -> str:
    from riskstrat.runs.schedule import JobStoreDamaged, check_jobstore

    now = now or datetime.now(ZoneInfo(config.timezone))
    manifests = history(settings.paths.out_dir, limit=limit)
    runs = run_rows(manifests, lock_held=_lock_held(settings))
    parts = []
    try:  # a damaged job store: said first; the run history and the config's times still shown
        check_jobstore(config, settings=settings)
    except JobStoreDamaged as exc:
        damaged: str | None = f"ATTENTION: {exc}"
        parts.append(damaged)
    else:
        damaged = None
        down = scheduler_line(config, settings=settings, now=now)
        if down:
            parts.append(down)
        attention = attention_rows(config, settings=settings, limit=limit, now=now)
        if attention:
            parts.append(f"{ATTENTION_HEADER.format(n=len(attention))}:\n{table(attention)}")
    bad = [r for r in runs if r["status"] in ("failed", INTERRUPTED)]
    if bad and bad[0] is runs[0]:
        parts.append(f"ATTENTION: the latest run {bad[0]['status'].upper()}: {bad[0]['reason']}")
    scheduled = [] if damaged else scheduled_rows(config, settings=settings, limit=limit)
    if scheduled:
        parts.append(f"{SCHEDULED_HEADER}:\n{table(scheduled)}")
    parts.append(f"Recent runs ({settings.paths.out_dir}):\n{table(runs)}")
    times = schedule_rows(config, settings=settings, now=now, stored=not damaged)
    parts.append(f"Schedule ({config.timezone}):\n{table(times)}")
    uri = settings.paths.mlflow_uri
    if (
        models
        and uri.startswith("sqlite:///")
        and not Path(uri.removeprefix("sqlite:///")).exists()
    ):
        parts.append(f"Model versions: no MLflow database yet ({uri}): train a model first")
    elif models:
        try:
            rows = model_rows(settings)
        except Exception as exc:
            from riskstrat.errors import describe

            parts.append(f"Model versions: could not read MLflow: {describe(exc)[0]}")
        else:
            parts.append(
                "Model versions without an alias (not served; retrain leftovers or superseded):\n"
                + table(rows)
            )
    return "\n\n".join(parts)
