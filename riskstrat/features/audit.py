"""Leakage audit: change only the future of each index date and check no feature moves.

`future_perturbed` is the adversary: it appends events dated on or after each patient's index
date to every event table, and moves every date that is unknown at index (open spells'
discharges, resolutions, deaths, deregistrations) to other dates on or after it. A point-in-time
feature cannot tell the difference; `leakage_audit` names every column that can.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import numpy as np
import pandas as pd

from riskstrat.features.catalogue import Catalogue, load_catalogue
from riskstrat.features.runner import build_features
from riskstrat.registry.contract import DUCKDB_TYPES, REGISTERS, TABLES, ddl
from riskstrat.tasks.spec import TaskSpec, resolve_task

UNKNOWN_TABLE = "no contract table named {table!r}"
HIGH_RISK_BNF = ("0208020Z0", "0407020A0", "0601011N0", "0202020L0", "0402010D0")


def memory_registry(tables: Mapping[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every contract table (contract.ddl), filled from `tables`.

    Columns a frame lacks are NULL; values are cast to the contract types.
    """
    con = duckdb.connect(":memory:")
    for name in tables:
        if name not in TABLES:
            raise KeyError(UNKNOWN_TABLE.format(table=name))
    for table in TABLES.values():
        con.execute(ddl(table))
        frame = tables.get(table.name)
        if frame is None or frame.empty:
            continue
        con.register("_rows", frame)
        select = ", ".join(
            f"CAST({c.name} AS {DUCKDB_TYPES[c.dtype]})"
            if c.name in frame.columns
            else f"CAST(NULL AS {DUCKDB_TYPES[c.dtype]})"
            for c in table.columns
        )
        con.execute(f"INSERT INTO {table.name} SELECT {select} FROM _rows")
        con.unregister("_rows")
    return con


def read_registry(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Every non-identifying contract table of a store, as frames."""
    present = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    return {
        t.name: con.execute(f"SELECT * FROM {t.name}").df()
        for t in TABLES.values()
        if t.name in present and not t.identifiable
    }


def _days(cut: pd.Series, n: int) -> pd.Series:
    return cut + pd.Timedelta(days=n)


def _future_rows(cut: pd.Series) -> dict[str, pd.DataFrame]:
    """New events on and after each patient's cut-off date (cut: patient_id -> date)."""
    pid = pd.Series(cut.index.to_numpy(dtype=object), dtype=object)
    c = pd.Series(cut.to_numpy())

    def rows(**cols: object) -> pd.DataFrame:
        return pd.DataFrame({"patient_id": pid, **cols})

    return {
        "spells": pd.concat(
            [
                rows(
                    spell_id="future-e-" + pid,
                    admission_date=c,
                    discharge_date=_days(c, 3),
                    admission_method="emergency",
                    primary_diagnosis="C78",
                    discharge_destination="home",
                ),
                rows(
                    spell_id="future-o-" + pid,
                    admission_date=_days(c, 1),
                    discharge_date=pd.NaT,
                    admission_method="elective",
                    primary_diagnosis="I50",
                    discharge_destination=None,
                ),
            ]
        ),
        "ae_attendances": pd.concat(
            [
                rows(
                    attendance_id=f"future-{k}-" + pid, arrival_at=_days(c, k), disposal="admitted"
                )
                for k in (0, 2)
            ]
        ),
        "gp_contacts": pd.concat(
            [
                rows(contact_date=c, mode="home_visit", attended=True),
                rows(contact_date=c, mode="face_to_face", attended=False),
                rows(contact_date=_days(c, 5), mode="telephone", attended=True),
            ]
        ),
        "prescriptions": pd.concat(
            [rows(issued_on=c, bnf_code=code, drug_code="future-" + code) for code in HIGH_RISK_BNF]
        ),
        "observations": pd.concat(
            [
                rows(observed_on=c, code=code, value=value)
                for code, value in (
                    ("hba1c", 150.0),
                    ("egfr", 5.0),
                    ("bmi", 60.0),
                    ("efi_score", 0.9),
                )
            ]
        ),
        "conditions": pd.concat(
            [rows(register=r, diagnosed_on=c, resolved_on=pd.NaT) for r in REGISTERS]
        ),
    }


def future_perturbed(
    tables: Mapping[str, pd.DataFrame], *, cutoffs: pd.Series, keep_spells: set[str] = frozenset()
) -> dict[str, pd.DataFrame]:
    """`tables` with only the future changed; cutoffs: patient_id -> index date (Timestamp).

    `keep_spells` (index spells) are left alone: a readmission index spell is known at discharge.
    """
    out = {name: frame.copy() for name, frame in tables.items()}

    def cut_for(frame: pd.DataFrame) -> pd.Series:
        return pd.to_datetime(frame["patient_id"].astype(object).map(cutoffs))

    pat = out["patients"]
    cut = cut_for(pat)
    has = cut.notna()
    for col, when_null in (("date_of_death", 30), ("registered_to", 60)):
        values = pd.to_datetime(pat[col])
        future = has & values.notna() & (values >= cut)
        pat[col] = values.where(~future, pd.NaT).where(
            ~(has & values.isna()), _days(cut, when_null)
        )
    cond = out["conditions"]
    cut = cut_for(cond)
    resolved = pd.to_datetime(cond["resolved_on"])
    diagnosed = pd.to_datetime(cond["diagnosed_on"])
    past = cut.notna() & (diagnosed < cut)
    cond["resolved_on"] = resolved.where(~(past & resolved.notna() & (resolved >= cut)), pd.NaT)
    cond["resolved_on"] = pd.to_datetime(cond["resolved_on"]).where(~(past & resolved.isna()), cut)
    sp = out["spells"]
    cut = cut_for(sp)
    discharge = pd.to_datetime(sp["discharge_date"])
    movable = cut.notna() & ~sp["spell_id"].astype(object).isin(keep_spells)
    open_at = (
        movable
        & (pd.to_datetime(sp["admission_date"]) < cut)
        & (discharge.isna() | (discharge >= cut))
    )
    sp["discharge_date"] = discharge.where(~open_at, pd.NaT).where(
        ~(open_at & discharge.isna()), _days(cut, 20)
    )
    sp["discharge_destination"] = sp["discharge_destination"].astype(object).where(~open_at, "died")
    sp["primary_diagnosis"] = sp["primary_diagnosis"].astype(object).where(~open_at, "C78")
    later = movable & (pd.to_datetime(sp["admission_date"]) >= cut)
    sp["admission_method"] = sp["admission_method"].astype(object).where(~later, "emergency")
    for name, rows in _future_rows(cutoffs.dropna()).items():
        frames = [f for f in (out.get(name), rows) if f is not None and not f.empty]
        out[name] = pd.concat(frames, ignore_index=True)
    return out


def first_rows(index: pd.DataFrame) -> pd.DataFrame:
    """Each patient's earliest index row: the future of that row is the same for all columns."""
    return index.sort_values(["index_date", "patient_id"], kind="stable").drop_duplicates(
        "patient_id"
    )


def leakage_audit(
    tables: Mapping[str, pd.DataFrame],
    index: pd.DataFrame,
    *,
    task: TaskSpec | str,
    catalogue: Catalogue | None = None,
) -> list[str]:
    """Feature columns that change when only the future of each index row changes (want: [])."""
    task = resolve_task(task)
    catalogue = catalogue or load_catalogue()
    rows = first_rows(index).reset_index(drop=True)
    cutoffs = pd.Series(
        pd.to_datetime(rows["index_date"]).to_numpy(), index=rows["patient_id"].astype(object)
    )
    keep = set(rows["index_spell_id"].astype(object)) if task.has_index_spell else set()
    before = build_features(
        memory_registry(tables), rows, task=task, catalogue=catalogue, check=False
    )
    perturbed = future_perturbed(tables, cutoffs=cutoffs, keep_spells=keep)
    after = build_features(
        memory_registry(perturbed), rows, task=task, catalogue=catalogue, check=False
    )
    return [
        c
        for c in before.columns[before.dtypes == "float64"]
        if not np.array_equal(before[c].to_numpy(), after[c].to_numpy(), equal_nan=True)
    ]
