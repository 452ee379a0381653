"""What an operator running the weekly service meets: a mistyped --extract-date, a run that
fails half-way, two jobs due at the same minute, and `riskstrat status` saying what the
scheduler did around a bank holiday. On the small store with the trained champions."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from score_runs import last_post_discharge_list, readmission_scorings

from riskstrat.cli import main
from riskstrat.config import Settings
from riskstrat.runs import due
from riskstrat.runs.ledger import DONE
from riskstrat.runs.manifest import recent_manifests
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.schedule import install_jobs, load_schedule
from riskstrat.runs.scheduler import start_up
from riskstrat.runs.state import RunOptions
from riskstrat.runs.steps import EXTRACT_AFTER_RUN, EXTRACT_DATE_TOO_OLD

LONDON = ZoneInfo("Europe/London")
EXTRACT_DATE = date(2025, 12, 28)  # tests/conftest.py SMALL_POPULATION["end"]
AS_OF = EXTRACT_DATE + timedelta(days=1)  # Monday 29 December 2025


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_mistyped_extract_date_is_refused_before_anything_is_ingested(
    run_settings: Settings,
) -> None:
    """Before: `run --as-of 2025-12-29 --extract-date 2025-12-30` ingested the extract as the
    30th, then refused the run; every later run then failed ("an older extract never replaces
    a newer one") until `ingest --replace-latest`. Now nothing is ingested."""
    store = run_settings.paths.store
    before = _sha(store)
    typo = AS_OF + timedelta(days=1)
    result = CliRunner().invoke(
        main, ["run", "--as-of", AS_OF.isoformat(), "--extract-date", typo.isoformat()]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert errors == [f"Error: {EXTRACT_AFTER_RUN.format(extract=typo, as_of=AS_OF)}"]
    assert "Traceback" not in result.output
    assert _sha(store) == before
    old = AS_OF - timedelta(days=30)
    with pytest.raises(ValueError) as err:
        run_once(as_of=AS_OF, settings=run_settings, options=RunOptions(extract_date=old))
    assert str(err.value) == EXTRACT_DATE_TOO_OLD.format(extract=old, days=30, as_of=AS_OF,
                                                         limit=14)  # fmt: skip
    assert _sha(store) == before
    # The right date still runs.
    assert run_once(as_of=AS_OF, pathways=["post_discharge"], settings=run_settings).status == (
        "succeeded"
    )


def test_a_run_failing_half_way_leaves_its_discharges_to_the_next_run(
    run_settings: Settings,
) -> None:
    """The last published post-discharge list was Friday 19 December; Monday's run scores the
    discharges since, then fails writing its lists (disk full). Before: its scoring stayed in
    the store, so Tuesday's run listed only the discharges since Monday and the 19th-28th were
    never on a published list. Now the failed run's scoring is removed again."""

    last = date(2025, 12, 19)
    last_post_discharge_list(run_settings, last)

    def disk_full(step: str, _state: object) -> None:
        if step == "lists":
            raise OSError(28, "No space left on device")

    options = RunOptions(ingest=False)
    with pytest.raises(OSError):
        run_once(as_of=AS_OF, pathways=["post_discharge"], settings=run_settings,
                 options=options, on_step=disk_full)  # fmt: skip
    failed = recent_manifests(run_settings.paths.out_dir)[0]
    assert failed.status == "failed"
    discharges = failed.counts["score"]["readmission_30d_scored"]
    assert discharges > 0
    assert readmission_scorings(run_settings) == {last: 0}  # as if Monday had never been scored
    tuesday = run_once(as_of=AS_OF + timedelta(days=1), pathways=["post_discharge"],
                       settings=run_settings, options=options)  # fmt: skip
    assert tuesday.counts["score"]["readmission_30d_scored"] == discharges
    assert tuesday.counts["lists"]["post_discharge_listed"] > 0
    # A failed re-run of a date already published keeps that date's scoring (same window).
    with pytest.raises(OSError):
        run_once(as_of=AS_OF + timedelta(days=1), pathways=["post_discharge"],
                 settings=run_settings, options=options, on_step=disk_full)  # fmt: skip
    assert readmission_scorings(run_settings) == {last: 0, AS_OF + timedelta(days=1): discharges}


def test_jobs_due_at_the_same_minute_run_weekly_first_and_the_weekday_job_does_nothing(
    run_settings: Settings,
) -> None:
    """Monday 07:00 through `riskstrat schedule --once` (cron): both run jobs are due. Before,
    the ledger ran them by job id, the weekday post-discharge job first, so Monday's
    post-discharge list was made (and published) twice; now in the config's order."""
    config = load_schedule()
    config = config.model_copy(update={"jobs": [j for j in config.jobs if j.kind == "run"]})
    sunday = datetime(2025, 12, 28, 12, tzinfo=LONDON)
    install_jobs(config, settings=run_settings, now=sunday)
    monday = datetime.combine(AS_OF, datetime.min.time(), tzinfo=LONDON).replace(hour=7)
    start_up(config, settings=run_settings, now=monday)
    settled = due.process_waiting(config=config, settings=run_settings, now=monday)
    assert [(job, state) for job, state, _ in settled] == [
        ("weekly-early-intervention", DONE),
        ("weekday-post-discharge", DONE),
    ]
    runs = recent_manifests(run_settings.paths.out_dir)
    assert len(runs) == 1 and "early_intervention" in runs[0].pathways
    assert settled[1][2] == due.ALREADY_PUBLISHED.format(
        as_of=AS_OF.isoformat(), run_id=runs[0].run_id
    )


def test_in_config_order_keeps_run_time_first() -> None:
    from riskstrat.runs.ledger import DueRun

    config = load_schedule()
    t = datetime(2026, 4, 7, 6, tzinfo=ZoneInfo("UTC"))

    def row(job: str, due_at: datetime, run_on: datetime) -> DueRun:
        return DueRun(job, due_at, run_on, "due", "", 0, None, t)

    rows = [
        row("weekday-post-discharge", t, t),
        row("weekly-early-intervention", t - timedelta(days=1), t),  # deferred from Monday
        row("monthly-retrain", t - timedelta(days=2), t - timedelta(days=2)),
    ]
    assert [r.job_id for r in due.in_config_order(rows, config)] == [
        "monthly-retrain",
        "weekly-early-intervention",
        "weekday-post-discharge",
    ]


def test_status_says_what_the_scheduler_did_over_easter(run_settings: Settings) -> None:
    """Easter 2026 (Good Friday 3, Easter Monday 6 April) through the real ledger, with the run
    replaced by a recorder: status lists the skipped days with the holiday's name and the
    weekly run that went out on Tuesday, as of Tuesday."""
    from riskstrat.runs.status import SCHEDULED_HEADER, scheduled_rows, status_text

    config = load_schedule()
    config = config.model_copy(update={"jobs": [j for j in config.jobs if j.kind == "run"]})
    start = datetime(2026, 4, 2, tzinfo=LONDON)
    end = datetime(2026, 4, 7, 23, tzinfo=LONDON)
    install_jobs(config, settings=run_settings, now=start)
    fires = sorted(
        (t, spec.id)
        for spec in config.jobs
        for t in due.fire_times(config, spec, start=start, end=end)
    )
    ran: list[tuple[str, date]] = []

    def recorder(spec, as_of: date) -> str:
        ran.append((spec.id, as_of))
        return f"run {as_of}"

    for moment, job_id in fires:
        due.on_fire(job_id, config=config, settings=run_settings, now=moment, execute=recorder)
    rows = {(r["job"], r["due"][:14]): r for r in scheduled_rows(config, settings=run_settings,
                                                                   limit=20)}  # fmt: skip
    weekly = rows[("weekly-early-intervention", "Mon 2026-04-06")]
    assert (weekly["state"], weekly["as of"]) == ("done", "2026-04-07")
    assert (
        "Easter Monday" in rows[("weekday-post-discharge", "Mon 2026-04-06")]["outcome or reason"]
    )
    assert "Good Friday" in rows[("weekday-post-discharge", "Fri 2026-04-03")]["outcome or reason"]
    assert ("weekly-early-intervention", date(2026, 4, 7)) in ran
    text = status_text(config, settings=run_settings, models=False)
    assert SCHEDULED_HEADER in text and "Easter Monday" in text


def test_a_second_scheduler_is_one_line_and_cron_s_next_tick_is_quiet() -> None:
    """Before: both printed "internal error SchedulerActive ... report it" and exited 70, so
    cron's tick during a long run logged a bug every 15 minutes."""
    from riskstrat.config import load_settings
    from riskstrat.runs.cli import ONCE_BUSY
    from riskstrat.runs.schedule import jobstore_path
    from riskstrat.runs.scheduler import SCHEDULER_ACTIVE, scheduler_lock

    config, settings = load_schedule(), load_settings()
    busy = SCHEDULER_ACTIVE.format(path=jobstore_path(config, settings).with_suffix(".lock"))
    with scheduler_lock(config, settings=settings):
        once = CliRunner().invoke(main, ["schedule", "--once"])
        serve = CliRunner().invoke(main, ["schedule"])
    assert (once.exit_code, once.output) == (0, ONCE_BUSY.format(reason=busy) + "\n")
    assert (serve.exit_code, serve.output) == (3, f"Error: {busy}\n")


def test_a_negative_wait_is_refused() -> None:
    result = CliRunner().invoke(main, ["run", "--as-of", AS_OF.isoformat(), "--wait", "-1"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid value for '--wait': -1.0 is not in the range")


def test_status_says_how_to_rerun_a_failed_scheduled_run_and_when_it_was(
    run_settings: Settings,
) -> None:
    """A failed scheduled run is not retried; before, status showed only its reason (and kept
    showing it after the operator re-ran the day by hand)."""
    from riskstrat.runs.status import RERUN_DONE, RERUN_HINT, attention_rows

    config = load_schedule()
    config = config.model_copy(update={"jobs": [j for j in config.jobs if j.kind == "run"]})
    monday = datetime.combine(AS_OF, datetime.min.time(), tzinfo=LONDON).replace(hour=7)
    install_jobs(config, settings=run_settings, now=monday - timedelta(hours=1))

    def feed_broken(spec, as_of: date) -> str:
        raise ValueError("extract: required table 'patients' not found")

    start_up(config, settings=run_settings, now=monday)
    due.process_waiting(config=config, settings=run_settings, now=monday, execute=feed_broken)
    later = monday + timedelta(hours=2)
    rows = {r["job"]: r for r in attention_rows(config, settings=run_settings, limit=10,
                                                now=later)}  # fmt: skip
    assert rows["weekly-early-intervention"]["reason"].endswith(
        "report it"
        + RERUN_HINT.format(command=f"riskstrat run --as-of {AS_OF.isoformat()}", covered="")
    )
    assert rows["weekday-post-discharge"]["reason"].endswith(
        RERUN_HINT.format(
            command=f"riskstrat run --as-of {AS_OF.isoformat()} --pathway post_discharge",
            covered="",
        )
    )
    done = run_once(as_of=AS_OF, settings=run_settings, options=RunOptions(ingest=False))
    rows = {r["job"]: r for r in attention_rows(config, settings=run_settings, limit=10,
                                                now=later)}  # fmt: skip
    for job in ("weekly-early-intervention", "weekday-post-discharge"):
        assert rows[job]["state"] == "FAILED"
        pathways = ", ".join(config.job(job).pathways)
        assert rows[job]["reason"].endswith(
            RERUN_DONE.format(as_of=AS_OF.isoformat(), run_id=done.run_id, pathways=pathways)
        )


def _listed(settings: Settings, as_of: date, pathway: str) -> set[str]:
    import pandas as pd

    folder = settings.paths.out_dir / "runs" / as_of.isoformat() / "practices"
    return {
        pid
        for path in folder.rglob(f"{pathway}*.csv")
        for pid in pd.read_csv(path, dtype=str)["patient_id"].dropna()
    }


def test_a_failed_monday_s_rerun_hint_works_the_next_day_and_lists_nobody_twice(
    run_settings: Settings, tmp_path
) -> None:
    """Monday 07:00: the extract arrives without its patients file, both scheduled runs fail.
    Tuesday's weekday run (fixed feed) publishes the post-discharge list, which takes every
    discharge since Wednesday's last list (the failed Monday's scoring was forgotten). Before,
    status at Tuesday 07:30 told the operator to run `riskstrat run --as-of <Monday>` (and
    `... --pathway post_discharge`): that failed with "an older extract never replaces a newer
    one ... ingest with --replace-latest", and with --no-ingest it listed again all 6 people
    Tuesday's list had. Now the weekday row has nothing to re-run, and the weekly row's command
    is for Tuesday, without post_discharge, and works."""
    import shlex

    from riskstrat.runs.ledger import FAILED
    from riskstrat.runs.status import RERUN_COVERED, RERUN_DONE, RERUN_HINT, attention_rows

    last_post_discharge_list(run_settings, date(2025, 12, 24))  # Christmas Eve's list
    config = load_schedule()
    config = config.model_copy(update={"jobs": [j for j in config.jobs if j.kind == "run"]})
    install_jobs(config, settings=run_settings, now=datetime(2025, 12, 28, 12, tzinfo=LONDON))
    patients = run_settings.paths.source_dir / "patients.parquet"
    patients.rename(tmp_path / "patients.parquet")
    monday = datetime.combine(AS_OF, datetime.min.time(), tzinfo=LONDON).replace(hour=7)
    start_up(config, settings=run_settings, now=monday)
    settled = due.process_waiting(config=config, settings=run_settings, now=monday)
    assert [state for _, state, _ in settled] == [FAILED, FAILED]
    (tmp_path / "patients.parquet").rename(patients)
    tuesday = monday + timedelta(days=1)
    settled = due.on_fire("weekday-post-discharge", config=config, settings=run_settings,
                          now=tuesday)  # fmt: skip
    assert [state for _, state, _ in settled] == [DONE]
    tuesday_run = recent_manifests(run_settings.paths.out_dir)[0]
    tuesday_listed = _listed(run_settings, tuesday.date(), "post_discharge")
    assert tuesday_listed

    rows = {r["job"]: r for r in attention_rows(config, settings=run_settings, limit=10,
                                                now=tuesday + timedelta(minutes=30))}  # fmt: skip
    assert rows["weekday-post-discharge"]["reason"].endswith(
        RERUN_DONE.format(
            as_of=tuesday.date(), run_id=tuesday_run.run_id, pathways="post_discharge"
        )
    )
    weekly = [p for p in config.job("weekly-early-intervention").pathways]
    command = f"riskstrat run --as-of {tuesday.date()}" + "".join(
        f" --pathway {p}" for p in weekly if p != "post_discharge"
    )
    covered = RERUN_COVERED.format(pathways="post_discharge", as_of=tuesday.date(),
                                   run_id=tuesday_run.run_id)  # fmt: skip
    reason = rows["weekly-early-intervention"]["reason"]
    assert reason.endswith(RERUN_HINT.format(command=command, covered=covered))
    # The operator types the command status gives: it works, and the post-discharge list stays.
    hinted = shlex.split(reason.split("`")[-2])
    assert hinted[:2] == ["riskstrat", "run"]
    result = CliRunner().invoke(main, hinted[1:])
    assert result.exit_code == 0, result.output
    assert _listed(run_settings, tuesday.date(), "post_discharge") == tuesday_listed
    assert _listed(run_settings, tuesday.date(), "early_intervention")
    rows = {r["job"]: r for r in attention_rows(config, settings=run_settings, limit=10,
                                                now=tuesday + timedelta(hours=1))}  # fmt: skip
    assert "nothing to re-run" in rows["weekly-early-intervention"]["reason"]
    assert "`" not in rows["weekly-early-intervention"]["reason"]


def test_a_run_on_a_missing_store_is_one_line_and_creates_no_store() -> None:
    """Before: `run --no-ingest` with no store created an empty store file and stopped with
    "internal error CatalogException ... report it" (exit 70)."""
    from riskstrat.config import load_settings
    from riskstrat.runs.steps import STORE_MISSING

    store = load_settings().paths.store
    assert not store.exists()
    result = CliRunner().invoke(main, ["run", "--as-of", AS_OF.isoformat(), "--no-ingest"])
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert errors == [f"Error: {STORE_MISSING.format(store=store)}"]
    assert not store.exists()


def test_status_survives_a_damaged_history_file() -> None:
    """Before: one history manifest cut short (a full disk, a power cut) made `riskstrat status`
    print only "Error: 1 validation error for Manifest Invalid JSON ..."."""
    from riskstrat.config import load_settings
    from riskstrat.runs.status import UNREADABLE, UNREADABLE_REASON, status_text

    settings = load_settings()
    damaged = settings.paths.out_dir / "history" / "20260413T060012-2026-04-13-0123456789ab.json"
    damaged.parent.mkdir(parents=True)
    damaged.write_text('{\n "run_id": "0123456789ab",\n "pathways": [\n')
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    text = status_text(load_schedule(), settings=settings, models=False)
    row = next(line for line in text.splitlines() if line.startswith("2026-04-13 06:00"))
    assert row.split()[2:4] == ["2026-04-13", UNREADABLE]
    assert row.endswith(UNREADABLE_REASON.format(path=damaged))


def test_next_run_on_a_bank_holiday_says_what_will_happen() -> None:
    """Thursday before Easter 2026: the next weekly time is Easter Monday and the next weekday
    time Good Friday. Before, status showed only those times, read as "runs then"."""
    from riskstrat.config import load_settings
    from riskstrat.runs.status import HOLIDAY_DEFER_NOTE, HOLIDAY_SKIP_NOTE, schedule_rows

    config, settings = load_schedule(), load_settings()
    thursday = datetime(2026, 4, 2, 12, tzinfo=LONDON)
    rows = {r["job"]: r for r in schedule_rows(config, settings=settings, now=thursday)}
    assert rows["weekly-early-intervention"]["next run"] == "Mon 2026-04-06 07:00 BST"
    assert rows["weekly-early-intervention"]["note"] == HOLIDAY_DEFER_NOTE.format(
        name="Easter Monday", then="Tue 2026-04-07 07:00"
    )
    assert rows["weekday-post-discharge"]["note"] == HOLIDAY_SKIP_NOTE.format(name="Good Friday")
    assert rows["monthly-retrain"]["note"] == ""  # on_bank_holiday: run


def test_rerunning_the_week_republishes_the_same_report_after_an_ingest(
    run_settings: Settings,
) -> None:
    """The first run of a date ingests its extract and reports the ingest's warnings; a re-run
    finds the extract unchanged. Before, the re-run's manifest and commissioner report
    (report.html, warnings.csv) lost those warnings: not the same content."""
    tuesday = AS_OF + timedelta(days=1)
    first = run_once(as_of=tuesday, pathways=["early_intervention"], settings=run_settings)
    assert first.inputs.ingested and any(w.startswith("ingest: ") for w in first.warnings)
    again = run_once(as_of=tuesday, pathways=["early_intervention"], settings=run_settings)
    assert not again.inputs.ingested
    assert again.warnings == first.warnings
    assert again.outputs == first.outputs


def test_status_says_no_scheduler_is_running_when_a_job_has_not_fired() -> None:
    """Installed on Friday 18 December 2026; the machine is rebooted over the weekend and nobody
    starts the scheduler again. Before, status at 07:45 on Monday showed "next run Mon 07:00"
    from the job store, no ATTENTION: it read like a run about to happen."""
    from riskstrat.config import load_settings
    from riskstrat.runs.scheduler import scheduler_lock, scheduler_lock_path
    from riskstrat.runs.status import (
        OVERDUE_NOTE,
        SCHEDULER_BUSY,
        SCHEDULER_DOWN,
        schedule_rows,
        status_text,
    )

    config, settings = load_schedule(), load_settings()
    install_jobs(config, settings=settings, now=datetime(2026, 12, 18, 12, tzinfo=LONDON))
    on_call = datetime(2026, 12, 21, 7, 45, tzinfo=LONDON)
    jobs = "weekly-early-intervention, weekday-post-discharge"
    down = SCHEDULER_DOWN.format(jobs=jobs, due="Mon 2026-12-21 07:00 GMT", limit=72)
    text = status_text(config, settings=settings, models=False, now=on_call)
    assert text.splitlines()[0] == down
    rows = {r["job"]: r["note"] for r in schedule_rows(config, settings=settings, now=on_call)}
    assert rows == {
        "weekly-early-intervention": OVERDUE_NOTE,
        "weekday-post-discharge": OVERDUE_NOTE,
        "monthly-retrain": "",
    }
    # Within the half hour a tick may still be coming: nothing said.
    soon = on_call - timedelta(minutes=20)
    assert "ATTENTION" not in status_text(config, settings=settings, models=False, now=soon)
    # A scheduler that holds the lock but has not got to it (a long run under cron's --once).
    with scheduler_lock(config, settings=settings):
        busy = status_text(config, settings=settings, models=False, now=on_call)
    lock = scheduler_lock_path(config, settings=settings)
    assert busy.splitlines()[0] == SCHEDULER_BUSY.format(
        jobs=jobs, due="Mon 2026-12-21 07:00 GMT", lock=lock, limit=72
    )
    # Started: the missed runs are due in the ledger and the job store has moved on.
    start_up(config, settings=settings, now=on_call)
    text = status_text(config, settings=settings, models=False, now=on_call)
    assert "no scheduler is running" not in text and OVERDUE_NOTE not in text


KILLABLE = """
import sys, time
from datetime import date
from riskstrat.config import load_settings
from riskstrat.runs.pipeline import run_once

def hold(step, state):
    print("STEP", step, flush=True)
    if step == sys.argv[2]:
        time.sleep(300)

run_once(as_of=date.fromisoformat(sys.argv[1]), pathways=["post_discharge"],
         settings=load_settings(), on_step=hold)
"""


def test_a_run_killed_after_scoring_leaves_its_discharges_to_the_next_day_s_run(
    run_settings: Settings,
) -> None:
    """The last post-discharge list was Christmas Eve; Monday's run is SIGKILLed (the OOM
    killer, a power cut) after scoring and writing its lists, before publishing; the scheduler
    comes back on Tuesday and runs as of Tuesday. Before, the killed run's scoring stayed in
    the store, Tuesday's window started at Monday and listed 0 of the 12 discharges since
    Christmas Eve (a known limitation in docs/operations.md); now Tuesday's run removes the
    killed run's scoring first and lists them."""
    import os
    import signal
    import subprocess
    import sys

    eve = date(2025, 12, 24)
    last_post_discharge_list(run_settings, eve)
    with subprocess.Popen(
        [sys.executable, "-c", KILLABLE, AS_OF.isoformat(), "lists"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        for line in proc.stdout:
            if line.split()[1] == "lists":
                break
        os.kill(proc.pid, signal.SIGKILL)
    assert recent_manifests(run_settings.paths.out_dir)[0].status == "running"
    killed = readmission_scorings(run_settings)
    assert set(killed) == {eve, AS_OF} and killed[AS_OF] > 0
    tuesday = run_once(as_of=AS_OF + timedelta(days=1), pathways=["post_discharge"],
                       settings=run_settings, options=RunOptions(ingest=False))  # fmt: skip
    assert tuesday.counts["score"]["readmission_30d_scored"] == killed[AS_OF]
    assert readmission_scorings(run_settings) == {eve: 0, AS_OF + timedelta(days=1): killed[AS_OF]}
    # The killed run stays in the history; later runs find nothing more to remove.
    again = run_once(as_of=AS_OF + timedelta(days=1), pathways=["post_discharge"],
                     settings=run_settings, options=RunOptions(ingest=False))  # fmt: skip
    assert again.outputs == tuesday.outputs


def test_a_once_tick_whose_run_failed_exits_1_for_cron(run_settings: Settings) -> None:
    """cron runs `schedule --once` every 15 minutes and mails (or systemd marks failed) only a
    non-zero exit. Before, a tick whose weekly run failed exited 0: the failure was only in the
    ledger, the hook and status. Now its job's line, then one `Error:` line, and exit 1."""
    from riskstrat.errors import EXIT_RUN_FAILED, RUNS_FAILED
    from riskstrat.runs.ledger import FAILED
    from riskstrat.runs.scheduler import ledger_for

    config = load_schedule()
    now = datetime.now(ZoneInfo(config.timezone))
    install_jobs(config, settings=run_settings, now=now - timedelta(hours=1))
    (run_settings.paths.source_dir / "patients.parquet").unlink()  # the feed broke: a real failure
    ledger_for(config, settings=run_settings).record_due(
        "weekly-early-intervention", now - timedelta(minutes=5), now=now
    )
    result = CliRunner().invoke(main, ["schedule", "--once"])
    assert result.exit_code == EXIT_RUN_FAILED, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"weekly-early-intervention: {FAILED}: ")
    assert lines[-1] == "Error: " + RUNS_FAILED.format(n=1, jobs="weekly-early-intervention")


KILLED_AFTER_PUBLISHING = """
import os, signal, sys
from datetime import date
from riskstrat.config import load_settings
from riskstrat.runs import pipeline

def killed(state):  # the OOM killer, just after the run's folder was swapped in
    os.kill(os.getpid(), signal.SIGKILL)

pipeline._record_listed = killed
pipeline.run_once(as_of=date.fromisoformat(sys.argv[1]), settings=load_settings())
"""


def test_a_run_killed_just_after_publishing_is_not_taken_for_unpublished(
    run_settings: Settings,
) -> None:
    """A whole run killed after its folder was swapped in, while recording who was listed. Its
    history copy said `running` until the end of the run, so a later post-discharge run of the
    same date (whose folder manifest then names post_discharge only) let the next run remove the
    crisis scores behind the published weekly lists (helper 59's review). Now the history says
    `succeeded` as soon as the lists are published, and those scores stay."""
    import subprocess
    import sys

    from riskstrat.runs.forget import killed_tasks

    done = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_PUBLISHING, AS_OF.isoformat()],
        capture_output=True,
        text=True,
    )
    assert done.returncode == -9, done.stderr[-500:]
    first = recent_manifests(run_settings.paths.out_dir)[0]
    assert (first.status, first.as_of) == ("succeeded", AS_OF)
    run_once(as_of=AS_OF, pathways=["post_discharge"], settings=run_settings,
             options=RunOptions(ingest=False))  # fmt: skip
    task_of = {"early_intervention": "crisis", "post_discharge": "readmission_30d"}
    later = AS_OF + timedelta(days=1)
    found = killed_tasks(run_settings.paths.out_dir, as_of=later, own_run_id="x", task_of=task_of)
    assert found == {}
