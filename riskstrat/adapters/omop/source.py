"""Reading an OMOP CDM instance: a folder of CSV files or a database URL.

This is the adapter's input edge. Tables are found case-insensitively (`PERSON.csv`, `person.tsv`,
`Person.txt`; `CDM.PERSON` in a database); CSV files may use tab or comma and may lack a header line
(then the CDM column order of configs/omop/cdm_columns.yaml names the fields, by the number of
fields). Column names are lower-cased, v5.3 names are renamed to v5.4 ones, and everything needed is
checked before anything is converted, so bad input stops with a message naming table, column and
rule.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskstrat.adapters.common import first_empty
from riskstrat.adapters.omop.mappings import CdmColumns

NOT_FOUND = "{source}: OMOP source not found (a folder of CSV files or a database URL)"
MISSING_TABLE = "{source}: required OMOP table {table} not found"
MISSING_COLUMN = "{where}: required column {column} is missing"
BAD_FIELD_COUNT = (
    "{where}: no header line and {count} fields per row, which matches no CDM version's "
    "{table} table ({expected}): add the header line"
)
BAD_VALUE = "{where}: column {column}: row {row}: {value!r} is not a valid {kind}"
EMPTY_VALUE = "{where}: column {column}: row {row}: must not be empty ({count} rows affected)"
DATABASE_ERROR = "{source}: cannot read the database: {error}"
OPTIONAL_TABLE_MISSING = "{table}: optional OMOP table not found: {consequence}"

#: v5.3 column names -> v5.4 names (visit_occurrence and visit_detail).
RENAMED = {
    "admitting_source_concept_id": "admitted_from_concept_id",
    "admitting_source_value": "admitted_from_source_value",
    "discharge_to_concept_id": "discharged_to_concept_id",
    "discharge_to_source_value": "discharged_to_source_value",
    "visit_detail_parent_id": "parent_visit_detail_id",
}


class OmopInputError(ValueError):
    """The OMOP instance cannot be converted: a required table, column or value is bad."""


@dataclass(frozen=True)
class TableSpec:
    """One CDM table the adapter reads: required columns, optional ones, types."""

    name: str
    required: bool
    columns: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    missing: str = ""  # what is lost when an optional table is absent


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "person",
            True,
            ("person_id", "gender_concept_id", "year_of_birth"),
            ("month_of_birth", "day_of_birth", "birth_datetime", "race_concept_id",
             "location_id", "care_site_id", "gender_source_value", "race_source_value"),
            datetimes=("birth_datetime",),
            integers=("person_id", "gender_concept_id", "year_of_birth", "month_of_birth",
                      "day_of_birth", "race_concept_id", "location_id", "care_site_id"),
            not_null=("person_id", "year_of_birth"),
        ),
        TableSpec(
            "observation_period",
            False,
            ("person_id", "observation_period_start_date", "observation_period_end_date"),
            dates=("observation_period_start_date", "observation_period_end_date"),
            integers=("person_id",),
            not_null=("person_id", "observation_period_start_date"),
            missing="registration runs from each person's first record (no observation periods)",
        ),
        TableSpec(
            "death",
            False,
            ("person_id", "death_date"),
            dates=("death_date",),
            integers=("person_id",),
            not_null=("person_id", "death_date"),
            missing="nobody is known to have died",
        ),
        TableSpec(
            "visit_occurrence",
            False,
            ("visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date"),
            ("visit_end_date", "visit_start_datetime", "provider_id", "care_site_id",
             "admitted_from_concept_id", "admitted_from_source_value",
             "discharged_to_concept_id", "preceding_visit_occurrence_id"),
            dates=("visit_start_date", "visit_end_date"),
            datetimes=("visit_start_datetime",),
            integers=("visit_occurrence_id", "person_id", "visit_concept_id", "provider_id",
                      "care_site_id", "admitted_from_concept_id", "discharged_to_concept_id",
                      "preceding_visit_occurrence_id"),
            not_null=("visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date"),
            missing="no spells, A&E attendances or GP contacts (no visits)",
        ),
        TableSpec(
            "visit_detail",
            False,
            ("visit_detail_id", "visit_occurrence_id", "visit_detail_start_date"),
            ("provider_id", "admitted_from_concept_id", "discharged_to_concept_id"),
            dates=("visit_detail_start_date",),
            integers=("visit_detail_id", "visit_occurrence_id", "provider_id",
                      "admitted_from_concept_id", "discharged_to_concept_id"),
            missing="",
        ),
        TableSpec(
            "care_site",
            False,
            ("care_site_id",),
            ("care_site_name", "place_of_service_concept_id", "location_id"),
            integers=("care_site_id", "place_of_service_concept_id", "location_id"),
            missing="",
        ),
        TableSpec(
            "provider",
            False,
            ("provider_id",),
            ("specialty_concept_id", "specialty_source_value", "care_site_id"),
            integers=("provider_id", "specialty_concept_id", "care_site_id"),
            missing="",
        ),
        TableSpec(
            "location",
            False,
            ("location_id",),
            ("zip", "location_source_value"),
            integers=("location_id",),
            missing="",
        ),
        TableSpec(
            "condition_occurrence",
            False,
            ("person_id", "condition_concept_id", "condition_start_date"),
            ("condition_end_date", "visit_occurrence_id", "condition_source_value"),
            dates=("condition_start_date", "condition_end_date"),
            integers=("person_id", "condition_concept_id", "visit_occurrence_id"),
            not_null=("person_id", "condition_start_date"),
            missing="registers come from hospice visits only",
        ),
        TableSpec(
            "drug_exposure",
            False,
            ("person_id", "drug_concept_id", "drug_exposure_start_date"),
            ("drug_exposure_end_date", "days_supply", "visit_occurrence_id", "drug_source_value"),
            dates=("drug_exposure_start_date", "drug_exposure_end_date"),
            integers=("person_id", "drug_concept_id", "visit_occurrence_id"),
            not_null=("person_id", "drug_exposure_start_date"),
            missing="prescriptions is empty",
        ),
        TableSpec(
            "measurement",
            False,
            ("person_id", "measurement_concept_id", "measurement_date"),
            ("value_as_number", "measurement_source_value", "unit_source_value"),
            dates=("measurement_date",),
            integers=("person_id", "measurement_concept_id"),
            not_null=("person_id", "measurement_date"),
            missing="no observations table is written",
        ),
        TableSpec(
            "concept",
            False,
            ("concept_id", "concept_name", "vocabulary_id", "concept_code"),
            integers=("concept_id",),
            missing="concepts are matched by id and source values only (no CONCEPT table)",
        ),
        TableSpec(
            "concept_ancestor",
            False,
            ("ancestor_concept_id", "descendant_concept_id"),
            integers=("ancestor_concept_id", "descendant_concept_id"),
            missing="",  # expected in many instances: the shipped code lists are used instead
        ),
    )
}  # fmt: skip


@dataclass
class OmopInstance:
    """The tables the converter needs (absent optional tables are None), version and warnings."""

    source: str
    frames: dict[str, pd.DataFrame | None]
    version: str
    warnings: list[str] = field(default_factory=list)


def is_url(source: str) -> bool:
    return "://" in source or source.startswith("duckdb:")


def read_instance(
    source: Path | str, *, cdm: CdmColumns, schema: str | None = None
) -> OmopInstance:
    """Read and check every table the adapter uses; raise OmopInputError on bad input."""
    text = str(source)
    if is_url(text):
        raw = _read_database(text, schema=schema)
    elif Path(text).is_dir():
        raw = _read_folder(Path(text), cdm=cdm)
    else:
        raise OmopInputError(NOT_FOUND.format(source=text))
    frames: dict[str, pd.DataFrame | None] = {}
    warnings: list[str] = []
    for spec in TABLES.values():
        found = raw.get(spec.name)
        if found is None:
            if spec.required:
                raise OmopInputError(MISSING_TABLE.format(source=text, table=spec.name))
            if spec.missing:
                warnings.append(
                    OPTIONAL_TABLE_MISSING.format(table=spec.name, consequence=spec.missing)
                )
            frames[spec.name] = None
            continue
        where, frame = found
        frames[spec.name] = _check(frame.rename(columns=RENAMED), spec, where=where)
    version = _version(raw)
    return OmopInstance(source=text, frames=frames, version=version, warnings=warnings)


def _version(raw: dict[str, tuple[str, pd.DataFrame]]) -> str:
    """5.4 when a v5.4-only column is present (visit admitted_from, measurement event), else 5.3."""
    markers = {
        "visit_occurrence": "admitted_from_concept_id",
        "measurement": "measurement_event_id",
    }
    for table, column in markers.items():
        if table in raw and column in raw[table][1].columns:
            return "5.4"
    return "5.3"


def _check(frame: pd.DataFrame, spec: TableSpec, *, where: str) -> pd.DataFrame:
    for column in spec.columns:
        if column not in frame.columns:
            raise OmopInputError(MISSING_COLUMN.format(where=where, column=column))
    keep = [c for c in (*spec.columns, *spec.optional) if c in frame.columns]
    frame = frame[keep].copy()
    empty = first_empty(frame, spec.not_null)
    if empty:
        column, pos, count = empty
        raise OmopInputError(
            EMPTY_VALUE.format(where=where, column=column, row=pos + 1, count=count)
        )
    for column in spec.integers:
        if column in frame:
            frame[column] = _parse(frame[column], kind="integer", where=where, column=column)
    for column in (*spec.dates, *spec.datetimes):
        if column in frame:
            kind = "date" if column in spec.dates else "timestamp"
            frame[column] = _parse(frame[column], kind=kind, where=where, column=column)
    return frame


def _parse(values: pd.Series, *, kind: str, where: str, column: str) -> pd.Series:
    text = values.astype("str").str.strip().where(values.notna())
    text = text.mask(text == "")
    if kind == "integer":
        parsed = pd.to_numeric(text, errors="coerce")  # float64: "10.0" from a float column
        whole = parsed.isna() | (parsed == parsed.round())
        bad = (parsed.isna() & text.notna()) | ~whole
        # Plain digits are parsed exactly: float64 holds integers only to 2**53, and OMOP ids
        # are 64-bit (a column with a gap would otherwise round 9223372036854775000, so the
        # same id would differ between tables). Beyond 64 bits is not an OMOP integer.
        digits = text.str.fullmatch(r"[+-]?[0-9]+").fillna(False).astype(bool)
        exact = pd.to_numeric(text[digits], errors="coerce")
        if exact.dtype != "int64":  # some beyond 64 bits (rare): find them
            big = text[digits].map(lambda v: not -(2**63) <= int(v) < 2**63)
            bad = bad | big.reindex(text.index, fill_value=False).astype(bool)
        if bad.any():
            result = parsed
        else:
            result = parsed.astype("Int64")
            result[digits] = exact.astype("Int64")
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        retry = parsed.isna() & text.str.match(r"\d{4}-\d{1,2}-\d{1,2}\b").fillna(False)
        if retry.any():  # "1937-12-1" (ISO order, no zero padding): element by element
            parsed[retry] = pd.to_datetime(text[retry], format="mixed", errors="coerce")
        if kind == "timestamp":  # an unparseable optional timestamp is simply unknown
            return parsed.astype("datetime64[us]")
        bad = parsed.isna() & text.notna()
        result = parsed.dt.normalize().astype("datetime64[us]")
    if bad.any():
        pos = int(bad.to_numpy().argmax())
        raise OmopInputError(
            BAD_VALUE.format(
                where=where, column=column, row=pos + 1, value=text.iloc[pos], kind=kind
            )
        )
    return result


def _read_folder(folder: Path, *, cdm: CdmColumns) -> dict[str, tuple[str, pd.DataFrame]]:
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt", ""):
            files.setdefault(path.stem.lower(), path)
    out = {}
    for name in TABLES:
        if name in files:
            out[name] = (str(files[name]), read_csv_table(files[name], table=name, cdm=cdm))
    return out


def read_csv_table(path: Path, *, table: str, cdm: CdmColumns) -> pd.DataFrame:
    """One CSV/TSV file, header or not, as text columns with lower-case names."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline().rstrip("\r\n")
    sep = "\t" if first.count("\t") > first.count(",") else ","
    fields = [f.strip().strip('"').lower() for f in first.split(sep)]
    known = {c for columns in cdm.versions.values() for c in columns.get(table, [])}
    known |= set(RENAMED)
    header = sum(f in known for f in fields) >= max(1, len(fields) // 2)
    names = None
    if not header:
        names = _positional_names(fields, table=table, cdm=cdm, where=str(path))
    frame = pd.read_csv(
        path,
        sep=sep,
        dtype="str",
        header=0 if header else None,
        names=names,
        keep_default_na=False,
        na_values=[""],
        quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL,
        encoding="utf-8-sig",
        index_col=False,
    )
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _positional_names(fields: list[str], *, table: str, cdm: CdmColumns, where: str) -> list[str]:
    options = {v: cols[table] for v, cols in cdm.versions.items() if table in cols}
    for columns in options.values():
        if len(columns) == len(fields):
            return columns
    # trailing empty fields are common in exports: accept extra fields after the CDM's columns
    longest = max(options.values(), key=len)
    if len(fields) > len(longest):
        return [*longest, *(f"extra_{i}" for i in range(len(fields) - len(longest)))]
    expected = " or ".join(f"v{v}: {len(c)}" for v, c in options.items())
    raise OmopInputError(
        BAD_FIELD_COUNT.format(where=where, count=len(fields), table=table, expected=expected)
    )


def _read_database(url: str, *, schema: str | None) -> dict[str, tuple[str, pd.DataFrame]]:
    """Every CDM table the adapter reads, from DuckDB (directly) or any SQLAlchemy URL."""
    try:
        if url.startswith("duckdb:"):
            return _read_duckdb(url, schema=schema)
        return _read_sqlalchemy(url, schema=schema)
    except OmopInputError:
        raise
    except Exception as exc:  # driver errors differ by database: one message for all
        message = DATABASE_ERROR.format(source=url, error=str(exc).splitlines()[0])
        raise OmopInputError(message) from exc


def _read_duckdb(url: str, *, schema: str | None) -> dict[str, tuple[str, pd.DataFrame]]:
    import duckdb

    path = url.removeprefix("duckdb:").removeprefix("///").removeprefix("//")
    if not Path(path).is_file():
        raise OmopInputError(NOT_FOUND.format(source=url))
    out = {}
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            + (" WHERE lower(table_schema) = lower(?)" if schema else ""),
            [schema] if schema else [],
        ).fetchall()
        found = {name.lower(): (sch, name) for sch, name in rows}
        for table in TABLES:
            if table in found:
                sch, name = found[table]
                frame = con.execute(f'SELECT * FROM "{sch}"."{name}"').df()
                out[table] = (f"{url} {sch}.{name}", _as_text(frame))
    return out


def _read_sqlalchemy(url: str, *, schema: str | None) -> dict[str, tuple[str, pd.DataFrame]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        names = sa.inspect(engine).get_table_names(schema=schema)
        found = {name.lower(): name for name in names}
        out = {}
        with engine.connect() as con:
            for table in TABLES:
                if table in found:
                    ref = sa.Table(found[table], sa.MetaData(), schema=schema, autoload_with=con)
                    # nullable dtypes: a BIGINT id column with NULLs stays exact (not float64)
                    frame = pd.read_sql(sa.select(ref), con, dtype_backend="numpy_nullable")
                    out[table] = (f"{url} {found[table]}", _as_text(frame))
        return out
    finally:
        engine.dispose()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Database columns as text (the CSV path's form), dates ISO; names lower-case."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_float_dtype(values):
            whole = values.dropna()
            text = (
                values.astype("Int64").astype("str")
                if len(whole) and (whole == whole.round()).all()
                else values.astype("str")
            )
        else:
            text = values.astype("str")
        out[str(column).lower()] = text.where(values.notna())
    return out
