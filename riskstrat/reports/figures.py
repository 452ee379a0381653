"""Look-ups into the tidy aggregates and the formatting the HTML sections share."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskstrat.registry.contract import REGISTER_NAMES
from riskstrat.reports.suppression import TOTAL
from riskstrat.slices import SLICES

DASH = "–"
SLICE_TITLES = {s.name: s.title for s in SLICES} | {"register": "Key registers"}
#: Row kind in the page's tables, by the tidy frame's dimension (geography, outreach).
AREA_KINDS = {"ics": "total", "pcn": "subtotal"}


class Figures:
    """Look-ups into the tidy frame, formatted with the suppression symbol."""

    def __init__(self, frame: pd.DataFrame, *, symbol: str) -> None:
        self.frame = frame
        self.symbol = symbol
        self.rows = {
            (r.section, r.measure, r.dimension, r.group): r for r in frame.itertuples(index=False)
        }

    def get(self, section: str, measure: str, dimension: str, group: str) -> Any:
        return self.rows.get((section, measure, dimension, str(group)))

    def value(self, *key: str) -> float:
        row = self.get(*key)
        return np.nan if row is None or row.suppressed else float(row.value)

    def groups(self, section: str, dimension: str) -> list[str]:
        sel = self.frame[(self.frame.section == section) & (self.frame.dimension == dimension)]
        return list(dict.fromkeys(sel["group"]))

    def fmt(self, *key: str, kind: str = "count", interval: bool = False) -> str:
        row = self.get(*key)
        if row is None:
            return DASH
        if row.suppressed:
            return self.symbol
        if not np.isfinite(row.value):
            return DASH
        text = format_value(row.value, kind)
        if interval and np.isfinite(row.lower) and np.isfinite(row.upper):
            text += f" ({format_value(row.lower, kind)} to {format_value(row.upper, kind)})"
        return text


def format_value(v: float, kind: str) -> str:
    return {
        "count": f"{v:,.0f}",
        "pct": f"{100 * v:.1f}%",
        "risk": f"{100 * v:.2f}%",
        "ratio": f"{v:.2f}",
        "rate": f"{v:,.1f}",
        "num": f"{v:,.1f}",
    }[kind]


def over(horizon_days: int) -> str:
    """The period every expected figure and rate covers, for headings: "over 90 days" (a rate
    per 1,000 without it reads as the usual per-year figure, 4x larger at 90 days)."""
    return f"over {horizon_days} days"


def matured_period(matured: tuple[Any, Any, Any] | None) -> str:
    """Which predictions section 5 and the funnel judge, with dates: "predictions made on
    2025-09-29, admissions 2025-09-29 to 2025-12-27" (the page said only "one horizon ago")."""
    if matured is None:
        return "predictions made one horizon ago"
    scored, first, last = (d.isoformat() for d in matured)
    return f"predictions made on {scored}, admissions {first} to {last}"


def table(caption: str, headers: list[str], rows: list[tuple[str, list[str]]]) -> dict:
    """A table for the template: rows are (kind, cells); kind styles totals and subtotals."""
    return {
        "caption": caption,
        "headers": headers,
        "rows": [{"kind": kind, "cells": cells} for kind, cells in rows],
    }


def area_name(group: str, gt: str, names: dict[str, str]) -> str:
    if gt == "ics":
        return "All practices"
    return f"{names.get(group, group)} ({group})"


def group_label(group: str, gt: str) -> str:
    if group == TOTAL:
        return "All"
    name = REGISTER_NAMES.get(group, group)
    if gt != "register":
        return group
    label = f"{name[0].upper()}{name[1:]}"
    # A register whose name is its code (COPD) is not repeated: "COPD", not "COPD (COPD)".
    return label if label == group else f"{label} ({group})"


def section(section_id: str, title: str, blocks: list[dict], **extra: list[str]) -> dict:
    """A page section for the template (notes and warnings default to none)."""
    return {"id": section_id, "title": title, "notes": [], "warnings": [], "blocks": blocks} | extra


def block_id(section_id: str, dimension: str) -> str:
    """The anchor of a table (findings link to it)."""
    return f"{section_id}-{dimension}".replace("_", "-").replace(".", "-")


def in_sentence(title: str) -> str:
    """A title inside a sentence: first letter lower-cased unless an acronym ('IMD quintile')."""
    return title if len(title) > 1 and title[1].isupper() else title[:1].lower() + title[1:]
