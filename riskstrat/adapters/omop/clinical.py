"""condition_occurrence -> registers, drug_exposure -> prescription issues, measurement ->
observations. Concept resolution is in concepts.py; the episode and issue rules are the Synthea
adapter's (reused, so both adapters treat courses and episodes alike)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from riskstrat.adapters.omop.concepts import (
    concept_codes,
    condition_registers,
    drug_classes,
    lookup,
    measurement_loinc,
)
from riskstrat.adapters.omop.mappings import OmopMappings
from riskstrat.adapters.synthea.clinical import merge_episodes
from riskstrat.adapters.synthea.mappings import BnfEntry, BnfMap, PrescriptionRules
from riskstrat.adapters.synthea.prescribing import build_prescriptions as issue_courses
from riskstrat.adapters.synthea.report import TableCounts, drop_repeats, in_window

NOT_A_REGISTER = "condition concept not on a register (configs/omop/registers.yaml)"
EPISODE_MERGED = "overlaps an earlier episode of the same register: merged"
RESOLVED_LATER = "resolved after the extract date: still active (resolved_on set to null)"
POINT_RECORD = "condition_end_date equals the start date: a coding event, kept active"
NOT_MAPPED_LOINC = "measurement concept not mapped (configs/omop/measurements.yaml)"
NOT_NUMERIC = "value_as_number is empty"
IMPLAUSIBLE = "value outside the plausible range (configs/omop/measurements.yaml)"


def build_conditions(
    conditions: pd.DataFrame | None,
    hospice: pd.DataFrame,
    *,
    vocab: dict[str, pd.DataFrame | None],
    people: pd.DataFrame,
    maps: OmopMappings,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts, pd.Series]:
    """Register episodes; also returns the unmapped condition concepts' row counts."""
    counts = TableCounts()
    columns = ["patient_id", "register", "START", "STOP"]
    parts = [hospice[columns]]
    unmapped = pd.Series(dtype="int64")
    if conditions is not None:
        register, route = condition_registers(conditions, vocab=vocab, maps=maps)
        counts.dropped[NOT_A_REGISTER] += int(register.isna().sum())
        for name, n in route.value_counts().items():
            counts.adjusted[f"register found by {name}"] += int(n)
        unmapped = conditions.loc[register.isna(), "condition_concept_id"].value_counts()
        end = conditions.get("condition_end_date", pd.Series(pd.NaT, index=conditions.index))
        point = end.notna() & (end <= conditions["condition_start_date"])
        counts.adjusted[POINT_RECORD] += int((point & register.notna()).sum())
        rows = pd.DataFrame(
            {
                "patient_id": conditions["patient_id"],
                "register": register,
                "START": conditions["condition_start_date"],
                "STOP": end.mask(point),
            }
        )
        parts.append(rows.dropna(subset=["register"]))
    rows = pd.concat(parts, ignore_index=True)
    rows, dropped = in_window(rows, on="START", people=people, extract_date=extract_date)
    counts.dropped.update(dropped)
    later = rows["STOP"] > extract_date
    counts.adjusted[RESOLVED_LATER] += int(later.sum())
    episodes = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "register": rows["register"],
            "diagnosed_on": rows["START"],
            "resolved_on": rows["STOP"].mask(later),
        }
    )
    out = merge_episodes(episodes) if len(episodes) else episodes
    counts.dropped[EPISODE_MERGED] += len(episodes) - len(out)
    counts.produced = len(out)
    return out, counts, unmapped


def primary_diagnoses(
    conditions: pd.DataFrame | None, *, vocab: dict[str, pd.DataFrame | None], maps: OmopMappings
) -> pd.Series:
    """visit_occurrence_id -> ICD-10 primary diagnosis: the visit's first condition whose source
    value is ICD-10, else whose SNOMED code is in configs/synthea/icd10.yaml."""
    if conditions is None or "visit_occurrence_id" not in conditions:
        return pd.Series(dtype="str")
    rows = conditions.dropna(subset=["visit_occurrence_id"]).sort_values("condition_start_date")
    source = rows.get("condition_source_value", pd.Series(pd.NA, index=rows.index)).fillna("")
    text = source.astype("str").str.upper().str.strip()
    icd = text.where(text.str.fullmatch(r"[A-Z][0-9]{2}(\.?[0-9A-Z]+)?"))  # SNOMED is all digits
    snomed_icd = {c: e.icd10 for c, e in maps.synthea_icd10.codes.items()}
    snomed = concept_codes(vocab.get("concept"), vocabularies=("SNOMED",))
    code = lookup(rows["condition_concept_id"], snomed)
    mapped = code.map(snomed_icd).fillna(source.map(snomed_icd))
    diagnosis = icd.fillna(mapped).dropna()
    first = diagnosis.groupby(rows.loc[diagnosis.index, "visit_occurrence_id"]).first()
    return first.astype("str")


def build_prescriptions(
    drugs: pd.DataFrame | None,
    visits: pd.DataFrame,
    *,
    vocab: dict[str, pd.DataFrame | None],
    people: pd.DataFrame,
    maps: OmopMappings,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts, pd.Series]:
    """Issues every 28 days over each exposure (the Synthea rule); bnf_code by drugs.yaml."""
    if drugs is None:
        empty = pd.DataFrame(columns=["patient_id", "issued_on", "bnf_code", "drug_code"])
        return empty, TableCounts(), pd.Series(dtype="int64")
    policy = maps.rules.prescriptions
    bnf = drug_classes(drugs, vocab=vocab, maps=maps)
    concept = drugs["drug_concept_id"].astype("Int64")
    source = drugs.get("drug_source_value", pd.Series(pd.NA, index=drugs.index))
    code = concept.astype("str").where(
        concept.fillna(0) != 0, "source:" + source.fillna("0").astype("str")
    )
    start = drugs["drug_exposure_start_date"]
    end = drugs.get("drug_exposure_end_date", pd.Series(pd.NaT, index=drugs.index))
    supply = pd.to_numeric(
        drugs.get("days_supply", pd.Series(pd.NA, index=drugs.index)), errors="coerce"
    )
    by_supply = start + pd.to_timedelta(supply.where(supply > 0), unit="D")
    stop = (end + pd.Timedelta(days=1)).where(end.notna() & (end >= start), by_supply).fillna(start)
    courses = pd.DataFrame(
        {
            "START": start,
            "STOP": stop,
            "patient_id": drugs["patient_id"],
            "ENCOUNTER": drugs.get("visit_occurrence_id", pd.Series(pd.NA, index=drugs.index))
            .astype("Int64")
            .astype("str"),
            "CODE": code,
        }
    )
    hospital = visits[visits["visit_concept_id"].isin(policy.hospital_visits)]
    encounters = pd.DataFrame(
        {
            "Id": hospital["visit_occurrence_id"].astype("str"),
            "STOP": hospital["end"],
            "ENCOUNTERCLASS": "inpatient",
        }
    )
    if encounters.empty:  # pandas cannot map through an empty datetime lookup: a row never matched
        encounters = pd.DataFrame(
            {"Id": ["<none>"], "STOP": [pd.NaT], "ENCOUNTERCLASS": ["inpatient"]}
        ).astype({"STOP": "datetime64[us]"})
    classes = {
        c: BnfEntry(bnf=b, description="OMOP")
        for c, b in zip(code, bnf, strict=True)
        if pd.notna(b)
    }
    rules = SimpleNamespace(
        prescriptions=PrescriptionRules(
            issue_interval_days=policy.issue_interval_days,
            history_years=policy.history_years,
            hospital_classes=("inpatient",),
        )
    )
    out, counts = issue_courses(
        courses,
        encounters,
        people=people,
        bnf=BnfMap(codes=classes),
        rules=rules,  # type: ignore[arg-type]  # only .prescriptions is read
        extract_date=extract_date,
    )
    unmapped = drugs.loc[concept.fillna(0) == 0, "drug_concept_id"].fillna(0).value_counts()
    return out, counts, unmapped


def build_observations(
    measurements: pd.DataFrame,
    *,
    vocab: dict[str, pd.DataFrame | None],
    people: pd.DataFrame,
    maps: OmopMappings,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """Listed LOINC measurements with a value, converted and range-checked."""
    counts = TableCounts()
    loinc = measurement_loinc(measurements, vocab=vocab, maps=maps)
    counts.dropped[NOT_MAPPED_LOINC] += int(loinc.isna().sum())
    rows = measurements[loinc.notna()].assign(loinc=loinc[loinc.notna()])
    value = pd.to_numeric(rows.get("value_as_number"), errors="coerce")
    counts.dropped[NOT_NUMERIC] += int(value.isna().sum())
    rows, value = rows[value.notna()], value[value.notna()]
    entries = maps.measurements.codes
    threshold = (
        rows["loinc"].map({k: e.percent_below for k, e in entries.items()}).astype("float64")
    )
    convert = threshold.notna() & (value < threshold)
    multiply = rows["loinc"].map({k: e.multiply for k, e in entries.items()}).astype("float64")
    add = rows["loinc"].map({k: e.add for k, e in entries.items()}).astype("float64")
    multiply, add = multiply.where(convert, 1.0), add.where(convert, 0.0)
    value = value * multiply + add
    low = rows["loinc"].map({k: e.plausible[0] for k, e in entries.items()}).astype("float64")
    high = rows["loinc"].map({k: e.plausible[1] for k, e in entries.items()}).astype("float64")
    plausible = value.between(low, high)
    counts.dropped[IMPLAUSIBLE] += int((~plausible).sum())
    rows, value = rows[plausible], value[plausible]
    rows, dropped = in_window(rows, on="measurement_date", people=people, extract_date=extract_date)
    counts.dropped.update(dropped)
    out = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "observed_on": rows["measurement_date"],
            "code": rows["loinc"].map({k: e.code for k, e in entries.items()}),
            "value": value[rows.index],
        }
    )
    out = drop_repeats(out, counts)
    counts.produced = len(out)
    return out, counts
