"""Why an ingest stops: one error type and its message templates (tests check them word for word).

Every message names the file, the column (where there is one) and the rule broken, so the person
who produced the extract knows what to fix without reading code.
"""

from __future__ import annotations

MISSING_TABLE = (
    "{source}: required table {table!r} not found (expected {table}.csv or {table}.parquet); "
    "rule required_table"
)
AMBIGUOUS_TABLE = "{source}: table {table!r} given twice ({files}); keep one file per table"
MISSING_COLUMN = "{file}: column {column!r}: rule required_column: the column is missing"
DUPLICATE_COLUMN = "{file}: column {column!r}: rule readable: the header names it twice"
UNREADABLE_FILE = "{file}: rule readable: {problem}"
MALFORMED_LINE = (
    "{file}: line {line}: rule readable: {problem} (the file does not split into the header's "
    "columns; fix the export, e.g. quoting)"
)
MISSING_SHEET = "{file}: rule readable: no sheet named {sheet!r} (sheets: {sheets})"
UNPARSEABLE_COLUMN = (
    "{file}: column {column!r}: rule type: {bad:,} of {total:,} non-empty values do not parse "
    "as {dtype} (rule mostly_parses); see {rejects}"
)
TOO_MANY_REJECTS = (
    "{file}: column {column!r}: rule {rule}: {rejected:,} of {rows:,} rows rejected "
    "({share:.1%} > max_reject_share {limit:.1%}); see {rejects}"
)
EXTRACT_OLDER = (
    "{source}: extract date {extract_date} is older than the store's latest extract "
    "{latest} ({store}); an older extract never replaces a newer one"
)
NOT_A_FOLDER = "{source}: rule readable: the source folder does not exist"


class IngestError(ValueError):
    """The extract cannot be ingested; the store is left exactly as it was."""
