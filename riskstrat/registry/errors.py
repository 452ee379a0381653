"""Why an ingest stops: one error type and its message templates (tests check them word for word).

Every message names the file, the column (where there is one) and the rule broken, so the person
who produced the extract knows what to fix without reading code.
"""

from __future__ import annotations

MISSING_TABLE = (
    "{source}: required table {table!r} not found (expected {table}.csv or {table}.parquet); "
    "rule required_table"
)
#: A required table missing while the folder holds a file named like it ("gp_contacts_2025-06.csv",
#: "gp_contacts.csv.gz", "gp_contacts (1).csv"): which file to rename.
MISSING_TABLE_NEAR = (
    "{source}: required table {table!r} not found (expected {table}.csv or {table}.parquet); "
    "rule required_table: the folder has {near}: give the table as {table}.csv (comma-"
    "separated, UTF-8) or {table}.parquet and ingest again"
)
AMBIGUOUS_TABLE = "{source}: table {table!r} given twice ({files}); keep one file per table"
MISSING_COLUMN = "{file}: column {column!r}: rule required_column: the column is missing"
#: A required column missing while the header has names the contract does not know (a renamed
#: column, "dob" or "Date of birth" for date_of_birth): the operator is told what to rename.
RENAMED_COLUMN = (
    "{file}: column {column!r}: rule required_column: the column is missing; the header has "
    "{unknown} instead, which the contract does not know{hint}: name the column {column!r} in "
    "the header line and ingest again"
)
#: The header line is one name holding another separator (a semicolon- or tab-separated export).
WRONG_DELIMITER = (
    "{file}: rule readable: the header line is separated by {delimiter}, not by commas; export "
    "the file as comma-separated CSV (in Excel: Save As 'CSV UTF-8 (Comma delimited)') and "
    "ingest again"
)
#: A returned list saved in a format the ingest cannot read (.xls, .ods, .numbers...).
UNSUPPORTED_FEEDBACK = (
    "{file}: rule readable: a .{fmt} file cannot be read, so nothing in it was used; open it in "
    "Excel, save it as an Excel Workbook (.xlsx) and return it again"
)
DUPLICATE_COLUMN = "{file}: column {column!r}: rule readable: the header names it twice"
EMPTY_HEADER = (
    "{file}: header column {position}: rule readable: the column has no name (a trailing comma "
    "in the header line?); remove the empty column or name it"
)
LINE_TOO_LONG = (
    "{file}: line {line}: rule readable: the line is {size:,} bytes, over ingest.max_line_bytes "
    "({limit:,}); no extract row is that long: fix the export"
)
LINES_LOST = (
    "{file}: rule all_lines_read: {records:,} data lines in the file but {rows:,} rows read; "
    "{lost:,} line(s) would be lost silently: check the file's quoting and line ends"
)
EMPTY_TABLE = (
    "{file}: table {table!r}: rule not_empty: no rows accepted ({rows:,} read); a required "
    "table cannot be empty: check the export"
)
TABLE_SHRUNK = (
    "{file}: table {table!r}: rule not_shrunk: {rows:,} rows in the file, {previous:,} accepted "
    "from the previous extract {previous_date} ({drop:.1%} fewer, more than "
    "ingest.max_row_drop_share {limit:.0%}); is the file truncated or partial? Export it "
    "again, or if the drop is real raise ingest.max_row_drop_share in configs/riskstrat.yaml"
)
CONTACTS_MISSING = (
    "{file}: table 'contacts': rule contacts_cover_patients: {missing:,} of {patients:,} current "
    "patients ({share:.1%}) have no accepted contacts row (> ingest.contacts_missing_share "
    "{limit:.1%}); see {rejects}"
)
EXTRACT_IN_FUTURE = (
    "{source}: extract date {extract_date}: rule extract_not_in_future: it is after today "
    "({today}) by more than ingest.future_extract_days ({days}); check --extract-date"
)
NOTHING_TO_REPLACE = (
    "{store}: --replace-latest: the store has no extract to replace; ingest without it"
)
REPLACE_TOO_OLD = (
    "{source}: --replace-latest: extract date {extract_date} is older than the extract before "
    "the latest ({previous}); only the newest extract can be replaced"
)
UNREADABLE_FILE = "{file}: rule readable: {problem}"
MALFORMED_LINE = (
    "{file}: line {line}: rule readable: {problem} (the file does not split into the header's "
    "columns; fix the export, e.g. quoting)"
)
#: The malformed line is the file's last and the file does not end with a line break: a copy or
#: an export cut short.
TRUNCATED_FILE = (
    "{file}: line {line}: rule readable: the last line is cut short ({problem}) and the file "
    "does not end with a line break: the file looks truncated; copy or export it again and "
    "ingest again"
)
MISSING_SHEET = (
    "{file}: rule readable: no sheet named {sheet!r} and no sheet with the list's headings "
    "(sheets: {sheets}); return the list as it was sent, with its headings row"
)
UNPARSEABLE_COLUMN = (
    "{file}: column {column!r}: rule type: {bad:,} of {total:,} non-empty values do not parse "
    "as {dtype} (rule mostly_parses); see {rejects}"
)
#: A date column whose unreadable values are month-first (12/31/2024): the values that did
#: parse were read day-first, so they are wrong too (01/02/2024 read as 1 February).
MONTH_FIRST_DATES = (
    "{file}: column {column!r}: rule type: {bad:,} of {total:,} rows have dates that do not "
    "parse, and they are month-first (e.g. {example!r}); dates are read as DD/MM/YYYY or "
    "YYYY-MM-DD, so the month-first dates that did parse were read wrongly too: export the "
    "column as YYYY-MM-DD and ingest again; see {rejects}"
)
TOO_MANY_REJECTS = (
    "{file}: column {column!r}: rule {rule}: {rejected:,} of {rows:,} rows rejected "
    "({share:.1%} > max_reject_share {limit:.1%}); see {rejects}"
)
EXTRACT_OLDER = (
    "{source}: extract date {extract_date} is older than the store's latest extract "
    "{latest} ({store}); an older extract never replaces a newer one (if {latest} was a "
    "mistake, ingest with --replace-latest)"
)
NOT_A_FOLDER = "{source}: rule readable: the source folder does not exist"


class IngestError(ValueError):
    """The extract cannot be ingested; the store is left exactly as it was."""
