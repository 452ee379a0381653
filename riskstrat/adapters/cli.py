"""CLI commands of the adapters stage: `riskstrat import-synthea`, `riskstrat import-omop`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from riskstrat.adapters.common import FORMATS
from riskstrat.adapters.omop import OmopInputError, import_omop
from riskstrat.adapters.omop.report import OmopImportReport
from riskstrat.adapters.synthea import SyntheaInputError, import_synthea
from riskstrat.adapters.synthea.report import ImportReport
from riskstrat.cliopts import extract_date_option, out_option
from riskstrat.config import ConfigError, load_settings

F = TypeVar("F", bound=Callable[..., Any])

OUT_OPTION = out_option(
    "Folder to write the registry extract (<table>.csv or .parquet) into.", required=True
)


def output_options(command: F) -> F:
    """`--format` (csv or parquet) then `--json`: the options both import commands end with."""
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print the import report as JSON."
    )(command)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(FORMATS)),
        default="csv",
        show_default=True,
        help="File format of the extract tables.",
    )(command)


def echo_report(report: OmopImportReport | ImportReport, *, as_json: bool) -> None:
    """The import report as JSON (`--json`) or as the report's lines."""
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo("\n".join(report.lines()))


@click.command("import-synthea")
@click.argument("synthea_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@OUT_OPTION
@extract_date_option(
    "Extract date (YYYY-MM-DD); later events are dropped. Default: the export's last date."
)
@output_options
def import_synthea_command(
    synthea_dir: Path, out_dir: Path, extract_date: date | None, fmt: str, as_json: bool
) -> None:
    """Convert a Synthea CSV export (v2 or v3 layout) into registry extracts.

    Prints, per contract table, the rows produced and the source rows dropped or adjusted,
    with the reason. Rules and code mappings: configs/synthea/ and docs/synthea.md.
    """
    try:
        report = import_synthea(
            synthea_dir,
            out_dir=out_dir,
            extract_date=extract_date,
            fmt=fmt,
        )
    except (SyntheaInputError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    echo_report(report, as_json=as_json)


@click.command("import-omop")
@click.argument("source")
@OUT_OPTION
@click.option(
    "--schema",
    default=None,
    help="Database schema holding the CDM tables (database sources only; default: any).",
)
@extract_date_option(
    "Extract date (YYYY-MM-DD); later events are dropped. Default: the instance's last date."
)
@output_options
def import_omop_command(
    source: str,
    out_dir: Path,
    schema: str | None,
    extract_date: date | None,
    fmt: str,
    as_json: bool,
) -> None:
    """Convert an OMOP CDM v5.3 / v5.4 instance into registry extracts.

    SOURCE is a folder of CSV files (tab or comma, with or without a header line, any case of
    file names) or a database URL: duckdb:///relative.duckdb or duckdb:////absolute/cdm.duckdb
    (SQLAlchemy's form), or any SQLAlchemy URL such as
    postgresql://user@host/db (with --schema). Prints, per contract table, the rows produced,
    dropped and adjusted, and the concepts that could not be mapped. Rules and mappings:
    configs/omop/ and docs/omop.md. OMOP holds no identifiers: contacts are placeholders.
    """
    try:
        report = import_omop(
            source,
            out_dir=out_dir,
            extract_date=extract_date,
            earliest_birth=load_settings().ingest.earliest_birth_date,
            fmt=fmt,
            schema=schema,
        )
    except (OmopInputError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    echo_report(report, as_json=as_json)


COMMANDS = [import_synthea_command, import_omop_command]
