"""Table-level checks run after a table's rows are validated: emptiness, contacts coverage,
freshness, and the per-practice report of rejected feedback.

Each returns warnings or raises IngestError (messages in `riskstrat.registry.errors`); the SQL is
run on the ingest's work connection against the new store (`db`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from riskstrat.db import fetch_value
from riskstrat.paths import output_path
from riskstrat.registry.contract import TABLES, Table
from riskstrat.registry.errors import CONTACTS_MISSING, EMPTY_TABLE, TABLE_SHRUNK, IngestError
from riskstrat.registry.quality import SUMMARY_JSON, TableReport
from riskstrat.registry.readers import SetAside
from riskstrat.registry.store import ACCUMULATED, FEEDBACK_REJECTS
from riskstrat.registry.validate import DUP_KEY, DUP_ROW, UNREADABLE_RULES, lit, q

STALE_TABLE = (
    "{table}: rule fresh: the latest event is {latest} ({days} days before the extract date "
    "{extract_date}; limit {limit} days, ingest.freshness_days.{table}): is the feed stale?"
)
NO_EVENTS = "{table}: rule fresh: no dated events at all (ingest.freshness_days.{table})"
CONTACTS_GAP = (
    "contacts: {missing:,} of {patients:,} current patients have no accepted contacts row "
    "(rule contacts_cover_patients: within ingest.contacts_missing_share {limit:.1%})"
)
FEEDBACK_OVER_BUDGET = (
    "outreach_outcomes: {rejected:,} of {rows:,} returned feedback rows rejected ({share:.1%} > "
    "ingest.feedback_max_reject_share {limit:.1%}); the extract is ingested anyway, see {rejects}"
)
UNKNOWN_FRESHNESS_TABLE = "ingest.freshness_days: {table!r} is not a table with dated events"
#: Engine table holding the latest ingest's rejected feedback, per practice (replaced each ingest).
FEEDBACK_REJECTS_DDL = f"""CREATE TABLE {{db}}.{FEEDBACK_REJECTS} (
  practice_code VARCHAR,  -- the practice that returned the row (else the patient's practice)
  file VARCHAR,           -- feedback/<file> as in the rejects files
  "row" BIGINT,           -- CSV: data row; workbook: the row the sheet shows (0: whole file)
  "column" VARCHAR,
  value VARCHAR,
  rule VARCHAR
)"""
UNKNOWN_PRACTICE = "_unknown"


SAME_FILES = (
    "{source}: rule new_extract: the registry files are byte for byte those of the extract "
    "dated {previous} (ingested {ingested_at:%Y-%m-%d %H:%M}), now ingested as {extract_date}: "
    "was the new extract copied in? Lists made from it miss everything since {previous}; copy "
    "the new extract in and ingest again"
)


def same_registry_files(
    latest: dict | None, *, registry_hash: str, source: Path, extract_date: dt.date
) -> list[str]:
    """A warning when the registry files are exactly those of the store's latest extract under
    another date: the feed was not refreshed, and the extract date claims data it does not have
    (a week-old copy passed every freshness limit of 14 days and more without a word). The
    latest extract's registry hash is read from its summary.json (absent before stop 28)."""
    if not latest or latest["extract_date"] == extract_date or not latest.get("report_dir"):
        return []
    try:
        path = Path(latest["report_dir"]) / SUMMARY_JSON
        previous = json.loads(path.read_text(encoding="utf-8")).get("registry_hash")
    except (OSError, ValueError, AttributeError):  # no summary (removed or damaged): no check
        return []
    if previous != registry_hash:
        return []
    return [
        SAME_FILES.format(
            source=source,
            previous=latest["extract_date"],
            ingested_at=latest["ingested_at"],
            extract_date=extract_date,
        )
    ]


#: A date written month-first that cannot be day-first: the second number is 13 to 31.
MONTH_FIRST = r"(0?[1-9]|1[0-2])/(1[3-9]|2[0-9]|3[01])/[0-9]{4}([ T].*)?"


def month_first_example(
    con: duckdb.DuckDBPyConnection, *, rejects: str, column: str, file: str
) -> tuple[str | None, int]:
    """A month-first value (12/31/2024) when most of the column's type rejects in `file` are
    month-first, else None: the file is in US date order, and its dates that did parse (the
    12th and before) were silently read day-first. And the number of those type rejects."""
    month_first, total, example = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_full_match(value, {lit(MONTH_FIRST)})), count(*), "
        f"min(value) FILTER (WHERE regexp_full_match(value, {lit(MONTH_FIRST)})) FROM {rejects} "
        f"WHERE rule = 'type' AND \"column\" = {lit(column)} AND file = {lit(file)}"
    ).fetchall()[0]
    return (example if total and month_first * 2 >= total else None), int(total)


def stop_if_empty(table: Table, report: TableReport, *, file: Path | str) -> None:
    """A required table without accepted rows (contract may_be_empty unset) stops the ingest."""
    if table.required and not table.may_be_empty and report.accepted == 0:
        raise IngestError(EMPTY_TABLE.format(file=file, table=table.name, rows=report.rows_read))


#: A previous table smaller than this is not compared (a practice leaving one of five is real).
SHRINK_MIN_ROWS = 100


def stop_if_shrunk(
    table: Table, report: TableReport, *, file: Path | str, previous: dict | None, limit: float
) -> None:
    """A registry table (a full snapshot) whose file holds more than `limit` fewer rows than the
    previous extract accepted stops the ingest: a truncated or partial file (a copy cut off at a
    line end, an export of one month) was accepted without a word and replaced the table, and
    the lists lost the people, admissions and registers it no longer held. `previous`: the extract
    history row (extract_date, table_rows) compared with, None for the first extract. Returned
    feedback accumulates (never compared); an optional table without a file is warned about
    already."""
    if previous is None or table.name == ACCUMULATED or not report.files:
        return
    before = int(previous.get("table_rows", {}).get(table.name) or 0)
    # The rows the file holds (copies counted once), not those accepted: rejected rows are
    # max_reject_share's business (an operator may accept many, as the traversal test does).
    rows = report.rows_read - report.duplicates
    if before < SHRINK_MIN_ROWS or rows >= before * (1 - limit):
        return
    raise IngestError(
        TABLE_SHRUNK.format(
            file=file,
            table=table.name,
            rows=rows,
            previous=before,
            previous_date=previous["extract_date"],
            drop=1 - rows / before,
            limit=limit,
        )
    )


def contacts_coverage(
    con: duckdb.DuckDBPyConnection,
    *,
    db: str,
    limit: float,
    file: Path | str,
    rejects: Path,
) -> list[str]:
    """Current, living patients without an accepted contacts row: a warning, or a stop above
    `limit` (share of those patients)."""
    patients, missing = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE c.patient_id IS NULL) FROM {db}.patients AS p "
        f"LEFT JOIN {db}.contacts AS c USING (patient_id) "
        "WHERE p.registered_to IS NULL AND p.date_of_death IS NULL"
    ).fetchall()[0]
    if not missing:
        return []
    share = missing / patients
    if share > limit:
        raise IngestError(
            CONTACTS_MISSING.format(
                file=file,
                missing=missing,
                patients=patients,
                share=share,
                limit=limit,
                rejects=rejects,
            )
        )
    return [CONTACTS_GAP.format(missing=missing, patients=patients, limit=limit)]


def freshness(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    report: TableReport,
    *,
    db: str,
    extract_date: dt.date,
    limit: int,
) -> list[str]:
    """Record the table's latest event; warn when it is more than `limit` days before the
    extract date (or there are no events)."""
    days = ", ".join(f"max(CAST({q(c)} AS DATE))" for c in table.event_columns)
    latest = fetch_value(con, f"SELECT greatest({days}) FROM {db}.{q(table.name)}")
    if latest is None:
        return [NO_EVENTS.format(table=table.name)]
    report.latest_event = latest.isoformat()
    report.days_before_extract = (extract_date - latest).days
    if report.days_before_extract <= limit:
        return []
    return [
        STALE_TABLE.format(
            table=table.name,
            latest=latest,
            days=report.days_before_extract,
            extract_date=extract_date,
            limit=limit,
        )
    ]


def freshness_tables(limits: dict[str, int]) -> list[str]:
    """Warnings for configured tables that have no dated events."""
    return [
        UNKNOWN_FRESHNESS_TABLE.format(table=name)
        for name in limits
        if name not in TABLES or not TABLES[name].event_columns
    ]


def feedback_budget(report: TableReport, *, limit: float, rejects: Path) -> list[str]:
    """Feedback's own reject budget: exceeding it warns, never stops the ingest."""
    rows = report.rows_read + report.set_aside_files
    rejected = report.rejected + report.set_aside_files
    if not rows or rejected / rows <= limit:
        return []
    return [
        FEEDBACK_OVER_BUDGET.format(
            rejected=rejected, rows=rows, share=rejected / rows, limit=limit, rejects=rejects
        )
    ]


#: A returned list dated after the extract it is ingested with (a list returned before the
#: extract that follows it, read with a re-run's re-ingest of the same extract): its rows are
#: rejected `not_after_extract` now and read again, and taken, with the next extract (returned
#: files stay in feedback/). The practice has nothing to correct, so it is not told (its next
#: lists said "'2025-12-29' breaks rule not_after_extract ... Correct them and return the
#: sheet again"); the operator is told once. A listed_on after today is a slip and is told.
FEEDBACK_WAITING = (
    "returned feedback: {n:,} row(s) of lists dated after the extract date {extract} ({dates}) "
    "wait for the next extract (rule not_after_extract): keep their files in feedback/, every "
    "ingest reads them again; the practices are not asked to correct them"
)


def _waiting(rule: str, column: str, value: str, *, today: dt.date) -> str:
    """SQL: a rejects entry that is a returned list newer than the extract, not a slip."""
    return (
        f"({rule} = 'not_after_extract' AND {column} = 'listed_on' "
        f"AND {value} <= {lit(today.isoformat())})"
    )


def feedback_waiting(
    con: duckdb.DuckDBPyConnection, *, rejects: str, extract_date: dt.date, today: dt.date
) -> list[str]:
    """One warning when returned rows wait for the next extract (FEEDBACK_WAITING)."""
    waiting = _waiting("rule", '"column"', "value", today=today)
    n, dates = con.execute(
        f"SELECT count(DISTINCT (file, row)), string_agg(DISTINCT value, ', ' ORDER BY value) "
        f"FROM {rejects} WHERE {waiting}"
    ).fetchall()[0]
    if not n:
        return []
    return [FEEDBACK_WAITING.format(n=n, extract=extract_date, dates=dates)]


def store_feedback_rejects(
    con: duckdb.DuckDBPyConnection,
    *,
    db: str,
    rejects: str,
    checked: str,
    set_aside: list[SetAside],
    repaired: str | None = None,
    accepted: Table | None = None,
    today: dt.date | None = None,
) -> None:
    """Fill `<db>.feedback_rejects`: each rejected feedback row (and each set-aside file) with
    the practice to tell (the one that returned it, else the patient's practice). repaired: the
    table's repairs relation; its unreadable dates (kept nulled, validate.UNREADABLE_NULLED) are
    told too, so the practice can send the date again. accepted: the feedback table, already
    filled: a slip in a row whose listing (its key) was accepted from another returned file is
    not told (the practice corrected the sheet; a stale copy, "list (1).xlsx", would otherwise
    ask for the correction on every list). Copies and key conflicts are always told. today:
    a returned list dated after the extract but not after today waits for the next extract and
    is not told (FEEDBACK_WAITING)."""
    sources = [rejects]
    if repaired is not None:
        rules = ", ".join(lit(r) for r in UNREADABLE_RULES)
        sources.append(
            f'(SELECT file, row, "column", value, rule, _fi FROM {repaired} '
            f"WHERE rule IN ({rules}))"
        )
    for n, source in enumerate(sources):
        where = ""
        if accepted is not None and accepted.key and n == 0:
            same = " AND ".join(f"o.{q(k)} = c.{q(k)}" for k in accepted.key)
            where = (
                f"WHERE (r.rule IN ({lit(DUP_ROW)}, {lit(DUP_KEY)}) OR NOT EXISTS "
                f"(SELECT 1 FROM {db}.{q(accepted.name)} AS o WHERE {same}))"
            )
        if today is not None and n == 0:
            waiting = _waiting("r.rule", 'r."column"', "r.value", today=today)
            where += f"{' AND' if where else 'WHERE'} NOT {waiting}"
        con.execute(
            f"INSERT INTO {db}.{FEEDBACK_REJECTS} SELECT "
            f'coalesce(c._practice, c._ppr, {lit(UNKNOWN_PRACTICE)}), r.file, r.row, r."column", '
            f"r.value, r.rule FROM {source} AS r LEFT JOIN {checked} AS c "
            f"ON c._file = r._fi AND c._row = r.row {where}"
        )
    for item in set_aside:
        con.execute(
            f"INSERT INTO {db}.{FEEDBACK_REJECTS} VALUES (?, ?, 0, '*', ?, ?)",
            [item.practice or UNKNOWN_PRACTICE, item.file, item.problem, item.rule],
        )


FEEDBACK_NOT_USED = (
    "returned feedback: {n:,} {entries} not used (rows, dates or files; {by}); each practice's "
    "next lists name them; per practice in {folder}"
)


def feedback_not_used(con: duckdb.DuckDBPyConnection, *, db: str, folder: Path) -> list[str]:
    """One warning when any returned row or file could not be used, counted per practice (the
    operator's run output said nothing below the feedback budget)."""
    rows = con.execute(
        f"SELECT practice_code, count(*) FROM {db}.{FEEDBACK_REJECTS} "
        "WHERE rule <> 'duplicate_row' GROUP BY ALL ORDER BY 1"
    ).fetchall()
    if not rows:
        return []
    by = ", ".join(f"{code} {n}" for code, n in rows)
    n = sum(count for _, count in rows)
    entries = "entry" if n == 1 else "entries"
    return [FEEDBACK_NOT_USED.format(n=n, entries=entries, by=by, folder=folder)]


def write_feedback_rejects(
    con: duckdb.DuckDBPyConnection, *, db: str, folder: Path, pattern: str
) -> dict[str, Path]:
    """One CSV per practice (`<folder>/<practice>.csv`: file, row, column, value, rule) from
    `<db>.feedback_rejects`, for sending back; a practice code that is not a valid code goes to
    `_unknown.csv`. Returns practice -> file."""
    codes = [
        c
        for (c,) in con.execute(
            f"SELECT DISTINCT practice_code FROM {db}.{FEEDBACK_REJECTS} ORDER BY 1"
        ).fetchall()
    ]
    written: dict[str, Path] = {}
    for code in codes:
        valid = bool(fetch_value(con, f"SELECT regexp_full_match({lit(code)}, {lit(pattern)})"))
        name = code if valid else UNKNOWN_PRACTICE
        path = output_path(folder, f"{name}.csv")
        folder.mkdir(parents=True, exist_ok=True)
        same = f"practice_code = {lit(code)}"
        if not valid:
            same = f"NOT regexp_full_match(practice_code, {lit(pattern)})"
        con.execute(
            f'COPY (SELECT file, "row", "column", value, rule FROM {db}.{FEEDBACK_REJECTS} '
            f'WHERE {same} ORDER BY file, "row", "column", rule) TO {lit(str(path))} '
            "(HEADER, DELIMITER ',')"
        )
        written[name] = path
    return written
