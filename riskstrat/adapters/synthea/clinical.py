"""Primary care contacts, condition registers and observations from Synthea."""

from __future__ import annotations

import pandas as pd

from riskstrat.adapters.synthea.mappings import AdapterRules, LoincMap, RegisterMap
from riskstrat.adapters.synthea.people import primary_care_orgs
from riskstrat.adapters.synthea.report import TableCounts, drop_repeats, in_window

NOT_A_REGISTER = "SNOMED code not mapped to a register (configs/synthea/registers.yaml)"
EPISODE_MERGED = "overlaps an earlier episode of the same register: merged"
RESOLVED_LATER = "resolved after the extract date: still active (resolved_on set to null)"
NOT_MAPPED_LOINC = "LOINC code not mapped (configs/synthea/loinc.yaml)"
NOT_NUMERIC = "value is not numeric"
NOT_PRIMARY_CARE = "encounter at an organisation that is not primary care (hospital clinic)"


def build_gp_contacts(
    encounters: pd.DataFrame,
    *,
    people: pd.DataFrame,
    rules: AdapterRules,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """Routine encounters at a primary-care organisation are attended GP contacts (Synthea
    records no DNAs); ambulatory / outpatient visits at hospitals and clinics are not."""
    counts = TableCounts()
    rows = encounters[encounters["ENCOUNTERCLASS"].isin(list(rules.gp_contact_modes))]
    at_practice = rows["ORGANIZATION"].isin(primary_care_orgs(encounters, rules=rules))
    counts.dropped[NOT_PRIMARY_CARE] += int((~at_practice).sum())
    rows = rows[at_practice]
    rows, dropped = in_window(rows, on="START", people=people, extract_date=extract_date)
    counts.dropped.update(dropped)
    out = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "contact_date": rows["START"].dt.normalize(),
            "mode": rows["ENCOUNTERCLASS"].map(rules.gp_contact_modes),
            "attended": True,
        }
    )
    out = drop_repeats(out, counts)
    counts.produced = len(out)
    return out, counts


def merge_episodes(rows: pd.DataFrame) -> pd.DataFrame:
    """Overlapping or touching episodes of one register become one (first start, last end).

    `rows`: patient_id, register, diagnosed_on, resolved_on (NaT = still active).
    """
    rows = rows.sort_values(["patient_id", "register", "diagnosed_on"])
    keys = [rows["patient_id"], rows["register"]]
    end = rows["resolved_on"].fillna(pd.Timestamp.max.normalize())
    reach = end.groupby(keys).cummax().groupby(keys).shift()
    new = reach.isna() | (rows["diagnosed_on"] > reach)
    episode = new.cumsum()
    grouped = rows.groupby(episode)
    merged = grouped.first()[["patient_id", "register", "diagnosed_on"]]
    merged["resolved_on"] = end.groupby(episode).max().replace(pd.Timestamp.max.normalize(), pd.NaT)
    return merged.reset_index(drop=True)


def build_conditions(
    conditions: pd.DataFrame | None,
    encounters: pd.DataFrame,
    *,
    people: pd.DataFrame,
    registers: RegisterMap,
    rules: AdapterRules,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """Register episodes from mapped SNOMED conditions, plus PC (palliative) from hospice stays."""
    counts = TableCounts()
    mapping = {code: e.register_code for code, e in registers.codes.items()}
    columns = ["patient_id", "register", "START", "STOP"]
    parts = []
    if conditions is not None:
        rows = conditions.rename(columns={"PATIENT": "patient_id"})
        register = rows["CODE"].map(mapping)
        counts.dropped[NOT_A_REGISTER] += int(register.isna().sum())
        parts.append(rows.assign(register=register).dropna(subset=["register"])[columns])
    hospice = encounters[encounters["ENCOUNTERCLASS"].isin(rules.palliative_classes)]
    life = people.set_index("patient_id")["date_of_death"]
    # A hospice stay ending in death (within a day) stays on the register; otherwise it ends.
    last_day = hospice["STOP"].dt.normalize() + pd.Timedelta(days=1)
    died_there = (hospice["patient_id"].map(life) <= last_day).fillna(False).astype(bool)
    parts.append(hospice.assign(register="PC", STOP=hospice["STOP"].mask(died_there))[columns])
    rows = pd.concat(parts, ignore_index=True)
    rows, dropped = in_window(rows, on="START", people=people, extract_date=extract_date)
    counts.dropped.update(dropped)
    resolved = rows["STOP"].dt.normalize()
    later = resolved > extract_date
    counts.adjusted[RESOLVED_LATER] += int(later.sum())
    episodes = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "register": rows["register"],
            "diagnosed_on": rows["START"].dt.normalize(),
            "resolved_on": resolved.mask(later),
        }
    )
    out = merge_episodes(episodes)
    counts.dropped[EPISODE_MERGED] += len(episodes) - len(out)
    counts.produced = len(out)
    return out, counts


def build_observations(
    observations: pd.DataFrame,
    *,
    people: pd.DataFrame,
    loinc: LoincMap,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """Mapped LOINC observations with numeric values, converted to the contract's units."""
    counts = TableCounts()
    rows = observations.rename(columns={"PATIENT": "patient_id"})
    mapped = rows["CODE"].isin(list(loinc.codes))
    counts.dropped[NOT_MAPPED_LOINC] += int((~mapped).sum())
    rows = rows[mapped]
    value = pd.to_numeric(rows["VALUE"], errors="coerce")
    numeric = value.notna()
    counts.dropped[NOT_NUMERIC] += int((~numeric).sum())
    rows, value = rows[numeric], value[numeric]
    rows, dropped = in_window(rows, on="DATE", people=people, extract_date=extract_date)
    counts.dropped.update(dropped)
    code = rows["CODE"]
    multiply = code.map({k: e.multiply for k, e in loinc.codes.items()})
    add = code.map({k: e.add for k, e in loinc.codes.items()})
    out = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "observed_on": rows["DATE"].dt.normalize(),
            "code": code.map({k: e.code for k, e in loinc.codes.items()}),
            "value": value[rows.index] * multiply + add,
        }
    ).reset_index(drop=True)
    counts.produced = len(out)
    return out, counts
