"""`riskstrat features` (build a matrix at an as-of date) and `riskstrat feature-docs`."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click
import duckdb

from riskstrat.config import load_settings
from riskstrat.features.docs import write_catalogue_markdown
from riskstrat.features.runner import build_features
from riskstrat.registry.store import connect
from riskstrat.tasks import attach_labels, build_index, load_task

STORE_MISSING = "store {path} does not exist: run `riskstrat ingest` first"


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise click.ClickException(STORE_MISSING.format(path=path))
    return connect(path, read_only=True)


def extract_date(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest ingested extract date, from the store's `extracts` table (None if absent)."""
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "extracts" not in tables:
        return None
    return con.execute("SELECT max(extract_date) FROM extracts").fetchall()[0][0]


@click.command("features")
@click.option("--task", "task_name", required=True, help="Task name (configs/tasks/NAME.yaml).")
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="As-of date: the index date (crisis) or the day after the discharges listed.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Parquet file to write (default <data_dir>/features/<task>-<as-of>.parquet).",
)
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB store (default from configs/riskstrat.yaml).",
)
def features_command(task_name: str, as_of: datetime, out: Path | None, store: Path | None) -> None:
    """Build TASK's point-in-time feature matrix at an as-of date and write it as Parquet.

    Labels are attached where the label window lies inside the latest extract (null otherwise).
    """
    settings = load_settings()
    task = load_task(task_name)
    day = as_of.date()
    out = out or settings.paths.data_dir / "features" / f"{task.name}-{day}.parquet"
    start = time.perf_counter()
    con = _connect(store or settings.paths.store)
    try:
        index = build_index(con, task, as_of_dates=[day])
        matrix = build_features(con, index, task=task)
        extracted = extract_date(con)
        if extracted is not None:
            matrix["label"] = attach_labels(con, task, index, extract_date=extracted)["label"].array
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    matrix.to_parquet(out, index=False)
    seconds = time.perf_counter() - start
    click.echo(
        f"{task.name} as of {day}: {matrix.shape[0]} rows x {matrix.shape[1]} columns "
        f"in {seconds:.1f} s -> {out}"
    )
    if extracted is None:
        click.echo("no extract date in the store: labels not attached")


@click.command("feature-docs")
def feature_docs_command() -> None:
    """Regenerate docs/features.md from the feature YAMLs in features/."""
    click.echo(f"wrote {write_catalogue_markdown()}")


COMMANDS = [features_command, feature_docs_command]
