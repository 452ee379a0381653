"""The columns of a practice's list: names (also the CSV/XLSX headers, so the returned sheet
reads straight back as outreach_outcomes), HTML headings, and how each is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "percent", "points", "date"]


@dataclass(frozen=True)
class ListColumn:
    name: str
    heading: str
    kind: Kind = "text"
    width: int = 14  # XLSX column width (characters)
    only: tuple[str, ...] = ()  # pathways that show this column; () = every pathway


FEEDBACK_COLUMNS = ("patient_id", "pathway", "listed_on", "contacted_on", "outcome")

COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("rank", "#", "int", 6),
    ListColumn("section", "List", "text", 9),
    ListColumn("patient_id", "Patient ID", "text", 14),
    ListColumn("nhs_number", "NHS number", "text", 13),
    ListColumn("name", "Name", "text", 24),
    ListColumn("phone", "Phone", "text", 16),
    ListColumn("risk", "Risk", "percent", 8),
    ListColumn("previous_risk", "Last week", "percent", 10, only=("rising_risk",)),
    ListColumn("rise_points", "Rise (points)", "points", 12, only=("rising_risk",)),
    ListColumn("discharge_date", "Discharged", "date", 12, only=("post_discharge",)),
    ListColumn("contact_by", "Contact by", "date", 12, only=("post_discharge",)),
    ListColumn("reason_1", "Reason 1", "text", 38),
    ListColumn("reason_2", "Reason 2", "text", 38),
    ListColumn("reason_3", "Reason 3", "text", 38),
    ListColumn("actions", "Suggested actions", "text", 44),
    ListColumn("pathway", "Pathway", "text", 18),
    ListColumn("listed_on", "Listed on", "date", 12),
    ListColumn("contacted_on", "Contacted on", "date", 13),
    ListColumn("outcome", "Outcome", "text", 16),
)
MODIFIABLE_MARK = " (modifiable)"


def columns_for(pathway: str) -> tuple[ListColumn, ...]:
    return tuple(c for c in COLUMNS if not c.only or pathway in c.only)
