"""`riskstrat features` (build a matrix at an as-of date) and `riskstrat feature-docs`."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click
import duckdb

from riskstrat.cliopts import TASK, as_of_option, existing_store, out_option, store_option
from riskstrat.config import load_settings
from riskstrat.features.docs import write_catalogue_markdown
from riskstrat.features.runner import build_features
from riskstrat.registry.store import connect, store_extract_date
from riskstrat.tasks import attach_labels, build_index, load_task


def _connect(path: Path | None) -> duckdb.DuckDBPyConnection:
    return connect(existing_store(path), read_only=True)


@click.command("features")
@TASK
@as_of_option("Crisis rows are indexed on it; readmission rows are the discharges just before.")
@out_option("Folder to write <task>-<as-of>.parquet into (default <data_dir>/features).")
@store_option()
def features_command(task: str, as_of: date, out_dir: Path | None, store: Path | None) -> None:
    """Build TASK's point-in-time feature matrix at an as-of date and write it as Parquet.

    Labels are attached where the label window lies inside the latest extract (null otherwise).
    """
    settings = load_settings()
    spec = load_task(task)
    day = as_of
    out = (out_dir or settings.paths.data_dir / "features") / f"{spec.name}-{day}.parquet"
    start = time.perf_counter()
    con = _connect(store)
    try:
        index = build_index(con, spec, as_of_dates=[day])
        matrix = build_features(con, index, task=spec)
        extracted = store_extract_date(con)
        if extracted is not None:
            matrix["label"] = attach_labels(con, spec, index, extract_date=extracted)["label"].array
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    matrix.to_parquet(out, index=False)
    seconds = time.perf_counter() - start
    click.echo(
        f"{spec.name} as of {day}: {matrix.shape[0]} rows x {matrix.shape[1]} columns "
        f"in {seconds:.1f} s -> {out}"
    )
    if extracted is None:
        click.echo("no extract date in the store: labels not attached")


@click.command("feature-docs")
def feature_docs_command() -> None:
    """Regenerate docs/features.md from the feature YAMLs in features/."""
    click.echo(f"wrote {write_catalogue_markdown()}")


COMMANDS = [features_command, feature_docs_command]
