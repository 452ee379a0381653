"""Who may be listed at all, and who belongs to a special group (pure functions on frames).

Never listed: the deceased, the deregistered, anyone not yet registered, and (by config) anyone
with a national data opt-out. Palliative care (PC register) and care-home residents are marked
with their group so generic pathways leave them out and only their own section lists them.
Someone in hospital now (an open spell at the list date) is marked too: no contact list calls
them and they use no place (the engine counts them per list as "in hospital now").
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.outreach.config import OutreachConfig

PEOPLE_COLUMNS = (
    "patient_id", "practice_code", "registered_from", "registered_to", "date_of_death",
    "data_opt_out", "care_home", "palliative",
)  # fmt: skip
#: Optional columns (absent = False / unknown): an open spell at as_of; the latest emergency
#: admission, discharge or A&E attendance before as_of (a "new event" since a listing).
OPTIONAL_PEOPLE_COLUMNS = ("in_hospital", "last_event")
MISSING_PEOPLE_COLUMN = "people frame: missing column {column!r}"
OUTCOME_COLUMNS = ("patient_id", "pathway", "listed_on", "contacted_on", "outcome")
#: The special groups eligibility marks, by code (palliative care wins over care home).
SPECIAL_GROUPS = ("palliative_care", "care_home")


def eligibility(people: pd.DataFrame, *, as_of: date, config: OutreachConfig) -> pd.DataFrame:
    """patient_id, practice_code, listable (bool: registered and alive), opted_out (bool: a data
    opt-out the configuration respects), in_hospital (bool), last_event (date or NaT), group
    (special group name or NA).

    Registered means registered_from <= as_of < registered_to (a registration ending on the list
    date is over: the practice cannot follow it up); alive means no death recorded on or before
    as_of.
    """
    for column in PEOPLE_COLUMNS:
        if column not in people.columns:
            raise KeyError(MISSING_PEOPLE_COLUMN.format(column=column))
    day = pd.Timestamp(as_of)
    registered = (pd.to_datetime(people["registered_from"]) <= day) & ~(
        pd.to_datetime(people["registered_to"]) <= day
    ).fillna(False)
    alive = ~(pd.to_datetime(people["date_of_death"]) <= day).fillna(False)
    listable = registered & alive
    opted_out = pd.Series(False, index=people.index)
    if config.respect_data_opt_out:
        opted_out = people["data_opt_out"].fillna(True).astype(bool)
    in_hospital = (
        people["in_hospital"].fillna(False).astype(bool)
        if "in_hospital" in people
        else pd.Series(False, index=people.index)
    )
    last_event = (
        pd.to_datetime(people["last_event"])
        if "last_event" in people
        else pd.Series(pd.NaT, index=people.index, dtype="datetime64[s]")
    )
    palliative = people["palliative"].fillna(False).astype(bool)
    care_home = people["care_home"].fillna(False).astype(bool)
    code = np.where(palliative, 0, np.where(care_home, 1, -1)).astype(np.int8)
    return pd.DataFrame(
        {
            "patient_id": _values(people["patient_id"]),
            "practice_code": _values(people["practice_code"]),
            "listable": listable.to_numpy(dtype=bool),
            "opted_out": opted_out.to_numpy(dtype=bool),
            "in_hospital": in_hospital.to_numpy(dtype=bool),
            "last_event": last_event.to_numpy(),
            "group": _group_names(code),
        }
    )


def _values(column: pd.Series) -> object:
    """A column's values for a new frame: `str` columns as they are (their Arrow strings; a
    NumPy copy would make a Python string per row), others as a NumPy array."""
    return column.array if column.dtype == "str" else column.to_numpy()


def _group_names(code: np.ndarray) -> object:
    """SPECIAL_GROUPS[code] as `str` values, NA where code is -1, built in Arrow (no Python
    string per person)."""
    names = pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), pa.array(SPECIAL_GROUPS))
    return names.cast(pa.large_string()).to_pandas().array


def recently_closed(outcomes: pd.DataFrame, *, as_of: date, weeks: dict[str, int]) -> pd.Series:
    """patient_ids with an outcome in `weeks` recorded within that many weeks before as_of."""
    return closing_outcomes(outcomes, as_of=as_of, weeks=weeks).index.to_series(name="patient_id")


def closing_outcomes(outcomes: pd.DataFrame, *, as_of: date, weeks: dict[str, int]) -> pd.Series:
    """patient_id -> the latest outcome in `weeks` recorded within that many weeks before as_of.

    The outcome's date is contacted_on, or listed_on when the practice left it blank. Feedback on
    any pathway counts: a person just contacted is not called again from another list.
    """
    if outcomes.empty or not weeks:
        return pd.Series([], dtype="str", name="outcome", index=pd.Index([], dtype="str"))
    when = pd.to_datetime(outcomes["contacted_on"]).fillna(pd.to_datetime(outcomes["listed_on"]))
    limit = outcomes["outcome"].map(weeks)
    since = pd.Timestamp(as_of) - pd.to_timedelta(limit * 7, unit="D")
    hit = limit.notna() & (when >= since) & (when <= pd.Timestamp(as_of))
    found = outcomes.loc[hit, ["patient_id", "outcome"]].assign(when=when[hit])
    found = found.sort_values(["patient_id", "when"], kind="mergesort")
    latest = found.drop_duplicates("patient_id", keep="last")
    return pd.Series(
        latest["outcome"].to_numpy(), index=latest["patient_id"].to_numpy(), name="outcome"
    )
