"""OMOP CDM instance -> registry extract folder: the adapter end to end.

Reads and checks everything first (source.py), converts with the pure builders, then writes each
table atomically with the adapters' shared writer (common.py: contract columns, order, formats).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from riskstrat.adapters.common import FORMATS, write_extract
from riskstrat.adapters.omop.clinical import (
    build_conditions,
    build_observations,
    build_prescriptions,
    primary_diagnoses,
)
from riskstrat.adapters.omop.concepts import acute_conditions, concept_names, measurement_loinc
from riskstrat.adapters.omop.mappings import OmopMappings, load_mappings
from riskstrat.adapters.omop.people import (
    EARLIEST_BIRTH,
    NO_REGISTRATION,
    assign_practices,
    build_contacts,
    build_patients,
    build_practices,
    known_people,
    registration,
)
from riskstrat.adapters.omop.report import OmopImportReport, Unmapped
from riskstrat.adapters.omop.source import OmopInputError, OmopInstance, read_instance
from riskstrat.adapters.omop.visits import (
    build_ae,
    build_gp_contacts,
    build_spells,
    care_home_residents,
    hospice_episodes,
)
from riskstrat.adapters.synthea.report import TableCounts
from riskstrat.logs import log_event, timed
from riskstrat.registry.contract import TABLES

NO_DATES = "{source}: no dated record in the instance: give --extract-date"
UNKNOWN_SPECIALTY = (
    "{n} ambulatory visits have no provider specialty or care site: counted as GP contacts "
    "(configs/omop/adapter.yaml primary_care.unknown_specialty); they may include hospital "
    "outpatient visits"
)
VISIT_COLUMNS = {
    "visit_start_date": "start",
    "visit_end_date": "end",
    "visit_start_datetime": "start_at",
}


def latest_date(instance: OmopInstance) -> date:
    """The last day anything is recorded (deaths excluded: some instances date them later)."""
    days = []
    for table, column in (
        ("visit_occurrence", "visit_start_date"),
        ("visit_occurrence", "visit_end_date"),
        ("condition_occurrence", "condition_start_date"),
        ("drug_exposure", "drug_exposure_start_date"),
        ("measurement", "measurement_date"),
        ("observation_period", "observation_period_end_date"),
    ):
        frame = instance.frames.get(table)
        if frame is not None and column in frame and frame[column].notna().any():
            days.append(frame[column].max())
    if not days:
        raise OmopInputError(NO_DATES.format(source=instance.source))
    return max(days).date()


def _visits(instance: OmopInstance) -> pd.DataFrame:
    """Visits with patient_id, start, end (end missing/before start = start), and the first /
    last visit_detail's admitted_from / discharged_to where the visit has none."""
    visits = instance.frames["visit_occurrence"]
    if visits is None:
        ids = ["visit_occurrence_id", "person_id", "visit_concept_id"]
        visits = pd.DataFrame(columns=[*ids, "visit_start_date"]).astype(
            {**dict.fromkeys(ids, "Int64"), "visit_start_date": "datetime64[us]"}
        )
    visits = visits.rename(columns=VISIT_COLUMNS).assign(
        patient_id=visits["person_id"].astype("str")
    )
    if "end" not in visits:
        visits["end"] = visits["start"]
    visits["end"] = visits["end"].where(visits["end"] >= visits["start"], visits["start"])
    for column in ("admitted_from_concept_id", "discharged_to_concept_id", "care_site_id",
                   "provider_id"):  # fmt: skip
        if column not in visits:
            visits[column] = pd.Series(pd.NA, index=visits.index, dtype="Int64")
    if "admitted_from_source_value" not in visits:
        visits["admitted_from_source_value"] = pd.Series(pd.NA, index=visits.index, dtype="str")
    detail = instance.frames.get("visit_detail")
    if detail is not None:
        ordered = detail.sort_values("visit_detail_start_date").groupby("visit_occurrence_id")
        for column, pick in (
            ("admitted_from_concept_id", "first"),
            ("discharged_to_concept_id", "last"),
            ("provider_id", "first"),
        ):
            if column in detail:
                value = visits["visit_occurrence_id"].map(getattr(ordered[column], pick)())
                empty = visits[column].isna() | (visits[column] == 0)
                visits[column] = visits[column].mask(empty, value)
    return visits


def _first_record(instance: OmopInstance, visits: pd.DataFrame) -> pd.Series:
    parts = [visits[["patient_id", "start"]]]
    for table, column in (
        ("condition_occurrence", "condition_start_date"),
        ("drug_exposure", "drug_exposure_start_date"),
        ("measurement", "measurement_date"),
    ):
        frame = instance.frames.get(table)
        if frame is not None:
            parts.append(
                pd.DataFrame(
                    {"patient_id": frame["person_id"].astype("str"), "start": frame[column]}
                )
            )
    return pd.concat(parts).groupby("patient_id")["start"].min()


def _unmapped(counts: pd.Series, *, concept: pd.DataFrame | None) -> Unmapped:
    names = concept_names(concept)
    listed = [
        (int(c), str(names.get(int(c), "(not in CONCEPT)")), int(n))
        for c, n in counts.sort_values(ascending=False).items()
    ]
    return Unmapped(rows=int(counts.sum()), concepts=listed)


def convert(
    instance: OmopInstance,
    *,
    extract_date: date,
    maps: OmopMappings,
    earliest_birth: date = EARLIEST_BIRTH,
) -> tuple[dict[str, pd.DataFrame], dict[str, TableCounts], dict[str, Unmapped], list[str]]:
    """The contract tables, their counts, unmapped concepts and warnings (pure: no I/O)."""
    cut = pd.Timestamp(extract_date)
    frames, rules = instance.frames, maps.rules
    vocab = {name: frames.get(name) for name in ("concept", "concept_ancestor")}
    warnings: list[str] = []
    people, patient_counts = known_people(
        frames["person"], frames["death"], rules=rules, extract_date=cut,
        earliest_birth=earliest_birth,
    )  # fmt: skip
    visits = _visits(instance)
    people = registration(
        people,
        frames["observation_period"],
        _first_record(instance, visits),
        rules=rules,
        extract_date=cut,
        counts=patient_counts,
    )
    registered = people["registered_from"].notna() & (people["registered_from"] <= cut)
    patient_counts.dropped[NO_REGISTRATION] += int((~registered).sum())
    people = people[registered]
    common = dict(people=people, extract_date=cut)
    gp, gp_counts, fallback = build_gp_contacts(
        visits, provider=frames["provider"], care_site=frames["care_site"], rules=rules, **common
    )
    if fallback:
        warnings.append(UNKNOWN_SPECIALTY.format(n=fallback))
    gp_visits = visits[
        visits["visit_concept_id"].isin(list(rules.visits.ambulatory))
        & visits["patient_id"].isin(gp["patient_id"])
    ]
    practice = assign_practices(people, gp_visits=gp_visits, rules=rules, counts=patient_counts)
    patients = build_patients(
        people,
        practice=practice,
        location=frames["location"],
        concept=frames["concept"],
        care_home=care_home_residents(visits, rules=rules, extract_date=cut),
        rules=rules,
    )
    patient_counts.produced = len(patients)
    conditions = frames["condition_occurrence"]
    if conditions is not None:
        conditions = conditions.assign(patient_id=conditions["person_id"].astype("str"))
    acute = acute_conditions(conditions, vocab=vocab, maps=maps)
    spells, spell_counts = build_spells(
        visits,
        diagnoses=primary_diagnoses(conditions, vocab=vocab, maps=maps),
        acute_visits=acute,
        rules=rules,
        **common,
    )
    ae, ae_counts = build_ae(visits, rules=rules, **common)
    registers, register_counts, no_register = build_conditions(
        conditions, hospice_episodes(visits, people=people, rules=rules), vocab=vocab, maps=maps,
        **common,
    )  # fmt: skip
    drugs = frames["drug_exposure"]
    if drugs is not None:
        drugs = drugs.assign(patient_id=drugs["person_id"].astype("str"))
    issues, issue_counts, no_drug = build_prescriptions(
        drugs, visits, vocab=vocab, maps=maps, **common
    )
    tables = {
        "practices": build_practices(
            patients, care_site=frames["care_site"], location=frames["location"], rules=rules
        ),
        "patients": patients,
        "contacts": build_contacts(patients, rules=rules),
        "conditions": registers,
        "spells": spells,
        "ae_attendances": ae,
        "gp_contacts": gp,
        "prescriptions": issues,
    }
    counts = {name: TableCounts(produced=len(frame)) for name, frame in tables.items()}
    counts.update(
        patients=patient_counts, conditions=register_counts, spells=spell_counts,
        ae_attendances=ae_counts, gp_contacts=gp_counts, prescriptions=issue_counts,
    )  # fmt: skip
    unmapped = {
        "condition_occurrence (not on a register)": _unmapped(
            no_register, concept=vocab["concept"]
        ),
        "drug_exposure (concept 0)": _unmapped(no_drug, concept=vocab["concept"]),
    }
    measurements = frames["measurement"]
    if measurements is not None:
        measurements = measurements.assign(patient_id=measurements["person_id"].astype("str"))
        tables["observations"], counts["observations"] = build_observations(
            measurements, vocab=vocab, maps=maps, **common
        )
        loinc = measurement_loinc(measurements, vocab=vocab, maps=maps)
        unmapped["measurement"] = _unmapped(
            measurements.loc[loinc.isna(), "measurement_concept_id"].fillna(0).value_counts(),
            concept=vocab["concept"],
        )
    known_visits = {
        *rules.visits.inpatient, *rules.visits.emergency, *rules.visits.ambulatory,
        *rules.visits.hospice, *rules.visits.care_home,
    }  # fmt: skip
    other = visits.loc[~visits["visit_concept_id"].isin(list(known_visits)), "visit_concept_id"]
    unmapped["visit_occurrence"] = _unmapped(
        other.fillna(0).value_counts(), concept=vocab["concept"]
    )
    return tables, counts, unmapped, warnings


def import_omop(
    source: Path | str,
    *,
    out_dir: Path | str,
    extract_date: date | None = None,
    earliest_birth: date = EARLIEST_BIRTH,
    fmt: str = "csv",
    schema: str | None = None,
    mappings: OmopMappings | None = None,
) -> OmopImportReport:
    """Convert an OMOP CDM instance (CSV folder or database URL) into registry extracts.

    earliest_birth: people born before it are left out (ingest.earliest_birth_date)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    out_dir = Path(out_dir)
    with timed("omop.import", fmt=fmt) as extra:
        maps = mappings or load_mappings()
        instance = read_instance(source, cdm=maps.cdm, schema=schema)
        extract_date = extract_date or latest_date(instance)
        tables, counts, unmapped, warnings = convert(
            instance, extract_date=extract_date, maps=maps, earliest_birth=earliest_birth
        )
        warnings = [*instance.warnings, *warnings]
        for warning in warnings:
            log_event("omop.warning", message=warning)
        write_extract(tables, out_dir=out_dir, fmt=fmt)
        extra.update(
            version=instance.version, extract_date=extract_date, patients=len(tables["patients"])
        )
    return OmopImportReport(
        source=instance.source,
        version=instance.version,
        extract_date=extract_date,
        out_dir=str(out_dir),
        tables={name: counts[name] for name in TABLES if name in counts},
        unmapped=unmapped,
        warnings=warnings,
    )
