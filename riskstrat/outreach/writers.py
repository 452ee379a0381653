"""Per-practice files: `<run>/practices/<code>/<pathway>.csv|.xlsx|.html` and `feedback.csv`.

Identifiers come from `contacts_reader(practice_code, patient_ids)`, called once per practice
with that practice's listed patients only; rows it returns for anyone else stop the write. Every
practice gets a file for every pathway run, even an empty one, so "nobody this week" is visible.
The display values are prepared once for all practices (vectorised); each file is then written
from plain Python rows, which keeps a 1M-patient run's few hundred files quick.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from riskstrat.logs import log_event, timed
from riskstrat.outreach.columns import (
    COLUMNS,
    FEEDBACK_COLUMNS,
    MODIFIABLE_MARK,
    ListColumn,
    columns_for,
)
from riskstrat.outreach.config import Pathway
from riskstrat.outreach.html import render_html
from riskstrat.outreach.safe import neutralise_text
from riskstrat.outreach.xlsx import write_xlsx

ContactsReader = Callable[[str, Sequence[str]], pd.DataFrame]
PRACTICES_DIR = "practices"
FEEDBACK_FILE = "feedback.csv"
FOREIGN_CONTACTS = (
    "contacts reader returned {count} rows for patients not on practice {practice}'s list"
)
UNKNOWN_PRACTICES = "lists hold practice codes not in the practices table: {codes}"
IDENTIFIER_COLUMNS = ("nhs_number", "name", "phone")


def write_practice_files(
    lists: pd.DataFrame,
    *,
    run_dir: Path,
    contacts_reader: ContactsReader,
    pathways: dict[str, Pathway],
    practices: pd.DataFrame,
    as_of: date,
    model_labels: dict[str, str] | None = None,
) -> list[Path]:
    """Write every practice's files for `pathways`; returns the paths written.

    lists: build_lists output joined with explain output (reason_i, modifiable_i, actions).
    practices: practice_code, practice_name (every practice gets files, listed or not).
    """
    unknown = sorted(set(lists["practice_code"]) - set(practices["practice_code"]))
    if unknown:
        raise ValueError(UNKNOWN_PRACTICES.format(codes=unknown[:5]))
    written: list[Path] = []
    with timed("outreach.write", practices=len(practices), rows=len(lists)):
        display = display_frame(lists, order=tuple(pathways))
        by_practice = dict(tuple(display.groupby("practice_code", sort=False)))
        for practice in practices[["practice_code", "practice_name"]].itertuples(index=False):
            code = practice.practice_code
            own = by_practice.get(code, display.iloc[0:0])
            folder = Path(run_dir) / PRACTICES_DIR / code
            folder.mkdir(parents=True, exist_ok=True)
            records = _records(_with_contacts(own, code, contacts_reader))
            for name, pathway in pathways.items():
                context = {
                    "title": pathway.title,
                    "purpose": pathway.purpose,
                    "outcome_text": pathway.risk_means,
                    "practice_name": practice.practice_name,
                    "practice_code": code,
                    "listed_on": as_of.strftime("%A %d %B %Y"),
                    "model": (model_labels or {}).get(pathway.task, pathway.task),
                }
                rows = [r for r in records if r["pathway"] == name]
                written += _write_pathway(rows, folder, name=name, context=context)
            written.append(_write_feedback(records, folder, pathways=tuple(pathways)))
    log_event("outreach.written", files=len(written), practices=len(practices))
    return written


def display_frame(lists: pd.DataFrame, *, order: tuple[str, ...]) -> pd.DataFrame:
    """Display values for every listed row: dates as dates, feedback columns blank, rows in
    pathway order then list order."""
    out = lists.copy()
    for i in (1, 2, 3):
        for column in (f"reason_{i}", f"modifiable_{i}"):
            if column not in out:
                out[column] = None
    if "actions" not in out:
        out["actions"] = None
    out["discharge_date"] = out["index_date"].where(out["task"].str.startswith("readmission"))
    out["contacted_on"] = pd.NaT
    out["outcome"] = None
    out["pathway_order"] = out["pathway"].map({name: i for i, name in enumerate(order)})
    out = out.sort_values(["practice_code", "pathway_order", "rank"], kind="mergesort")
    for c in COLUMNS:
        if c.kind == "date" and c.name in out:
            out[c.name] = pd.to_datetime(out[c.name]).dt.date
    return out


def _with_contacts(own: pd.DataFrame, practice: str, reader: ContactsReader) -> pd.DataFrame:
    ids = own["patient_id"].drop_duplicates().tolist()
    if not ids:
        return own.assign(**{c: None for c in IDENTIFIER_COLUMNS})
    contacts = reader(practice, ids)
    foreign = ~contacts["patient_id"].isin(ids)
    if foreign.any():
        raise ValueError(FOREIGN_CONTACTS.format(count=int(foreign.sum()), practice=practice))
    contacts = contacts.drop_duplicates("patient_id")
    name = contacts["given_name"].fillna("") + " " + contacts["family_name"].fillna("")
    ident = pd.DataFrame(
        {
            "patient_id": contacts["patient_id"],
            "nhs_number": contacts["nhs_number"],
            "name": name.str.strip(),
            "phone": contacts["phone"],
        }
    )
    return own.merge(ident, on="patient_id", how="left", validate="many_to_one")


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts of plain Python values (missing = None)."""
    names = [c.name for c in COLUMNS] + [f"modifiable_{i}" for i in (1, 2, 3)]
    names = [n for n in names if n in frame]
    return frame[names].astype(object).where(frame[names].notna(), None).to_dict("records")


def _write_pathway(
    rows: list[dict[str, object]], folder: Path, *, name: str, context: dict[str, object]
) -> list[Path]:
    columns = columns_for(name)
    names = [c.name for c in columns]
    table = [[_flat_value(r, n) for n in names] for r in rows]
    csv_path, xlsx_path, html_path = (folder / f"{name}.{ext}" for ext in ("csv", "xlsx", "html"))
    _write_csv(csv_path, names, table, columns)
    write_xlsx(table, columns, xlsx_path)
    html_path.write_text(render_html(rows, columns, context=context), encoding="utf-8")
    return [csv_path, xlsx_path, html_path]


def _flat_value(record: dict[str, object], name: str) -> object:
    """A cell of the flat files: a modifiable reason carries its mark in the text (the HTML
    shows a badge instead)."""
    value = record.get(name)
    if value and name.startswith("reason") and record.get(name.replace("reason", "modifiable")):
        return f"{value}{MODIFIABLE_MARK}"
    return value


def _csv_value(value: object, column: ListColumn) -> object:
    if value is None:
        return ""
    if column.kind in ("percent", "points") and isinstance(value, float):
        return f"{value:.4f}"
    return neutralise_text(value)


def _write_csv(
    path: Path, names: list[str], table: list[list[object]], columns: Sequence[ListColumn]
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in table:
            writer.writerow([_csv_value(v, c) for v, c in zip(row, columns, strict=True)])


def _write_feedback(
    records: list[dict[str, object]], folder: Path, *, pathways: tuple[str, ...]
) -> Path:
    """feedback.csv: one row per listed person for the practice to fill in. Rows of pathways not
    written this time (another cadence's run of the same date) are kept."""
    path = folder / FEEDBACK_FILE
    kept: list[list[str]] = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            kept = [row for row in reader if row and row[1] not in pathways]
    columns = [c for c in COLUMNS if c.name in FEEDBACK_COLUMNS]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FEEDBACK_COLUMNS)
        writer.writerows(kept)
        for r in records:
            writer.writerow([_csv_value(r.get(c.name), c) for c in columns])
    return path
