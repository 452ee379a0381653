"""Turn the simulated arrays into contract tables (pyarrow) and write them as Parquet or CSV.

Column names, order and types come from riskstrat.registry.contract; nothing here re-lists them
except to say which simulated array fills which column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskstrat.registry.contract import (
    ADMISSION_METHODS,
    DISCHARGE_DESTINATIONS,
    ETHNICITY_GROUPS,
    REGISTERS,
    TABLES,
)
from riskstrat.synth import params as P
from riskstrat.synth.population import NO_DAY, Population, Practices
from riskstrat.synth.simulate import ELECTIVE, MATERNITY, METHOD_NAMES, TRANSFER, History

ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}
MISSING_COLUMN = "synthetic table {table!r} lacks required contract column {column!r}"
UNKNOWN_COLUMN = "synthetic table {table!r} has column {column!r} that is not in the contract"
FORMATS = ("parquet", "csv")
PLACES = (
    "Riverside",
    "Hillview",
    "Oakfield",
    "Millbrook",
    "Eastgate",
    "Westmoor",
    "Northcote",
    "Southbank",
    "Ashford",
    "Brookside",
    "Cedar",
    "Elmwood",
    "Fairview",
    "Greenway",
)
KINDS = ("Medical Centre", "Surgery", "Health Centre", "Medical Practice", "Family Practice")
assert tuple(METHOD_NAMES) == tuple(ADMISSION_METHODS)


def prefixed(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'P0000123'-style identifiers built in Arrow (no Python strings per row)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers.astype(np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def dates(days: np.ndarray, *, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.date32(), mask=null)


def build(name: str, columns: dict[str, object]) -> pa.Table:
    """A table in contract column order and types; every required column must be given."""
    table = TABLES[name]
    for column in columns:
        if column not in table.column_names:
            raise ValueError(UNKNOWN_COLUMN.format(table=name, column=column))
    arrays, names = [], []
    for col in table.columns:
        if col.name not in columns:
            if col.required:
                raise ValueError(MISSING_COLUMN.format(table=name, column=col.name))
            continue
        value = columns[col.name]
        array = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        arrays.append(array.cast(ARROW_TYPES[col.dtype]))
        names.append(col.name)
    return pa.Table.from_arrays(arrays, names=names)


def write(table: pa.Table, path: Path, *, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
    else:
        pacsv.write_csv(table, path)
    return path


def practices_table(practices: Practices) -> tuple[pa.Table, pa.Array]:
    n = practices.size.size
    code = prefixed("Z", np.arange(1, n + 1), 5)
    names = [f"{PLACES[i % len(PLACES)]} {KINDS[(i // len(PLACES)) % len(KINDS)]} {i // 70 + 1}"
             for i in range(n)]  # fmt: skip
    pcn = practices.pcn
    pcn_names = [f"{PLACES[(k * 5 + 3) % len(PLACES)]} PCN {k + 1}" for k in pcn]
    table = build("practices", {
        "practice_code": code, "practice_name": names,
        "pcn_code": prefixed("U", pcn + 1, 5), "pcn_name": pcn_names,
        "weekly_capacity": practices.capacity,
    })  # fmt: skip
    return table, code


def recorded_deaths(hist: History, *, day1: int) -> np.ndarray:
    return np.where(hist.death_day <= day1, hist.death_day, NO_DAY)


def patients_table(
    pop: Population, hist: History, *, ids: pa.Array, practice_codes: pa.Array, day1: int
) -> pa.Table:
    death = recorded_deaths(hist, day1=day1)
    left = np.where(pop.leave <= day1 + 1, pop.leave - 1, NO_DAY)
    registered_to = np.minimum(left, death)
    sexes = np.array(list(P.SEX_SHARES), dtype=object)
    eth = np.array(list(P.ETHNICITY_SHARES), dtype=object)
    assert set(eth) == set(ETHNICITY_GROUPS)
    lsoa = prefixed("E01", 900_000 + pop.lsoa, 6)
    return build("patients", {
        "patient_id": ids, "practice_code": practice_codes.take(pa.array(pop.practice)),
        "date_of_birth": dates(pop.dob), "sex": sexes[pop.sex], "ethnicity": eth[pop.ethnicity],
        "lsoa_code": lsoa, "imd_decile": pop.imd.astype(np.int64),
        "registered_from": dates(pop.entry),
        "registered_to": dates(registered_to, null=registered_to == NO_DAY),
        "date_of_death": dates(death, null=death == NO_DAY),
        "lives_alone": pa.array(pop.lives_alone == 1, mask=pop.lives_alone < 0),
        "care_home": pop.care_home, "data_opt_out": pop.opt_out,
    })  # fmt: skip


def conditions_table(
    pop: Population,
    hist: History,
    *,
    ids: pa.Array,
    day1: int,
    gap: tuple[str, int, float] | None = None,
    rng: np.random.Generator | None = None,
) -> pa.Table:
    """Register entries recorded while the person is on the list (not after death or leaving).

    gap (register, practice index, share recorded): that practice records only a share of that
    register's entries (the rest are true conditions the extract never shows; the hazard and the
    oracle still count them)."""
    last = np.minimum(np.minimum(pop.leave - 1, recorded_deaths(hist, day1=day1)), day1)
    person, reg = np.nonzero(pop.onset <= last[:, None])
    if gap is not None and rng is not None:
        code, practice, share = gap
        miss = (reg == P.REGISTER_INDEX[code]) & (pop.practice[person] == practice)
        drop = miss & (rng.random(person.size) >= share)
        person, reg = person[~drop], reg[~drop]
    resolved = pop.resolved[person, reg]
    resolved = np.where(resolved <= last[person], resolved, NO_DAY)
    codes = np.array([r.code for r in P.REGISTERS], dtype=object)
    assert set(codes) == set(REGISTERS)
    return build("conditions", {
        "patient_id": ids.take(pa.array(person)), "register": codes[reg],
        "diagnosed_on": dates(pop.onset[person, reg]),
        "resolved_on": dates(resolved, null=resolved == NO_DAY),
    })  # fmt: skip


def spell_ids(hist: History, *, first: int = 1) -> pa.Array:
    """'S000000001'-style ids numbered from `first` (chunks continue the numbering)."""
    return prefixed("S", np.arange(first, first + hist.person.size), 9)


def spells_table(
    rng: np.random.Generator,
    pop: Population,
    hist: History,
    *,
    ids: pa.Array,
    practices: Practices,
    day1: int,
    first_id: int = 1,
) -> pa.Table:
    """Spells admitted by the extract date; those still open have no discharge yet."""
    seen = hist.admission <= day1
    person = hist.person[seen]
    open_ = hist.discharge[seen] > day1
    method = hist.method[seen]
    n_prov = max(1, int(practices.pcn.max()) // 3 + 1)
    provider = practices.pcn[pop.practice[person]] // 3
    provider = np.where(method == TRANSFER, (provider + 1) % (n_prov + 1), provider)
    dest = np.array(DISCHARGE_DESTINATIONS, dtype=object)[hist.destination[seen]]
    diagnosis = diagnoses(rng, pop, person=person, day=hist.admission[seen], method=method)
    return build("spells", {
        "spell_id": spell_ids(hist, first=first_id).filter(pa.array(seen)),
        "patient_id": ids.take(pa.array(person)),
        "provider_code": prefixed("R", provider, 2),
        "admission_date": dates(hist.admission[seen]),
        "discharge_date": dates(np.minimum(hist.discharge[seen], day1), null=open_),
        "admission_method": np.array(ADMISSION_METHODS, dtype=object)[method],
        "primary_diagnosis": diagnosis,
        "discharge_destination": pa.array(dest, pa.string(), mask=open_),
    })  # fmt: skip


def diagnoses(
    rng: np.random.Generator,
    pop: Population,
    *,
    person: np.ndarray,
    day: np.ndarray,
    method: np.ndarray,
) -> np.ndarray:
    """ICD-10 primary diagnoses: emergency ones weighted by the person's conditions and age."""
    codes = list(P.DIAGNOSES)
    weights = np.empty((person.size, len(codes)))
    old = np.clip(((day - pop.dob[person]) / 365.25 - 60) / 25, 0, 1.5)
    for j, (base, extra, frail) in enumerate(P.DIAGNOSES.values()):
        w = np.full(person.size, base) + frail * old
        for reg, add in extra.items():
            w += add * (pop.onset[person, P.REGISTER_INDEX[reg]] < day)
        weights[:, j] = w
    cum = np.cumsum(weights, axis=1)
    pick = (rng.random(person.size)[:, None] * cum[:, -1:] > cum).sum(1)
    out = np.array(codes, dtype=object)[np.minimum(pick, len(codes) - 1)]
    elective = np.array(P.ELECTIVE_DIAGNOSES, dtype=object)
    maternity = np.array(P.MATERNITY_DIAGNOSES, dtype=object)
    out = np.where(method == ELECTIVE, elective[rng.integers(0, elective.size, person.size)], out)
    out = np.where(
        method == MATERNITY, maternity[rng.integers(0, maternity.size, person.size)], out
    )
    return out


def event_table(
    name: str, cols: dict[str, np.ndarray], *, ids: pa.Array, first_id: int = 1
) -> pa.Table:
    """gp_contacts / prescriptions / observations / ae_attendances from activity columns
    (attendance ids numbered from first_id)."""
    person = pa.array(cols["person"])
    if name == "ae_attendances":
        return build(name, {
            "attendance_id": prefixed("A", np.arange(first_id, first_id + cols["person"].size), 9),
            "patient_id": ids.take(person),
            "arrival_at": pa.array(cols["seconds"], pa.timestamp("s")),
            "disposal": cols["disposal"],
        })  # fmt: skip
    date_col = {"gp_contacts": "contact_date", "prescriptions": "issued_on",
                "observations": "observed_on"}[name]  # fmt: skip
    rest = {k: v for k, v in cols.items() if k not in ("person", "day")}
    return build(name, {"patient_id": ids.take(person), date_col: dates(cols["day"]), **rest})
