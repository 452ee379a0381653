"""Visits -> spells (inpatient), A&E attendances (emergency room) and GP contacts (ambulatory
visits with a primary-care provider). One rule links an ER visit to the admission after it, so a
spell's admission method and the attendance's disposal agree. See docs/omop.md."""

from __future__ import annotations

import pandas as pd

from riskstrat.adapters.common import discharge_or_death, opens_spell
from riskstrat.adapters.omop.mappings import OmopRules
from riskstrat.adapters.omop.people import care_site_codes
from riskstrat.adapters.synthea.report import TableCounts, drop_repeats, in_window
from riskstrat.registry.contract import ADMISSION_METHOD_CODES

MERGED = "inpatient visit continues the previous one: merged into one spell"
NOT_PRIMARY_CARE = "provider specialty is not primary care"
UNKNOWN_SPECIALTY_COUNTED = "no provider specialty or care site recorded: counted as a GP contact"
UNKNOWN_SPECIALTY_DROPPED = "no provider specialty or care site recorded: not a GP contact"


def _near(left: pd.DataFrame, right: pd.DataFrame, *, before: int, after: int) -> pd.Series:
    """True where `right` has a visit of the same patient starting within
    [left.start - before days, left.start + after days] (a different visit)."""
    if left.empty or right.empty:
        return pd.Series(False, index=left.index)
    pairs = (
        left[["patient_id", "start", "visit_occurrence_id"]]
        .reset_index(names="_row")
        .merge(
            right[["patient_id", "start", "visit_occurrence_id"]],
            on="patient_id",
            suffixes=("", "_r"),
        )
    )
    gap = (pairs["start_r"] - pairs["start"]).dt.days
    hit = pairs[
        gap.between(-before, after)
        & (pairs["visit_occurrence_id"] != pairs["visit_occurrence_id_r"])
    ]
    return pd.Series(left.index.isin(hit["_row"]), index=left.index)


def admission_methods(
    spells: pd.DataFrame, *, er: pd.DataFrame, acute_visits: set[int], rules: OmopRules
) -> pd.Series:
    """elective / emergency / transfer / maternity per spell (the first visit's fields)."""
    adm = rules.admission
    method = pd.Series("elective", index=spells.index, dtype="str")
    source = spells.get("admitted_from_source_value", pd.Series(pd.NA, index=spells.index))
    coded = source.astype("str").str.strip().str.upper().map(ADMISSION_METHOD_CODES)
    came_from = spells.get("admitted_from_concept_id", pd.Series(pd.NA, index=spells.index))
    after_er = _near(spells, er, before=adm.emergency_window_days, after=0)
    emergency = (
        came_from.isin(list(adm.from_emergency)).fillna(False).astype(bool)
        | spells["visit_concept_id"].isin(list(rules.visits.emergency))
        | after_er
        | spells["visit_ids"].map(lambda ids: bool(acute_visits.intersection(ids)))
    )
    method = method.mask(came_from.isin(list(adm.from_other_hospital)).fillna(False), "transfer")
    method = method.mask(emergency, "emergency")
    return method.mask(coded.notna(), coded)  # an NHS admission method code says it directly


def build_spells(
    visits: pd.DataFrame,
    *,
    people: pd.DataFrame,
    diagnoses: pd.Series,
    acute_visits: set[int],
    rules: OmopRules,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """One spell per continuous inpatient stay; `diagnoses`: visit id -> ICD-10 diagnosis."""
    counts = TableCounts()
    stays = visits[visits["visit_concept_id"].isin(list(rules.visits.inpatient))]
    stays, counts.dropped = in_window(stays, on="start", people=people, extract_date=extract_date)
    stays = stays.sort_values(["patient_id", "start", "visit_occurrence_id"])
    gap = pd.Timedelta(days=rules.admission.spell_merge_gap_days)
    new = opens_spell(stays["start"], stays["end"], by=stays["patient_id"], gap=gap)
    counts.dropped[MERGED] += int((~new).sum())
    spell = new.cumsum()
    grouped = stays.groupby(spell)
    spells = grouped.first().assign(
        start=grouped["start"].min(),
        end=grouped["end"].max(),
        last_to=grouped["discharged_to_concept_id"].last(),
        visit_ids=grouped["visit_occurrence_id"].agg(list),
    )
    er = visits[visits["visit_concept_id"].isin(list(rules.visits.emergency))]
    method = admission_methods(spells, er=er, acute_visits=acute_visits, rules=rules)
    discharge, died = discharge_or_death(
        spells["end"],
        spells["patient_id"],
        people=people,
        extract_date=extract_date,
        counts=counts,
    )
    destination = spells["last_to"].map(rules.discharged_to).mask(died, "died")
    destination = destination.mask(discharge.isna() & ~died)
    out = pd.DataFrame(
        {
            "spell_id": spells["visit_occurrence_id"].astype("str"),
            "patient_id": spells["patient_id"],
            "provider_code": care_site_codes(spells["care_site_id"]),
            "admission_date": spells["start"],
            "discharge_date": discharge,
            "admission_method": method,
            "primary_diagnosis": spells["visit_occurrence_id"].map(diagnoses),
            "discharge_destination": destination,
        }
    ).reset_index(drop=True)
    counts.produced = len(out)
    return out, counts


def build_ae(
    visits: pd.DataFrame, *, people: pd.DataFrame, rules: OmopRules, extract_date: pd.Timestamp
) -> tuple[pd.DataFrame, TableCounts]:
    """ER visits; disposal admitted when the visit is ER-and-inpatient (262) or an inpatient visit
    starts within the window after it; died when the person died that day; else discharged."""
    counts = TableCounts()
    er = visits[visits["visit_concept_id"].isin(list(rules.visits.emergency))]
    er, counts.dropped = in_window(er, on="start", people=people, extract_date=extract_date)
    stays = visits[visits["visit_concept_id"].isin(list(rules.visits.inpatient))]
    stays = stays[stays["start"] <= extract_date]
    window = rules.admission.emergency_window_days
    admitted = _near(er, stays, before=0, after=window) | er["visit_concept_id"].isin(
        list(rules.visits.inpatient)
    )
    death = er["patient_id"].map(people.set_index("patient_id")["date_of_death"])
    disposal = pd.Series("discharged", index=er.index, dtype="str")
    disposal = disposal.mask(death == er["start"], "died").mask(admitted, "admitted")
    arrival = er["start_at"].fillna(er["start"]) if "start_at" in er else er["start"]
    out = pd.DataFrame(
        {
            "attendance_id": er["visit_occurrence_id"].astype("str"),
            "patient_id": er["patient_id"],
            "arrival_at": arrival,
            "disposal": disposal,
        }
    ).reset_index(drop=True)
    counts.produced = len(out)
    return out, counts


def primary_care(
    visits: pd.DataFrame,
    *,
    provider: pd.DataFrame | None,
    care_site: pd.DataFrame | None,
    rules: OmopRules,
) -> pd.Series:
    """Per ambulatory visit: True (primary care), False (another specialty) or NA (unknown)."""
    pc = rules.primary_care
    decided = pd.Series(pd.NA, index=visits.index, dtype="boolean")
    if provider is not None and "provider_id" in visits:
        prov = provider.set_index("provider_id")
        concept = visits["provider_id"].map(
            prov.get("specialty_concept_id", pd.Series(dtype="Int64"))
        )
        text = visits["provider_id"].map(prov.get("specialty_source_value", pd.Series(dtype="str")))
        text = text.astype("str").str.strip().str.lower().where(text.notna())
        known = (concept.notna() & (concept != 0)) | text.notna()
        is_pc = concept.isin(list(pc.specialties)).fillna(False) | text.isin(
            pc.specialty_source_values
        ).fillna(False)
        decided = decided.mask(known.fillna(False).astype(bool), is_pc.astype(bool))
    if care_site is not None and pc.places_of_service and "care_site_id" in visits:
        pos = visits["care_site_id"].map(
            care_site.set_index("care_site_id").get(
                "place_of_service_concept_id", pd.Series(dtype="Int64")
            )
        )
        at_gp = pos.isin(list(pc.places_of_service)).fillna(False).astype(bool)
        decided = decided.mask(at_gp, True)
    return decided


def build_gp_contacts(
    visits: pd.DataFrame,
    *,
    people: pd.DataFrame,
    provider: pd.DataFrame | None,
    care_site: pd.DataFrame | None,
    rules: OmopRules,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts, int]:
    """Ambulatory visits with a primary-care provider; returns the count decided by the
    `unknown_specialty` fallback too (for a warning)."""
    counts = TableCounts()
    rows = visits[visits["visit_concept_id"].isin(list(rules.visits.ambulatory))]
    decided = primary_care(rows, provider=provider, care_site=care_site, rules=rules)
    counts.dropped[NOT_PRIMARY_CARE] += int((decided == False).sum())  # noqa: E712
    unknown = decided.isna()
    fallback = int(unknown.sum())
    if rules.primary_care.unknown_specialty == "count":
        counts.adjusted[UNKNOWN_SPECIALTY_COUNTED] += fallback
        keep = decided.fillna(True).astype(bool)
    else:
        counts.dropped[UNKNOWN_SPECIALTY_DROPPED] += fallback
        keep = decided.fillna(False).astype(bool)
    rows = rows[keep.to_numpy()]
    rows, dropped = in_window(rows, on="start", people=people, extract_date=extract_date)
    counts.dropped.update(dropped)
    out = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "contact_date": rows["start"],
            "mode": rows["visit_concept_id"].map(rules.visits.ambulatory),
            "attended": True,
        }
    )
    out = drop_repeats(out, counts)
    counts.produced = len(out)
    return out, counts, fallback


def care_home_residents(
    visits: pd.DataFrame, *, rules: OmopRules, extract_date: pd.Timestamp
) -> set[str]:
    """Patients in a care-home-class stay that spans the extract date."""
    stays = visits[visits["visit_concept_id"].isin(list(rules.visits.care_home))]
    ongoing = stays["start"].le(extract_date) & (
        stays["end"].isna() | stays["end"].ge(extract_date)
    )
    return set(stays.loc[ongoing, "patient_id"])


def hospice_episodes(
    visits: pd.DataFrame, *, people: pd.DataFrame, rules: OmopRules
) -> pd.DataFrame:
    """PC register episodes from hospice visits (resolved at discharge unless the person died
    within a day of it): patient_id, register, START, STOP."""
    stays = visits[visits["visit_concept_id"].isin(list(rules.visits.hospice))]
    life = people.set_index("patient_id")["date_of_death"]
    died = (stays["patient_id"].map(life) <= stays["end"] + pd.Timedelta(days=1)).fillna(False)
    return pd.DataFrame(
        {
            "patient_id": stays["patient_id"],
            "register": "PC",
            "START": stays["start"],
            "STOP": stays["end"].mask(died.astype(bool)),
        }
    )
