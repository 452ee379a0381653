"""Hospital activity: Synthea inpatient encounters -> spells, emergency/urgent care -> A&E.

The two are linked by one rule (an A&E attendance followed by an admission within the emergency
window), so a spell's admission method and an attendance's disposal always agree.
"""

from __future__ import annotations

import pandas as pd

from riskstrat.adapters.common import discharge_or_death, opens_spell
from riskstrat.adapters.synthea.mappings import AdapterRules, Icd10Map
from riskstrat.adapters.synthea.people import org_code
from riskstrat.adapters.synthea.report import TableCounts, in_window

MERGED = "inpatient encounter continues the previous one: merged into one spell"


def _link(left: pd.DataFrame, right: pd.DataFrame, *, direction: str, hours: float) -> pd.Series:
    """True where `right` has a row of the same patient within `hours` of `left.START`."""
    if left.empty:
        return pd.Series(False, index=left.index)
    lhs = left[["patient_id", "START"]].reset_index(names="_row").sort_values("START")
    rhs = right[["patient_id", "START"]].rename(columns={"START": "_at"}).sort_values("_at")
    linked = pd.merge_asof(
        lhs,
        rhs,
        left_on="START",
        right_on="_at",
        by="patient_id",
        direction=direction,  # type: ignore[arg-type]
        tolerance=pd.Timedelta(hours=hours),
    )
    return linked.set_index("_row")["_at"].notna().reindex(left.index)


def admission_method(
    spells: pd.DataFrame, *, after_ae: pd.Series, rules: AdapterRules
) -> pd.Series:
    """elective / emergency / maternity from the first encounter's CODE and REASONCODE.

    Emergency: an A&E / urgent care encounter within the window before, an emergency admission
    code (183452005, COVID isolation 1505002), or an acute REASONCODE (COVID, heart failure, MI,
    stroke ...) with a CODE that is not a planned admission. Maternity: a maternity code.
    Otherwise elective.
    """
    code = spells["CODE"].astype("str") if "CODE" in spells else pd.Series("", index=spells.index)
    reason = (
        spells["REASONCODE"].astype("str")
        if "REASONCODE" in spells
        else pd.Series("", index=spells.index)
    )
    acute = reason.isin(list(rules.acute_admission_reasons)) & ~code.isin(
        list(rules.planned_admission_codes)
    )
    method = pd.Series("elective", index=spells.index, dtype="str")
    method = method.mask(code.isin(rules.maternity_admission_codes), "maternity")
    emergency = after_ae | code.isin(rules.emergency_admission_codes) | acute
    return method.mask(emergency, "emergency")


def build_spells(
    encounters: pd.DataFrame,
    *,
    people: pd.DataFrame,
    rules: AdapterRules,
    icd10: Icd10Map,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """One spell per continuous inpatient stay (touching inpatient encounters merged)."""
    counts = TableCounts()
    stays = encounters[encounters["ENCOUNTERCLASS"].isin(rules.inpatient_classes)]
    stays, counts.dropped = in_window(stays, on="START", people=people, extract_date=extract_date)
    stays = stays.sort_values(["patient_id", "START"])
    new = opens_spell(
        stays["START"],
        stays["STOP"].fillna(stays["START"]),
        by=stays["patient_id"],
        gap=pd.Timedelta(hours=rules.spell_merge_gap_hours),
    )
    counts.dropped[MERGED] += int((~new).sum())
    spell = new.cumsum()
    grouped = stays.groupby(spell)
    first = grouped.first()
    spells = pd.DataFrame(
        {
            "spell_id": first["Id"],
            "patient_id": first["patient_id"],
            "provider_code": org_code(first["ORGANIZATION"]),
            "START": grouped["START"].min(),
            "discharged_at": grouped["STOP"].max().mask(stays["STOP"].isna().groupby(spell).any()),
            "CODE": first.get("CODE"),
            "REASONCODE": first.get("REASONCODE"),
        }
    ).reset_index(drop=True)
    ae = encounters[encounters["ENCOUNTERCLASS"].isin(rules.ae_classes)]
    after_ae = _link(spells, ae, direction="backward", hours=rules.emergency_window_hours)
    method = admission_method(spells, after_ae=after_ae, rules=rules)

    admission = spells["START"].dt.normalize()
    discharge, died = discharge_or_death(
        spells["discharged_at"].dt.normalize(),
        spells["patient_id"],
        people=people,
        extract_date=extract_date,
        counts=counts,
    )
    homes = encounters[encounters["ENCOUNTERCLASS"].isin(rules.care_home_classes)]
    leaving = spells.assign(START=spells["discharged_at"]).dropna(subset=["START"])
    to_home = _link(leaving, homes, direction="forward", hours=rules.care_home_transfer_hours)
    destination = pd.Series("home", index=spells.index, dtype="str")
    destination = destination.mask(to_home.reindex(spells.index, fill_value=False), "care_home")
    destination = destination.mask(died, "died").mask(discharge.isna() & ~died)
    diagnosis = {code: e.icd10 for code, e in icd10.codes.items()}
    out = pd.DataFrame(
        {
            "spell_id": spells["spell_id"],
            "patient_id": spells["patient_id"],
            "provider_code": spells["provider_code"],
            "admission_date": admission,
            "discharge_date": discharge,
            "admission_method": method,
            "primary_diagnosis": spells["REASONCODE"].map(diagnosis).astype("str"),
            "discharge_destination": destination,
        }
    )
    counts.produced = len(out)
    return out, counts


def build_ae(
    encounters: pd.DataFrame,
    *,
    people: pd.DataFrame,
    rules: AdapterRules,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """A&E attendances; disposal admitted when an inpatient stay starts within the window."""
    counts = TableCounts()
    ae = encounters[encounters["ENCOUNTERCLASS"].isin(rules.ae_classes)]
    ae, counts.dropped = in_window(ae, on="START", people=people, extract_date=extract_date)
    stays = encounters[encounters["ENCOUNTERCLASS"].isin(rules.inpatient_classes)]
    stays = stays[stays["START"].dt.normalize() <= extract_date]
    admitted = _link(ae, stays, direction="forward", hours=rules.emergency_window_hours)
    out = pd.DataFrame(
        {
            "attendance_id": ae["Id"],
            "patient_id": ae["patient_id"],
            "arrival_at": ae["START"],
            "disposal": admitted.map({True: "admitted", False: "discharged"}),
        }
    ).reset_index(drop=True)
    counts.produced = len(out)
    return out, counts
