"""Patients, practices and contacts from Synthea patients, encounters and organizations.

Synthea has no GP registration, so the practice is inferred from where a person's routine care
happens; see docs/synthea.md for each rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.adapters.synthea.mappings import AdapterRules
from riskstrat.adapters.synthea.report import TableCounts
from riskstrat.adapters.synthea.source import SyntheaInputError
from riskstrat.registry.nhs_numbers import WEIGHTS

ORG_CODE_CLASH = "organizations.csv: column Id: two organisations share the practice code {code}"
NO_PRACTICE = "no encounter to assign a practice from"
UNASSIGNED = "no encounter at a primary-care organisation: the export's unassigned practice"
DEATH_AFTER_EXTRACT = "date_of_death after the extract date: not yet known, set to null"
BORN_AFTER_EXTRACT = "born after the extract date"


def org_code(ids: pd.Series) -> pd.Series:
    """A short, stable ODS-like code from a Synthea organisation UUID: SY + its first ten letters
    or digits, upper-cased (12 characters: the contract's PRACTICE_CODE_PATTERN)."""
    return "SY" + ids.str.replace(r"[^0-9A-Za-z]", "", regex=True).str[:10].str.upper()


def known_people(
    source: pd.DataFrame, *, extract_date: pd.Timestamp
) -> tuple[pd.DataFrame, TableCounts]:
    """People as known at the extract date: patient_id, date_of_birth, date_of_death + source."""
    counts = TableCounts()
    people = source.rename(columns={"Id": "patient_id"}).assign(
        date_of_birth=source["BIRTHDATE"].dt.normalize(),
        date_of_death=source["DEATHDATE"].dt.normalize(),
    )
    unborn = people["date_of_birth"] > extract_date
    counts.dropped[BORN_AFTER_EXTRACT] += int(unborn.sum())
    people = people[~unborn]
    late = people["date_of_death"] > extract_date
    counts.adjusted[DEATH_AFTER_EXTRACT] += int(late.sum())
    people = people.assign(date_of_death=people["date_of_death"].mask(late))
    return people, counts


def primary_care_orgs(encounters: pd.DataFrame, *, rules: AdapterRules) -> set[str]:
    """Organisations with primary-care-class encounters (wellness) and no hospital-class ones."""
    classes = encounters.groupby("ORGANIZATION")["ENCOUNTERCLASS"]
    has_primary = classes.agg(lambda c: c.isin(rules.primary_care_classes).any())
    has_hospital = classes.agg(lambda c: c.isin(rules.hospital_classes).any())
    return set(has_primary.index[has_primary & ~has_hospital])


def assign_practices(encounters: pd.DataFrame, *, rules: AdapterRules) -> pd.Series:
    """patient_id -> practice_code.

    The primary-care organisation (see `primary_care_orgs`) with most of the person's encounters,
    ties broken by the most recent; people with none share the export's unassigned practice.
    """
    orgs = primary_care_orgs(encounters, rules=rules)
    rows = encounters[encounters["ORGANIZATION"].isin(orgs)]
    stats = (
        rows.groupby(["patient_id", "ORGANIZATION"])["START"]
        .agg(["size", "max"])
        .reset_index()
        .sort_values(["patient_id", "size", "max"], ascending=[True, False, False])
    )
    chosen = stats.drop_duplicates("patient_id").set_index("patient_id")["ORGANIZATION"]
    codes = org_code(chosen)
    others = pd.Index(encounters["patient_id"].unique()).difference(codes.index)
    unassigned = pd.Series(rules.unassigned_practice.code, index=others, dtype="str")
    return pd.concat([codes.astype("str"), unassigned])


def build_patients(
    people: pd.DataFrame,
    *,
    encounters: pd.DataFrame,
    rules: AdapterRules,
    extract_date: pd.Timestamp,
    counts: TableCounts,
) -> pd.DataFrame:
    """The contract patients table (one row per person with at least one encounter)."""
    practice = assign_practices(encounters, rules=rules)
    has_practice = people["patient_id"].isin(practice.index)
    counts.dropped[NO_PRACTICE] += int((~has_practice).sum())
    people = people[has_practice]
    practice_code = people["patient_id"].map(practice)
    counts.adjusted[UNASSIGNED] += int((practice_code == rules.unassigned_practice.code).sum())
    first_seen = encounters.groupby("patient_id")["START"].min().dt.normalize()
    registered_from = people["patient_id"].map(first_seen)
    race = people["RACE"].str.lower() if "RACE" in people else pd.Series(pd.NA, index=people.index)
    income = pd.to_numeric(people["INCOME"], errors="coerce") if "INCOME" in people else None
    imd = np.ceil(income.rank(pct=True) * 10) if income is not None else np.nan
    out = pd.DataFrame(
        {
            "patient_id": people["patient_id"],
            "practice_code": practice_code,
            "date_of_birth": people["date_of_birth"],
            "sex": people["GENDER"].str.upper().where(people["GENDER"].isin(["M", "F"]), "U"),
            "ethnicity": race.map(rules.ethnicity).fillna("Unknown"),
            "lsoa_code": pd.Series(pd.NA, index=people.index, dtype="str"),
            "imd_decile": pd.Series(imd, index=people.index).astype("Int64"),
            "registered_from": registered_from.where(
                registered_from > people["date_of_birth"], people["date_of_birth"]
            ),
            "registered_to": pd.NaT,
            "date_of_death": people["date_of_death"],
            "lives_alone": pd.Series(pd.NA, index=people.index, dtype="boolean"),
            "care_home": people["patient_id"].isin(
                _in_care_home(encounters, rules=rules, extract_date=extract_date)
            )
            & people["date_of_death"].isna(),
            "data_opt_out": False,
        }
    )
    counts.produced = len(out)
    return out.reset_index(drop=True)


def _in_care_home(
    encounters: pd.DataFrame, *, rules: AdapterRules, extract_date: pd.Timestamp
) -> pd.Series:
    """Patients in a care-home-class stay that spans the extract date."""
    stays = encounters[encounters["ENCOUNTERCLASS"].isin(rules.care_home_classes)]
    ongoing = stays["STOP"].isna() | (stays["STOP"].dt.normalize() >= extract_date)
    return stays.loc[ongoing, "patient_id"]


def build_practices(
    patients: pd.DataFrame, *, organizations: pd.DataFrame, rules: AdapterRules
) -> pd.DataFrame:
    """One practice per organisation that has registered patients; PCN = ZIP3 area.

    People without a primary-care organisation share the unassigned practice (PCN000).
    """
    unassigned = rules.unassigned_practice
    orgs = organizations.assign(practice_code=org_code(organizations["Id"]))
    orgs = pd.concat(
        [orgs, pd.DataFrame({"practice_code": [unassigned.code], "NAME": [unassigned.name]})],
        ignore_index=True,
    )
    clash = orgs["practice_code"].duplicated()
    if clash.any():
        raise SyntheaInputError(
            ORG_CODE_CLASH.format(code=orgs.loc[clash, "practice_code"].iloc[0])
        )
    alive = patients[patients["date_of_death"].isna()]
    list_size = alive.groupby("practice_code").size()
    orgs = orgs[orgs["practice_code"].isin(patients["practice_code"])]
    zip3 = orgs["ZIP"].str.zfill(5).str[:3] if "ZIP" in orgs else pd.Series("000", index=orgs.index)
    zip3 = zip3.fillna("000")
    cap = rules.weekly_capacity
    size = orgs["practice_code"].map(list_size).fillna(0)
    out = pd.DataFrame(
        {
            "practice_code": orgs["practice_code"],
            "practice_name": orgs["NAME"].fillna(orgs["practice_code"]),
            "pcn_code": "PCN" + zip3,
            "pcn_name": "ZIP " + zip3 + "xx area",
            "weekly_capacity": np.maximum(
                cap.minimum, np.round(size * cap.per_1000_registered / 1000)
            ).astype("int64"),
        }
    )
    return out.sort_values("practice_code").reset_index(drop=True)


def fake_nhs_numbers(n: int) -> list[str]:
    """`n` distinct 10-digit numbers that fail the NHS modulus-11 check, so can never be real.

    Nine digits starting with 9 whose weighted sum leaves remainder 1 give check digit 10,
    which the NHS never issues; the tenth digit is then 0.
    """
    found: list[np.ndarray] = []
    start, total = 900_000_000, 0
    while total < n:
        block = np.arange(start, start + 12 * (n - total) + 11, dtype=np.int64)
        digits = block[:, None] // 10 ** np.arange(8, -1, -1) % 10
        good = block[(digits @ WEIGHTS) % 11 == 1]
        found.append(good[: n - total])
        total += len(found[-1])
        start = int(block[-1]) + 1
    return [f"{v}0" for v in np.concatenate(found)] if n else []


def build_contacts(people: pd.DataFrame, *, patients: pd.DataFrame) -> pd.DataFrame:
    """Names and address from patients.csv; NHS numbers invalid by construction (synthetic)."""
    rows = people.set_index("patient_id").loc[sorted(patients["patient_id"])]
    address = pd.Series("", index=rows.index, dtype="str")
    for column in ("ADDRESS", "CITY", "STATE", "ZIP"):
        if column in rows:
            address = address + (", " + rows[column]).fillna("")
    address = address.str.removeprefix(", ").replace("", pd.NA)
    phone = rows["PHONE"] if "PHONE" in rows else pd.Series(pd.NA, index=rows.index, dtype="str")
    return pd.DataFrame(
        {
            "patient_id": rows.index,
            "nhs_number": fake_nhs_numbers(len(rows)),
            "given_name": rows["FIRST"].fillna("").to_numpy(),
            "family_name": rows["LAST"].fillna("").to_numpy(),
            "phone": phone.to_numpy(),
            "address": address.to_numpy(),
        }
    )
