"""The columns of a practice's list: names (the CSV headers), human headings (the XLSX and HTML
headers; the returned-sheet columns take theirs from contract.FEEDBACK_HEADINGS so ingest reads
them back), and how each is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from riskstrat.registry.contract import FEEDBACK_HEADINGS, FEEDBACK_PRACTICE_COLUMN
from riskstrat.registry.nhs_numbers import is_valid

Kind = Literal["text", "int", "percent", "points", "date"]


@dataclass(frozen=True)
class ListColumn:
    name: str
    heading: str
    kind: Kind = "text"
    width: int = 14  # XLSX column width (characters)
    only: tuple[str, ...] = ()  # pathways that show this column; () = every pathway
    wrap: bool = False  # long text: wrapped, the row grows


FEEDBACK_COLUMNS = ("patient_id", "pathway", "listed_on", "contacted_on", "outcome")
#: feedback.csv: the practice the file belongs to, then the columns read back.
FEEDBACK_FILE_COLUMNS = (FEEDBACK_PRACTICE_COLUMN, *FEEDBACK_COLUMNS)
#: Shown in the name cell (every format) when the extract has no contacts row for a listed
#: person: they stay listed (high risk does not go away with a data gap), visibly.
CONTACTS_MISSING = "contact details missing - look up in the clinical system"
#: Shown in the Phone cell (every format) when the extract has the person's contacts but no
#: phone number: a blank cell on a list for calling read as a printing fault, and nothing said
#: the number was missing (the header counts them).
PHONE_MISSING = "not recorded"
FB = FEEDBACK_HEADINGS

COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("rank", "#", "int", 5),
    ListColumn("section", "List", "text", 8),
    ListColumn("name", "Name", "text", 24, wrap=True),
    ListColumn("date_of_birth", "Date of birth", "date", 12),
    ListColumn("age", "Age", "int", 5),
    ListColumn("nhs_number", "NHS number", "text", 13),
    ListColumn("phone", "Phone", "text", 15),
    ListColumn("address", "Address", "text", 28, wrap=True),
    ListColumn("risk", "Risk", "percent", 7),
    ListColumn("previous_risk", "Last week", "percent", 9, only=("rising_risk",)),
    ListColumn("rise_points", "Rise (points)", "points", 9, only=("rising_risk",)),
    ListColumn("discharge_date", "Discharged", "date", 12, only=("post_discharge",)),
    ListColumn("contact_by", "Contact by", "date", 12, only=("post_discharge",)),
    ListColumn("this_discharge", "This discharge", "text", 30, only=("post_discharge",), wrap=True),
    ListColumn("reason_1", "Reason 1", "text", 30, wrap=True),
    ListColumn("reason_2", "Reason 2", "text", 30, wrap=True),
    ListColumn("reason_3", "Reason 3", "text", 30, wrap=True),
    ListColumn("actions", "Suggested actions", "text", 36, wrap=True),
    ListColumn("action_why", "Why these actions", "text", 40, wrap=True),
    ListColumn("pathway", FB["pathway"], "text", 16),
    ListColumn("listed_on", FB["listed_on"], "date", 12),
    ListColumn("contacted_on", FB["contacted_on"], "date", 12),
    ListColumn("outcome", FB["outcome"], "text", 16),
    ListColumn("notes", "Notes", "text", 30, wrap=True),
    ListColumn("patient_id", FB["patient_id"], "text", 14),  # pseudonymous: last
)
MODIFIABLE_MARK = " (modifiable)"
#: After an NHS number that fails the modulus-11 check (ingest flags it, contract rule
#: nhs_check_digit, and keeps the row): staff look the person up by name and date of birth.
INVALID_NHS_MARK = " (not a valid NHS number)"


def columns_for(pathway: str) -> tuple[ListColumn, ...]:
    return tuple(c for c in COLUMNS if not c.only or pathway in c.only)


def format_nhs_number(value: object) -> object:
    """`9434765919` -> `943 476 5919` (the 3 3 4 grouping staff read aloud), marked when its
    check digit fails (a typo at source: looking it up would fail or find nobody); anything that
    is not ten digits is shown as it came."""
    if not isinstance(value, str):
        return value
    digits = value.replace(" ", "")
    if len(digits) == 10 and digits.isdigit():
        mark = "" if is_valid(digits) else INVALID_NHS_MARK
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}{mark}"
    return value
