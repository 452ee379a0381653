"""CLI commands of the registry stage: `riskstrat ingest` and `riskstrat docs`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from riskstrat.cliopts import extract_date_option, store_option
from riskstrat.config import ConfigError, load_settings, project_root
from riskstrat.registry.docs import CONTRACT_DOC, contract_markdown
from riskstrat.registry.errors import IngestError

DOCS_STALE = "{path} differs from the contract; run `riskstrat docs` to regenerate it"


@click.command("ingest")
@click.argument(
    "source_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@extract_date_option(
    "Date the extract was taken (YYYY-MM-DD): nothing in it may be dated later.", required=True
)
@store_option(
    must_exist=False,
    help_text="DuckDB store to create or replace (default: paths.store in configs/riskstrat.yaml).",
)
@click.option(
    "--replace-latest",
    is_flag=True,
    help="The store's newest extract was a mistake (e.g. a wrong --extract-date): replace it, "
    "even by an older extract; its history row is kept in replaced_extracts.",
)
def ingest_command(
    source_dir: Path | None, extract_date: dt.date, store: Path | None, replace_latest: bool
) -> None:
    """Validate the extract in SOURCE_DIR and swap it into the store.

    SOURCE_DIR holds one <table>.csv or <table>.parquet per table and, optionally, feedback/ with
    practices' returned lists (CSV or XLSX). Rejected rows and a data-quality summary go to
    <data_dir>/ingests/<extract_date>-<hash8>/. An unusable table stops the ingest with a
    non-zero exit and the store is left as it was. Default SOURCE_DIR: paths.source_dir.
    """
    from riskstrat.registry.ingest import ingest

    try:
        settings = load_settings()
        report = ingest(
            source_dir or settings.paths.source_dir,
            extract_date=extract_date,
            store_path=store or settings.paths.store,
            settings=settings,
            replace_latest=replace_latest,
        )
    except (IngestError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.message)
    for t in report.tables.values():
        click.echo(
            f"  {t.table}: {t.rows_read:,} read, {t.accepted:,} accepted, {t.rejected:,} rejected, "
            f"{t.duplicates:,} exact duplicates"
        )
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.report_dir:
        click.echo(f"rejects and data-quality summary: {report.report_dir}")


@click.command("docs")
@click.option(
    "--check",
    is_flag=True,
    help="Do not write; exit non-zero if docs/contract.md differs from the contract.",
)
def docs_command(check: bool) -> None:
    """Write docs/contract.md from the data contract (riskstrat/registry/contract.py)."""
    path = project_root() / CONTRACT_DOC
    text = contract_markdown()
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            raise click.ClickException(DOCS_STALE.format(path=path))
        click.echo(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


COMMANDS: list[click.Command] = [ingest_command, docs_command]
