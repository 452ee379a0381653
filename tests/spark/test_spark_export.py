"""`riskstrat export --format parquet`: the registry as Hive-partitioned Parquet folders, read
back by DuckDB (no Spark needed) and by riskstrat.spark.tables on a real local Spark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from riskstrat.cli import main
from riskstrat.registry.contract import TABLES
from riskstrat.registry.export import MANIFEST, NOT_AN_EXPORT, export_parquet
from riskstrat.registry.store import connect


def test_export_round_trips_every_table(small_store: Path, spark_export: Path) -> None:
    """Every registry table comes back with the store's rows and exactly its contract columns;
    patient tables (contacts included) sit in one folder per practice."""
    manifest = json.loads((spark_export / MANIFEST).read_text())
    reader = duckdb.connect()
    with connect(small_store) as con:
        practices = {r[0] for r in con.execute("SELECT practice_code FROM practices").fetchall()}
        for name, table in TABLES.items():
            columns = ", ".join(table.column_names)
            stored = con.execute(f"SELECT {columns} FROM {name} ORDER BY ALL").fetchall()
            source = f"read_parquet('{spark_export / name}/**/*.parquet', hive_partitioning=true)"
            back = reader.execute(f"SELECT {columns} FROM {source} ORDER BY ALL").fetchall()
            assert back == stored, name
            assert manifest["tables"][name]["rows"] == len(stored)
    assert manifest["extract_date"] == "2025-12-28"
    for name in ("patients", "spells", "contacts"):
        folders = {p.name for p in (spark_export / name).iterdir()}
        assert folders == {f"practice_code={code}" for code in practices}, name
    assert (spark_export / "practices" / "data_0.parquet").is_file()
    assert (spark_export / "extracts" / "data_0.parquet").is_file()


def test_export_replaces_an_export_but_refuses_another_folder(
    small_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "registry"
    export_parquet(store=small_store, out=out)
    stale = out / "spells" / "stale.parquet"
    stale.write_bytes(b"")
    export_parquet(store=small_store, out=out)
    assert not stale.exists()
    assert not list(tmp_path.glob(".registry.*"))
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    runner = CliRunner()
    result = runner.invoke(main, ["export", "--out", str(other), "--store", str(small_store)])
    assert result.exit_code == 2
    expected = NOT_AN_EXPORT.format(path=other, manifest=MANIFEST)
    assert result.output.strip() == f"Error: {expected}"
    assert (other / "notes.txt").read_text() == "keep"


def test_export_command(small_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "registry"
    result = CliRunner().invoke(
        main, ["export", "--format", "parquet", "--out", str(out), "--store", str(small_store)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exported 10 tables (")
    assert (out / MANIFEST).is_file()


def test_spark_reads_contract_columns_and_types(spark: Any, registry: Path) -> None:
    from riskstrat.spark.tables import SPARK_TYPES, export_extract_date, read_table

    for name, table in TABLES.items():
        frame = read_table(spark, root=registry, name=name)
        assert frame.dtypes == [(c.name, SPARK_TYPES[c.dtype]) for c in table.columns], name
    assert spark.table("patients").count() == 6000
    assert not spark.catalog.tableExists("contacts")  # identifiers never become a view
    assert str(export_extract_date(registry)) == "2025-12-28"


def test_missing_tables(spark: Any, spark_export: Path, tmp_path: Path) -> None:
    """An absent optional table is an empty view; an absent required one is a one-line error."""
    import shutil

    from riskstrat.spark.tables import MISSING_TABLE, NO_MANIFEST, register_tables

    root = tmp_path / "registry"
    shutil.copytree(spark_export, root)
    shutil.rmtree(root / "observations")
    register_tables(spark, root=root)
    assert spark.table("observations").count() == 0
    shutil.rmtree(root / "spells")
    with pytest.raises(ValueError) as error:
        register_tables(spark, root=root)
    assert str(error.value) == MISSING_TABLE.format(table="spells", path=root / "spells", root=root)
    with pytest.raises(ValueError) as error:
        register_tables(spark, root=tmp_path)
    assert str(error.value) == NO_MANIFEST.format(path=tmp_path, manifest=MANIFEST, root=tmp_path)
