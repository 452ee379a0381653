"""What an ingest tells people about the data: per-table counts, rejects files and a summary.

Written for every ingest, passed or stopped, to `<data_dir>/ingests/<extract_date>-<hash8>/`:
`rejects/<table>.csv` (file, row, column, value, rule; values of the identifiable table masked),
`repaired/<table>.csv` (accepted rows whose implausible later date was nulled or clipped: file,
row, column, the value as it was, rule), `flagged/<table>.csv` (accepted rows kept as they were
whose value breaks a warning rule, contract.COLUMN_WARNINGS: the same columns), `summary.json`
and `summary.md` (rows read, accepted, rejected by rule, repaired values by column and rule,
flagged rows, null share per column).
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from riskstrat.registry.contract import TABLES

REJECTS_DIR = "rejects"
REPAIRED_DIR = "repaired"
#: Warning for a table with repaired later dates (run manifests copy the ingest's warnings).
REPAIRED_LATER_DATES = (
    "{table}: {rows:,} row(s) kept with an implausible later date (or a returned date that "
    "is not a date) repaired ({detail}); the earlier facts of those rows are kept; see {path}"
)
FLAGGED_DIR = "flagged"
#: Warning for a table with rows kept whose value breaks a contract.COLUMN_WARNINGS rule.
FLAGGED_ROWS = (
    "{table}: {rows:,} row(s) kept as they are with a value that breaks a data-quality rule "
    "({detail}; see docs/contract.md); correct them in the source system; rows in {path}"
)
#: ... when most of a table's accepted rows are flagged: not slips, the column as a whole.
FLAGGED_MOST = (
    "; that is {share:.0%} of its rows: not typos but the column as a whole (test or synthetic "
    "values, or another identifier exported in its place): check the export"
)
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
MASK = "***"
REJECT_COLUMNS = ("file", "row", "column", "value", "rule")


@dataclass
class TableReport:
    table: str
    files: list[str]
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0  # rows rejected by any rule except duplicate_row
    duplicates: int = 0  # exact copies dropped (duplicate_row)
    skipped_blank_feedback: int = 0  # feedback rows with no outcome: not feedback
    rejected_by_rule: dict[str, int] = field(default_factory=dict)  # rows per rule
    null_share: dict[str, float] = field(default_factory=dict)  # over accepted rows
    #: data lines counted in the CSV/XLSX files independently of DuckDB (Parquet: rows read);
    #: always rows_read + skipped_blank_feedback (the ingest stops otherwise)
    lines_read: int = 0
    set_aside_files: int = 0  # returned feedback files that could not be read
    latest_event: str | None = None  # newest event date (tables in ingest.freshness_days)
    days_before_extract: int | None = None  # extract date - latest_event
    #: accepted rows whose implausible later date was nulled or clipped (validate.LATER_DATES)
    repaired: int = 0
    repaired_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  # column->rule->rows
    #: accepted rows kept as they were whose value breaks a warning rule (COLUMN_WARNINGS)
    flagged: int = 0
    flagged_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  # column->rule->rows


def repaired_warning(report: TableReport, *, path: Path) -> list[str]:
    """One warning line for a table with repaired later dates (none otherwise)."""
    if not report.repaired:
        return []
    detail = ", ".join(
        f"{column} {rule} {n:,}"
        for column, rules in report.repaired_by_rule.items()
        for rule, n in rules.items()
    )
    return [
        REPAIRED_LATER_DATES.format(
            table=report.table, rows=report.repaired, detail=detail, path=path
        )
    ]


def flagged_warning(report: TableReport, *, path: Path) -> list[str]:
    """One warning line for a table with flagged rows (none otherwise)."""
    if not report.flagged:
        return []
    detail = ", ".join(
        f"{column} {rule} {n:,}"
        for column, rules in report.flagged_by_rule.items()
        for rule, n in rules.items()
    )
    line = FLAGGED_ROWS.format(table=report.table, rows=report.flagged, detail=detail, path=path)
    share = report.flagged / report.accepted if report.accepted else 0.0
    return [line + FLAGGED_MOST.format(share=share) if share > 0.5 else line]


def write_rejects(
    con: duckdb.DuckDBPyConnection, *, table: str, relation: str, path: Path, limit: int
) -> None:
    """Copy a table's violations (relation with REJECT_COLUMNS) to CSV, masking identifiers."""
    masked = {c.name for c in TABLES[table].columns if c.name != "patient_id"}
    value = "value"
    if TABLES[table].identifiable:
        names = ", ".join("'" + m + "'" for m in sorted(masked))
        value = f"CASE WHEN \"column\" IN ({names}) THEN '{MASK}' ELSE value END AS value"
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f'COPY (SELECT file, row, "column", {value}, rule FROM {relation} '
        f'ORDER BY file, row, "column", rule LIMIT {int(limit)}) '
        f"TO '{str(path).replace(chr(39), chr(39) * 2)}' (HEADER, DELIMITER ',')"
    )


def summary(
    *,
    extract_date: object,
    content_hash: str,
    source_dir: Path,
    tables: list[TableReport],
    warnings: list[str],
    settings: dict,
    error: str | None,
    registry_hash: str | None = None,
) -> dict:
    return {
        "status": "stopped" if error else "passed",
        "error": error,
        "extract_date": str(extract_date),
        "content_hash": content_hash,
        "registry_hash": registry_hash,  # the registry files only (returned lists left out)
        "source_dir": str(source_dir),
        "settings": settings,
        "tables": {t.table: asdict(t) for t in tables},
        "freshness": freshness(tables, limits=settings.get("freshness_days", {})),
        "warnings": warnings,
    }


def freshness(tables: list[TableReport], *, limits: dict[str, int]) -> dict[str, dict]:
    """Per table with a freshness limit: latest event, days before the extract, limit, fresh."""
    out = {}
    for t in tables:
        if t.table in limits and TABLES[t.table].event_columns:
            days = t.days_before_extract
            out[t.table] = {
                "latest_event": t.latest_event,
                "days_before_extract": days,
                "limit_days": limits[t.table],
                "fresh": days is not None and days <= limits[t.table],
            }
    return out


def summary_markdown(doc: dict) -> str:
    """The summary as a page a data manager can read."""
    lines = [
        f"# Ingest of the extract dated {doc['extract_date']}",
        "",
        f"- status: **{doc['status']}**",
        f"- content hash: `{doc['content_hash']}`",
        f"- source: `{doc['source_dir']}`",
    ]
    if doc["error"]:
        lines.append(f"- stopped: {doc['error']}")
    lines += [
        "",
        "| table | lines in files | rows read | accepted | rejected | exact duplicates "
        "| blank feedback rows |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in doc["tables"].values():
        lines.append(
            f"| {t['table']} | {t['lines_read']:,} | {t['rows_read']:,} | {t['accepted']:,} "
            f"| {t['rejected']:,} | {t['duplicates']:,} | {t['skipped_blank_feedback']:,} |"
        )
    if doc.get("freshness"):
        lines += ["", "## Freshness (latest event before the extract date)", ""]
        lines += ["| table | latest event | days before | limit | fresh |"]
        lines += ["| --- | --- | ---: | ---: | --- |"]
        for name, f in doc["freshness"].items():
            lines.append(
                f"| {name} | {f['latest_event'] or '(none)'} | {f['days_before_extract']} "
                f"| {f['limit_days']} | {'yes' if f['fresh'] else '**no**'} |"
            )
    lines += ["", "## Rejected rows by rule", ""]
    rules = [
        (t["table"], r, n) for t in doc["tables"].values() for r, n in t["rejected_by_rule"].items()
    ]
    lines += ["| table | rule | rows |", "| --- | --- | ---: |"]
    lines += [f"| {t} | {r} | {n:,} |" for t, r, n in rules] or ["| (none) | | |"]
    lines += ["", "## Accepted rows with an implausible later date repaired", ""]
    fixed = [
        (t["table"], c, r, n)
        for t in doc["tables"].values()
        for c, rules in t.get("repaired_by_rule", {}).items()
        for r, n in rules.items()
    ]
    lines += ["| table | column | rule | rows |", "| --- | --- | --- | ---: |"]
    lines += [f"| {t} | {c} | {r} | {n:,} |" for t, c, r, n in fixed] or ["| (none) | | | |"]
    lines += ["", "## Accepted rows kept with a data-quality warning", ""]
    flagged = [
        (t["table"], c, r, n)
        for t in doc["tables"].values()
        for c, rules in t.get("flagged_by_rule", {}).items()
        for r, n in rules.items()
    ]
    lines += ["| table | column | rule | rows |", "| --- | --- | --- | ---: |"]
    lines += [f"| {t} | {c} | {r} | {n:,} |" for t, c, r, n in flagged] or ["| (none) | | | |"]
    lines += ["", "## Null share of each column (accepted rows)", ""]
    for t in doc["tables"].values():
        shares = ", ".join(f"{c} {s:.1%}" for c, s in t["null_share"].items())
        lines.append(f"- {t['table']}: {shares or 'no rows'}")
    if doc["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in doc["warnings"]]
    return "\n".join(lines) + "\n"


def publish_dir(staging: Path, final: Path) -> None:
    """Replace `final` with the fully written `staging` folder."""
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(final)


def write_summary(folder: Path, doc: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUMMARY_JSON).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    (folder / SUMMARY_MD).write_text(summary_markdown(doc), encoding="utf-8")
