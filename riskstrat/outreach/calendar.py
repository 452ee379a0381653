"""Working days: weekends and England bank holidays (the list in configs/outreach.yaml)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

HOLIDAYS_NOT_COVERED = (
    "configs/outreach.yaml: bank_holidays: no holidays listed for {year}; extend the list"
)


def _holidays(holidays: Iterable[date], dates: pd.Series | list[date]) -> np.ndarray:
    listed = np.array(sorted(holidays), dtype="datetime64[D]")
    years = {d.year for d in listed.astype(object)}
    for value in pd.Series(dates).dropna():
        if pd.Timestamp(value).year not in years:
            raise ValueError(HOLIDAYS_NOT_COVERED.format(year=pd.Timestamp(value).year))
    return listed


def add_working_days(days: pd.Series, n: int, *, holidays: Iterable[date]) -> pd.Series:
    """Each date plus `n` working days (a discharge on Friday + 2 = Tuesday, or Wednesday when
    Monday is a bank holiday). Null stays null."""
    listed = _holidays(holidays, days)
    values = pd.to_datetime(days)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[D]")
    known = values.notna().to_numpy()
    start = values[known].to_numpy().astype("datetime64[D]")
    # A weekend or holiday discharge rolls back to the last working day before counting, so
    # Saturday + 2 = Tuesday, the same as Friday + 2: the next two working days after discharge.
    out[known] = np.busday_offset(start, n, roll="backward", holidays=listed)
    return pd.Series(out.astype("datetime64[s]"), index=days.index, name=days.name)


def previous_working_day(day: date, *, holidays: Iterable[date]) -> date:
    listed = _holidays(holidays, [day])
    prev = np.busday_offset(np.datetime64(day, "D"), -1, roll="backward", holidays=listed)
    return prev.astype(object)
