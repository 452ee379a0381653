"""The XLSX list: one sheet `list`, frozen header, widths, risk as %, autofilter, and feedback
columns (contacted_on date, outcome drop-down) the practice fills in and returns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from riskstrat.outreach.columns import ListColumn
from riskstrat.registry.contract import OUTREACH_OUTCOMES

SHEET = "list"
FEEDBACK_ROWS_MIN = 50  # drop-downs reach at least this far, so added rows get them too
NUMBER_FORMATS = {"percent": "0.0%", "points": "0.0", "date": "yyyy-mm-dd", "int": "0"}
OUTCOME_PROMPT = "Choose what happened: " + ", ".join(OUTREACH_OUTCOMES)
WRAPPED = Alignment(wrap_text=True, vertical="top")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")


def write_xlsx(rows: Sequence[Sequence[object]], columns: Sequence[ListColumn], path: Path) -> None:
    """Write display rows (plain Python values, in `columns` order) to `path`. Text cells are
    always stored as text, so a value starting with = is never a formula."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([c.name for c in columns])
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    formats = [NUMBER_FORMATS.get(c.kind) for c in columns]
    wrap = [c.name.startswith("reason") or c.name == "actions" for c in columns]
    for r, values in enumerate(rows, start=2):
        for i, value in enumerate(values):
            cell = ws.cell(row=r, column=i + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
            elif formats[i] and value is not None:
                cell.number_format = formats[i]
            if wrap[i]:
                cell.alignment = WRAPPED
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    last = len(rows) + 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last, 2)}"
    # Blank rows below the list get the drop-downs too (validation only: no empty cells made).
    _feedback_validation(ws, columns, last_row=max(last, FEEDBACK_ROWS_MIN))
    ws.print_options.gridLines = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    wb.save(path)


def _feedback_validation(ws: Worksheet, columns: Sequence[ListColumn], *, last_row: int) -> None:
    names = [c.name for c in columns]
    outcome = get_column_letter(names.index("outcome") + 1)
    choices = DataValidation(
        type="list",
        formula1='"' + ",".join(OUTREACH_OUTCOMES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Outcome",
        error=OUTCOME_PROMPT,
        promptTitle="Outcome",
        prompt=OUTCOME_PROMPT,
    )
    choices.add(f"{outcome}2:{outcome}{last_row}")
    ws.add_data_validation(choices)
    contacted = get_column_letter(names.index("contacted_on") + 1)
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="DATE(2000,1,1)",
        allow_blank=True,
        showErrorMessage=True,
        error="Enter the date the patient was contacted (yyyy-mm-dd).",
    )
    dates.add(f"{contacted}2:{contacted}{last_row}")
    ws.add_data_validation(dates)
