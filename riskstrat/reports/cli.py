"""CLI commands of this stage: `riskstrat report`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from riskstrat.config import load_settings
from riskstrat.registry.store import connect
from riskstrat.reports.commissioner import write_report
from riskstrat.reports.settings import load_report_config
from riskstrat.runs.lock import STANDALONE_LOCK_WAIT_SECONDS, RunLocked, run_lock
from riskstrat.runs.publish import publishing


@click.command("report")
@click.option("--as-of", "as_of", required=True, help="As-of date of the scores (YYYY-MM-DD).")
@click.option("--store", type=click.Path(path_type=Path), help="DuckDB store (default: settings).")
@click.option("--out-dir", type=click.Path(path_type=Path), help="Output root (default: settings).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Report config (default: configs/report.yaml).")  # fmt: skip
def report(as_of: str, store: Path | None, out_dir: Path | None, config_path: Path | None) -> None:
    """Write the commissioner cohort risk report (HTML + CSV aggregates) for an as-of date.

    Publishes into out/runs/<as-of>/commissioner/, keeping the rest of that run's outputs.
    """
    day = datetime.strptime(as_of, "%Y-%m-%d").date()
    settings = load_settings()
    config = load_report_config(config_path)
    try:
        with (
            run_lock(settings.paths.data_dir, timeout=STANDALONE_LOCK_WAIT_SECONDS),
            connect(store or settings.paths.store, read_only=True) as con,
            publishing(out_dir or settings.paths.out_dir, day.isoformat(),
                       keep_existing=True) as run_dir,
        ):  # fmt: skip
            paths = write_report(con, as_of=day, run_dir=run_dir, settings=settings, config=config)
    except RunLocked as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"commissioner report written: {paths['report'].name}, {paths['aggregates'].name}")


COMMANDS = [report]
