"""write_report: the commissioner report of one run (store in, aggregates.csv + report.html out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event, timed
from riskstrat.paths import output_path
from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.dictionary import dictionary_markdown, to_csv_frame
from riskstrat.reports.loader import list_warnings, load_context, load_inputs
from riskstrat.reports.plain import plain_warning
from riskstrat.reports.render import TASK_TITLES, render_html
from riskstrat.reports.settings import ReportConfig, load_report_config
from riskstrat.reports.trend import remember
from riskstrat.tasks import load_task

FOLDER = "commissioner"


WARNING_COLUMNS = ("as_of", "source", "technical", "plain")
#: An absolute server path in a warning ("/srv/riskstrat/data/extract/prescriptions.parquet").
SERVER_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:'\",]+/)+")


def warnings_frame(warnings: list[str], *, as_of: date) -> pd.DataFrame:
    """The run's monitoring warnings: technical wording and the commissioner's (warnings.csv).
    `source` is what the warning is about, its own prefix ("ingest", "report" or the model's
    task; every row said "monitoring" until stop 29). Server paths are cut to the file or
    folder name: a commissioner's file does not map the server (stop 28)."""
    return pd.DataFrame(
        [(as_of.isoformat(), warning_source(w), SERVER_PATH.sub("", w), plain_warning(w))
         for w in warnings],
        columns=list(WARNING_COLUMNS),
    )  # fmt: skip


def warning_source(warning: str) -> str:
    """'ingest' for "ingest: ...", 'crisis' for "crisis: input drift ...", else 'monitoring'."""
    head, sep, _ = warning.partition(": ")
    return head if sep and head.replace("_", "").isalnum() else "monitoring"


def write_report(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    run_dir: Path,
    settings: Settings,
    config: ReportConfig | None = None,
    cohort: pd.DataFrame | None = None,
    listed: Collection[str] | Callable[[], Collection[str]] | None = None,
    warnings: list[str] | None = None,
    matured: Mapping[date, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Write `<run_dir>/commissioner/`: report.html, aggregates.csv, its data dictionary
    aggregates.md, and warnings.csv; returns their paths.

    settings: the run's settings (paths, MLflow for the model's card); cohort: the run's feature
    matrix of the report's task at `as_of` with the scored `risk` column (None: built from the
    store's scores); listed: patient ids on this run's lists, or a function giving them, called
    only once every figure that does not count them is made (a run passes one that waits for
    its final lists, made beside the report: runs.steps.report_step); default: read from the
    run's practice files; warnings: monitoring warnings of the run (technical wording; the page
    shows them in a commissioner's words, warnings.csv keeps both); matured: the run's
    matured rows of the report's task by scoring date (riskstrat.reports.loader.matured_rows,
    made once by monitoring), used when the report's matured date is among them.
    """
    config = config or load_report_config()
    task = load_task(config.task)
    warnings = [*(warnings or []), *list_warnings(Path(run_dir), as_of=as_of, listed=listed)]
    with timed("report", as_of=as_of.isoformat()) as extra:
        inputs = load_inputs(
            con,
            as_of=as_of,
            config=config,
            task=task,
            run_dir=run_dir,
            listed=listed,
            cohort=cohort,
            matured=matured,
        )
        # What does not count the listed first: in a run, its final lists are made meanwhile
        # (explain, beside the report), and build_aggregates asks for them last.
        context = load_context(con, as_of=as_of, task=task, settings=settings, config=config,
                               warnings=list(warnings or []))  # fmt: skip
        frame = build_aggregates(**inputs, config=config)
        remember(con, inputs["cohort"], as_of=as_of, config=config)  # next week's trend
        html = render_html(
            frame,
            as_of=as_of,
            practices=inputs["practices"],
            config=config,
            horizon_days=task.label.horizon_days,
            context=context,
        )
        out = output_path(Path(run_dir), FOLDER)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "aggregates": out / "aggregates.csv",
            "dictionary": out / "aggregates.md",
            "warnings": out / "warnings.csv",
            "report": out / "report.html",
        }
        to_csv_frame(frame).to_csv(paths["aggregates"], index=False)
        paths["dictionary"].write_text(
            dictionary_markdown(
                config,
                horizon_days=task.label.horizon_days,
                task_title=TASK_TITLES.get(config.task, "risk"),
            ),
            encoding="utf-8",
        )
        warnings_frame(warnings or [], as_of=as_of).to_csv(paths["warnings"], index=False)
        paths["report"].write_text(html, encoding="utf-8")
        extra.update(rows=len(frame), suppressed=int(frame["suppressed"].sum()))
    log_event("report.written", store=settings.paths.store.name, folder=FOLDER)
    return paths
