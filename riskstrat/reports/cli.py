"""CLI commands of this stage: `riskstrat report`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from riskstrat.cliopts import as_of_option, existing_store, out_option, store_option
from riskstrat.config import load_settings
from riskstrat.errors import EnvironmentProblem
from riskstrat.registry.store import connect
from riskstrat.reports.commissioner import write_report
from riskstrat.reports.settings import load_report_config
from riskstrat.runs.lock import STANDALONE_LOCK_WAIT_SECONDS, run_lock
from riskstrat.runs.publish import publishing


@click.command("report")
@as_of_option("The report is on the crisis scores of that date.")
@store_option()
@out_option("Output root (default: paths.out_dir); files go to runs/<as-of>/commissioner/.")
@click.option("--config", "config_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Report config (default: configs/report.yaml).")  # fmt: skip
def report(as_of: date, store: Path | None, out_dir: Path | None, config_path: Path | None) -> None:
    """Write the commissioner cohort risk report (HTML + CSV aggregates) for an as-of date.

    Publishes into out/runs/<as-of>/commissioner/, keeping the rest of that run's outputs.
    """
    day = as_of
    settings = load_settings()
    store = existing_store(store)
    config = load_report_config(config_path)
    try:
        with (
            run_lock(settings.paths.data_dir, timeout=STANDALONE_LOCK_WAIT_SECONDS),
            connect(store, read_only=True) as con,
            publishing(out_dir or settings.paths.out_dir, day.isoformat(),
                       keep_existing=True) as run_dir,
        ):  # fmt: skip
            paths = write_report(con, as_of=day, run_dir=run_dir, settings=settings, config=config)
    except EnvironmentProblem as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"commissioner report written: {paths['report'].name}, {paths['aggregates'].name}")


COMMANDS = [report]
