"""CLI commands of this stage: run, schedule, status, demo."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from riskstrat.config import load_settings


def _date(_ctx: object, _param: object, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@click.command("run")
@click.option("--as-of", required=True, callback=_date, help="Run date (YYYY-MM-DD).")
@click.option(
    "--pathways",
    multiple=True,
    help="Pathways to list (repeat the option; default: every configured pathway).",
)
@click.option(
    "--extract-date", callback=_date, help="Date of the extract to ingest (default: as-of - 1 day)."
)
@click.option(
    "--source",
    type=click.Path(path_type=Path, file_okay=False),
    help="Extract folder (default: paths.source_dir from configs/riskstrat.yaml).",
)
@click.option("--ingest/--no-ingest", default=True, help="Ingest the extract first (default on).")
@click.option("--report/--no-report", default=True, help="Write the commissioner report.")
@click.option(
    "--wait", type=float, default=0.0, help="Seconds to wait for a run already in progress."
)
def run_command(
    as_of: date,
    pathways: tuple[str, ...],
    extract_date: date | None,
    source: Path | None,
    ingest: bool,
    report: bool,
    wait: float,
) -> None:
    """Run the pipeline once for AS-OF and publish it atomically (out/runs/<as-of>, out/latest)."""
    from riskstrat.runs.pipeline import run_once
    from riskstrat.runs.state import RunOptions

    options = RunOptions(
        extract_date=extract_date,
        source_dir=source,
        ingest=ingest,
        report=report,
        lock_timeout_seconds=wait,
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
def schedule_command(install_only: bool) -> None:
    """Run the schedule in the foreground (APScheduler; stop with SIGTERM or Ctrl-C)."""
    from riskstrat.runs.schedule import install_jobs, load_schedule, serve

    config, settings = load_schedule(), load_settings()
    if install_only:
        for job, action in install_jobs(config, settings=settings).items():
            click.echo(f"{job}: {action}")
        return
    serve(config, settings=settings)


@click.command("status")
@click.option("--limit", type=int, default=10, show_default=True, help="Runs to show.")
def status_command(limit: int) -> None:
    """Show recent runs (from their manifests) and the next scheduled times."""
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
