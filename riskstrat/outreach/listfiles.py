"""One practice's list files from plain Python rows: `<pathway>.csv|.xlsx|.html` per pathway and
`feedback.csv`.

What goes in is decided already (outreach/writers.py: rows checked to be the practice's own,
headers written); this module only formats and writes. It imports neither pandas nor the
store, so the file worker process (outreach/file_worker.py) starts quickly and writes the very
same bytes as the run's own process.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from riskstrat.outreach.columns import (
    COLUMNS,
    FEEDBACK_FILE_COLUMNS,
    MODIFIABLE_MARK,
    ListColumn,
    columns_for,
    format_nhs_number,
)
from riskstrat.outreach.html import render_html
from riskstrat.outreach.safe import neutralise_text
from riskstrat.outreach.xlsx import XlsxMeta, write_xlsx
from riskstrat.paths import output_path
from riskstrat.registry.contract import FEEDBACK_PRACTICE_COLUMN

Record = dict[str, object]
FEEDBACK_FILE = "feedback.csv"
#: What an empty list says when nothing better is known (outreach/header.py NOBODY).
NOBODY_LISTED = "Nobody meets this list's criteria this time."
MULTI_TEXT = ("actions", "action_why")  # '; '-joined lists: one per line in XLSX and HTML
#: Decimals of a published risk or change (percent and points columns), the same in CSV and XLSX:
#: a list shows what the practice can act on, not a model's last binary digits (which move with
#: library versions and would make two runs of the same week differ).
PUBLISHED_DECIMALS = 4


@dataclass(frozen=True)
class Header:
    """What a list's header says (outreach/header.py writes it): its lines, in order, in the
    HTML header and the XLSX title rows."""

    rule: str  # who is listed, with "high" in numbers
    left_out: str  # who met the rule but is not listed, and why
    repeats: str  # what is not repeated from earlier lists
    missing_contacts: str  # "" or how many listed people have no contact details
    confidential: str
    #: "" or which rows of the practice's returned sheets could not be used, and why
    returned: str = ""
    #: "" or which extract the list comes from, and what it cannot know (a death since)
    data: str = ""

    def lines(self) -> list[str]:
        lines = (self.rule, self.left_out, self.repeats, self.missing_contacts, self.data,
                 self.returned)  # fmt: skip
        return [t for t in lines if t]


@dataclass(frozen=True)
class ListFile:
    """One pathway's list of one practice: its rows (display values) and the title, header and
    labels its files show (`context`, as the HTML template reads it)."""

    name: str
    rows: list[Record]
    context: dict[str, object]


@dataclass(frozen=True)
class PracticeFiles:
    """Everything one practice's folder gets in a run: a list per pathway, then feedback.csv
    (`feedback`: the rows of all its lists, in pathway order)."""

    folder: Path
    code: str
    lists: tuple[ListFile, ...]
    feedback: list[Record]
    pathways: tuple[str, ...]


def write_practice(job: PracticeFiles, *, templates: Path | None = None) -> list[Path]:
    """Write one practice's files into its (existing) folder; returns the paths in the order
    written. templates: the HTML templates' folder (default: the project's)."""
    written: list[Path] = []
    for listed in job.lists:
        written += _write_pathway(
            listed.rows, job.folder, name=listed.name, context=listed.context, templates=templates
        )
    written.append(_write_feedback(job.feedback, job.folder, pathways=job.pathways, code=job.code))
    return written


def _empty_line(rows: list[Record], context: dict[str, object]) -> tuple[str, ...]:
    """The empty list's sentence (context `empty_text`, else the HTML's default), or nothing."""
    if rows:
        return ()
    return (str(context.get("empty_text") or NOBODY_LISTED),)


def _write_pathway(
    rows: list[Record],
    folder: Path,
    *,
    name: str,
    context: dict[str, object],
    templates: Path | None,
) -> list[Path]:
    columns = columns_for(name)
    names = [c.name for c in columns]
    csv_path, xlsx_path, html_path = (
        output_path(folder, f"{name}.{ext}") for ext in ("csv", "xlsx", "html")
    )
    _write_csv(csv_path, names, [[_flat_value(r, n) for n in names] for r in rows], columns,
               code=str(context["practice_code"]))  # fmt: skip
    header: Header = context["header"]  # type: ignore[assignment]
    meta = XlsxMeta(
        practice_code=str(context["practice_code"]),
        pathway=name,
        listed_on=context["as_of"],  # type: ignore[arg-type]
        title=f"{context['title']} - {context['practice_name']} ({context['practice_code']})"
        f" - listed on {context['listed_short']}",
        # An empty list says why in its title rows too (the HTML says it in place of rows):
        # the spreadsheet of a day without discharges said nothing of it.
        lines=(str(context["purpose"]), *header.lines(), *_empty_line(rows, context)),
        confidential=header.confidential,
    )
    sheet = [[_sheet_value(r, c) for c in columns] for r in rows]
    write_xlsx(sheet, columns, xlsx_path, meta=meta)
    html = render_html(rows, columns, context=context, templates=templates)
    html_path.write_text(html, encoding="utf-8")
    return [csv_path, xlsx_path, html_path]


def _flat_value(record: Record, name: str) -> object:
    """A cell of the flat files: a modifiable reason carries its mark in the text (the HTML
    shows a badge instead)."""
    value = record.get(name)
    if value and name.startswith("reason") and record.get(name.replace("reason", "modifiable")):
        return with_modifiable_mark(value)
    return value


def with_modifiable_mark(reason: str) -> str:
    """'Taking 12 different medicines (polypharmacy)' reads '(polypharmacy; modifiable)', not
    two brackets in a row."""
    if reason.endswith(")"):
        return f"{reason[:-1]}; {MODIFIABLE_MARK.strip(' ()')})"
    return f"{reason}{MODIFIABLE_MARK}"


def _sheet_value(record: Record, column: ListColumn) -> object:
    """A spreadsheet cell: NHS number spaced 3 3 4, one action (and its why) per line."""
    value = _flat_value(record, column.name)
    if column.name == "nhs_number":
        return format_nhs_number(value)
    if column.name in MULTI_TEXT and isinstance(value, str):
        return value.replace("; ", "\n")
    return _published_number(value, column)


def _csv_value(value: object, column: ListColumn) -> object:
    if value is None:
        return ""
    if column.kind in ("percent", "points") and isinstance(value, float):
        return f"{value:.{PUBLISHED_DECIMALS}f}"
    return neutralise_text(value)


def _published_number(value: object, column: ListColumn) -> object:
    """A risk or a change of risk rounded as the CSV prints it (PUBLISHED_DECIMALS)."""
    if column.kind in ("percent", "points") and isinstance(value, float):
        return round(value, PUBLISHED_DECIMALS)
    return value


def _write_csv(
    path: Path,
    names: list[str],
    table: list[list[object]],
    columns: Sequence[ListColumn],
    *,
    code: str,
) -> None:
    """The list for systems: snake_case column names, ISO dates, practice_code first."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([FEEDBACK_PRACTICE_COLUMN, *names])
        for row in table:
            cells = [_csv_value(v, c) for v, c in zip(row, columns, strict=True)]
            writer.writerow([neutralise_text(code), *cells])


def _write_feedback(
    records: list[Record], folder: Path, *, pathways: tuple[str, ...], code: str
) -> Path:
    """feedback.csv: one row per listed person for the practice to fill in, with the practice's
    code on every row. Rows of pathways not written this time (another cadence's run of the
    same date) are kept."""
    path = output_path(folder, FEEDBACK_FILE)
    kept: list[dict[str, str]] = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            kept = [r for r in csv.DictReader(handle) if r.get("pathway") not in pathways]
    by_name = {c.name: c for c in COLUMNS}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FEEDBACK_FILE_COLUMNS)
        for old in kept:  # (a file written before practice_code was added: it is this one's)
            old[FEEDBACK_PRACTICE_COLUMN] = old.get(FEEDBACK_PRACTICE_COLUMN) or code
            writer.writerow([old.get(c, "") for c in FEEDBACK_FILE_COLUMNS])
        for r in records:
            writer.writerow(
                [neutralise_text(code)]
                + [_csv_value(r.get(c), by_name[c]) for c in FEEDBACK_FILE_COLUMNS[1:]]
            )
    return path
