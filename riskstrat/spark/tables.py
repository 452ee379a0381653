"""Registry tables on Spark, read from the Parquet layout `riskstrat export` writes.

`register_tables(spark, root=DIR)` reads every contract table from `DIR/<table>/` (Hive
partition folders `practice_code=...`, see riskstrat.registry.export), gives each exactly its
contract columns and types (a partition folder name is dropped where the contract has no such
column), and registers it as a temp view under its own name, which is what the feature and task
SQL read. As on DuckDB (riskstrat.features.runner): an optional table that is absent becomes an
empty view; an absent required table is an error; identifiable tables (contacts) are not
registered as views (feature SQL never reads identifiers) and are read with `read_table` only
for the rows of a practice's own list.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from riskstrat.registry.contract import TABLES, Table
from riskstrat.registry.export import MANIFEST

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Spark SQL type each contract dtype is read as (DuckDB TIMESTAMP is Spark TIMESTAMP_NTZ).
SPARK_TYPES: dict[str, str] = {
    "str": "string",
    "int": "bigint",
    "float": "double",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp_ntz",
}
MISSING_TABLE = (
    "registry table {table!r} not found at {path}, which the Spark engine reads, "
    "write the layout with `riskstrat export --format parquet --out {root}`"
)
MISSING_COLUMN = (
    "registry table {table!r} at {path} has no column {column!r}, "
    "re-export it with `riskstrat export --format parquet`"
)
NO_MANIFEST = (
    "{path} is not a riskstrat Parquet export (no {manifest}), "
    "write one with `riskstrat export --format parquet --out {root}`"
)


def schema_ddl(table: Table) -> str:
    """The table's contract columns as a Spark DDL schema string."""
    return ", ".join(f"`{c.name}` {SPARK_TYPES[c.dtype]}" for c in table.columns)


def read_table(spark: SparkSession, *, root: Path | str, name: str) -> DataFrame:
    """One registry table with exactly its contract columns (empty if an optional one is absent)."""
    table = TABLES[name]
    path = Path(root) / name
    if not path.is_dir():
        if table.required:
            raise ValueError(MISSING_TABLE.format(table=name, path=path, root=root))
        return spark.createDataFrame([], schema_ddl(table))
    frame = spark.read.parquet(str(path))
    present = set(frame.columns)
    for column in table.columns:
        if column.name not in present:
            raise ValueError(MISSING_COLUMN.format(table=name, path=path, column=column.name))
    return frame.selectExpr(
        *(f"CAST(`{c.name}` AS {SPARK_TYPES[c.dtype]}) AS `{c.name}`" for c in table.columns)
    )


def register_tables(spark: SparkSession, *, root: Path | str) -> dict[str, DataFrame]:
    """Every non-identifiable registry table as a temp view named after it; name -> DataFrame."""
    root = Path(root)
    if not (root / MANIFEST).is_file():
        raise ValueError(NO_MANIFEST.format(path=root, manifest=MANIFEST, root=root))
    frames = {}
    for name, table in TABLES.items():
        if table.identifiable:
            continue
        frame = read_table(spark, root=root, name=name)
        frame.createOrReplaceTempView(name)
        frames[name] = frame
    return frames


def export_extract_date(root: Path | str) -> date:
    """The extract date of the export at `root` (its manifest): the labels' horizon."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise ValueError(NO_MANIFEST.format(path=Path(root), manifest=MANIFEST, root=root))
    return date.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["extract_date"])
