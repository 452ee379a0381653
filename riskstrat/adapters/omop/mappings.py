"""The OMOP adapter's rules and concept mappings, loaded from configs/omop/ (one YAML file each).

Every file is validated on load (unknown keys, registers, drug classes, observation codes and
discharge destinations name file and key). The SNOMED register list and the acute admission reasons
are read from configs/synthea/ so each of those facts lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from riskstrat.adapters.common import ObservationCode, RegisterCode, known_register, only_values
from riskstrat.adapters.synthea.mappings import (
    BnfMap,
    Icd10Map,
    RegisterMap,
    UnassignedPractice,
    WeeklyCapacity,
)
from riskstrat.adapters.synthea.mappings import load_mappings as load_synthea_mappings
from riskstrat.config import StrictModel, config_dir, load_yaml
from riskstrat.registry.contract import ETHNICITY_GROUPS, GP_CONTACT_MODES

DESTINATIONS = ("home", "care_home", "died", "other_hospital", "other")


class Visits(StrictModel):
    inpatient: dict[int, str]
    emergency: dict[int, str]
    ambulatory: dict[int, str]
    hospice: dict[int, str] = Field(default_factory=dict)
    care_home: dict[int, str] = Field(default_factory=dict)

    @field_validator("ambulatory")
    @classmethod
    def _modes(cls, value: dict[int, str]) -> dict[int, str]:
        return only_values(value, GP_CONTACT_MODES, what="modes")


class PrimaryCare(StrictModel):
    specialties: dict[int, str] = Field(default_factory=dict)
    specialty_source_values: list[str] = Field(default_factory=list)
    places_of_service: dict[int, str] | None = None
    unknown_specialty: Literal["count", "drop"] = "count"


class Admission(StrictModel):
    emergency_window_days: int = 1
    from_emergency: dict[int, str] = Field(default_factory=dict)
    from_other_hospital: dict[int, str] = Field(default_factory=dict)
    acute_conditions_from: Literal["synthea"] = "synthea"
    spell_merge_gap_days: int = 0


class People(StrictModel):
    gender: dict[int, str]
    gender_source_values: dict[str, str] = Field(default_factory=dict)
    race: dict[int, str]
    race_keywords: dict[str, str] = Field(default_factory=dict)
    current_within_days: int = 365
    missing_birth_month: int = 7
    missing_birth_day: int = 1

    @field_validator("race", "race_keywords")
    @classmethod
    def _groups(cls, value: dict) -> dict:
        return only_values(value, ETHNICITY_GROUPS, what="groups")


class Practices(StrictModel):
    grouping: list[Literal["care_site", "location"]] = Field(default_factory=lambda: ["care_site"])
    unassigned: UnassignedPractice
    weekly_capacity: WeeklyCapacity = WeeklyCapacity()


class Prescriptions(StrictModel):
    issue_interval_days: int = 28
    history_years: int | None = 5
    hospital_visits: list[int] = Field(default_factory=list)


class Contacts(StrictModel):
    given_name: str
    family_name_prefix: str


class OmopRules(StrictModel):
    visits: Visits
    primary_care: PrimaryCare
    admission: Admission
    discharged_to: dict[int, str]
    people: People
    practices: Practices
    prescriptions: Prescriptions = Prescriptions()
    contacts: Contacts

    @field_validator("discharged_to")
    @classmethod
    def _destinations(cls, value: dict[int, str]) -> dict[int, str]:
        return only_values(value, DESTINATIONS, what="destinations")


class Ancestor(StrictModel):
    # "register" in the YAML (pydantic's BaseModel has a `register` attribute)
    register_code: RegisterCode = Field(alias="register")
    name: str
    reason: str


class SnomedEntry(StrictModel):
    register_code: RegisterCode = Field(alias="register")
    description: str


class OmopRegisters(StrictModel):
    ancestors: dict[int, Ancestor]
    exclude: dict[int, str] = Field(default_factory=dict)
    snomed: dict[str, SnomedEntry] = Field(default_factory=dict)
    icd10: dict[str, str] = Field(default_factory=dict)
    icd10_exclude: list[str] = Field(default_factory=list)

    @field_validator("icd10")
    @classmethod
    def _icd_registers(cls, value: dict[str, str]) -> dict[str, str]:
        for register in value.values():
            known_register(register)
        return value


class DrugClass(StrictModel):
    description: str
    reason: str
    ingredients: dict[int, str]
    names: list[str] = Field(default_factory=list)


class OmopDrugs(StrictModel):
    classes: dict[str, DrugClass]


class MeasurementEntry(StrictModel):
    code: ObservationCode
    concept_ids: list[int] = Field(default_factory=list)
    description: str
    percent_below: float | None = None
    multiply: float = 1.0
    add: float = 0.0
    plausible: tuple[float, float]


class OmopMeasurements(StrictModel):
    codes: dict[str, MeasurementEntry]


class CdmColumns(StrictModel):
    versions: dict[str, dict[str, list[str]]]


@dataclass(frozen=True)
class OmopMappings:
    rules: OmopRules
    registers: OmopRegisters
    drugs: OmopDrugs
    measurements: OmopMeasurements
    cdm: CdmColumns
    synthea_registers: RegisterMap  # SNOMED code -> register (configs/synthea/registers.yaml)
    synthea_bnf: BnfMap  # RxNorm code -> BNF (configs/synthea/bnf.yaml)
    synthea_icd10: Icd10Map  # SNOMED code -> ICD-10 primary diagnosis (configs/synthea/icd10.yaml)
    acute_snomed: dict[str, str]  # configs/synthea/adapter.yaml acute_admission_reasons

    def snomed_registers(self) -> dict[str, str]:
        """SNOMED code -> register: the Synthea list plus the OMOP extras."""
        codes = {c: e.register_code for c, e in self.synthea_registers.codes.items()}
        codes.update({c: e.register_code for c, e in self.registers.snomed.items()})
        return codes


def load_mappings(
    folder: Path | None = None, *, synthea_folder: Path | None = None
) -> OmopMappings:
    """Every file of configs/omop/ (or `folder`), validated, plus the shared Synthea code lists."""
    folder = Path(folder) if folder else config_dir() / "omop"
    synthea = load_synthea_mappings(synthea_folder)
    return OmopMappings(
        rules=load_yaml(folder / "adapter.yaml", OmopRules),
        registers=load_yaml(folder / "registers.yaml", OmopRegisters),
        drugs=load_yaml(folder / "drugs.yaml", OmopDrugs),
        measurements=load_yaml(folder / "measurements.yaml", OmopMeasurements),
        cdm=load_yaml(folder / "cdm_columns.yaml", CdmColumns),
        synthea_registers=synthea.registers,
        synthea_bnf=synthea.bnf,
        synthea_icd10=synthea.icd10,
        acute_snomed=dict(synthea.rules.acute_admission_reasons),
    )
