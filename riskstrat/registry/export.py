"""Export the registry to a partitioned Parquet layout: the input of the Spark engine.

`export_parquet(store=..., out=...)` writes each registry table of the DuckDB store as a folder
of Parquet files, `OUT/<table>/`, in the Hive layout Spark and DuckDB both read:

- `patients` and every patient-keyed table (conditions, spells, ..., contacts) are partitioned
  by the patient's practice: `OUT/spells/practice_code=A81001/data_0.parquet`. A cluster then
  reads one practice's rows from one folder, and the identifiable `contacts` of a practice sit
  in that practice's folder only. For tables other than `patients` the `practice_code` folder
  name is layout, not a column: riskstrat.spark.tables drops it on reading.
- `practices` and the store's `extracts` history are single files.
- A table without rows is one empty Parquet file that still carries the schema.

`OUT/export.json` records the extract date, the layout and rows per table. The export is built
in a folder beside OUT and swapped in whole: a reader sees the old export or the new one.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import date
from pathlib import Path

import duckdb

from riskstrat.registry.contract import TABLES
from riskstrat.registry.store import EXTRACTS, connect

MANIFEST = "export.json"
PARTITION_COLUMN = "practice_code"
NOT_AN_EXPORT = (
    "{path} exists and is not a riskstrat export (no {manifest}), "
    "choose an empty or new folder for --out"
)
NO_EXTRACT = "store {path} has no ingested extract, run `riskstrat ingest` first"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _partitioned(name: str) -> bool:
    return name != "practices" and "patient_id" in TABLES[name].column_names


def _write_table(con: duckdb.DuckDBPyConnection, name: str, folder: Path) -> int:
    columns = ", ".join(f"t.{c}" for c in TABLES[name].column_names)
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    folder.mkdir(parents=True)
    if not _partitioned(name) or rows == 0:
        con.execute(
            f"COPY (SELECT {columns} FROM {name} AS t) TO "
            f"{_quote(folder / 'data_0.parquet')} (FORMAT parquet)"
        )
        return rows
    if name == "patients":
        query = f"SELECT {columns} FROM patients AS t"
    else:
        query = (
            f"SELECT {columns}, p.{PARTITION_COLUMN} FROM {name} AS t "
            f"LEFT JOIN patients AS p ON p.patient_id = t.patient_id"
        )
    con.execute(
        f"COPY ({query}) TO {_quote(folder)} "
        f"(FORMAT parquet, PARTITION_BY ({PARTITION_COLUMN}), OVERWRITE_OR_IGNORE)"
    )
    return rows


def export_parquet(*, store: Path, out: Path) -> dict:
    """Write every registry table of `store` under `out` (swapped in whole); the manifest."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ValueError(NOT_AN_EXPORT.format(path=out, manifest=MANIFEST))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:12]}"
    tables: dict[str, dict] = {}
    try:
        with connect(store, read_only=True) as con:
            present = {
                r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            if EXTRACTS not in present:
                raise ValueError(NO_EXTRACT.format(path=store))
            extract_date: date | None = con.execute(
                f"SELECT max(extract_date) FROM {EXTRACTS}"
            ).fetchall()[0][0]
            if extract_date is None:
                raise ValueError(NO_EXTRACT.format(path=store))
            for name in TABLES:
                if name in present:
                    rows = _write_table(con, name, partial / name)
                    tables[name] = {"rows": rows, "partitioned": _partitioned(name) and rows > 0}
            (partial / EXTRACTS).mkdir()
            con.execute(
                f"COPY {EXTRACTS} TO {_quote(partial / EXTRACTS / 'data_0.parquet')} "
                "(FORMAT parquet)"
            )
        manifest = {
            "format": "parquet",
            "layout": "hive",
            "partition_column": PARTITION_COLUMN,
            "extract_date": extract_date.isoformat(),
            "tables": tables,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _swap(partial, out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return manifest


def _swap(partial: Path, out: Path) -> None:
    """Put `partial` at `out`; an existing export is moved aside first, then removed."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
        out.rename(old)
    partial.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
