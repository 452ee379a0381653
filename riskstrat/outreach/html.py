"""The printable HTML list (A4 landscape, self-contained: inline CSS, no scripts or external
assets), rendered from outreach/templates/list.html.j2 with autoescaping.

Every printed page repeats the practice, list, date and confidentiality line (a CSS paged-media
running header) and "Page N of M" (a footer margin box), and the table's heading row. The three
reasons share one cell, one bullet each (hanging, so a wrapped reason reads as one); each
suggested action carries a footnote number whose `why` is printed under the table (and shown as
a tooltip on screen). Outcome and notes are blank columns to write in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

import jinja2
from markupsafe import Markup

from riskstrat.outreach.columns import ListColumn, format_nhs_number

TEMPLATE = "list.html.j2"
TEMPLATES_DIR = Path("outreach") / "templates"
HTML_HIDDEN = ("pathway", "listed_on", "contacted_on", "section", "action_why", "reason_2",
               "reason_3")  # fmt: skip
REASONS_HEADING = "Reasons"
RESERVE_SECTION = "reserve"
#: Under a reserve row's name in the printed list (the List column is not printed).
RESERVE_MARK = "(reserve)"
#: A word longer than this (no space or hyphen to wrap at) is broken inside its cell (CSS class
#: LONG_WORD): Chromium widens a table to its longest word, so a 160-letter name (a data fault)
#: pushed the printed Outcome, Notes and Patient ID columns off every page. 60 keeps the
#: longest real words whole (Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch, 58).
LONG_WORD_CHARS = 60
LONG_WORD = "long-word"


# What the template reads: named tuples, whose attributes Jinja finds at the first try (on a
# dict, each `x.y` fails getattr before it tries the key: most of a list's rendering time).
class Line(NamedTuple):
    text: str
    badge: str = ""
    note: int | None = None
    tip: str = ""


class Cell(NamedTuple):
    lines: list[Line]
    css: str


class Row(NamedTuple):
    section: object
    first_reserve: bool
    cells: list[Cell]


class Heading(NamedTuple):
    heading: str
    name: str


def css_string(value: object) -> Markup:
    """A CSS string literal's content: quotes, backslashes, newlines and < escaped (so a name
    can neither end the string nor the style element)."""
    out = []
    for ch in str(value):
        if ch in "\"'\\<>&" or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup("".join(out))


@cache
def _environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    return env


def render_html(
    rows: Sequence[dict[str, object]],
    columns: Sequence[ListColumn],
    *,
    context: dict[str, object],
    templates: Path | None = None,
) -> str:
    """rows: one dict per listed person (display values, `modifiable_i` flags, `section`)."""
    shown = [c for c in columns if c.name not in HTML_HIDDEN]
    notes: dict[str, tuple[int, str]] = {}  # action -> (footnote number, why)
    out_rows = []
    seen_reserve = False
    for record in rows:
        first_reserve = record["section"] == "reserve" and not seen_reserve
        seen_reserve = seen_reserve or first_reserve
        out_rows.append(
            Row(record["section"], first_reserve, [_cell(c, record, notes) for c in shown])
        )
    if templates is None:
        from riskstrat.config import project_root  # (not imported by the list file worker)

        templates = project_root() / TEMPLATES_DIR
    env = _environment(templates)
    return env.get_template(TEMPLATE).render(
        columns=[
            Heading(REASONS_HEADING if c.name == "reason_1" else c.heading, c.name) for c in shown
        ],
        rows=out_rows,
        footnotes=[(n, action, why) for action, (n, why) in notes.items()],
        n_main=sum(r["section"] == "main" for r in rows),
        n_reserve=sum(r["section"] == "reserve" for r in rows),
        **context,
    )


def _cell(column: ListColumn, record: dict[str, object], notes: dict[str, tuple[int, str]]) -> Cell:
    """A cell: `lines` of (text, badge or footnote number, tooltip)."""
    if column.name == "reason_1":
        lines = []
        for i in (1, 2, 3):
            text = record.get(f"reason_{i}")
            if text:
                badge = "modifiable" if record.get(f"modifiable_{i}") else ""
                lines.append(Line(str(text), badge=badge))
        return Cell(lines, "reasons")
    if column.name == "actions":
        return Cell(_action_lines(record, notes), "actions")
    value = record.get(column.name)
    missing = (column.name == "name" and bool(record.get("contacts_missing"))) or (
        column.name == "phone" and bool(record.get("phone_missing"))
    )
    text = _text(column, value)
    if column.name == "name" and record.get("section") == RESERVE_SECTION:
        # Every reserve row says so under its name (the widest short cell: no column grows):
        # the "Reserve" line above the first one is on one printed page only, and the rows
        # after it (greyed, which a black-and-white printer loses) read as more names to call.
        lines = [Line(text)] if text else []
        return Cell([*lines, Line(RESERVE_MARK)], "missing" if missing else _css(column, text))
    return Cell([Line(text)] if text else [], "missing" if missing else _css(column, text))


def _long_word(text: str) -> bool:
    return any(len(w) > LONG_WORD_CHARS for w in text.replace("-", " ").split())


def _action_lines(record: dict[str, object], notes: dict[str, tuple[int, str]]) -> list[Line]:
    actions = [a for a in str(record.get("actions") or "").split("; ") if a]
    whys = str(record.get("action_why") or "").split("; ")
    lines = []
    for i, action in enumerate(actions):
        why = whys[i] if i < len(whys) else ""
        if action not in notes:
            notes[action] = (len(notes) + 1, why)
        lines.append(Line(action, note=notes[action][0], tip=why))
    return lines


def _text(column: ListColumn, value: object) -> str:
    if value is None:
        return ""
    if column.name == "nhs_number":
        return str(format_nhs_number(value))
    if column.kind == "percent":
        return f"{value:.1%}"
    if column.kind == "points":
        return f"{value:+.1f}"
    if column.kind == "date" and isinstance(value, date):
        return (
            value.strftime("%a %d/%m/%Y")
            if column.name == "contact_by"
            else (value.strftime("%d/%m/%Y"))
        )
    return str(value)


def _css(column: ListColumn, text: str = "") -> str:
    if column.kind == "text" and _long_word(text):
        return LONG_WORD
    if column.kind in ("percent", "points", "int"):
        return "num"
    if column.name in ("outcome", "notes"):
        return "write"
    return "nowrap" if column.kind == "date" or column.name in ("nhs_number", "phone") else ""
