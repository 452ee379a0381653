"""Reading a Synthea CSV export: which files and columns are needed, v2 vs v3 layout, dates.

This is the adapter's input edge. Everything the converter needs is checked here, before any
output is written, so bad input stops with a message naming file, column and rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskstrat.adapters.common import first_empty

NOT_A_FOLDER = "{folder}: Synthea export folder not found"
MISSING_FILE = "{file}: required Synthea file not found"
MISSING_COLUMN = "{file}: required column {column} is missing"
EMPTY_VALUE = "{file}: column {column}: row {row}: must not be empty ({count} rows affected)"
BAD_DATE = "{file}: column {column}: row {row}: {value!r} is not an ISO 8601 date or timestamp"
OPTIONAL_FILE_MISSING = "{file}: optional Synthea file not found: {consequence}"
OPTIONAL_COLUMN_MISSING = "{file}: optional column {column} not found: {consequence}"


class SyntheaInputError(ValueError):
    """The Synthea export cannot be converted: a required file, column or value is bad."""


@dataclass(frozen=True)
class SourceFile:
    """One Synthea CSV file and what the adapter needs from it."""

    name: str
    required: bool
    columns: tuple[str, ...]  # required columns
    optional: dict[str, str] = field(default_factory=dict)  # column -> what is lost without it
    not_null: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()  # parsed to naive UTC timestamps
    missing: str = ""  # what is lost when an optional file is absent
    quiet: tuple[str, ...] = ()  # read when present, no warning when absent

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


SOURCES: dict[str, SourceFile] = {
    s.name: s
    for s in (
        SourceFile(
            "patients",
            True,
            ("Id", "BIRTHDATE", "DEATHDATE", "FIRST", "LAST", "GENDER"),
            {
                "RACE": "ethnicity is Unknown",
                "INCOME": "imd_decile is null (Synthea v2 has no INCOME)",
                "ADDRESS": "contacts.address has no street",
                "CITY": "contacts.address has no town",
                "STATE": "contacts.address has no state",
                "ZIP": "contacts.address has no postcode",
            },
            quiet=("PHONE",),  # Synthea writes no patient phone; contacts.phone is then null
            not_null=("Id", "BIRTHDATE"),
            dates=("BIRTHDATE", "DEATHDATE"),
        ),
        SourceFile(
            "encounters",
            True,
            ("Id", "START", "STOP", "PATIENT", "ORGANIZATION", "ENCOUNTERCLASS"),
            {
                "CODE": "admission methods come from A&E timing only",
                "REASONCODE": "spells.primary_diagnosis is null",
            },
            not_null=("Id", "START", "PATIENT", "ORGANIZATION", "ENCOUNTERCLASS"),
            dates=("START", "STOP"),
        ),
        SourceFile(
            "organizations",
            True,
            ("Id", "NAME"),
            {"ZIP": "every practice is in one PCN (ZIP unknown)"},
            not_null=("Id",),
        ),
        SourceFile(
            "conditions",
            False,
            ("START", "STOP", "PATIENT", "CODE"),
            not_null=("START", "PATIENT", "CODE"),
            dates=("START", "STOP"),
            missing="registers come from hospice stays only",
        ),
        SourceFile(
            "medications",
            False,
            ("START", "STOP", "PATIENT", "ENCOUNTER", "CODE"),
            not_null=("START", "PATIENT", "CODE"),
            dates=("START", "STOP"),
            missing="prescriptions is empty",
        ),
        SourceFile(
            "observations",
            False,
            ("DATE", "PATIENT", "CODE", "VALUE"),
            not_null=("DATE", "PATIENT", "CODE"),
            dates=("DATE",),
            missing="no observations table is written",
        ),
    )
}

#: Layout evidence, newest first: (layout, file, column); column None = the file's presence.
#: v3.x (3.1 and later) added a SYSTEM column to conditions and allergies (SNOMED / ICD-10 /
#: RxNorm code systems). v3.0 added claims.csv and claims_transactions.csv, observations CATEGORY,
#: payer_transitions MEMBERID / START_DATE (v2: START_YEAR), patients FIPS / INCOME / MIDDLE. An
#: export with none of these is v2. Files a trimmed export leaves out simply give no evidence.
LAYOUT_MARKERS: tuple[tuple[str, str, str | None], ...] = (
    ("v3.x", "conditions", "SYSTEM"),
    ("v3.x", "allergies", "SYSTEM"),
    ("v3.0", "claims", None),
    ("v3.0", "claims_transactions", None),
    ("v3.0", "observations", "CATEGORY"),
    ("v3.0", "payer_transitions", "MEMBERID"),
    ("v3.0", "payer_transitions", "START_DATE"),
    ("v3.0", "patients", "FIPS"),
    ("v3.0", "patients", "INCOME"),
    ("v3.0", "patients", "MIDDLE"),
)


def detect_layout(folder: Path) -> str:
    """v2, v3.0 or v3.x from which files and columns the export has (see LAYOUT_MARKERS)."""
    headers: dict[str, list[str] | None] = {}
    for layout, name, column in LAYOUT_MARKERS:
        if name not in headers:
            path = folder / f"{name}.csv"
            headers[name] = list(pd.read_csv(path, nrows=0).columns) if path.is_file() else None
        header = headers[name]
        if header is not None and (column is None or column in header):
            return layout
    return "v2"


@dataclass
class SyntheaExport:
    """The frames the converter needs (absent optional files are None), layout and warnings."""

    frames: dict[str, pd.DataFrame | None]
    layout: str
    warnings: list[str]


def read_export(folder: Path) -> SyntheaExport:
    """Read and check every file the adapter uses; raise SyntheaInputError on bad input."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SyntheaInputError(NOT_A_FOLDER.format(folder=folder))
    frames: dict[str, pd.DataFrame | None] = {}
    warnings: list[str] = []
    for source in SOURCES.values():
        path = folder / source.file
        if not path.is_file():
            if source.required:
                raise SyntheaInputError(MISSING_FILE.format(file=path))
            warnings.append(OPTIONAL_FILE_MISSING.format(file=path, consequence=source.missing))
            frames[source.name] = None
            continue
        header = list(pd.read_csv(path, nrows=0).columns)
        for column in source.columns:
            if column not in header:
                raise SyntheaInputError(MISSING_COLUMN.format(file=path, column=column))
        for column, consequence in source.optional.items():
            if column not in header:
                warnings.append(
                    OPTIONAL_COLUMN_MISSING.format(
                        file=path, column=column, consequence=consequence
                    )
                )
        frames[source.name] = _read(path, source, header)
    return SyntheaExport(frames=frames, layout=detect_layout(folder), warnings=warnings)


def _read(path: Path, source: SourceFile, header: list[str]) -> pd.DataFrame:
    wanted = [c for c in (*source.columns, *source.optional, *source.quiet) if c in header]
    frame = pd.read_csv(path, dtype=str, usecols=wanted, keep_default_na=False, na_values=[""])
    empty = first_empty(frame, source.not_null)
    if empty:
        column, pos, count = empty
        row = pos + 2  # 1-based, after the header line
        raise SyntheaInputError(EMPTY_VALUE.format(file=path, column=column, row=row, count=count))
    for column in source.dates:
        frame[column] = parse_timestamps(frame[column], file=path, column=column)
    return frame


def parse_timestamps(values: pd.Series, *, file: Path | str, column: str) -> pd.Series:
    """ISO 8601 dates or timestamps (Synthea writes UTC 'Z' times) as naive UTC datetimes."""
    parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any():
        pos = int(bad.to_numpy().argmax())
        raise SyntheaInputError(
            BAD_DATE.format(file=file, column=column, row=pos + 2, value=values.iloc[pos])
        )
    return parsed.dt.tz_convert(None).astype("datetime64[us]")
