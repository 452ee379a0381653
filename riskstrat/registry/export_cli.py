"""`riskstrat export`: the registry as partitioned Parquet, the input of the Spark engine."""

from __future__ import annotations

import time
from pathlib import Path

import click

from riskstrat.cliopts import existing_store, out_option, store_option


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet"]),
    default="parquet",
    show_default=True,
    help="Output format (Parquet folders in the Hive layout, partitioned by practice).",
)
@out_option("Folder to write (replaced whole if it holds an earlier export).", required=True)
@store_option()
def export_command(fmt: str, out_dir: Path, store: Path | None) -> None:
    """Export the registry tables to Parquet folders for the Spark engine (docs/spark.md)."""
    from riskstrat.registry.export import export_parquet

    start = time.perf_counter()
    manifest = export_parquet(store=existing_store(store), out=out_dir)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(
        f"exported {len(manifest['tables'])} tables ({rows} rows, extract "
        f"{manifest['extract_date']}) as {fmt} in {time.perf_counter() - start:.1f} s -> {out_dir}"
    )


COMMANDS = [export_command]
