"""Working days in England: weekends and bank holidays, for any year.

Bank holidays come from the `holidays` package (country GB, subdivision ENG: England and Wales'
list, including substitute days and one-off days such as a state funeral); it is maintained by
its community and computes any year, so there is no list to extend. A config override list
(`bank_holidays` in configs/outreach.yaml) adds one-off closures the package does not know yet.

One function per concept; `extra` is always that override list. Used by the outreach stage
(contact-by dates, the readmission window) and the scheduler (no weekday run on a bank holiday).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

COUNTRY = "GB"
SUBDIVISION = "ENG"
SOURCE = "holidays package (GB, subdivision ENG)"


@lru_cache(maxsize=256)
def _year(year: int) -> dict[date, str]:
    import holidays

    return dict(holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=year).items())


def bank_holidays(start: date, end: date, *, extra: Iterable[date] = ()) -> dict[date, str]:
    """Bank holidays (and `extra` one-off days) from start to end inclusive: date -> name."""
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        found.update(_year(year))
    found.update({d: "one-off closure (config)" for d in extra})
    return {d: found[d] for d in sorted(found) if start <= d <= end}


def holiday_name(day: date, *, extra: Iterable[date] = ()) -> str | None:
    """The bank holiday's name on `day`, or None (weekends are not holidays)."""
    return bank_holidays(day, day, extra=extra).get(day)


def is_working_day(day: date, *, extra: Iterable[date] = ()) -> bool:
    """Monday to Friday and not a bank holiday."""
    return day.weekday() < 5 and holiday_name(day, extra=extra) is None


def previous_working_day(day: date, *, extra: Iterable[date] = ()) -> date:
    """The latest working day strictly before `day` (Tuesday after Easter -> Thursday)."""
    extra = tuple(extra)
    day -= timedelta(days=1)
    while not is_working_day(day, extra=extra):
        day -= timedelta(days=1)
    return day


def next_working_day(day: date, *, extra: Iterable[date] = ()) -> date:
    """The earliest working day strictly after `day` (Friday -> Monday, or Tuesday)."""
    extra = tuple(extra)
    day += timedelta(days=1)
    while not is_working_day(day, extra=extra):
        day += timedelta(days=1)
    return day


def add_working_days(days: pd.Series, n: int, *, extra: Iterable[date] = ()) -> pd.Series:
    """Each date plus `n` working days; null stays null.

    A weekend or holiday date rolls back to the last working day before counting, so Saturday + 2
    = Tuesday, the same as Friday + 2: the next two working days after the event.
    """
    values = pd.to_datetime(days)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[D]")
    known = values.notna().to_numpy()
    if known.any():
        start = values[known].to_numpy().astype("datetime64[D]")
        first = pd.Timestamp(start.min()).date() - timedelta(days=31)
        last = pd.Timestamp(start.max()).date() + timedelta(days=max(n, 0) * 2 + 62)
        listed = np.array(list(bank_holidays(first, last, extra=extra)), dtype="datetime64[D]")
        out[known] = np.busday_offset(start, n, roll="backward", holidays=listed)
    return pd.Series(out.astype("datetime64[s]"), index=days.index, name=days.name)
