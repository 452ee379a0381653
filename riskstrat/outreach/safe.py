"""Spreadsheet formula injection: a text value starting with = + - @ (or tab / carriage
return) must never be run as a formula when a practice opens its list in Excel or LibreOffice."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is not imported by the list file worker (outreach/file_worker.py)
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise_text(value: object) -> object:
    """For CSV: prefix a risky text value with a single quote (OWASP), so it is shown as text."""
    return f"'{value}" if is_risky(value) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column of `frame` neutralised; numbers and dates are left as they are."""
    from pandas.api.types import is_string_dtype

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or is_string_dtype(series):
            out[column] = series.map(neutralise_text, na_action="ignore")
    return out
