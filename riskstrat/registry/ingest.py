"""Validated ingest of an extract folder into the DuckDB store (the I/O edge of the registry).

Order: practices, patients, then the patient tables, so cross-table rules see only accepted
practices and patients (a rejected patient's other rows are rejected as patient_exists). All row
work is DuckDB SQL in an in-memory database that spills to a scratch folder beside the store;
accepted rows go straight into a new store file, which replaces the store atomically only when
every table passed (see `riskstrat.registry.store`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from riskstrat.config import Settings
from riskstrat.db import fetch_value
from riskstrat.logs import log_event, timed
from riskstrat.registry import checks, quality, store
from riskstrat.registry.contract import PATIENT_TABLES, PRACTICE_CODE_PATTERN, TABLES, Table
from riskstrat.registry.errors import (
    EXTRACT_IN_FUTURE,
    EXTRACT_OLDER,
    MONTH_FIRST_DATES,
    NOTHING_TO_REPLACE,
    REPLACE_TOO_OLD,
    TOO_MANY_REJECTS,
    UNPARSEABLE_COLUMN,
    IngestError,
)
from riskstrat.registry.quality import TableReport
from riskstrat.registry.readers import (
    FEEDBACK_TABLE,
    UNREAD_FILE,
    RawTable,
    SourceFile,
    load_raw,
    locate,
    unread_files,
)
from riskstrat.registry.validate import (
    DUP_ROW,
    accepted_sql,
    check_sql,
    duplicates_sql,
    lit,
    q,
    rejects_sql,
    repairs_sql,
)

INGESTS_DIR = "ingests"
FRESH = "fresh"  # the new store file, attached while it is built
#: A column where more than this share of non-empty values fail to parse makes the table unusable.
UNPARSEABLE_SHARE = 0.5
UNCHANGED = "extract {extract_date} ({hash8}) is already in the store {store}: nothing to do"
INGESTED = "extract {extract_date} ({hash8}) ingested into {store}"
REPLACED = "extract {extract_date} ({hash8}) ingested into {store}, replacing extract {replaced}"
FEEDBACK_REJECTS_DIR = "feedback"  # rejects/feedback/<practice>.csv: sent back to practices
#: Processing order: what cross-table rules look up comes first.
ORDER = ("practices", "patients", *(t for t in TABLES if t not in ("practices", "patients")))


@dataclass
class IngestReport:
    status: str  # "ingested" or "unchanged"
    extract_date: dt.date
    content_hash: str
    store_path: Path
    report_dir: Path | None  # rejects/ + summary.json + summary.md
    message: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejects_dir(self) -> Path | None:
        return self.report_dir / quality.REJECTS_DIR if self.report_dir else None

    @property
    def summary_path(self) -> Path | None:
        return self.report_dir / quality.SUMMARY_JSON if self.report_dir else None

    @property
    def freshness(self) -> dict[str, dict]:
        """Per event table: latest event, days before the extract, limit, fresh (for manifests)."""
        return quality.freshness(list(self.tables.values()), limits=self.freshness_limits)

    freshness_limits: dict[str, int] = field(default_factory=dict)


def contract_tables(settings: Settings) -> dict[str, Table]:
    """The contract's tables with the configured practice-code pattern applied."""
    pattern = practice_pattern(settings)
    tables = dict(TABLES)
    practices = TABLES["practices"]
    columns = tuple(
        dataclasses.replace(c, pattern=pattern) if c.name == "practice_code" else c
        for c in practices.columns
    )
    tables["practices"] = dataclasses.replace(practices, columns=columns)
    return tables


def practice_pattern(settings: Settings) -> str:
    return settings.ingest.practice_code_pattern or PRACTICE_CODE_PATTERN


def content_hash(files: list[SourceFile]) -> str:
    """sha256 over every input file's name and bytes, in a fixed order."""
    return content_hashes(files)[0]


def content_hashes(files: list[SourceFile]) -> tuple[str, str]:
    """`content_hash`, and the same over the registry files only (returned lists left out: new
    ones arrive every week whether or not the extract was refreshed), in one read."""
    digest, registry = hashlib.sha256(), hashlib.sha256()
    for file in sorted(files, key=lambda f: f.label):
        hashes = (digest,) if file.feedback else (digest, registry)
        for h in hashes:
            h.update(file.label.encode() + b"\0")
        with file.path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                for h in hashes:
                    h.update(chunk)
        for h in hashes:
            h.update(b"\0")
    return digest.hexdigest(), registry.hexdigest()


def ingest(
    source_dir: Path | str,
    *,
    extract_date: dt.date | str,
    store_path: Path | str,
    settings: Settings,
    replace_latest: bool = False,
    today: dt.date | None = None,
) -> IngestReport:
    """Validate the extract in `source_dir` and make it the store's content.

    Raises IngestError (message names file, column and rule) when a table is unusable; the store
    is then untouched. Re-ingesting the extract already in the store is a no-op. An extract
    date more than ingest.future_extract_days after `today` (default: the wall clock) is
    refused. `replace_latest`: the store's newest extract was a mistake (e.g. a typo in its
    date): this extract replaces it even if older, and its history row moves to
    `replaced_extracts`.
    """
    start = time.perf_counter()
    source_dir, store_path = Path(source_dir).resolve(), Path(store_path).resolve()
    extract_date = dt.date.fromisoformat(str(extract_date))
    today = today or dt.date.today()
    if (extract_date - today).days > settings.ingest.future_extract_days:
        raise IngestError(
            EXTRACT_IN_FUTURE.format(
                source=source_dir,
                extract_date=extract_date,
                today=today,
                days=settings.ingest.future_extract_days,
            )
        )
    files = locate(source_dir)
    digest, registry_digest = content_hashes([f for fs in files.values() for f in fs])
    with store.store_lock(store_path):
        store.clean_scratch(store_path)
        latest = store.latest_extract(store_path)
        replaced = None
        if replace_latest:
            replaced = _check_replace(store_path, source_dir, extract_date=extract_date)
            latest = None
        if latest and latest["content_hash"] == digest and latest["extract_date"] == extract_date:
            message = UNCHANGED.format(
                extract_date=extract_date, hash8=digest[:8], store=store_path
            )
            log_event("ingest.unchanged", extract_date=extract_date, hash8=digest[:8])
            report_dir = Path(latest["report_dir"]) if latest["report_dir"] else None
            return IngestReport("unchanged", extract_date, digest, store_path, report_dir, message)
        previous = latest
        if replace_latest:  # compared with the extract before the one being replaced
            history = store.extract_history(store_path)
            previous = history[1] if len(history) > 1 else None
        if latest and latest["extract_date"] > extract_date:
            raise IngestError(
                EXTRACT_OLDER.format(
                    source=source_dir,
                    extract_date=extract_date,
                    latest=latest["extract_date"],
                    store=store_path,
                )
            )
        report_dir = Path(settings.paths.data_dir) / INGESTS_DIR / f"{extract_date}-{digest[:8]}"
        notes = checks.same_registry_files(
            latest if not replace_latest else None,
            registry_hash=registry_digest,
            source=source_dir,
            extract_date=extract_date,
        )
        with timed("ingest", extract_date=extract_date, hash8=digest[:8]):
            tables, warnings = _ingest_locked(
                files,
                source_dir=source_dir,
                extract_date=extract_date,
                digest=digest,
                store_path=store_path,
                report_dir=report_dir,
                settings=settings,
                replaced=replaced,
                previous=previous,
                registry_hash=registry_digest,
                notes=notes,
                today=today,
            )
    message = INGESTED.format(extract_date=extract_date, hash8=digest[:8], store=store_path)
    if replaced:
        message = REPLACED.format(
            extract_date=extract_date,
            hash8=digest[:8],
            store=store_path,
            replaced=f"{replaced['extract_date']} ({replaced['content_hash'][:8]})",
        )
    return IngestReport(
        "ingested",
        extract_date,
        digest,
        store_path,
        report_dir,
        message,
        {t.table: t for t in tables},
        warnings,
        round(time.perf_counter() - start, 2),
        freshness_limits=dict(settings.ingest.freshness_days),
    )


def _check_replace(store_path: Path, source_dir: Path, *, extract_date: dt.date) -> dict:
    """The newest extract row `--replace-latest` would replace (the new one must not be older
    than the extract before it)."""
    history = store.extract_history(store_path)
    if not history:
        raise IngestError(NOTHING_TO_REPLACE.format(store=store_path))
    if len(history) > 1 and history[1]["extract_date"] > extract_date:
        raise IngestError(
            REPLACE_TOO_OLD.format(
                source=source_dir, extract_date=extract_date, previous=history[1]["extract_date"]
            )
        )
    return history[0]


def _ingest_locked(
    files: dict[str, list[SourceFile]],
    *,
    source_dir: Path,
    extract_date: dt.date,
    digest: str,
    store_path: Path,
    report_dir: Path,
    settings: Settings,
    replaced: dict | None = None,
    previous: dict | None = None,
    registry_hash: str | None = None,
    notes: list[str] | None = None,
    today: dt.date | None = None,
) -> tuple[list[TableReport], list[str]]:
    """Validate every table into a new store file beside the store; swap it in if all passed."""
    fresh = store.scratch_path(store_path, "new")
    temp = store.scratch_path(store_path, "tmp")
    staging = report_dir.parent / f".tmp-{report_dir.name}-{uuid.uuid4().hex[:8]}"
    con = duckdb.connect(":memory:")  # spills to `temp` beyond WORK_MEMORY_LIMIT
    tables = contract_tables(settings)
    try:
        con.execute(f"SET memory_limit = {lit(store.WORK_MEMORY_LIMIT)}")
        con.execute(f"SET temp_directory = {lit(str(temp))}")
        con.execute(f"ATTACH {lit(str(fresh))} AS {FRESH}")
        store.create_registry_tables(con, db=FRESH)
        con.execute(checks.FEEDBACK_REJECTS_DDL.format(db=FRESH))
        reports: list[TableReport] = []
        warnings = list(notes or [])
        warnings += [
            f"optional table {name!r} absent from {source_dir}"
            for name, fs in files.items()
            if not fs and not TABLES[name].required
        ]
        warnings += checks.freshness_tables(settings.ingest.freshness_days)
        warnings += [
            UNREAD_FILE.format(file=path, table_names=", ".join(TABLES))
            for path in unread_files(source_dir)
        ]
        error = None
        try:
            for name in ORDER:
                known = frozenset()
                if name == FEEDBACK_TABLE:
                    rows = con.execute(f"SELECT practice_code FROM {FRESH}.practices").fetchall()
                    known = frozenset(code for (code,) in rows)
                raw = load_raw(
                    con,
                    tables[name],
                    files[name],
                    max_line=settings.ingest.max_line_bytes,
                    known_practices=known,
                )
                warnings += raw.warnings
                reports.append(TableReport(name, [f.label for f in raw.files]))
                reports[-1].skipped_blank_feedback = raw.skipped_blank
                warnings += _validate_table(
                    con,
                    raw,
                    reports[-1],
                    table=tables[name],
                    extract_date=extract_date,
                    settings=settings,
                    rejects=report_dir / quality.REJECTS_DIR / f"{name}.csv",
                    staging=staging / quality.REJECTS_DIR / f"{name}.csv",
                    previous=previous,
                    today=today or dt.date.today(),
                )
        except IngestError as exc:
            error = str(exc)
        if not error:
            checks.write_feedback_rejects(
                con,
                db=FRESH,
                folder=staging / quality.REJECTS_DIR / FEEDBACK_REJECTS_DIR,
                pattern=practice_pattern(settings),
            )
            warnings += checks.feedback_not_used(
                con, db=FRESH, folder=report_dir / quality.REJECTS_DIR / FEEDBACK_REJECTS_DIR
            )
        doc = quality.summary(
            extract_date=extract_date,
            content_hash=digest,
            registry_hash=registry_hash,
            source_dir=source_dir,
            tables=reports,
            warnings=warnings,
            settings=settings.ingest.model_dump(mode="json"),
            error=error,
        )
        quality.write_summary(staging, doc)
        quality.publish_dir(staging, report_dir)
        if error:
            log_event("ingest.stopped", extract_date=extract_date, report=report_dir)
            raise IngestError(error)
        with timed("ingest.finish_store"):
            _finish_store(
                con,
                store_path=store_path,
                extract_date=extract_date,
                digest=digest,
                source_dir=source_dir,
                report_dir=report_dir,
                reports=reports,
                replaced=replaced,
            )
        con.close()
        store.swap_in(fresh, store_path)
        return reports, warnings
    finally:
        con.close()
        for path in (fresh, Path(f"{fresh}.wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def _validate_table(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    report: TableReport,
    *,
    table: Table,
    extract_date: dt.date,
    settings: Settings,
    rejects: Path,
    staging: Path,
    previous: dict | None = None,
    today: dt.date | None = None,
) -> list[str]:
    """Check one table and insert its accepted rows into the new store; raise if unusable.

    Returned feedback (outreach_outcomes) never stops the ingest for its rows: it has its own
    budget, which only warns. Returns warnings.
    """
    name = table.name
    feedback = name == FEEDBACK_TABLE
    checked, dups, rej = f"chk_{name}", f"dup_{name}", f"rej_{name}"
    warnings: list[str] = []
    with timed("ingest.table", table=name) as extra:
        con.execute(
            check_sql(
                table,
                types=raw.types,
                source=raw.relation,
                target=checked,
                extract_date=extract_date,
                grace_days=settings.ingest.death_grace_days,
                patients=f"{FRESH}.patients" if name in PATIENT_TABLES else None,
                practices=f"{FRESH}.practices" if name == "patients" else None,
                earliest_birth=settings.ingest.earliest_birth_date,
                claimed=feedback,
            )
        )
        labels = [f.label for f in raw.files]
        con.execute(
            f"CREATE TABLE {dups} AS {duplicates_sql(table, checked=checked, labels=labels)}"
        )
        con.execute(
            f"CREATE TABLE {rej} AS {rejects_sql(checked=checked, duplicates=dups, labels=labels)}"
        )
        fix = f"fix_{name}"
        con.execute(
            f"CREATE TABLE {fix} AS {repairs_sql(checked=checked, duplicates=dups, labels=labels)}"
        )
        if not feedback:
            _stop_if_unparseable(con, table, raw, rejects=rejects, staging=staging)
        con.execute(
            f"INSERT INTO {FRESH}.{name} {accepted_sql(table, checked=checked, duplicates=dups)}"
        )
        _count(con, table, report)
        report.lines_read = report.rows_read + report.skipped_blank_feedback
        report.set_aside_files = len(raw.set_aside)
        extra.update(rows=report.rows_read, accepted=report.accepted, rejected=report.rejected)
        if report.rejected or report.duplicates:
            quality.write_rejects(
                con, table=name, relation=rej, path=staging, limit=settings.ingest.reject_examples
            )
        flag = f"flag_{name}"
        con.execute(
            f"CREATE TABLE {flag} AS "
            f"{repairs_sql(checked=checked, duplicates=dups, labels=labels, field='_flag')}"
        )
        report.flagged, report.flagged_by_rule = _by_column_rule(con, flag)
        if report.flagged:
            flagged = rejects.parent.parent / quality.FLAGGED_DIR / f"{name}.csv"
            flagged_csv = staging.parent.parent / quality.FLAGGED_DIR / f"{name}.csv"
            quality.write_rejects(
                con, table=name, relation=flag, path=flagged_csv,
                limit=settings.ingest.reject_examples,
            )  # fmt: skip
            warnings += quality.flagged_warning(report, path=flagged)
        _count_repairs(con, fix, report)
        if report.repaired:
            repaired = rejects.parent.parent / quality.REPAIRED_DIR / f"{name}.csv"
            fixed_csv = staging.parent.parent / quality.REPAIRED_DIR / f"{name}.csv"
            quality.write_rejects(
                con, table=name, relation=fix, path=fixed_csv, limit=settings.ingest.reject_examples
            )
            warnings += quality.repaired_warning(report, path=repaired)
        file = _file_of(raw, raw.files[0].label if raw.files else None)
        if feedback:
            checks.store_feedback_rejects(
                con,
                db=FRESH,
                rejects=rej,
                checked=checked,
                set_aside=raw.set_aside,
                repaired=fix,
                accepted=table,
                today=today or dt.date.today(),
            )
            warnings += checks.feedback_waiting(con, rejects=rej, extract_date=extract_date,
                                                today=today or dt.date.today())  # fmt: skip
            limit = settings.ingest.feedback_max_reject_share
            warnings += checks.feedback_budget(report, limit=limit, rejects=rejects)
        else:
            _stop_if_too_many(con, table, raw, report, settings=settings, rejects=rejects)
            checks.stop_if_empty(table, report, file=file)
            limit = settings.ingest.max_row_drop_share
            checks.stop_if_shrunk(table, report, file=file, previous=previous, limit=limit)
        if name == "contacts":
            limit = settings.ingest.contacts_missing_share
            warnings += checks.contacts_coverage(
                con, db=FRESH, limit=limit, file=file, rejects=rejects
            )
        if name in settings.ingest.freshness_days and table.event_columns:
            limit = settings.ingest.freshness_days[name]
            warnings += checks.freshness(
                con, table, report, db=FRESH, extract_date=extract_date, limit=limit
            )
        for scratch in (checked, dups, rej, fix, flag):
            con.execute(f"DROP TABLE {scratch}")
        raw.drop(con)
    return warnings


def _count(con: duckdb.DuckDBPyConnection, table: Table, report: TableReport) -> None:
    name = table.name
    report.rows_read = int(fetch_value(con, f"SELECT count(*) FROM chk_{name}"))
    by_rule = con.execute(
        f"SELECT rule, count(DISTINCT (file, row)) FROM rej_{name} GROUP BY rule ORDER BY rule"
    ).fetchall()
    report.rejected_by_rule = {rule: int(n) for rule, n in by_rule}
    report.duplicates = report.rejected_by_rule.get(DUP_ROW, 0)
    report.rejected = int(
        fetch_value(
            con, f"SELECT count(DISTINCT (file, row)) FROM rej_{name} WHERE rule <> '{DUP_ROW}'"
        )
    )
    counts = con.execute(
        f"SELECT count(*), {', '.join(f'count({q(c.name)})' for c in table.columns)} "
        f"FROM {FRESH}.{name}"
    ).fetchall()[0]
    report.accepted = int(counts[0])
    if report.rows_read != report.accepted + report.rejected + report.duplicates:
        raise IngestError(  # an internal invariant: every row read is accounted for
            f"{name}: {report.rows_read:,} rows read but {report.accepted:,} accepted + "
            f"{report.rejected:,} rejected + {report.duplicates:,} duplicates; please report"
        )
    report.null_share = {
        c.name: (round(1 - n / counts[0], 6) if counts[0] else 0.0)
        for c, n in zip(table.columns, counts[1:], strict=True)
    }


def _count_repairs(con: duckdb.DuckDBPyConnection, fix: str, report: TableReport) -> None:
    """Rows kept with a repaired later date, and per column and rule."""
    report.repaired, report.repaired_by_rule = _by_column_rule(con, fix)


def _by_column_rule(
    con: duckdb.DuckDBPyConnection, relation: str
) -> tuple[int, dict[str, dict[str, int]]]:
    """Rows of a (file, row, column, value, rule) relation, and per column and rule."""
    total = int(fetch_value(con, f"SELECT count(DISTINCT (file, row)) FROM {relation}"))
    rows = con.execute(
        f'SELECT "column", rule, count(DISTINCT (file, row)) FROM {relation} '
        "GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    by_rule: dict[str, dict[str, int]] = {}
    for column, rule, n in rows:
        by_rule.setdefault(column, {})[rule] = int(n)
    return total, by_rule


def _file_of(raw: RawTable, label: str | None) -> Path | str:
    for f in raw.files:
        if f.label == label:
            return f.path
    return label or raw.table


def _stop_if_unparseable(
    con: duckdb.DuckDBPyConnection, table: Table, raw: RawTable, *, rejects: Path, staging: Path
) -> None:
    bad = con.execute(
        f"SELECT \"column\", file, count(*) FROM rej_{table.name} WHERE rule = 'type' "
        "GROUP BY ALL ORDER BY 3 DESC, 1, 2"
    ).fetchall()
    for column, label, n in bad:
        total = fetch_value(
            con,
            f"SELECT count(NULLIF(trim(CAST({q(column)} AS VARCHAR)), '')) FROM {raw.relation} "
            f"WHERE _file = {[f.label for f in raw.files].index(label)}",
        )
        if n > UNPARSEABLE_SHARE * total:
            quality.write_rejects(
                con, table=table.name, relation=f"rej_{table.name}", path=staging, limit=10**9
            )
            example, _ = checks.month_first_example(
                con, rejects=f"rej_{table.name}", column=column, file=label
            )
            if example and table.column(column).dtype in ("date", "timestamp"):
                raise IngestError(
                    MONTH_FIRST_DATES.format(
                        file=_file_of(raw, label),
                        column=column,
                        bad=n,
                        total=total,
                        example=example,
                        rejects=rejects,
                    )
                )
            raise IngestError(
                UNPARSEABLE_COLUMN.format(
                    file=_file_of(raw, label),
                    column=column,
                    bad=n,
                    total=total,
                    dtype=table.column(column).dtype,
                    rejects=rejects,
                )
            )


def _stop_if_too_many(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    raw: RawTable,
    report: TableReport,
    *,
    settings: Settings,
    rejects: Path,
) -> None:
    limit = settings.ingest.max_reject_share
    if not report.rows_read or report.rejected / report.rows_read <= limit:
        return
    label, column, rule = con.execute(
        f"SELECT file, \"column\", rule FROM rej_{table.name} WHERE rule <> '{DUP_ROW}' "
        "GROUP BY ALL ORDER BY count(DISTINCT row) DESC, 1, 2, 3 LIMIT 1"
    ).fetchall()[0]
    example, bad = checks.month_first_example(
        con, rejects=f"rej_{table.name}", column=column, file=label
    )
    if rule == "type" and example and table.column(column).dtype in ("date", "timestamp"):
        raise IngestError(
            MONTH_FIRST_DATES.format(
                file=_file_of(raw, label),
                column=column,
                bad=bad,
                total=report.rows_read,
                example=example,
                rejects=rejects,
            )
        )
    raise IngestError(
        TOO_MANY_REJECTS.format(
            file=_file_of(raw, label),
            column=column,
            rule=rule,
            rejected=report.rejected,
            rows=report.rows_read,
            share=report.rejected / report.rows_read,
            limit=limit,
            rejects=rejects,
        )
    )


def _finish_store(
    con: duckdb.DuckDBPyConnection,
    *,
    store_path: Path,
    extract_date: dt.date,
    digest: str,
    source_dir: Path,
    report_dir: Path,
    reports: list[TableReport],
    replaced: dict | None = None,
) -> None:
    """Carry the old store's engine tables over, record the extract, close the new file."""
    if store_path.is_file():
        try:
            con.execute(f"ATTACH {lit(str(store_path))} AS prev (READ_ONLY)")
        except duckdb.IOException as exc:
            raise (store.in_use(exc, path=store_path) or exc) from exc
        carried = store.carry_over(con, old="prev", new=FRESH, replaced=replaced)
        con.execute("DETACH prev")
        log_event("ingest.carried_over", tables=",".join(carried) or "none")
    store.record_extract(
        con,
        db=FRESH,
        extract_date=extract_date,
        content_hash=digest,
        source_dir=source_dir,
        report_dir=report_dir,
        table_rows={r.table: r.accepted for r in reports},
    )
    con.execute(f"CHECKPOINT {FRESH}")
    con.execute(f"DETACH {FRESH}")
