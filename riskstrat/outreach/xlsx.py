"""The XLSX list: one sheet `list`, frozen header, widths, risk as %, autofilter, and feedback
columns (contacted_on date, outcome drop-down) the practice fills in and returns.

Written with xlsxwriter (a streaming writer, about 5x quicker than building an openpyxl workbook
for the few hundred files of a run); tests read the files back with openpyxl.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from riskstrat.outreach.columns import ListColumn
from riskstrat.registry.contract import OUTREACH_OUTCOMES

SHEET = "list"
FEEDBACK_ROWS_MIN = 50  # drop-downs reach at least this far, so added rows get them too
NUMBER_FORMATS = {"percent": "0.0%", "points": "0.0", "date": "yyyy-mm-dd", "int": "0"}
OUTCOME_PROMPT = "Choose what happened: " + ", ".join(OUTREACH_OUTCOMES)
DATE_PROMPT = "Enter the date the patient was contacted (yyyy-mm-dd)."
#: Never turn text into formulas, numbers or links: a value is stored exactly as given.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
HEADER = {"bold": True, "bg_color": "#DDE5F0", "border": 1}
WRAPPED = {"text_wrap": True, "valign": "top"}
A4 = 9  # xlsxwriter paper code


def write_xlsx(rows: Sequence[Sequence[object]], columns: Sequence[ListColumn], path: Path) -> None:
    """Write display rows (plain Python values, in `columns` order) to `path`. Text cells are
    always written as string cells, so a value starting with = is never a formula."""
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    ws = wb.add_worksheet(SHEET)
    header = wb.add_format(HEADER)
    formats = [_cell_format(wb, c) for c in columns]
    for i, column in enumerate(columns):
        ws.write_string(0, i, column.name, header)
        ws.set_column(i, i, column.width)
    for r, values in enumerate(rows, start=1):
        for i, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, i, value, formats[i])
            elif isinstance(value, date | datetime):
                ws.write_datetime(r, i, value, formats[i])
            else:
                ws.write_number(r, i, value, formats[i])
    last = max(len(rows), 1)  # 0-based index of the last data row (the header alone: row 2)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, last, len(columns) - 1)
    # Blank rows below the list get the drop-downs too (validation only: no empty cells made).
    _feedback_validation(ws, columns, last_row=max(len(rows), FEEDBACK_ROWS_MIN - 1))
    ws.hide_gridlines(0)  # gridlines on screen and in print
    ws.set_landscape()
    ws.set_paper(A4)
    wb.close()


def _cell_format(wb: xlsxwriter.Workbook, column: ListColumn) -> object:
    spec: dict[str, object] = {}
    if column.kind in NUMBER_FORMATS:
        spec["num_format"] = NUMBER_FORMATS[column.kind]
    if column.name.startswith("reason") or column.name == "actions":
        spec |= WRAPPED
    return wb.add_format(spec) if spec else None


def _feedback_validation(ws: object, columns: Sequence[ListColumn], *, last_row: int) -> None:
    """Outcome drop-down and contacted_on date check from row 2 to last_row (0-based index)."""
    names = [c.name for c in columns]
    outcome = names.index("outcome")
    ws.data_validation(
        1, outcome, last_row, outcome,
        {"validate": "list", "source": list(OUTREACH_OUTCOMES), "ignore_blank": True,
         "error_title": "Outcome", "error_message": OUTCOME_PROMPT,
         "input_title": "Outcome", "input_message": OUTCOME_PROMPT},
    )  # fmt: skip
    contacted = names.index("contacted_on")
    ws.data_validation(
        1, contacted, last_row, contacted,
        {"validate": "date", "criteria": ">", "value": date(2000, 1, 1), "ignore_blank": True,
         "error_message": DATE_PROMPT},
    )  # fmt: skip
