"""The printable HTML list (A4 landscape, self-contained: inline CSS, no scripts or external
assets), rendered from outreach/templates/list.html.j2 with autoescaping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path

import jinja2

from riskstrat.config import project_root
from riskstrat.outreach.columns import ListColumn

TEMPLATE = "list.html.j2"
TEMPLATES_DIR = Path("outreach") / "templates"
HTML_HIDDEN = ("pathway", "listed_on", "contacted_on", "outcome", "section")


@cache
def _environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    rows: Sequence[dict[str, object]],
    columns: Sequence[ListColumn],
    *,
    context: dict[str, object],
    templates: Path | None = None,
) -> str:
    """rows: one dict per listed person (display values, `modifiable_i` flags, `section`)."""
    shown = [c for c in columns if c.name not in HTML_HIDDEN]
    out_rows = []
    seen_reserve = False
    for record in rows:
        first_reserve = record["section"] == "reserve" and not seen_reserve
        seen_reserve = seen_reserve or first_reserve
        out_rows.append(
            {
                "section": record["section"],
                "first_reserve": first_reserve,
                "cells": [_cell(c, record) for c in shown],
            }
        )
    env = _environment(templates or project_root() / TEMPLATES_DIR)
    return env.get_template(TEMPLATE).render(
        columns=shown,
        rows=out_rows,
        n_main=sum(r["section"] == "main" for r in rows),
        n_reserve=sum(r["section"] == "reserve" for r in rows),
        **context,
    )


def _cell(column: ListColumn, record: dict[str, object]) -> dict[str, object]:
    value = record.get(column.name)
    flag = column.name.replace("reason", "modifiable")
    modifiable = column.name.startswith("reason") and bool(value) and bool(record.get(flag))
    return {"text": _text(column, value), "css": _css(column), "modifiable": modifiable}


def _text(column: ListColumn, value: object) -> str:
    if value is None:
        return ""
    if column.kind == "percent":
        return f"{value:.1%}"
    if column.kind == "points":
        return f"{value:+.1f}"
    if column.kind == "date" and isinstance(value, date):
        return value.strftime("%a %d %b %Y")
    return str(value)


def _css(column: ListColumn) -> str:
    if column.kind in ("percent", "points", "int"):
        return "num"
    return "nowrap" if column.kind == "date" or column.name in ("nhs_number", "phone") else ""
