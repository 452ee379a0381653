"""CLI of the models stage for a new population: `riskstrat recalibrate TASK`."""

from __future__ import annotations

import json
from datetime import date

import click

from riskstrat.cliopts import ISO_DATE, TASK
from riskstrat.config import ConfigError, load_settings


@click.command("recalibrate")
@TASK
@click.option(
    "--as-of",
    "as_of",
    multiple=True,
    type=ISO_DATE,
    help="Matured as-of date to fit on (repeatable). Default: the latest --dates dates whose "
    "outcome window has closed by the extract date.",
)
@click.option(
    "--dates",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many matured as-of dates.",
)
@click.option(
    "--step-days",
    default=28,
    show_default=True,
    type=click.IntRange(min=1),
    help="Days between the matured as-of dates.",
)
@click.option("--no-register", is_flag=True, help="Report the update only; register nothing.")
@click.option("--no-gate", is_flag=True, help="Register the new version without the gate.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def recalibrate(
    task: str,
    as_of: tuple[date, ...],
    dates: int,
    step_days: int,
    no_register: bool,
    no_gate: bool,
    as_json: bool,
) -> None:
    """Update TASK's champion calibration (intercept and slope) on this population's matured
    outcomes, register it as a new version (challenger) and run the promotion gate on the local
    store. The ranking is unchanged. See docs/new-population.md."""
    from riskstrat.models.cli import registry_lock
    from riskstrat.models.recalibrate import RecalibrationError, recalibrate_task

    settings = load_settings()
    try:
        with registry_lock(settings):
            result = recalibrate_task(
                task,
                settings=settings,
                as_of=list(as_of) or None,
                dates=dates,
                step_days=step_days,
                register=not no_register,
                gate=not no_gate,
            )
    except (RecalibrationError, LookupError, ConfigError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from exc
    if as_json:
        click.echo(json.dumps(result.__dict__, indent=2, default=str))
    else:
        click.echo("\n".join(result.lines()))


COMMANDS = [recalibrate]
