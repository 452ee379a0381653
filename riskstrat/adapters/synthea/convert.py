"""Synthea CSV export -> registry extract folder: the adapter end to end.

Reads and checks everything first, converts with the pure builders, then writes each table
(`<table>.csv` or `.parquet`, contract columns and order) so bad input never leaves a half-written
extract behind.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from riskstrat.adapters.common import FORMATS, write_extract
from riskstrat.adapters.synthea.clinical import (
    build_conditions,
    build_gp_contacts,
    build_observations,
)
from riskstrat.adapters.synthea.hospital import build_ae, build_spells
from riskstrat.adapters.synthea.mappings import Mappings, load_mappings
from riskstrat.adapters.synthea.people import (
    build_contacts,
    build_patients,
    build_practices,
    known_people,
)
from riskstrat.adapters.synthea.prescribing import build_prescriptions
from riskstrat.adapters.synthea.report import ImportReport, TableCounts
from riskstrat.adapters.synthea.source import SyntheaExport, read_export
from riskstrat.logs import log_event, timed
from riskstrat.registry.contract import TABLES


def latest_date(export: SyntheaExport) -> date:
    """The last day anything happens in the export (the default extract date)."""
    days = []
    for name, columns in (
        ("encounters", ("START", "STOP")),
        ("conditions", ("START",)),
        ("medications", ("START",)),
        ("observations", ("DATE",)),
        ("patients", ("DEATHDATE",)),
    ):
        frame = export.frames.get(name)
        if frame is not None:
            days += [frame[c].max() for c in columns]
    return max(d for d in days if pd.notna(d)).date()


def convert(
    export: SyntheaExport, *, extract_date: date, maps: Mappings
) -> tuple[dict[str, pd.DataFrame], dict[str, TableCounts]]:
    """The contract tables and their counts (pure: no I/O)."""
    cut = pd.Timestamp(extract_date)
    frames, rules = export.frames, maps.rules
    people, patient_counts = known_people(frames["patients"], extract_date=cut)
    encounters = frames["encounters"].rename(columns={"PATIENT": "patient_id"})
    in_life = encounters[encounters["START"].dt.normalize() <= cut]
    patients = build_patients(
        people, encounters=in_life, rules=rules, extract_date=cut, counts=patient_counts
    )
    people = people[people["patient_id"].isin(patients["patient_id"])]
    tables = {
        "practices": build_practices(patients, organizations=frames["organizations"], rules=rules),
        "patients": patients,
        "contacts": build_contacts(people, patients=patients),
    }
    counts = {name: TableCounts(produced=len(tables[name])) for name in tables}
    counts["patients"] = patient_counts
    common = dict(people=people, extract_date=cut)
    built = {
        "conditions": build_conditions(
            frames["conditions"], encounters, registers=maps.registers, rules=rules, **common
        ),
        "spells": build_spells(encounters, rules=rules, icd10=maps.icd10, **common),
        "ae_attendances": build_ae(encounters, rules=rules, **common),
        "gp_contacts": build_gp_contacts(encounters, rules=rules, **common),
    }
    meds = frames["medications"]
    if meds is None:
        meds = pd.DataFrame(columns=["START", "STOP", "PATIENT", "ENCOUNTER", "CODE"])
        meds = meds.astype({"START": "datetime64[us]", "STOP": "datetime64[us]"})
    built["prescriptions"] = build_prescriptions(
        meds, encounters, bnf=maps.bnf, rules=rules, **common
    )
    if frames["observations"] is not None:
        built["observations"] = build_observations(
            frames["observations"], loinc=maps.loinc, **common
        )
    for name, (frame, table_counts) in built.items():
        tables[name], counts[name] = frame, table_counts
    return tables, counts


def import_synthea(
    synthea_dir: Path | str,
    *,
    out_dir: Path | str,
    extract_date: date | None = None,
    fmt: str = "csv",
    mappings: Mappings | None = None,
) -> ImportReport:
    """Convert a Synthea CSV export (v2 or v3 layout) into registry extracts in `out_dir`."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    out_dir = Path(out_dir)
    with timed("synthea.import", fmt=fmt) as extra:
        maps = mappings or load_mappings()
        export = read_export(Path(synthea_dir))
        for warning in export.warnings:
            log_event("synthea.warning", message=warning)
        extract_date = extract_date or latest_date(export)
        tables, counts = convert(export, extract_date=extract_date, maps=maps)
        write_extract(tables, out_dir=out_dir, fmt=fmt)
        extra.update(
            layout=export.layout, extract_date=extract_date, patients=len(tables["patients"])
        )
    return ImportReport(
        layout=export.layout,
        extract_date=extract_date,
        out_dir=out_dir,
        tables={name: counts[name] for name in TABLES if name in counts},
        warnings=export.warnings,
    )
