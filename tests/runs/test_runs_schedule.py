"""The schedule: config validation, fire times across DST, the persistent job store, misfires."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.triggers.interval import IntervalTrigger

from riskstrat.config import ConfigError, load_settings
from riskstrat.runs import schedule as sched
from riskstrat.runs.schedule import (
    DAY_OF_WEEK_NAMES_ONLY,
    ScheduleConfig,
    build_scheduler,
    install_jobs,
    load_schedule,
    next_fire_times,
    open_jobstore,
    stored_next_run_times,
)

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(text)
    return path


def test_project_schedule_has_the_three_jobs() -> None:
    config = load_schedule()
    assert [j.id for j in config.jobs] == [
        "weekly-early-intervention",
        "weekday-post-discharge",
        "monthly-retrain",
    ]
    assert config.timezone == "Europe/London"
    assert config.misfire_grace_hours >= 1


@pytest.mark.parametrize("dow", ["0", "1-5", "mon,2", "0-4"])
def test_day_of_week_numbers_are_refused(tmp_path: Path, dow: str) -> None:
    path = _write(
        tmp_path,
        f"jobs:\n  - {{id: x, kind: run, pathways: [post_discharge], "
        f"cron: {{day_of_week: '{dow}', hour: 7}}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_schedule(path)
    assert DAY_OF_WEEK_NAMES_ONLY.format(value=dow) in str(err.value)
    assert str(path) in str(err.value) and "jobs.0.cron.day_of_week" in str(err.value)


def test_unknown_key_and_missing_pathways_name_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "misfire_grace: 3\njobs: []\n")
    with pytest.raises(ConfigError, match="misfire_grace"):
        load_schedule(path)
    path = _write(tmp_path, "jobs:\n  - {id: x, kind: run, cron: {day_of_week: mon}}\n")
    with pytest.raises(ConfigError) as err:
        load_schedule(path)
    assert sched.RUN_JOB_NEEDS_PATHWAYS.format(id="x") in str(err.value)


def test_weekly_fire_times_follow_london_across_dst() -> None:
    config = load_schedule()
    # Clocks go forward on Sunday 30 March 2025 and back on Sunday 26 October 2025.
    times = next_fire_times(config, now=datetime(2025, 3, 20, 12, tzinfo=UTC), count=3)
    weekly = times["weekly-early-intervention"]
    assert [t.astimezone(LONDON).replace(tzinfo=None) for t in weekly] == [
        datetime(2025, 3, 24, 7),
        datetime(2025, 3, 31, 7),
        datetime(2025, 4, 7, 7),
    ]
    assert [t.astimezone(UTC).hour for t in weekly] == [7, 6, 6]  # GMT, then BST
    autumn = next_fire_times(config, now=datetime(2025, 10, 21, tzinfo=UTC), count=2)
    assert [t.astimezone(UTC).hour for t in autumn["weekly-early-intervention"]] == [7, 7]
    assert autumn["weekly-early-intervention"][0].astimezone(LONDON).day == 27


def test_weekday_and_monthly_fire_times() -> None:
    config = load_schedule()
    friday = datetime(2025, 3, 28, 8, tzinfo=LONDON)
    times = next_fire_times(config, now=friday, count=3)
    days = [t.astimezone(LONDON).strftime("%a %d %H:%M") for t in times["weekday-post-discharge"]]
    assert days == ["Mon 31 07:00", "Tue 01 07:00", "Wed 02 07:00"]
    monthly = [t.astimezone(LONDON).date().isoformat() for t in times["monthly-retrain"]]
    assert monthly == ["2025-04-06", "2025-05-04", "2025-06-01"]  # first Sundays


def test_jobs_persist_and_are_kept_replaced_or_removed(tmp_path: Path) -> None:
    settings = load_settings()
    config = load_schedule()
    first = install_jobs(config, settings=settings)
    assert set(first.values()) == {"added"} and len(first) == 3
    stored = stored_next_run_times(config, settings=settings)
    assert set(stored) == set(first)
    # Unchanged definitions are kept as they are (their next run time is not recomputed).
    again = install_jobs(config, settings=settings)
    assert set(again.values()) == {"kept"}
    assert stored_next_run_times(config, settings=settings) == stored
    # A changed job is replaced; a job no longer configured is removed.
    jobs = [j for j in config.jobs if j.id != "monthly-retrain"]
    weekly = jobs[0].model_copy(update={"cron": jobs[0].cron.model_copy(update={"hour": 6})})
    changed = config.model_copy(update={"jobs": [weekly, jobs[1]]})
    actions = install_jobs(changed, settings=settings)
    assert actions == {
        "weekly-early-intervention": "replaced",
        "weekday-post-discharge": "kept",
        "monthly-retrain": "removed",
    }
    after = stored_next_run_times(config, settings=settings)
    assert set(after) == {"weekly-early-intervention", "weekday-post-discharge"}
    assert after["weekly-early-intervention"].astimezone(LONDON).hour == 6
    assert (settings.paths.data_dir / config.jobstore).is_file()


def test_missed_run_time_survives_a_restart(tmp_path: Path) -> None:
    """A job due while the scheduler was down keeps that due time when jobs are re-installed."""
    settings = load_settings()
    config = load_schedule()
    install_jobs(config, settings=settings)
    past = datetime.now(LONDON) - timedelta(hours=2)
    with open_jobstore(config, settings=settings) as store:
        job = store.lookup_job("weekly-early-intervention")
        job._modify(next_run_time=past)
        store.update_job(job)
    assert install_jobs(config, settings=settings)["weekly-early-intervention"] == "kept"
    stored = stored_next_run_times(config, settings=settings)["weekly-early-intervention"]
    assert abs((stored - past).total_seconds()) < 1


def record(path: str) -> None:
    """A job that leaves a trace (a line in a file) each time it runs."""
    with open(path, "a") as fh:
        fh.write("ran\n")


def _run_missed_job(tmp_path: Path, *, late: timedelta, every: timedelta) -> tuple[int, list[int]]:
    settings = load_settings()
    config = load_schedule()
    trace = tmp_path / "trace.txt"
    scheduler = build_scheduler(config, settings=settings, background=True)
    events: list[int] = []
    scheduler.add_listener(lambda e: events.append(e.code), EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    scheduler.start(paused=True)
    # A job due `every` interval, last due `late` ago.
    scheduler.add_job(
        f"{__name__}:record",
        trigger=IntervalTrigger(seconds=int(every.total_seconds()), timezone=LONDON),
        args=[str(trace)],
        id="probe",
        next_run_time=datetime.now(LONDON) - late,
    )
    scheduler.resume()
    deadline = time.monotonic() + 10
    while not events and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # would a second (uncoalesced) run follow?
    scheduler.shutdown(wait=True)
    runs = len(trace.read_text().splitlines()) if trace.exists() else 0
    return runs, events


def test_missed_job_within_grace_runs_once(tmp_path: Path) -> None:
    # Every 10 minutes, last due 65 minutes ago: seven missed run times, all within the grace.
    runs, events = _run_missed_job(
        tmp_path, late=timedelta(hours=1, minutes=5), every=timedelta(minutes=10)
    )
    assert runs == 1
    assert events == [EVENT_JOB_EXECUTED]


def test_missed_job_beyond_grace_is_skipped_and_reported(tmp_path: Path) -> None:
    config = load_schedule()
    # A daily job missed by more than the grace: skipped (and reported), not run late.
    late = timedelta(hours=config.misfire_grace_hours + 1)
    runs, events = _run_missed_job(tmp_path, late=late, every=timedelta(days=1))
    assert runs == 0
    assert events == [EVENT_JOB_MISSED]


def test_scheduler_defaults(tmp_path: Path) -> None:
    config = ScheduleConfig.model_validate(
        {"misfire_grace_hours": 3, "jobs": [load_schedule().jobs[0].model_dump()]}
    )
    scheduler = build_scheduler(config, settings=load_settings(), background=True)
    assert scheduler._job_defaults == {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 3 * 3600,
    }


def test_schedule_command_installs_jobs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "riskstrat"
    with subprocess.Popen(
        [str(exe), "schedule"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as proc:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "scheduler.started" in line:
                break
        # Let the blocking scheduler enter its main loop, then ask it to stop.
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGTERM)
        rest = proc.stderr.read()
        code = proc.wait(timeout=30)
    assert code == 0
    assert "scheduler.stopping signal=SIGTERM" in rest and "scheduler.stopped" in rest
    assert any("weekly_early_intervention=added" in line for line in lines)
    stored = stored_next_run_times(load_schedule(), settings=load_settings())
    assert set(stored) == {j.id for j in load_schedule().jobs}
