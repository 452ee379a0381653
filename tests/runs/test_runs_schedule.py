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


def _job(cron: str, *, kind: str = "run") -> str:
    what = "pathways: [post_discharge]" if kind == "run" else "tasks: [crisis]"
    return f"jobs:\n  - {{id: x, kind: {kind}, {what}, cron: {{{cron}}}}}\n"


@pytest.mark.parametrize(
    ("dow", "message"),
    [
        ("1", DAY_OF_WEEK_NAMES_ONLY.format(value="1")),  # a YAML number, not a string
        ("Monday", sched.DAY_OF_WEEK_UNKNOWN.format(value="Monday", token="monday",
                                                    hint=" (did you mean 'mon'?)")),
        ("Munday", sched.DAY_OF_WEEK_UNKNOWN.format(value="Munday", token="munday",
                                                    hint=" (did you mean 'sun' or 'mon'?)")),
        ("mon-thurs", sched.DAY_OF_WEEK_UNKNOWN.format(value="mon-thurs", token="thurs",
                                                     hint=" (did you mean 'thu'?)")),
    ],
)  # fmt: skip
def test_a_mistyped_day_name_says_which_day_names_are_meant(
    tmp_path: Path, dow: str, message: str
) -> None:
    """'Munday' and 'Monday' were told "not numbers" (and 1, a YAML number, "a valid string")."""
    path = _write(tmp_path, _job(f"day_of_week: {dow}, hour: 7"))
    with pytest.raises(ConfigError) as err:
        load_schedule(path)
    assert f"{path}: jobs.0.cron.day_of_week: {message}, correct the value" == str(err.value)


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("day_of_week: mon, hour: 25", "Error validating expression '25': the last value (25) "
                                       "is higher than the maximum value (23)"),
        ("day_of_week: mon, hour: seven", 'Unrecognized expression "seven" for field "hour"'),
        ("day: 1st sunday, hour: 2", 'Invalid weekday name "sunday"'),
    ],
)  # fmt: skip
def test_a_cron_field_apscheduler_refuses_is_a_config_error_not_an_internal_one(
    tmp_path: Path, cron: str, problem: str
) -> None:
    """hour 25 was `internal error ValueError ... report it` (exit 70) from `riskstrat status`."""
    from riskstrat.errors import EXIT_BAD_INPUT, describe

    config = load_schedule(_write(tmp_path, _job(cron)))
    with pytest.raises(ConfigError) as err:
        next_fire_times(config, now=datetime(2026, 1, 1, tzinfo=UTC))
    expected = sched.CONFIG_ERROR.format(
        file=sched.SCHEDULE_PATH, key="jobs[x].cron", problem=sched.CRON_INVALID.format(
            problem=problem)
    )  # fmt: skip
    assert str(err.value) == expected
    assert describe(err.value) == (expected, EXIT_BAD_INPUT)


def test_a_day_of_month_may_be_a_yaml_number(tmp_path: Path) -> None:
    """`day: 1` (a YAML int) was refused as "Input should be a valid string"."""
    config = load_schedule(_write(tmp_path, _job("day: 1, hour: 2", kind="retrain")))
    (first,) = next_fire_times(config, now=datetime(2026, 1, 5, tzinfo=UTC))["x"]
    assert first.astimezone(LONDON).replace(tzinfo=None) == datetime(2026, 2, 1, 2)


def test_a_job_naming_an_unknown_pathway_or_task_is_refused_on_load(tmp_path: Path) -> None:
    """Accepted before: `status` showed the job, and the run failed at 07:00 on its day."""
    from riskstrat.cliopts import UNKNOWN_PATHWAY, UNKNOWN_TASK

    text = _job("day_of_week: mon").replace("post_discharge", "post_dischrage")
    with pytest.raises(ConfigError) as err:
        load_schedule(_write(tmp_path, text))
    known = "early_intervention, post_discharge, rising_risk, palliative_care, care_home"
    problem = UNKNOWN_PATHWAY.format(
        value="post_dischrage", hint=" (did you mean 'post_discharge'?)", known=known
    )
    assert str(err.value).endswith(f"jobs.0.pathways: {problem}, correct the value")
    text = _job("day_of_week: sun", kind="retrain").replace("crisis", "crsis")
    with pytest.raises(ConfigError) as err:
        load_schedule(_write(tmp_path, text))
    problem = UNKNOWN_TASK.format(
        value="crsis", hint=" (did you mean 'crisis'?)", known="crisis, readmission_30d"
    )
    # the key names the list item (tasks.0), as for any list of checked names
    assert str(err.value).endswith(f"jobs.0.tasks.0: {problem}, correct the value")


@pytest.mark.parametrize(
    ("zone", "hint"),
    [
        ("Europe/Londn", " (did you mean 'Europe/London'?)"),
        ("europe/london", " (did you mean 'Europe/London'?)"),
        ("London", " (did you mean 'Europe/London'?)"),
        ("BST", ""),
    ],
)
def test_a_mistyped_timezone_suggests_the_zone_meant(tmp_path: Path, zone: str, hint: str) -> None:
    path = _write(tmp_path, f"timezone: {zone}\njobs: []\n")
    with pytest.raises(ConfigError) as err:
        load_schedule(path)
    problem = sched.UNKNOWN_TIMEZONE.format(value=zone, hint=hint)
    assert str(err.value) == f"{path}: timezone: {problem}, correct the value"
    assert f"unknown timezone {zone!r}{hint}: use an IANA name" in str(err.value)
