"""The registry data contract: the one place that says what each extract table holds.

Every other part of riskstrat (ingest, the DuckDB schema, the synthetic generator, the Synthea
adapter, the feature SQL, the docs) reads table and column facts from here. `docs/contract.md` is
generated from this module (`riskstrat docs`), never written by hand.

Dates are day-stamped: an event dated day X is taken to happen during day X. Feature and label
windows (see `riskstrat.tasks`) rely on that convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["str", "int", "float", "bool", "date", "timestamp"]

#: SQL type each contract dtype is stored as in DuckDB.
DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

ETHNICITY_GROUPS = ("White", "Mixed", "Asian", "Black", "Other", "Unknown")
SEXES = ("F", "M", "U")
REGISTERS = (
    "AF", "AST", "CAN", "CHD", "CKD", "COPD", "DEM", "DEP", "DM", "EP", "HF", "HYP", "LD", "MH",
    "OB", "OST", "PAD", "PC", "RA", "STIA",
)  # fmt: skip
REGISTER_NAMES: dict[str, str] = {
    "AF": "atrial fibrillation",
    "AST": "asthma",
    "CAN": "cancer",
    "CHD": "coronary heart disease",
    "CKD": "chronic kidney disease",
    "COPD": "COPD",
    "DEM": "dementia",
    "DEP": "depression",
    "DM": "diabetes",
    "EP": "epilepsy",
    "HF": "heart failure",
    "HYP": "hypertension",
    "LD": "learning disability",
    "MH": "severe mental illness",
    "OB": "obesity",
    "OST": "osteoporosis",
    "PAD": "peripheral arterial disease",
    "PC": "palliative care",
    "RA": "rheumatoid arthritis",
    "STIA": "stroke or TIA",
}
ADMISSION_METHODS = ("elective", "emergency", "maternity", "transfer")
#: NHS admission method codes (HES ADMIMETH) and the contract category each one means.
ADMISSION_METHOD_CODES: dict[str, str] = {
    **{c: "elective" for c in ("11", "12", "13")},
    **{c: "emergency" for c in ("21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D")},
    **{c: "maternity" for c in ("31", "32")},
    **{c: "transfer" for c in ("81", "82", "83")},
}
DISCHARGE_DESTINATIONS = ("home", "care_home", "died", "other_hospital", "other")
AE_DISPOSALS = ("admitted", "discharged", "left", "died", "other")
GP_CONTACT_MODES = ("face_to_face", "telephone", "home_visit", "online")
#: What a practice returns for a listed person: code (stored, exported) -> the label practices see
#: in the spreadsheet's drop-down. Returned sheets may carry either (matched case-insensitively).
OUTCOME_LABELS: dict[str, str] = {
    "contacted": "Contacted",
    "declined": "Declined",
    "unreachable": "Could not reach",
    "not_appropriate": "Not appropriate",
    "already_in_care": "Already in care",
    "in_hospital": "In hospital",
    "died": "Died",
    "moved_away": "Moved away",
}
OUTREACH_OUTCOMES = tuple(OUTCOME_LABELS)
#: A returned list (XLSX or CSV) reads back as outreach_outcomes. The practice sees these headings;
#: the reader accepts either the heading or the column name (case-insensitive, trimmed). An XLSX
#: list may have title rows above the heading row; the heading row is the first one that names
#: `patient_id`. Other columns (reasons, notes...) are ignored on the way back.
FEEDBACK_HEADINGS: dict[str, str] = {
    "patient_id": "Patient ID",
    "pathway": "Pathway",
    "listed_on": "Listed on",
    "contacted_on": "Contacted on",
    "outcome": "Outcome",
}
#: The practice a returned file belongs to: a CSV's `practice_code` column, or in an XLSX a hidden
#: worksheet FEEDBACK_META_SHEET whose column A holds keys and column B values (practice_code,
#: pathway, listed_on as ISO date). Feedback rows are only applied to that practice's patients.
FEEDBACK_PRACTICE_COLUMN = "practice_code"
FEEDBACK_META_SHEET = "riskstrat"
#: ODS organisation codes are upper-case letters and digits (a GP practice: one letter and five
#: digits, e.g. A81001). The default also admits the synthetic (Z00001) and Synthea (SY + 10)
#: codes; `ingest.practice_code_pattern` narrows it (e.g. `[A-Z][0-9]{5}`). A practice code
#: becomes a folder name, so it can never hold `/`, `\\`, `.` or spaces.
PRACTICE_CODE_PATTERN = r"[A-Z0-9]{2,12}"
#: The lower-case spellings a returned sheet's outcome may use -> the stored code.
OUTCOME_ALIASES: dict[str, str] = {
    **{label.lower(): code for code, label in OUTCOME_LABELS.items()},
    **{code: code for code in OUTCOME_LABELS},
}
#: An NHS number as it is written and printed (`943 476 5919`, `943-476-5919`): read as its 10
#: digits. Before, such a contacts row was rejected (pattern), and its patient had no contacts.
NHS_NUMBER_GROUPED = r"[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}"
PATHWAYS = ("early_intervention", "post_discharge", "rising_risk", "palliative_care", "care_home")
#: Observation codes the feature library reads; others are accepted and kept.
OBSERVATION_CODES = ("hba1c", "sbp", "bmi", "egfr", "efi_score", "smoking")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: DType
    description: str
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # a present column may hold nulls
    allowed: tuple[str, ...] | None = None
    normalise: dict[str, str] | None = None  # accepted aliases -> contract value
    min: float | None = None
    max: float | None = None
    pattern: str | None = None  # regular expression a str value must match in full
    fold_case: bool = False  # match allowed values and `normalise` keys case-insensitively
    #: A value written in groups that matches this in full has its spaces and hyphens removed
    #: before the checks (an NHS number as people write it, and as the lists print it).
    grouped: str | None = None
    #: COLUMN_WARNINGS this column is checked by: a value breaking one keeps its row (and the
    #: value), listed in flagged/<table>.csv with one warning.
    warn_rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True  # the table must be in every extract
    identifiable: bool = False  # holds direct identifiers: read only for a practice's own list
    #: date/timestamp columns that record when something happened: checked against the
    #: extract date, date of birth and date of death.
    event_columns: tuple[str, ...] = ()
    row_rules: tuple[str, ...] = field(default=())  # names from ROW_RULES
    #: the table may hold no rows (otherwise a required table with no accepted rows stops the
    #: ingest, rule not_empty); optional tables may always be empty.
    may_be_empty: bool = False

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


PATIENT_ID = Column("patient_id", "str", "Pseudonymous patient identifier.", pattern=r"\S+")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "practices",
            "GP practices, their primary care network and outreach capacity.",
            (
                Column("practice_code", "str", "ODS practice code.", pattern=PRACTICE_CODE_PATTERN),
                Column("practice_name", "str", "Practice name."),
                Column("pcn_code", "str", "Primary care network code."),
                Column("pcn_name", "str", "Primary care network name."),
                Column(
                    "weekly_capacity",
                    "int",
                    "Outreach contacts the practice can make a week.",
                    min=0,
                ),
            ),
            key=("practice_code",),
        ),
        Table(
            "patients",
            "One row per patient ever registered in the extract period.",
            (
                PATIENT_ID,
                Column("practice_code", "str", "Practice of (latest) registration."),
                Column("date_of_birth", "date", "Date of birth."),
                Column("sex", "str", "F, M or U (unknown).", allowed=SEXES),
                Column(
                    "ethnicity",
                    "str",
                    "ONS 5-group ethnicity, or Unknown.",
                    allowed=ETHNICITY_GROUPS,
                    nullable=True,
                ),
                Column(
                    "lsoa_code",
                    "str",
                    "Lower-layer super output area of residence.",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "imd_decile",
                    "int",
                    "Index of Multiple Deprivation decile, 1 = most deprived.",
                    nullable=True,
                    min=1,
                    max=10,
                ),
                Column("registered_from", "date", "Start of registration at the practice."),
                Column(
                    "registered_to",
                    "date",
                    "End of registration; null = currently registered.",
                    nullable=True,
                ),
                Column("date_of_death", "date", "Date of death; null = alive.", nullable=True),
                Column("lives_alone", "bool", "Lives alone, where recorded.", nullable=True),
                Column("care_home", "bool", "Resident of a care home."),
                Column("data_opt_out", "bool", "National data opt-out recorded."),
            ),
            key=("patient_id",),
            event_columns=("registered_from", "date_of_death"),
            row_rules=("registered_to_after_from", "born_before_registration"),
        ),
        Table(
            "contacts",
            "Direct identifiers. Read only when writing a practice's own list.",
            (
                PATIENT_ID,
                Column(
                    "nhs_number",
                    "str",
                    "NHS number (10 digits).",
                    pattern=r"\d{10}",
                    grouped=NHS_NUMBER_GROUPED,
                    warn_rules=("nhs_check_digit",),
                ),
                Column("given_name", "str", "Given name."),
                Column("family_name", "str", "Family name."),
                Column("phone", "str", "Contact telephone.", nullable=True),
                Column("address", "str", "Postal address.", nullable=True),
            ),
            key=("patient_id",),
            identifiable=True,
        ),
        Table(
            "conditions",
            "Long-term condition registers (QOF style).",
            (
                PATIENT_ID,
                Column("register", "str", "Register code.", allowed=REGISTERS),
                Column("diagnosed_on", "date", "Date added to the register."),
                Column("resolved_on", "date", "Date resolved; null = active.", nullable=True),
            ),
            key=("patient_id", "register", "diagnosed_on"),
            event_columns=("diagnosed_on", "resolved_on"),
            row_rules=("resolved_after_diagnosed",),
        ),
        Table(
            "spells",
            "Hospital inpatient spells (HES APC / SUS style).",
            (
                Column("spell_id", "str", "Spell identifier.", pattern=r"\S+"),
                PATIENT_ID,
                Column("provider_code", "str", "Provider (trust) code.", nullable=True),
                Column("admission_date", "date", "Admission date."),
                Column(
                    "discharge_date",
                    "date",
                    "Discharge date; null = still in hospital.",
                    nullable=True,
                ),
                Column(
                    "admission_method",
                    "str",
                    "elective / emergency / maternity / transfer; NHS codes are mapped.",
                    allowed=ADMISSION_METHODS,
                    normalise=ADMISSION_METHOD_CODES,
                ),
                Column(
                    "primary_diagnosis",
                    "str",
                    "Primary diagnosis, ICD-10.",
                    nullable=True,
                    pattern=r"[A-Z][0-9]{2}[0-9A-Z.]*",
                ),
                Column(
                    "discharge_destination",
                    "str",
                    "Where the patient went on discharge.",
                    allowed=DISCHARGE_DESTINATIONS,
                    nullable=True,
                ),
            ),
            key=("spell_id",),
            event_columns=("admission_date", "discharge_date"),
            row_rules=("discharge_after_admission",),
        ),
        Table(
            "ae_attendances",
            "Emergency department attendances.",
            (
                Column("attendance_id", "str", "Attendance identifier.", pattern=r"\S+"),
                PATIENT_ID,
                Column("arrival_at", "timestamp", "Arrival time."),
                Column("disposal", "str", "Outcome of the attendance.", allowed=AE_DISPOSALS),
            ),
            key=("attendance_id",),
            event_columns=("arrival_at",),
        ),
        Table(
            "gp_contacts",
            "Primary care contacts and appointments.",
            (
                PATIENT_ID,
                Column("contact_date", "date", "Date of the contact or appointment."),
                Column("mode", "str", "How the contact happened.", allowed=GP_CONTACT_MODES),
                Column("attended", "bool", "False = did not attend (missed appointment)."),
            ),
            event_columns=("contact_date",),
        ),
        Table(
            "prescriptions",
            "Community prescribing (issues).",
            (
                PATIENT_ID,
                Column("issued_on", "date", "Date of issue."),
                Column(
                    "bnf_code",
                    "str",
                    "BNF code or its leading part (chapter 2 + section 2 + paragraph 2 digits).",
                    nullable=True,
                    pattern=r"[0-9]{2}[0-9A-Z]*",
                ),
                Column(
                    "drug_code",
                    "str",
                    "Source drug code (dm+d, RxNorm), when the source has one.",
                    required=False,
                    nullable=True,
                ),
            ),
            event_columns=("issued_on",),
        ),
        Table(
            "observations",
            "Clinical observations (optional table).",
            (
                PATIENT_ID,
                Column("observed_on", "date", "Date observed."),
                Column("code", "str", "Observation code, e.g. hba1c, egfr, bmi, efi_score."),
                Column("value", "float", "Numeric value.", nullable=True),
            ),
            required=False,
            event_columns=("observed_on",),
        ),
        Table(
            "outreach_outcomes",
            "Practices' feedback on listed patients, read back every run (optional table).",
            (
                PATIENT_ID,
                Column(
                    "pathway",
                    "str",
                    "Outreach pathway the patient was listed on.",
                    allowed=PATHWAYS,
                    fold_case=True,
                ),
                Column("listed_on", "date", "Date of the list the patient appeared on."),
                Column("contacted_on", "date", "Date contacted, if contacted.", nullable=True),
                Column(
                    "outcome",
                    "str",
                    "What happened: the code or the practice's label (any case).",
                    allowed=OUTREACH_OUTCOMES,
                    normalise={k: v for k, v in OUTCOME_ALIASES.items() if k != v},
                    fold_case=True,
                ),
            ),
            key=("patient_id", "pathway", "listed_on"),
            required=False,
            event_columns=("listed_on", "contacted_on"),
            row_rules=("contacted_after_listed",),
        ),
    )
}

#: Row-level rules: name -> (SQL predicate that must hold, columns it concerns, description).
#: A null in either column passes (nullability is checked separately).
ROW_RULES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "discharge_after_admission": (
        "discharge_date IS NULL OR discharge_date >= admission_date",
        ("discharge_date",),
        "discharge_date must be on or after admission_date",
    ),
    "registered_to_after_from": (
        "registered_to IS NULL OR registered_to >= registered_from",
        ("registered_to",),
        "registered_to must be on or after registered_from",
    ),
    "born_before_registration": (
        "registered_from >= date_of_birth",
        ("registered_from",),
        "registered_from must be on or after date_of_birth",
    ),
    "resolved_after_diagnosed": (
        "resolved_on IS NULL OR resolved_on >= diagnosed_on",
        ("resolved_on",),
        "resolved_on must be on or after diagnosed_on",
    ),
    "contacted_after_listed": (
        "contacted_on IS NULL OR contacted_on >= listed_on",
        ("contacted_on",),
        "contacted_on must be on or after listed_on",
    ),
}

#: Cross-table rules checked at ingest, by name (reasons in rejects files use these names).
CROSS_TABLE_RULES: dict[str, str] = {
    "patient_exists": "patient_id must exist in patients",
    "practice_known": "practice_code must exist in practices",
    "not_after_extract": "dated after the extract date",
    "not_before_birth": "dated before the patient's date of birth",
    "plausible_birth_date": (
        "date_of_birth must lie between ingest.earliest_birth_date (default 1890-01-01) and the "
        "extract date"
    ),
    "own_practice": (
        "a returned feedback row's patient must belong to the practice that returned the file "
        "(its embedded practice code, practice_code column or feedback/<practice>/ folder)"
    ),
    "not_after_death": "dated more than the grace period after the patient's date of death",
    "duplicate_key": "a second, different row with the same key",
    "duplicate_row": "an exact copy of an earlier row (kept once)",
}

#: Column-level rules checked at ingest, by name (reasons in rejects files use these names).
COLUMN_RULES: dict[str, str] = {
    "not_null": "a value is required (empty strings count as missing)",
    "type": "the value must parse as the column's type",
    "allowed": "the value must be one of the allowed values (after normalising aliases)",
    "pattern": "the value must match the column's regular expression in full",
    "range": "the value must lie within the column's min and max",
    "four_digit_year": (
        "a date must give its year in four digits (16/11/98 is refused, never read as 0098 or "
        "guessed as 1998 or 2098)"
    ),
    "no_control_characters": (
        "text must not hold control characters (NUL, other C0 codes except tab, line feed and "
        "carriage return, or DEL)"
    ),
}

#: Column-level checks that only warn: the row and its value are kept, each row is listed in
#: the ingest's flagged/<table>.csv (file, row, column, value masked for identifiers, rule) and
#: counted in the summary, with one warning per table.
#: nhs_check_digit: kept, not rejected, because the contacts row is joined to its patient by
#: patient_id, not by the number: a number that fails its check digit is a slip in that one
#: field (a typo, a digit lost in a spreadsheet), while the name, phone and address still
#: belong to the patient. A rejected row would list a high-risk person as "contact details
#: missing" with neither name nor number, which a practice cannot look up; a kept row gives
#: the name and date of birth, and a number failing the check digit cannot be another real
#: person's number by one slip (the check catches every single wrong digit and every swap of
#: two neighbours). The data manager corrects the number at source from flagged/contacts.csv.
#: (The synthetic generators issue numbers that fail it on purpose, riskstrat.synth.identity.)
COLUMN_WARNINGS: dict[str, str] = {
    "nhs_check_digit": (
        "an NHS number's tenth digit must be its modulus-11 check digit (the NHS standard: "
        "weights 10 to 2 on the first nine digits; 943 476 5919 passes); the row is kept"
    ),
}

#: Table-level rules: breaking one makes the table unusable and stops the ingest.
TABLE_RULES: dict[str, str] = {
    "required_table": "a required table must be in every extract",
    "required_column": "a required column must be in the file",
    "readable": (
        "the file must be readable as UTF-8 CSV or Parquet, one value per header column, every "
        "header column named once, no line longer than ingest.max_line_bytes"
    ),
    "all_lines_read": "every data line of a CSV file is accounted for: read == accepted + rejected",
    "not_empty": "a required table must have accepted rows (unless the contract allows it empty)",
    "not_shrunk": (
        "a registry table's file may hold at most ingest.max_row_drop_share fewer rows than the "
        "previous extract accepted (a truncated or partial file), when that was at least 100; "
        "rejected rows are max_reject_share's business"
    ),
    "contacts_cover_patients": (
        "at most ingest.contacts_missing_share of the current, living patients may lack an "
        "accepted contacts row"
    ),
    "extract_not_in_future": (
        "the extract date may be at most ingest.future_extract_days after today (wall clock)"
    ),
    "mostly_parses": "most non-empty values of a column must parse as its type",
    "max_reject_share": (
        "at most ingest.max_reject_share of a table's rows may be rejected (returned feedback "
        "has its own budget, ingest.feedback_max_reject_share, and only warns)"
    ),
}

#: Table-level checks that only warn (in the data-quality summary and the run manifest).
TABLE_WARNINGS: dict[str, str] = {
    "fresh": (
        "the latest event of a table listed in ingest.freshness_days is at most that many days "
        "before the extract date"
    ),
    "feedback_reject_budget": (
        "at most ingest.feedback_max_reject_share of the returned feedback rows are rejected"
    ),
    "contacts_missing": "current, living patients without an accepted contacts row (counted)",
    "new_extract": (
        "the registry files differ from those of the store's latest extract when the extract "
        "date does (the feed was refreshed)"
    ),
}

#: Tables whose rows belong to a patient (checked by patient_exists etc.), in ingest order.
PATIENT_TABLES = tuple(name for name, t in TABLES.items() if name not in ("practices", "patients"))


def ddl(table: Table, *, name: str | None = None) -> str:
    """CREATE TABLE statement for a contract table in DuckDB."""
    cols = ",\n  ".join(f"{c.name} {DUCKDB_TYPES[c.dtype]}" for c in table.columns)
    return f"CREATE TABLE {name or table.name} (\n  {cols}\n)"
