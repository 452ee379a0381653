"""The adapter's rules and code mappings, loaded from configs/synthea/ (one YAML file each).

Keeping the code lists in files (not in Python) lets a reviewer read and correct them without
touching the logic; every file is validated so a wrong key or register names file and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from riskstrat.adapters.common import ObservationCode, RegisterCode, only_values
from riskstrat.config import StrictModel, config_dir, load_yaml
from riskstrat.registry.contract import (
    ETHNICITY_GROUPS,
    GP_CONTACT_MODES,
    PRACTICE_CODE_PATTERN,
)


class WeeklyCapacity(StrictModel):
    per_1000_registered: float = 5.0
    minimum: int = 20


class PrescriptionRules(StrictModel):
    issue_interval_days: int = 28
    history_years: int | None = 5
    hospital_classes: tuple[str, ...] = ("inpatient",)


#: An adapter's unassigned-practice code must pass ingest's practice-code rule.
BAD_PRACTICE_CODE = "{value!r} does not match the practice-code rule {pattern}"


class UnassignedPractice(StrictModel):
    code: str
    name: str

    @field_validator("code")
    @classmethod
    def _ingestable(cls, value: str) -> str:
        if not re.fullmatch(PRACTICE_CODE_PATTERN, value):
            raise ValueError(BAD_PRACTICE_CODE.format(value=value, pattern=PRACTICE_CODE_PATTERN))
        return value


class AdapterRules(StrictModel):
    primary_care_classes: list[str]
    hospital_classes: list[str]
    unassigned_practice: UnassignedPractice
    gp_contact_modes: dict[str, str]
    ae_classes: list[str]
    inpatient_classes: list[str]
    care_home_classes: list[str]
    palliative_classes: list[str]
    emergency_window_hours: float = 24
    spell_merge_gap_hours: float = 1
    emergency_admission_codes: tuple[str, ...] = ()
    acute_admission_reasons: dict[str, str] = Field(default_factory=dict)
    planned_admission_codes: dict[str, str] = Field(default_factory=dict)
    maternity_admission_codes: tuple[str, ...] = ()
    care_home_transfer_hours: float = 24
    weekly_capacity: WeeklyCapacity = WeeklyCapacity()
    ethnicity: dict[str, str]
    prescriptions: PrescriptionRules = PrescriptionRules()

    @field_validator("gp_contact_modes")
    @classmethod
    def _modes(cls, value: dict[str, str]) -> dict[str, str]:
        return only_values(value, GP_CONTACT_MODES, what="modes")

    @field_validator("ethnicity")
    @classmethod
    def _groups(cls, value: dict[str, str]) -> dict[str, str]:
        return only_values(value, ETHNICITY_GROUPS, what="groups")


class CodeEntry(StrictModel):
    description: str
    in_sample: bool = False


class RegisterEntry(CodeEntry):
    # "register" in the YAML; renamed here because pydantic's BaseModel has a `register` attribute
    register_code: RegisterCode = Field(alias="register")


class RegisterMap(StrictModel):
    codes: dict[str, RegisterEntry]
    unmapped: dict[str, str] = Field(default_factory=dict)


class Icd10Entry(CodeEntry):
    icd10: str


class Icd10Map(StrictModel):
    codes: dict[str, Icd10Entry]


class BnfEntry(CodeEntry):
    bnf: str


class BnfMap(StrictModel):
    codes: dict[str, BnfEntry]


class LoincEntry(StrictModel):
    code: ObservationCode
    description: str
    multiply: float = 1.0
    add: float = 0.0


class LoincMap(StrictModel):
    codes: dict[str, LoincEntry]


@dataclass(frozen=True)
class Mappings:
    rules: AdapterRules
    registers: RegisterMap
    icd10: Icd10Map
    bnf: BnfMap
    loinc: LoincMap


def load_mappings(folder: Path | None = None) -> Mappings:
    """Every file of configs/synthea/ (or `folder`), validated."""
    folder = Path(folder) if folder else config_dir() / "synthea"
    return Mappings(
        rules=load_yaml(folder / "adapter.yaml", AdapterRules),
        registers=load_yaml(folder / "registers.yaml", RegisterMap),
        icd10=load_yaml(folder / "icd10.yaml", Icd10Map),
        bnf=load_yaml(folder / "bnf.yaml", BnfMap),
        loinc=load_yaml(folder / "loinc.yaml", LoincMap),
    )
