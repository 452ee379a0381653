"""write_report: the commissioner report of one run (store in, aggregates.csv + report.html out)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event, timed
from riskstrat.paths import output_path
from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.loader import load_inputs
from riskstrat.reports.render import render_html
from riskstrat.reports.settings import ReportConfig, load_report_config
from riskstrat.tasks import load_task

FOLDER = "commissioner"


def write_report(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    run_dir: Path,
    settings: Settings,
    config: ReportConfig | None = None,
    cohort: pd.DataFrame | None = None,
    listed: set[str] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Path]:
    """Write `<run_dir>/commissioner/report.html` and `aggregates.csv`; returns their paths.

    settings: the run's settings (paths); cohort: the run's feature matrix of the report's task
    at `as_of` with the scored `risk` column (None: built from the store's scores); listed:
    patient ids on this run's lists (default: read from the run's practice files); warnings:
    monitoring warnings of the run, shown in section 5.
    """
    config = config or load_report_config()
    task = load_task(config.task)
    with timed("report", as_of=as_of.isoformat()) as extra:
        inputs = load_inputs(
            con,
            as_of=as_of,
            config=config,
            task=task,
            run_dir=run_dir,
            listed=listed,
            cohort=cohort,
        )
        frame = build_aggregates(**inputs, warnings=list(warnings or []), config=config)
        html = render_html(
            frame,
            as_of=as_of,
            practices=inputs["practices"],
            config=config,
            horizon_days=task.label.horizon_days,
        )
        out = output_path(Path(run_dir), FOLDER)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"aggregates": out / "aggregates.csv", "report": out / "report.html"}
        frame.to_csv(paths["aggregates"], index=False)
        paths["report"].write_text(html, encoding="utf-8")
        extra.update(rows=len(frame), suppressed=int(frame["suppressed"].sum()))
    log_event("report.written", store=settings.paths.store.name, folder=FOLDER)
    return paths
