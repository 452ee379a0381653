"""CLI commands of this stage: run, schedule, status, demo."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from riskstrat.cliopts import as_of_option, engine_option, extract_date_option, pathway_option
from riskstrat.config import load_settings

#: --source and --extract-date say what to ingest; with --no-ingest they would be ignored silently
#: and the run would publish from the store's older extract.
INGEST_ONLY = (
    "{option} names the extract to ingest but --no-ingest skips ingest: drop {option} or "
    "--no-ingest"
)

#: `schedule --once` while another scheduler is busy (cron every 15 minutes during a long run, or
#: a systemd scheduler beside it): normal, so a note and exit 0, not an error in every tick.
ONCE_BUSY = "nothing to do: {reason}"


@click.command("run")
@as_of_option()
@pathway_option("Pathway to list (repeatable; default: every configured pathway).")
@extract_date_option("Date of the extract to ingest (YYYY-MM-DD; default: as-of - 1 day).")
@click.option(
    "--source",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Extract folder (default: paths.source_dir from configs/riskstrat.yaml).",
)
@click.option("--ingest/--no-ingest", default=True, help="Ingest the extract first (default on).")
@click.option("--report/--no-report", default=True, help="Write the commissioner report.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds to wait for a run already in progress (default 0: stop at once).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Run even if the as-of is more than max_extract_age_days after the store's extract.",
)
@engine_option(
    "Engine for features, scoring and lists (default: engine in configs/riskstrat.yaml)."
)
def run_command(
    as_of: date,
    pathways: tuple[str, ...],
    extract_date: date | None,
    source: Path | None,
    ingest: bool,
    report: bool,
    wait: float,
    force: bool,
    engine: str | None,
) -> None:
    """Run the pipeline once for the --as-of date and publish it atomically
    (out/runs/<as-of>; out/latest moves only forward, to the newest as-of)."""
    import atexit
    import gc

    if not ingest:
        for option, value in (("--source", source), ("--extract-date", extract_date)):
            if value is not None:
                raise click.UsageError(INGEST_ONLY.format(option=option))

    # At exit the interpreter's last garbage collections walk every object still alive (MLflow,
    # pandas, the models: ~350k objects), ~1.3 s. Frozen just before, they are skipped: the run
    # has closed its store and released its locks by then, and the OS takes the memory back.
    atexit.register(gc.freeze)
    from riskstrat.runs.pipeline import run_once
    from riskstrat.runs.schedule import load_schedule
    from riskstrat.runs.state import RunOptions

    options = RunOptions(
        extract_date=extract_date,
        source_dir=source,
        ingest=ingest,
        report=report,
        lock_timeout_seconds=wait,
        force=force,
        engine=engine,
        max_extract_age_days=load_schedule().max_extract_age_days,
    )
    manifest = run_once(
        as_of=as_of, pathways=pathways or None, settings=load_settings(), options=options
    )
    click.echo(f"published run {manifest.run_name} ({manifest.status})")
    for warning in manifest.warnings:
        click.echo(f"warning: {warning}")


@click.command("schedule")
@click.option(
    "--install-only", is_flag=True, help="Sync the job store with configs/schedule.yaml and exit."
)
@click.option(
    "--once",
    is_flag=True,
    help="Catch up and run whatever is due now, then exit (for cron, every 15 minutes).",
)
@click.option(
    "--install",
    "install_kind",
    type=click.Choice(["systemd", "cron"]),
    default=None,
    help="Print a systemd unit or a crontab for this project (see docs/operations.md).",
)
def schedule_command(install_only: bool, once: bool, install_kind: str | None) -> None:
    """Run the schedule in the foreground (APScheduler; stop with SIGTERM or Ctrl-C)."""
    from riskstrat.runs.schedule import load_schedule
    from riskstrat.runs.scheduler import serve

    config, settings = load_schedule(), load_settings()
    if install_kind:
        from riskstrat.runs.service import service_text

        click.echo(service_text(install_kind), nl=False)
        return
    if install_only:
        from riskstrat.runs.scheduler import install_only as sync_jobs

        for job, action in sync_jobs(config, settings=settings).items():
            click.echo(f"{job}: {action}")
        return
    if once:
        from riskstrat.errors import RUNS_FAILED, ScheduledRunsFailed
        from riskstrat.runs.ledger import FAILED
        from riskstrat.runs.scheduler import SchedulerActive, run_once_now

        try:
            settled = run_once_now(config, settings=settings)
        except SchedulerActive as exc:  # cron's next tick while a long run is still going
            click.echo(ONCE_BUSY.format(reason=exc))
            return
        for job, state, reason in settled:
            click.echo(f"{job}: {state}: {reason}")
        failed = [job for job, state, _ in settled if state == FAILED]
        if failed:  # exit 1 so cron and systemd see it (the hook and status say it too)
            jobs = ", ".join(sorted(set(failed)))
            raise ScheduledRunsFailed(RUNS_FAILED.format(n=len(failed), jobs=jobs))
        return
    serve(config, settings=settings)


@click.command("status")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="Runs to show.")  # fmt: skip
def status_command(limit: int) -> None:
    """Show recent runs with the reason of any failure, scheduled runs missed, interrupted or
    deferred, the next scheduled times, and model versions without an alias."""
    from riskstrat.runs.schedule import load_schedule
    from riskstrat.runs.status import status_text

    click.echo(status_text(load_schedule(), settings=load_settings(), limit=limit))


@click.command("demo")
@click.option(
    "--fresh", is_flag=True, help="Start from scratch (delete the demo's data and outputs)."
)
def demo_command(fresh: bool) -> None:
    """Synthetic care system end to end: synth, ingest, train, register, run, summary."""
    from riskstrat.runs.demo import load_demo_config, run_demo

    started = datetime.now()
    text = run_demo(load_demo_config(), settings=load_settings(), fresh=fresh)
    click.echo(text)
    click.echo(f"demo finished in {(datetime.now() - started).total_seconds():.0f} s")


COMMANDS = [run_command, schedule_command, status_command, demo_command]
