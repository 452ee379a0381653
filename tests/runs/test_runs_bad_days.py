"""The operator's bad days of round 5: a failed run whose own clean-up failed, two job-store
syncs at once. Real runs on the small store, a real APScheduler SQLAlchemy job store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from score_runs import last_post_discharge_list, readmission_scorings

from riskstrat.cli import main
from riskstrat.config import Settings
from riskstrat.runs.manifest import recent_manifests
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.state import RunOptions

EXTRACT_DATE = date(2025, 12, 28)  # tests/conftest.py SMALL_POPULATION["end"]
AS_OF = EXTRACT_DATE + timedelta(days=1)  # Monday 29 December 2025


def test_a_failed_run_whose_clean_up_failed_is_cleaned_by_the_next_run(
    run_settings: Settings,
) -> None:
    """Monday's post-discharge run scores the discharges since Friday 19 December's list, then
    fails, and so does its own removal of those scores (the store went away under it: its
    connection is gone). Before: the failed manifest said nothing of it and the next run looked
    only for killed (`running`) runs, so Tuesday's window started at Monday and listed 0 of
    Monday's discharges, for good. Now the failed manifest names the scores it left and
    Tuesday's run removes them first (under the run lock); a re-run of Tuesday is the same."""

    last = date(2025, 12, 19)
    last_post_discharge_list(run_settings, last)

    def store_lost(step: str, state: object) -> None:
        if step == "select":  # scores stored; then the store and the disk go
            state.con.close()  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")

    options = RunOptions(ingest=False)
    with pytest.raises(OSError):
        run_once(as_of=AS_OF, pathways=["post_discharge"], settings=run_settings,
                 options=options, on_step=store_lost)  # fmt: skip
    failed = recent_manifests(run_settings.paths.out_dir)[0]
    assert (failed.status, failed.scores_left) == ("failed", ["readmission_30d"])
    discharges = failed.counts["score"]["readmission_30d_scored"]
    assert discharges > 0 and readmission_scorings(run_settings) == {last: 0, AS_OF: discharges}
    tuesday_as_of = AS_OF + timedelta(days=1)
    tuesday = run_once(as_of=tuesday_as_of, pathways=["post_discharge"], settings=run_settings,
                       options=options)  # fmt: skip
    assert tuesday.counts["score"]["readmission_30d_scored"] == discharges
    assert tuesday.counts["lists"]["post_discharge_listed"] > 0
    assert readmission_scorings(run_settings) == {last: 0, tuesday_as_of: discharges}
    again = run_once(as_of=tuesday_as_of, pathways=["post_discharge"], settings=run_settings,
                     options=options)  # fmt: skip
    assert again.outputs == tuesday.outputs
    assert readmission_scorings(run_settings) == {last: 0, tuesday_as_of: discharges}


def test_install_only_waits_for_the_scheduler_lock_and_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`schedule --install-only` wrote the SQLAlchemy job store without the scheduler lock:
    beside a running scheduler (or a cron tick) it replaced jobs under it, and two at once
    crashed one with ConflictingIdError (1 of 10 tries of two processes started together;
    0 of 10 now: the second waits). Now a held lock refuses it after the wait, in one line
    naming the lock, and the job store is left as it was."""
    from riskstrat.config import load_settings
    from riskstrat.runs import scheduler
    from riskstrat.runs.schedule import load_schedule, stored_next_run_times

    config, settings = load_schedule(), load_settings()
    monkeypatch.setattr(scheduler, "INSTALL_WAIT_SECONDS", 0.2)
    lock = scheduler.scheduler_lock_path(config, settings=settings)
    with scheduler.scheduler_lock(config, settings=settings):
        refused = CliRunner().invoke(main, ["schedule", "--install-only"])
    busy = scheduler.INSTALL_BUSY.format(path=lock, timeout=0.2)
    assert (refused.exit_code, refused.output) == (3, f"Error: {busy}\n")
    assert stored_next_run_times(config, settings=settings) == {}  # nothing installed
    done = CliRunner().invoke(main, ["schedule", "--install-only"])
    assert done.exit_code == 0, done.output
    assert set(stored_next_run_times(config, settings=settings)) == {j.id for j in config.jobs}


HOLD_STORE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # an analyst's session, read-write (the duckdb CLI's default)
print("open", flush=True)
time.sleep(120)
"""


def test_a_store_left_open_by_an_analyst_is_one_line_naming_the_session(
    run_settings: Settings,
) -> None:
    """An analyst's `duckdb data/store.duckdb` left open on Monday morning. Before, the weekly
    run (and `--no-ingest` re-runs) stopped with "internal error IOException: IO Error: Could
    not set lock on file ... re-run with --debug and report it", exit 70: a bug report for a
    session to close. Now one line naming the store and the session's PID, exit 3 (the
    environment), and the last published outputs stay as they were."""
    import os
    import subprocess
    import sys

    from riskstrat.registry.store import STORE_IN_USE

    store = run_settings.paths.store
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_STORE, str(store)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "open\n"
            program = Path(os.readlink(f"/proc/{holder.pid}/exe")).name  # as DuckDB names it
            runs = [
                CliRunner().invoke(main, ["run", "--as-of", AS_OF.isoformat(), *extra])
                for extra in (["--no-ingest"], [])
            ]
        finally:
            holder.kill()
    said = STORE_IN_USE.format(path=store, holder=f"PID {holder.pid}, {program}")
    for result in runs:
        assert (result.exit_code, result.output.splitlines()[-1]) == (3, f"Error: {said}")
    assert not (run_settings.paths.out_dir / "latest").exists()


def test_a_damaged_job_store_is_named_by_status_and_the_scheduler_with_the_way_out() -> None:
    """The job store's sqlite file damaged (a disk fault, a copy cut short). Before: `status`
    printed only "Error: the database is damaged or not a database (database disk image is
    malformed), on this machine, restore it from a backup ...", with no file named and not even
    the recent runs; `schedule`, `--once` and `--install-only` the same. Now status says which
    file and what to do on top and shows the rest; the scheduler's commands stop with that
    line (exit 3); moved aside, `--install-only` makes a new one."""
    from riskstrat.config import load_settings
    from riskstrat.runs.schedule import (
        JOBSTORE_DAMAGED,
        install_jobs,
        jobstore_path,
        load_schedule,
    )
    from riskstrat.runs.status import status_text

    config, settings = load_schedule(), load_settings()
    install_jobs(config, settings=settings)
    path = jobstore_path(config, settings)
    data = path.read_bytes()
    path.write_bytes(data[:100] + bytes(50) + data[150:])  # the first page's header zeroed
    said = JOBSTORE_DAMAGED.format(path=path, detail="sqlite finds its pages malformed")
    text = status_text(config, settings=settings, models=False)
    assert text.splitlines()[0] == f"ATTENTION: {said}"
    assert "Recent runs (" in text and "config (job store damaged)" in text
    for command in (["schedule", "--install-only"], ["schedule", "--once"]):
        result = CliRunner().invoke(main, command)
        assert (result.exit_code, result.output) == (3, f"Error: {said}\n"), command
    path.rename(path.with_name(path.name + ".damaged"))
    again = CliRunner().invoke(main, ["schedule", "--install-only"])
    assert again.exit_code == 0 and "added" in again.output


def test_an_output_folder_that_cannot_be_written_is_one_line_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output folder on a disk the kernel refuses to write (remounted read-only after
    errors; here /sys, which refuses a new folder), or paths.out_dir naming a file. Before:
    "internal error OSError: [Errno 30] Read-only file system: '.../out', at
    runs/manifest.py:106, re-run with --debug and report it" (exit 70), and NotADirectoryError
    likewise. Now one line naming the folder and what to do, before the run lock is taken or
    anything is written: exit 3 for the machine, 2 for the setting."""
    from riskstrat.runs.preflight import OUT_DIR_NOT_FOLDER, OUT_DIR_NOT_WRITABLE

    refused = Path("/sys/riskstrat-out")
    monkeypatch.setenv("RISKSTRAT_OUT_DIR", str(refused))
    result = CliRunner().invoke(main, ["run", "--as-of", AS_OF.isoformat(), "--no-ingest"])
    said = OUT_DIR_NOT_WRITABLE.format(path=refused, reason="operation not permitted")
    assert (result.exit_code, result.output.splitlines()[-1]) == (3, f"Error: {said}")
    assert "Traceback" not in result.output
    a_file = tmp_path / "out"
    a_file.write_text("not a folder\n")
    for out in (a_file, a_file / "weekly"):
        monkeypatch.setenv("RISKSTRAT_OUT_DIR", str(out))
        result = CliRunner().invoke(main, ["run", "--as-of", AS_OF.isoformat(), "--no-ingest"])
        said = OUT_DIR_NOT_FOLDER.format(path=a_file)
        assert (result.exit_code, result.output.splitlines()[-1]) == (2, f"Error: {said}")
    assert a_file.read_text() == "not a folder\n"
