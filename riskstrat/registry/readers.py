"""Reading extract files into DuckDB as they are: one raw relation per table.

A raw relation has `_file` (index of the file in `RawTable.files`), `_row` (1-based data row in
that file) and the contract's columns in contract order; outreach_outcomes also has `_practice`
(the practice that returned the row, NULL when unknown). CSV and XLSX values arrive as text
(VARCHAR) and are parsed later in SQL; Parquet columns keep their stored type, which validation
uses as is when it already matches. Headers are matched case-insensitively after trimming spaces
and a UTF-8 byte-order mark; a returned list's headings may also be the practice-facing ones
(FEEDBACK_HEADINGS).

Every CSV file's records are counted independently (`riskstrat.registry.lines`): a line over
`ingest.max_line_bytes` or a line DuckDB would drop silently stops the ingest. A returned
feedback file that cannot be read never stops the ingest: it is set aside (`RawTable.set_aside`)
and reported to its practice.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa

from riskstrat.db import fetch_value
from riskstrat.registry.contract import (
    FEEDBACK_HEADINGS,
    FEEDBACK_META_SHEET,
    FEEDBACK_PRACTICE_COLUMN,
    TABLES,
    Table,
)
from riskstrat.registry.errors import (
    AMBIGUOUS_TABLE,
    DUPLICATE_COLUMN,
    EMPTY_HEADER,
    LINE_TOO_LONG,
    LINES_LOST,
    MALFORMED_LINE,
    MISSING_COLUMN,
    MISSING_SHEET,
    MISSING_TABLE,
    MISSING_TABLE_NEAR,
    NOT_A_FOLDER,
    RENAMED_COLUMN,
    TRUNCATED_FILE,
    UNREADABLE_FILE,
    UNSUPPORTED_FEEDBACK,
    WRONG_DELIMITER,
    IngestError,
)
from riskstrat.registry.lines import scan_csv

FORMATS = ("csv", "parquet")
FEEDBACK_DIR = "feedback"
FEEDBACK_TABLE = "outreach_outcomes"
FEEDBACK_SHEET = "list"
FEEDBACK_FORMATS = ("csv", "xlsx")
#: Spreadsheet formats a practice may return that cannot be read: set aside and told (they were
#: ignored without a word: a list saved as .xls by Excel simply never counted).
FEEDBACK_UNREADABLE_FORMATS = ("xls", "xlsm", "xlsb", "ods", "numbers", "tsv", "txt")
#: Separators a header line may hold instead of commas, as the operator is told.
OTHER_DELIMITERS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}
PRACTICE = "_practice"  # raw column: the practice a returned row belongs to (NULL: unknown)
#: A returned list's heading (lower case) -> contract column.
HEADING_COLUMNS: dict[str, str] = {h.lower(): c for c, h in FEEDBACK_HEADINGS.items()}
NO_PRACTICE = (
    "{file}: the returned file names no practice (no {meta!r} sheet, practice_code column or "
    "feedback/<practice>/ folder): each row is applied to its patient's own practice only; "
    "ask the practice to return the current list format"
)
SET_ASIDE = "{file}: returned file set aside, its rows are not applied: {problem}"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    table: str
    fmt: str  # csv | parquet | xlsx
    feedback: bool = False  # a practice's returned list: rows with an empty outcome are skipped

    @property
    def label(self) -> str:
        """Name used in rejects files: the path relative to the source folder."""
        if not self.feedback:
            return self.path.name
        folder = self.path.parent.name
        inner = f"{folder}/" if folder != FEEDBACK_DIR else ""
        return f"{FEEDBACK_DIR}/{inner}{self.path.name}"


@dataclass(frozen=True)
class SetAside:
    """A returned feedback file that could not be read (reported to its practice)."""

    file: str  # label
    practice: str | None
    rule: str
    problem: str


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
    set_aside: list[SetAside] = field(default_factory=list)  # unreadable returned files
    lines: dict[str, int] = field(default_factory=dict)  # file label -> data records counted

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
    present: dict[str, list[Path]] = {}  # lower-case name -> files (Windows exports any case)
    for path in sorted(source_dir.iterdir()):
        if path.is_file():
            present.setdefault(path.name.lower(), []).append(path)
    for name, table in TABLES.items():
        files = [f for fmt in FORMATS for f in present.get(f"{name}.{fmt}", [])]
        if len(files) > 1:
            raise IngestError(
                AMBIGUOUS_TABLE.format(
                    source=source_dir, table=name, files=", ".join(f.name for f in files)
                )
            )
        if not files and table.required:
            near = [p.name for p in unread_files(source_dir) if p.name.lower().startswith(name)]
            if near:
                raise IngestError(
                    MISSING_TABLE_NEAR.format(
                        source=source_dir, table=name, near=", ".join(map(repr, near))
                    )
                )
            raise IngestError(MISSING_TABLE.format(source=source_dir, table=name))
        found[name] = [SourceFile(f, name, f.suffix[1:].lower()) for f in files]
    feedback = source_dir / FEEDBACK_DIR
    if feedback.is_dir():
        folders = [feedback, *(d for d in sorted(feedback.iterdir()) if d.is_dir())]
        found[FEEDBACK_TABLE] += [
            SourceFile(p, FEEDBACK_TABLE, p.suffix[1:].lower(), feedback=True)
            for folder in folders
            for p in sorted(folder.iterdir())
            if p.is_file()
            and p.suffix[1:].lower() in (*FEEDBACK_FORMATS, *FEEDBACK_UNREADABLE_FORMATS)
            and not p.name.startswith(("~$", "."))  # Excel lock files, hidden files
        ]
    return found


#: What an extract folder may hold besides the tables' files and feedback/ without a word.
QUIET_FILES = (".md", ".txt", ".json", ".log", ".pdf")
UNREAD_FILE = (
    "{file}: file not read: its name is not a table's ({table_names}, as .csv or .parquet); if "
    "it holds a table, rename it"
)


def unread_files(source_dir: Path) -> list[Path]:
    """Files of the extract folder that no table reads (a dated or copied name, "spells (1).csv",
    "gp_contacts.csv.gz"), besides hidden files and notes: before, they were ignored without a
    word (or a missing table was reported with no hint that its file was there, renamed)."""
    names = {f"{t}.{fmt}" for t in TABLES for fmt in FORMATS}
    return [
        p
        for p in sorted(Path(source_dir).iterdir())
        if p.is_file()
        and p.name.lower() not in names
        and not p.name.startswith((".", "~$"))
        and not p.name.lower().endswith(QUIET_FILES)
    ]


def normalise_header(name: object) -> str:
    return str(name or "").replace("\ufeff", "").strip().lower()


def feedback_column(name: object) -> str:
    """A returned list's header cell -> contract column (its name or its heading)."""
    text = normalise_header(name)
    return HEADING_COLUMNS.get(text, text)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_header(file: SourceFile, header: list[str], table: Table) -> list[str]:
    """Raise for a repeated or missing required column; return warnings for the rest."""
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name and not file.feedback:
            raise IngestError(EMPTY_HEADER.format(file=file.path, position=position))
        counted = not file.feedback or name in (*table.column_names, FEEDBACK_PRACTICE_COLUMN)
        if name and name in seen and counted:  # a returned list may repeat columns we ignore
            raise IngestError(DUPLICATE_COLUMN.format(file=file.path, column=name))
        seen.add(name)
    for col in table.columns:
        if col.required and col.name not in seen:
            raise IngestError(missing_column(file, header, table=table, column=col.name))
    warnings = [
        f"{file.path}: optional column {c.name!r} absent (read as empty)"
        for c in table.columns
        if c.name not in seen
    ]
    extra = [h for h in header if h and h not in table.column_names]
    if extra and not file.feedback:
        warnings.append(f"{file.path}: {len(extra)} column(s) not in the contract ignored: {extra}")
    return warnings


def missing_column(file: SourceFile, header: list[str], *, table: Table, column: str) -> str:
    """Why a required column is missing, and what to do: a header in one piece holding another
    separator is a semicolon- or tab-separated file; a header name the contract does not know is
    most likely the column renamed (named, with the closest one). A returned list keeps its many
    other columns (rank, name, notes...), so only a close name is offered there."""
    names = [h for h in header if h]
    if len(names) == 1:
        for delimiter, said in OTHER_DELIMITERS.items():
            if delimiter in names[0]:
                return WRONG_DELIMITER.format(file=file.path, delimiter=said)
    known = {*table.column_names, FEEDBACK_PRACTICE_COLUMN}
    unknown = [h for h in names if h not in known]
    shape = {re.sub(r"[^a-z0-9]+", "_", h).strip("_"): h for h in unknown}
    close = [shape[c] for c in difflib.get_close_matches(column, list(shape), n=1, cutoff=0.5)]
    if file.feedback:
        unknown = close
    if not unknown:
        return MISSING_COLUMN.format(file=file.path, column=column)
    hint = f" ({close[0]!r} looks like it)" if close and len(unknown) > 1 else ""
    return RENAMED_COLUMN.format(
        file=file.path, column=column, unknown=", ".join(map(repr, unknown)), hint=hint
    )


def _csv_header(file: SourceFile) -> list[str]:
    try:
        with file.path.open(encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader(fh), [])
    except UnicodeDecodeError as exc:
        raise IngestError(
            UNREADABLE_FILE.format(file=file.path, problem=f"not UTF-8 ({exc})")
        ) from exc
    except csv.Error as exc:
        raise IngestError(UNREADABLE_FILE.format(file=file.path, problem=exc)) from exc
    name = feedback_column if file.feedback else normalise_header
    return [name(h) for h in first]


def _load_csv(
    con: duckdb.DuckDBPyConnection, file: SourceFile, *, name: str, table: Table, max_line: int
) -> tuple[list[str], int]:
    """Read a CSV, every column as VARCHAR, into table `name` (file order kept: rowid = row - 1).

    Returns the header and the number of data records counted in the file; raises when a line
    is too long, malformed, or would be dropped.
    """
    header = _csv_header(file)
    _check_header(file, header, table)  # before DuckDB sees an empty or repeated name
    scan = scan_csv(file.path, max_record_bytes=max_line)
    if scan.too_long:
        line, size = scan.too_long[0]
        raise IngestError(
            LINE_TOO_LONG.format(file=file.path, line=line, size=size, limit=max_line)
        )
    # Columns DuckDB reads: an unnamed trailing column of a returned list is read and ignored.
    names = [h or f"_unnamed_{i}" for i, h in enumerate(header)]
    columns = "{" + ", ".join(f"{_sql_str(h)}: 'VARCHAR'" for h in names) + "}"
    buffer = max(4 * (int(max_line) + 2), 1 << 25)
    try:
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv({_sql_str(str(file.path))}, "
            f"header = true, columns = {columns}, auto_detect = false, delim = ',', "
            "quote = '\"', escape = '\"', strict_mode = true, ignore_errors = true, "
            f"max_line_size = {int(max_line) + 2}, buffer_size = {buffer}, "
            f"store_rejects = true, rejects_table = '{name}_err', rejects_scan = '{name}_scan')"
        )
    except duckdb.Error as exc:
        raise IngestError(UNREADABLE_FILE.format(file=file.path, problem=exc)) from exc
    bad = con.execute(
        f"SELECT line, error_message FROM {name}_err ORDER BY line LIMIT 1"
    ).fetchall()
    if bad:
        line, problem = bad[0]
        if line == scan.data_records + 1 and not _ends_with_line_break(file.path):
            raise IngestError(TRUNCATED_FILE.format(file=file.path, line=line, problem=problem))
        raise IngestError(MALFORMED_LINE.format(file=file.path, line=line, problem=problem))
    rows = int(fetch_value(con, f"SELECT count(*) FROM {name}"))
    if rows != scan.data_records:
        raise IngestError(
            LINES_LOST.format(
                file=file.path,
                records=scan.data_records,
                rows=rows,
                lost=scan.data_records - rows,
            )
        )
    return header, scan.data_records


def _ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if not fh.tell():
            return True
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def _plain_csv(file: SourceFile) -> bool:
    """A returned CSV in the list format (UTF-8, headings on line 1), read like an extract."""
    try:
        return "patient_id" in _csv_header(file)
    except IngestError:
        return False


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


@dataclass
class Sheet:
    """A returned workbook read into columns of text."""

    header: list[str]
    columns: dict[str, list[str | None]]
    meta: dict[str, str]
    #: The sheet row (1-based, as the spreadsheet shows it) of the heading row: data row i is
    #: sheet row header_row + i, the number a practice's rejects name.
    header_row: int = 0


def _meta(book: openpyxl.Workbook) -> dict[str, str]:
    """Key -> value from the hidden FEEDBACK_META_SHEET (column A keys, column B values)."""
    if FEEDBACK_META_SHEET not in book.sheetnames:
        return {}
    meta = {}
    for row in book[FEEDBACK_META_SHEET].iter_rows(values_only=True):
        if len(row) >= 2 and row[0] is not None and row[1] is not None:
            meta[normalise_header(row[0])] = (_cell_text(row[1]) or "").strip()
    return meta


def read_sheet(path: Path, *, table: Table) -> Sheet:
    """Sheet FEEDBACK_SHEET of a returned workbook: the heading row is the first row naming
    patient_id (by name or heading), title rows above it are skipped; only the contract's
    columns and practice_code are kept. Dates come as ISO text."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise IngestError(UNREADABLE_FILE.format(file=path, problem=exc)) from exc
    try:
        if FEEDBACK_SHEET in book.sheetnames:
            rows = book[FEEDBACK_SHEET].iter_rows(min_row=1, values_only=True)
            return _sheet(path, rows, table=table, meta=_meta(book))
        # The rows pasted into a new workbook, or the sheet renamed: the sheet with the headings.
        for name in book.sheetnames:
            if name == FEEDBACK_META_SHEET:
                continue
            try:
                rows = book[name].iter_rows(min_row=1, values_only=True)
                return _sheet(path, rows, table=table, meta=_meta(book))
            except IngestError:
                continue
        raise IngestError(
            MISSING_SHEET.format(file=path, sheet=FEEDBACK_SHEET, sheets=book.sheetnames)
        )
    finally:
        book.close()


def read_text_sheet(path: Path, *, table: Table) -> Sheet:
    """A returned list that Excel saved as CSV: the sheet's title rows above the headings, the
    Windows code page ("CSV (Comma delimited)") rather than UTF-8, and a semicolon where the
    computer's list separator is one. Read like the workbook it came from (rows numbered as the
    spreadsheet shows them); before, such a file was set aside whole ("column 'patient_id' is
    missing" or "not UTF-8")."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    heading = next((line for line in lines if "patient" in line.lower()), "")
    delimiter = max((",", *OTHER_DELIMITERS), key=heading.count)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _sheet(path, (tuple(r) for r in rows), table=table, meta={})


def _sheet(path: Path, rows: Iterator[tuple], *, table: Table, meta: dict[str, str]) -> Sheet:
    """The heading row (the first naming patient_id) and the contract's columns under it."""
    header: list[str] = []
    header_row = 0
    for header_row, row in enumerate(rows, start=1):  # noqa: B007 (used after the loop)
        names = [feedback_column(v) for v in row]
        if "patient_id" in names:
            header = names
            break
    if not header:
        raise IngestError(MISSING_COLUMN.format(file=path, column="patient_id"))
    wanted = {*table.column_names, FEEDBACK_PRACTICE_COLUMN}
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in wanted and h not in index:
            index[h] = i
    columns: dict[str, list[str | None]] = {c: [] for c in index}
    for row in rows:
        for col, i in index.items():
            columns[col].append(_cell_text(row[i]) if i < len(row) else None)
    return Sheet(header, columns, meta, header_row)


def _load_sheet(
    con: duckdb.DuckDBPyConnection, file: SourceFile, *, name: str, table: Table
) -> tuple[list[str], int, dict[str, str], int]:
    """Read a returned workbook (or an Excel-saved CSV of one) into table `name` (all
    VARCHAR); pathway and listed_on left blank in a row are taken from the hidden practice
    sheet. Returns header, rows, meta and the heading's sheet row (rejects name a row as the
    practice sees it in the spreadsheet)."""
    if file.fmt == "xlsx":
        sheet = read_sheet(file.path, table=table)
    else:
        sheet = read_text_sheet(file.path, table=table)
    n = len(next(iter(sheet.columns.values()), []))
    data = dict(sheet.columns)
    for key in ("pathway", "listed_on"):
        if sheet.meta.get(key):
            values = data.get(key, [None] * n)
            data[key] = [v if (v or "").strip() else sheet.meta[key] for v in values]
    _check_header(file, [*sheet.header, *(k for k in data if k not in sheet.header)], table)
    arrow = pa.table({c: pa.array(v, type=pa.string()) for c, v in data.items()})
    con.register(f"{name}_arrow", arrow)
    try:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")
    return list(data), n, sheet.meta, sheet.header_row


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


def file_practice(file: SourceFile, *, meta: dict[str, str], known: frozenset[str]) -> str | None:
    """The practice a returned file belongs to: its hidden sheet's practice_code, else the
    feedback/<practice>/ folder it sits in, else a file name starting with a known practice code
    (`Z00001_early_intervention.xlsx`); None when the file says nothing."""
    if meta.get(FEEDBACK_PRACTICE_COLUMN):
        return meta[FEEDBACK_PRACTICE_COLUMN].strip().upper()  # ODS codes are upper case
    folder = file.path.parent.name
    if folder != FEEDBACK_DIR and folder in known:
        return folder
    token = re.match(r"[A-Za-z0-9]+", file.path.stem)
    if token and token.group(0).upper() in known:
        return token.group(0).upper()
    return None


def load_raw(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: list[SourceFile],
    *,
    max_line: int,
    known_practices: frozenset[str] = frozenset(),
) -> RawTable:
    """Create view `raw_<table>` over the table's files: `_file`, `_row`, contract columns
    (and `_practice` for outreach_outcomes)."""
    relation = f"raw_{table.name}"
    parts: list[str] = []
    warnings: list[str] = []
    types: dict[str, str] = {c.name: "VARCHAR" for c in table.columns}
    feedback_table = table.name == FEEDBACK_TABLE
    practice_col = [f"NULL::VARCHAR AS {PRACTICE}"] if feedback_table else []
    skipped = 0
    kept: list[SourceFile] = []
    set_aside: list[SetAside] = []
    lines: dict[str, int] = {}
    scratch: list[str] = []
    for file in files:
        i = len(kept)
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
                f"{', '.join(cols + practice_col)} FROM read_parquet({_sql_str(str(file.path))}, "
                "file_row_number = true)"
            )
            kept.append(file)
            continue
        meta: dict[str, str] = {}
        first_row = 1  # the `_row` of the first data row: a CSV counts data rows from 1
        try:
            if file.fmt not in (*FORMATS, *FEEDBACK_FORMATS):
                raise IngestError(UNSUPPORTED_FEEDBACK.format(file=file.path, fmt=file.fmt))
            if file.fmt == "csv" and (not file.feedback or _plain_csv(file)):
                header, records = _load_csv(con, file, name=name, table=table, max_line=max_line)
            else:
                header, records, meta, heading = _load_sheet(con, file, name=name, table=table)
                # A returned sheet's rows are named as the spreadsheet shows them (a nurse
                # opening it finds "row 12" at row 12, under the title rows and headings).
                first_row = heading + 1
            file_warnings = _check_header(file, header, table)
        except IngestError as exc:
            con.execute(f"DROP TABLE IF EXISTS {name}")
            if not file.feedback:
                raise
            practice = file_practice(file, meta=meta, known=known_practices)
            rule = re.search(r"rule (\w+)", str(exc))
            # told to the practice: the file as it knows it, not the server's path
            problem = str(exc).replace(str(file.path), file.label)
            set_aside.append(
                SetAside(file.label, practice, rule.group(1) if rule else "readable", problem)
            )
            warnings.append(SET_ASIDE.format(file=file.path, problem=exc))
            continue
        warnings += file_warnings
        scratch.append(name)
        lines[file.label] = records
        cols = [
            (_ident(c.name) if c.name in header else "NULL::VARCHAR") + f" AS {_ident(c.name)}"
            for c in table.columns
        ]
        where = ""
        if file.feedback:
            practice = file_practice(file, meta=meta, known=known_practices)
            if practice is None and FEEDBACK_PRACTICE_COLUMN not in header:
                warnings.append(NO_PRACTICE.format(file=file.path, meta=FEEDBACK_META_SHEET))
            own = f"upper(NULLIF(trim({_ident(FEEDBACK_PRACTICE_COLUMN)}), ''))"
            fallback = _sql_str(practice) if practice is not None else "NULL"
            claim = (
                f"coalesce({own}, {fallback})" if FEEDBACK_PRACTICE_COLUMN in header else fallback
            )
            cols.append(f"{claim}::VARCHAR AS {PRACTICE}")
            # A row is feedback when it has an outcome, or a Contacted on date without one (the
            # practice acted and left the outcome out: rejected as `not_null` and told back,
            # where it used to be skipped as not yet acted on).
            acted = "NULLIF(trim(outcome), '') IS NOT NULL"
            if "contacted_on" in header:
                acted += " OR NULLIF(trim(contacted_on), '') IS NOT NULL"
            where = f" WHERE {acted}"
            skipped += int(fetch_value(con, f"SELECT count(*) FROM {name} WHERE NOT ({acted})"))
        else:
            cols += practice_col
        parts.append(
            f"SELECT * FROM (SELECT {i}::SMALLINT AS _file, rowid + {first_row} AS _row, "
            f"{', '.join(cols)} FROM {name}){where}"
        )
        kept.append(file)
    if not parts:
        cols = ", ".join(f"NULL::VARCHAR AS {_ident(c.name)}" for c in table.columns)
        cols += "".join(f", {c}" for c in practice_col)
        parts.append(f"SELECT NULL::SMALLINT AS _file, NULL::BIGINT AS _row, {cols} LIMIT 0")
    con.execute(f"CREATE VIEW {relation} AS " + " UNION ALL ".join(parts))
    raw = RawTable(table.name, relation, kept, types, warnings, skipped, scratch)
    raw.set_aside, raw.lines = set_aside, lines
    return raw
