"""Reading extract files into DuckDB as they are: one raw relation per table.

A raw relation has `_file` (index of the file in `RawTable.files`), `_row` (1-based data row in
that file) and the contract's columns in contract order. CSV and XLSX values arrive as text
(VARCHAR) and are parsed later in SQL; Parquet columns keep their stored type, which validation
uses as is when it already matches. Headers are matched case-insensitively after trimming spaces
and a UTF-8 byte-order mark.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa

from riskstrat.db import fetch_one
from riskstrat.registry.contract import TABLES, Table
from riskstrat.registry.errors import (
    AMBIGUOUS_TABLE,
    DUPLICATE_COLUMN,
    MALFORMED_LINE,
    MISSING_COLUMN,
    MISSING_SHEET,
    MISSING_TABLE,
    NOT_A_FOLDER,
    UNREADABLE_FILE,
    IngestError,
)

FORMATS = ("csv", "parquet")
FEEDBACK_DIR = "feedback"
FEEDBACK_TABLE = "outreach_outcomes"
FEEDBACK_SHEET = "list"
FEEDBACK_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class SourceFile:
    path: Path
    table: str
    fmt: str  # csv | parquet | xlsx
    feedback: bool = False  # a practice's returned list: rows with an empty outcome are skipped

    @property
    def label(self) -> str:
        """Name used in rejects files: the path relative to the source folder."""
        return f"{FEEDBACK_DIR}/{self.path.name}" if self.feedback else self.path.name


@dataclass
class RawTable:
    """A table's raw relation in the work database and what reading it found."""

    table: str
    relation: str
    files: list[SourceFile]
    types: dict[str, str]  # contract column -> DuckDB type of the raw column
    warnings: list[str] = field(default_factory=list)
    skipped_blank: int = 0  # feedback rows without an outcome (not feedback, skipped)
    scratch: list[str] = field(default_factory=list)  # tables holding CSV/XLSX text

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Free the raw relation and the text tables behind it."""
        con.execute(f"DROP VIEW IF EXISTS {self.relation}")
        for name in self.scratch:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def locate(source_dir: Path) -> dict[str, list[SourceFile]]:
    """The files of each table present in `source_dir` (feedback files join outreach_outcomes)."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise IngestError(NOT_A_FOLDER.format(source=source_dir))
    found: dict[str, list[SourceFile]] = {}
    for name, table in TABLES.items():
        files = [source_dir / f"{name}.{fmt}" for fmt in FORMATS]
        files = [f for f in files if f.is_file()]
        if len(files) > 1:
            raise IngestError(
                AMBIGUOUS_TABLE.format(
                    source=source_dir, table=name, files=", ".join(f.name for f in files)
                )
            )
        if not files and table.required:
            raise IngestError(MISSING_TABLE.format(source=source_dir, table=name))
        found[name] = [SourceFile(f, name, f.suffix[1:]) for f in files]
    feedback = source_dir / FEEDBACK_DIR
    if feedback.is_dir():
        found[FEEDBACK_TABLE] += [
            SourceFile(p, FEEDBACK_TABLE, p.suffix[1:].lower(), feedback=True)
            for p in sorted(feedback.iterdir())
            if p.is_file()
            and p.suffix[1:].lower() in FEEDBACK_FORMATS
            and not p.name.startswith(("~$", "."))  # Excel lock files, hidden files
        ]
    return found


def normalise_header(name: object) -> str:
    return str(name or "").replace("\ufeff", "").strip().lower()


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_header(file: SourceFile, header: list[str], table: Table) -> list[str]:
    """Raise for a repeated or missing required column; return warnings for the rest."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise IngestError(DUPLICATE_COLUMN.format(file=file.path, column=name))
        seen.add(name)
    for col in table.columns:
        if col.required and col.name not in seen:
            raise IngestError(MISSING_COLUMN.format(file=file.path, column=col.name))
    warnings = [
        f"{file.path}: optional column {c.name!r} absent (read as empty)"
        for c in table.columns
        if c.name not in seen
    ]
    extra = [h for h in header if h not in table.column_names]
    if extra and not file.feedback:
        warnings.append(f"{file.path}: {len(extra)} column(s) not in the contract ignored: {extra}")
    return warnings


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader(fh), [])
    except UnicodeDecodeError as exc:
        raise IngestError(UNREADABLE_FILE.format(file=path, problem=f"not UTF-8 ({exc})")) from exc
    return [normalise_header(h) for h in first]


def _load_csv(con: duckdb.DuckDBPyConnection, file: SourceFile, *, name: str) -> list[str]:
    """Read a CSV, every column as VARCHAR, into table `name` (file order kept: rowid = row - 1)."""
    header = _csv_header(file.path)
    columns = "{" + ", ".join(f"{_sql_str(h)}: 'VARCHAR'" for h in header) + "}"
    try:
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv({_sql_str(str(file.path))}, "
            f"header = true, columns = {columns}, auto_detect = false, delim = ',', "
            "quote = '\"', escape = '\"', strict_mode = true, ignore_errors = true, "
            f"store_rejects = true, rejects_table = '{name}_err', rejects_scan = '{name}_scan')"
        )
    except duckdb.Error as exc:
        raise IngestError(UNREADABLE_FILE.format(file=file.path, problem=exc)) from exc
    bad = fetch_one(con, f"SELECT line, error_message FROM {name}_err ORDER BY line LIMIT 1")
    if bad:
        raise IngestError(MALFORMED_LINE.format(file=file.path, line=bad[0], problem=bad[1]))
    return header


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _load_xlsx(
    con: duckdb.DuckDBPyConnection, file: SourceFile, *, name: str, table: Table
) -> list[str]:
    """Read sheet `list` of a returned practice workbook into table `name` (all VARCHAR).

    The header is the first row holding every contract column (title rows above it are skipped);
    `_row` counts data rows after the header, as for CSV.
    """
    try:
        book = openpyxl.load_workbook(file.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise IngestError(UNREADABLE_FILE.format(file=file.path, problem=exc)) from exc
    try:
        if FEEDBACK_SHEET not in book.sheetnames:
            raise IngestError(
                MISSING_SHEET.format(file=file.path, sheet=FEEDBACK_SHEET, sheets=book.sheetnames)
            )
        rows = book[FEEDBACK_SHEET].iter_rows(values_only=True)
        wanted = set(table.column_names)
        header: list[str] = []
        for row in rows:
            names = [normalise_header(v) for v in row]
            if wanted <= set(names):
                header = names
                break
        if not header:
            missing = table.column_names[0]
            raise IngestError(MISSING_COLUMN.format(file=file.path, column=missing))
        index = {h: i for i, h in enumerate(header) if h in wanted}
        data: dict[str, list[str | None]] = {c: [] for c in table.column_names}
        for row in rows:
            for col, i in index.items():
                data[col].append(_cell_text(row[i]) if i < len(row) else None)
    finally:
        book.close()
    arrow = pa.table({c: pa.array(v, type=pa.string()) for c, v in data.items()})
    con.register(f"{name}_arrow", arrow)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")
    return list(table.column_names)


def _parquet_header(
    con: duckdb.DuckDBPyConnection, file: SourceFile
) -> tuple[dict[str, str], dict[str, str]]:
    """Normalised name -> stored name, and normalised name -> DuckDB type, of a Parquet file."""
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({_sql_str(str(file.path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise IngestError(UNREADABLE_FILE.format(file=file.path, problem=exc)) from exc
    names = {normalise_header(n): n for n, *_ in described}
    if len(names) < len(described):
        seen: set[str] = set()
        for n, *_ in described:
            if normalise_header(n) in seen:
                raise IngestError(DUPLICATE_COLUMN.format(file=file.path, column=n))
            seen.add(normalise_header(n))
    types = {normalise_header(n): t for n, t, *_ in described}
    return names, types


def load_raw(con: duckdb.DuckDBPyConnection, table: Table, files: list[SourceFile]) -> RawTable:
    """Create view `raw_<table>` over the table's files: `_file`, `_row`, contract columns."""
    relation = f"raw_{table.name}"
    parts: list[str] = []
    warnings: list[str] = []
    types: dict[str, str] = {c.name: "VARCHAR" for c in table.columns}
    skipped = 0
    for i, file in enumerate(files):
        name = f"src_{table.name}_{i}"
        if file.fmt == "parquet":
            stored, ptypes = _parquet_header(con, file)
            warnings += _check_header(file, list(stored), table)
            if len(files) == 1:
                types = {c: ptypes.get(c, "VARCHAR") for c in types}
            cols = [
                (_ident(stored[c.name]) if c.name in stored else "NULL")
                + ("" if len(files) == 1 and c.name in stored else "::VARCHAR")
                + f" AS {_ident(c.name)}"
                for c in table.columns
            ]
            parts.append(
                f"SELECT {i}::SMALLINT AS _file, file_row_number + 1 AS _row, "
                f"{', '.join(cols)} FROM read_parquet({_sql_str(str(file.path))}, "
                "file_row_number = true)"
            )
            continue
        if file.fmt == "csv":
            header = _load_csv(con, file, name=name)
        else:
            header = _load_xlsx(con, file, name=name, table=table)
        warnings += _check_header(file, header, table)
        cols = [
            (_ident(c.name) if c.name in header else "NULL::VARCHAR") + f" AS {_ident(c.name)}"
            for c in table.columns
        ]
        where = ""
        if file.feedback:
            where = " WHERE NULLIF(trim(outcome), '') IS NOT NULL"
            (blank,) = con.execute(
                f"SELECT count(*) FROM {name} WHERE NULLIF(trim(outcome), '') IS NULL"
            ).fetchall()[0]
            skipped += blank
        parts.append(
            f"SELECT * FROM (SELECT {i}::SMALLINT AS _file, rowid + 1 AS _row, "
            f"{', '.join(cols)} FROM {name}){where}"
        )
    if not parts:
        cols = ", ".join(f"NULL::VARCHAR AS {_ident(c.name)}" for c in table.columns)
        parts.append(f"SELECT NULL::SMALLINT AS _file, NULL::BIGINT AS _row, {cols} LIMIT 0")
    con.execute(f"CREATE VIEW {relation} AS " + " UNION ALL ".join(parts))
    scratch = [f"src_{table.name}_{i}" for i, f in enumerate(files) if f.fmt != "parquet"]
    return RawTable(table.name, relation, files, types, warnings, skipped, scratch)
