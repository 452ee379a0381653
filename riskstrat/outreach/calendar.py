"""Working days for the outreach stage: a thin wrapper over riskstrat.calendar.

`holidays` here is configs/outreach.yaml's `bank_holidays`: one-off closures added to England's
bank holidays, which come from the `holidays` package for any year (riskstrat/calendar.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from riskstrat import calendar


def add_working_days(days: pd.Series, n: int, *, holidays: Iterable[date] = ()) -> pd.Series:
    """Each date plus `n` working days (a discharge on Friday + 2 = Tuesday, or Wednesday when
    Monday is a bank holiday). Null stays null."""
    return calendar.add_working_days(days, n, extra=holidays)


def previous_working_day(day: date, *, holidays: Iterable[date] = ()) -> date:
    """The latest working day strictly before `day`."""
    return calendar.previous_working_day(day, extra=holidays)
