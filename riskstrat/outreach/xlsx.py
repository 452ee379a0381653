"""The XLSX list, native to Excel and LibreOffice: sheet `list` with title rows (practice, list,
date; the list's rule and who was left out; the confidentiality line) above one heading row of
human headings, dd/mm/yyyy date cells, wrapped text in rows that grow, an outcome drop-down of
human labels, a notes column, print set-up (A4 landscape, one page wide, heading rows repeated,
page numbers in the footer), and a hidden sheet naming the practice, list and date the file
belongs to (the returned-file contract in docs/outreach.md; ingest reads it back).

Written with xlsxwriter (a streaming writer, about 5x quicker than building an openpyxl workbook
for the few hundred files of a run); tests read the files back with openpyxl.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from riskstrat.outreach.columns import ListColumn
from riskstrat.registry.contract import FEEDBACK_META_SHEET, OUTCOME_LABELS

SHEET = "list"
FEEDBACK_ROWS_MIN = 50  # drop-downs reach at least this far, so added rows get them too
DATE_FORMAT = "dd/mm/yyyy"
NUMBER_FORMATS = {"percent": "0.0%", "points": "+0.0;-0.0;0.0", "date": DATE_FORMAT, "int": "0"}
OUTCOME_PROMPT = "Choose what happened: " + ", ".join(OUTCOME_LABELS.values())
#: The returned Contacted on must be a date from the list's date to today: ingest rejects a
#: contact before the listing (the row and its outcome are lost until the practice corrects it)
#: and drops a future one; "05/01/2025" typed for 05/01/2026 in January is the usual slip.
DATE_PROMPT = (
    "Enter the date the patient was contacted (dd/mm/yyyy): on or after the list date "
    "{listed_on:%d/%m/%Y}, and not in the future."
)
#: Never turn text into formulas, numbers or links: a value is stored exactly as given.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
TITLE = {"bold": True, "font_size": 14, "font_color": "#005EB8"}
LINE = {"font_size": 9, "text_wrap": False}
NOTICE = {"font_size": 9, "bold": True, "font_color": "#8A0A1F"}
HEADER = {"bold": True, "bg_color": "#DDE5F0", "border": 1, "text_wrap": True, "valign": "top"}
CELL = {"valign": "top", "border": 1, "border_color": "#9AA7B5"}
WRAPPED = {"text_wrap": True}
A4 = 9  # xlsxwriter paper code
MARGIN_INCHES = 0.4


@dataclass(frozen=True)
class XlsxMeta:
    """Whose list this is (the hidden FEEDBACK_META_SHEET) and what the title rows say."""

    practice_code: str
    pathway: str
    listed_on: date
    title: str
    lines: tuple[str, ...] = ()
    confidential: str = ""

    @property
    def header_row(self) -> int:
        """0-based index of the heading row: title, lines, confidentiality, then headings."""
        return 1 + len(self.lines) + 1


def write_xlsx(
    rows: Sequence[Sequence[object]],
    columns: Sequence[ListColumn],
    path: Path,
    *,
    meta: XlsxMeta,
) -> None:
    """Write display rows (plain Python values, in `columns` order) to `path`. Text cells are
    always written as string cells, so a value starting with = is never a formula."""
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    ws = wb.add_worksheet(SHEET)
    top = meta.header_row
    _title_rows(wb, ws, meta)
    header = wb.add_format(HEADER)
    made: dict[tuple, object] = {}
    formats = [_cell_format(wb, c, made=made) for c in columns]
    for i, column in enumerate(columns):
        ws.write_string(top, i, column.heading, header)
        ws.set_column(i, i, column.width)
    for r, values in enumerate(rows, start=top + 1):
        for i, value in enumerate(values):
            if value is None:
                ws.write_blank(r, i, None, formats[i])
            elif isinstance(value, str):
                ws.write_string(r, i, value, formats[i])
            elif isinstance(value, date | datetime):
                ws.write_datetime(r, i, value, formats[i])
            else:
                ws.write_number(r, i, value, formats[i])
    last = top + max(len(rows), 1)  # 0-based index of the last data row
    # Frozen below the headings and right of the name: the Outcome and Notes columns are far to
    # the right, and an outcome typed there must land on the person the nurse spoke to (a
    # 'Died' on the wrong row takes someone else off every list for years).
    ws.freeze_panes(top + 1, _frozen_columns(columns))
    ws.autofilter(top, 0, last, len(columns) - 1)
    # Blank rows below the list get the drop-downs too (validation only: no empty cells made).
    _feedback_validation(
        ws, columns, first_row=top + 1,
        last_row=max(top + len(rows), top + FEEDBACK_ROWS_MIN - 1), listed_on=meta.listed_on,
    )  # fmt: skip
    _print_setup(ws, meta, header_row=top)
    _meta_sheet(wb, meta)
    wb.close()


#: The columns kept in view while scrolling right: up to and including this one.
FROZEN_THROUGH = "name"


def _frozen_columns(columns: Sequence[ListColumn]) -> int:
    names = [c.name for c in columns]
    return names.index(FROZEN_THROUGH) + 1 if FROZEN_THROUGH in names else 0


def _title_rows(wb: xlsxwriter.Workbook, ws: object, meta: XlsxMeta) -> None:
    ws.write_string(0, 0, meta.title, wb.add_format(TITLE))
    ws.set_row(0, 20)
    line = wb.add_format(LINE)
    for i, text in enumerate(meta.lines, start=1):
        ws.write_string(i, 0, text, line)
    ws.write_string(1 + len(meta.lines), 0, meta.confidential, wb.add_format(NOTICE))


def _print_setup(ws: object, meta: XlsxMeta, *, header_row: int) -> None:
    ws.hide_gridlines(0)  # gridlines on screen and in print
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as needed
    ws.repeat_rows(header_row)  # the heading row on every printed page
    ws.set_margins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=0.6, bottom=0.6)
    header = f"&L&8{_escape_amp(meta.title)}&R&8{_escape_amp(meta.confidential)}"
    ws.set_header(header[:255])
    ws.set_footer("&C&8Page &P of &N")


def _escape_amp(text: str) -> str:
    """Header/footer text: a literal & is written && (else it starts a control code)."""
    return text.replace("&", "&&")


def _meta_sheet(wb: xlsxwriter.Workbook, meta: XlsxMeta) -> None:
    """The hidden sheet ingest reads to know whose file this is (keys in A, values in B)."""
    ws = wb.add_worksheet(FEEDBACK_META_SHEET)
    values = (
        ("practice_code", meta.practice_code),
        ("pathway", meta.pathway),
        ("listed_on", meta.listed_on.isoformat()),
    )
    for r, (key, value) in enumerate(values):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    ws.hide()


def _cell_format(
    wb: xlsxwriter.Workbook, column: ListColumn, *, made: dict[tuple, object]
) -> object:
    """The column's cell format, one per distinct format in the workbook (`made`): xlsxwriter
    stores equal formats once anyway, so the file is the same, without ~20 Format objects
    (their colour parsing) made per file."""
    spec: dict[str, object] = dict(CELL)
    if column.kind in NUMBER_FORMATS:
        spec["num_format"] = NUMBER_FORMATS[column.kind]
    if column.wrap:
        spec |= WRAPPED
    key = tuple(spec.items())
    if key not in made:
        made[key] = wb.add_format(spec)
    return made[key]


def _feedback_validation(
    ws: object, columns: Sequence[ListColumn], *, first_row: int, last_row: int, listed_on: date
) -> None:
    """Outcome drop-down (human labels) and contacted-on date check (from the list's date to
    today, what ingest accepts), first_row..last_row."""
    names = [c.name for c in columns]
    outcome = names.index("outcome")
    ws.data_validation(
        first_row, outcome, last_row, outcome,
        {"validate": "list", "source": list(OUTCOME_LABELS.values()), "ignore_blank": True,
         "error_title": "Outcome", "error_message": OUTCOME_PROMPT,
         "input_title": "Outcome", "input_message": OUTCOME_PROMPT},
    )  # fmt: skip
    contacted = names.index("contacted_on")
    prompt = DATE_PROMPT.format(listed_on=listed_on)
    ws.data_validation(
        first_row, contacted, last_row, contacted,
        {"validate": "date", "criteria": "between", "minimum": listed_on, "maximum": "=TODAY()",
         "ignore_blank": True, "error_title": "Contacted on", "error_message": prompt,
         "input_title": "Contacted on", "input_message": prompt},
    )  # fmt: skip
