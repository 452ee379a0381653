"""What both adapters (Synthea, OMOP) do the same way, written once: config value checks, the
not-null scan of a source table, spell merging and the discharge/death rule, writing an extract
folder in the contract's columns and formats.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import pandas as pd
from pydantic import AfterValidator

from riskstrat.registry.contract import OBSERVATION_CODES, REGISTERS, TABLES, Table

if TYPE_CHECKING:  # the synthea package imports this module: no import back at run time
    from riskstrat.adapters.synthea.report import TableCounts

#: File formats an extract can be written in.
FORMATS = ("csv", "parquet")
STILL_IN = "discharge after the extract date: still in hospital (discharge set to null)"
DIED_IN_STAY = "patient died during the stay: discharge set to date of death"

M = TypeVar("M", bound=Mapping)


def only_values(value: M, allowed: tuple[str, ...], *, what: str) -> M:
    """`value` when each of its values is in `allowed`; else ValueError naming the others."""
    bad = sorted(set(value.values()) - set(allowed))
    if bad:
        raise ValueError(f"{what} {bad} are not in {allowed}")
    return value


def known_register(value: str) -> str:
    if value not in REGISTERS:
        raise ValueError(f"{value!r} is not a register in {REGISTERS}")
    return value


def known_observation_code(value: str) -> str:
    if value not in OBSERVATION_CODES:
        raise ValueError(f"{value!r} is not an observation code in {OBSERVATION_CODES}")
    return value


#: A config field holding a register code (checked against the contract's REGISTERS).
RegisterCode = Annotated[str, AfterValidator(known_register)]
#: A config field holding an observation code (checked against OBSERVATION_CODES).
ObservationCode = Annotated[str, AfterValidator(known_observation_code)]


def first_empty(frame: pd.DataFrame, columns: Iterable[str]) -> tuple[str, int, int] | None:
    """The first of `columns` with an empty value: (column, 0-based position of its first empty
    row, rows affected); None when none is empty."""
    for column in columns:
        empty = frame[column].isna()
        if empty.any():
            return column, int(empty.to_numpy().argmax()), int(empty.sum())
    return None


def opens_spell(start: pd.Series, end: pd.Series, *, by: pd.Series, gap: pd.Timedelta) -> pd.Series:
    """Per stay (sorted by person, then start): True when it starts more than `gap` after the
    latest end of the person's earlier stays (or is the person's first), so it opens a new spell."""
    reach = end.groupby(by).cummax().groupby(by).shift()
    return reach.isna() | (start > reach + gap)


def discharge_or_death(
    discharge: pd.Series,
    patient_id: pd.Series,
    *,
    people: pd.DataFrame,
    extract_date: pd.Timestamp,
    counts: TableCounts,
) -> tuple[pd.Series, pd.Series]:
    """(discharge date, died in the stay): a discharge after the extract date becomes null
    (still in); a death before discharge (or while still in) becomes the discharge date. Adds
    both adjustments to `counts`."""
    still_in = discharge > extract_date
    counts.adjusted[STILL_IN] += int(still_in.sum())
    discharge = discharge.mask(still_in)
    death = patient_id.map(people.set_index("patient_id")["date_of_death"])
    died = death.notna() & (discharge.isna() | (death <= discharge))
    counts.adjusted[DIED_IN_STAY] += int((died & (discharge != death)).sum())
    return discharge.mask(died, death), died


def to_contract(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Contract columns in contract order with contract dtypes (dates as datetime64 days)."""
    out = pd.DataFrame(index=frame.index)
    for col in table.columns:
        values = frame[col.name] if col.name in frame else pd.Series(pd.NA, index=frame.index)
        if col.dtype == "date":
            values = pd.to_datetime(values).dt.normalize().astype("datetime64[s]")
        elif col.dtype == "timestamp":
            values = pd.to_datetime(values).astype("datetime64[us]")
        elif col.dtype == "bool":
            values = values.astype("boolean")
        elif col.dtype == "int":
            values = values.astype("Int64")
        elif col.dtype == "float":
            values = values.astype("float64")
        else:
            values = values.astype("str")
        out[col.name] = values
    return out.reset_index(drop=True)


def write_table(frame: pd.DataFrame, table: Table, *, out_dir: Path, fmt: str) -> Path:
    """Write one table atomically (temp file, then rename)."""
    path = out_dir / f"{table.name}.{fmt}"
    tmp = out_dir / f".{table.name}.{fmt}.tmp"
    data = to_contract(frame, table)
    if fmt == "parquet":
        for col in table.columns:
            if col.dtype == "date":
                data[col.name] = (
                    data[col.name].dt.date.astype("object").where(data[col.name].notna(), None)
                )
        data.to_parquet(tmp, index=False)
    else:
        for col in table.columns:
            if col.dtype == "date":
                data[col.name] = data[col.name].dt.strftime("%Y-%m-%d")
            elif col.dtype == "timestamp":
                data[col.name] = data[col.name].dt.strftime("%Y-%m-%d %H:%M:%S")
            elif col.dtype == "bool":
                data[col.name] = data[col.name].map({True: "true", False: "false"})
        data.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, path)
    return path


def write_extract(
    tables: Mapping[str, pd.DataFrame],
    *,
    out_dir: Path,
    fmt: str,
) -> None:
    """Write every table into `out_dir` and remove an earlier import's table files (other tables
    or the other format), so they never mix with this import's."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        write_table(frame, TABLES[name], out_dir=out_dir, fmt=fmt)
    for stale in TABLES:
        for ext in FORMATS:
            path = out_dir / f"{stale}.{ext}"
            if path.exists() and (stale not in tables or ext != fmt):
                path.unlink()
