"""Per-practice files: `<run>/practices/<code>/<pathway>.csv|.xlsx|.html` and `feedback.csv`.

Identifiers are read once per run by `contacts_reader(listed)`, for exactly the listed
(practice_code, patient_id) pairs; a row it returns for any other pair (someone not on that
practice's list) stops the write. Each practice's files are then written from its own rows only.
Every practice gets a file for every pathway run, even an empty one, so "nobody this week" is
visible. Display values are prepared once for all practices (vectorised); each file is then
written from plain Python rows, which keeps a 1M-patient run's 1,600 files quick.
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
from riskstrat.paths import output_path

#: listed (practice_code, patient_id) pairs -> their contacts (+ practice_code), nobody else's.
ContactsReader = Callable[[pd.DataFrame], pd.DataFrame]
Record = dict[str, object]
PRACTICES_DIR = "practices"
FEEDBACK_FILE = "feedback.csv"
FOREIGN_CONTACTS = (
    "contacts reader returned {count} rows for patients not on practice {practice}'s list"
)
UNKNOWN_PRACTICES = "lists hold practice codes not in the practices table: {codes}"
MISPLACED_ROW = "a row of practice {row} reached practice {practice}'s files"
IDENTIFIER_COLUMNS = ("nhs_number", "name", "phone")
PAIR = ["practice_code", "patient_id"]


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
        display = _with_contacts(display_frame(lists, order=tuple(pathways)), contacts_reader)
        by_practice = _split(_records(display))
        for practice in practices[["practice_code", "practice_name"]].itertuples(index=False):
            code = practice.practice_code
            own = by_practice.get(code, {})
            folder = output_path(Path(run_dir), PRACTICES_DIR, code)
            folder.mkdir(parents=True, exist_ok=True)
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
                rows = _own_rows(own.get(name, []), practice=code)
                written += _write_pathway(rows, folder, name=name, context=context)
            records = [r for name in pathways for r in own.get(name, [])]
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


def _with_contacts(display: pd.DataFrame, reader: ContactsReader) -> pd.DataFrame:
    """display + nhs_number, name, phone: one read for every listed pair; any row the reader
    returns for a pair that is not listed (another practice's patient) stops the write."""
    if display.empty:
        return display.assign(**{c: None for c in IDENTIFIER_COLUMNS})
    pairs = display[PAIR].drop_duplicates()
    contacts = reader(pairs)
    listed = pd.MultiIndex.from_frame(pairs.astype(str))
    foreign = ~pd.MultiIndex.from_frame(contacts[PAIR].astype(str)).isin(listed)
    if foreign.any():
        first = str(contacts.loc[foreign, "practice_code"].iloc[0])
        raise ValueError(FOREIGN_CONTACTS.format(count=int(foreign.sum()), practice=first))
    contacts = contacts.drop_duplicates(PAIR)
    name = contacts["given_name"].fillna("") + " " + contacts["family_name"].fillna("")
    ident = pd.DataFrame(
        {
            "practice_code": contacts["practice_code"],
            "patient_id": contacts["patient_id"],
            "nhs_number": contacts["nhs_number"],
            "name": name.str.strip(),
            "phone": contacts["phone"],
        }
    )
    return display.merge(ident, on=PAIR, how="left", validate="many_to_one")


def _records(frame: pd.DataFrame) -> list[Record]:
    """Rows as dicts of plain Python values (missing = None), practice_code kept."""
    names = ["practice_code"] + [c.name for c in COLUMNS] + [f"modifiable_{i}" for i in (1, 2, 3)]
    names = list(dict.fromkeys(n for n in names if n in frame))
    return frame[names].astype(object).where(frame[names].notna(), None).to_dict("records")


def _split(records: list[Record]) -> dict[str, dict[str, list[Record]]]:
    """practice_code -> pathway -> rows, keeping the display order."""
    out: dict[str, dict[str, list[Record]]] = {}
    for r in records:
        out.setdefault(str(r["practice_code"]), {}).setdefault(str(r["pathway"]), []).append(r)
    return out


def _own_rows(rows: list[Record], *, practice: str) -> list[Record]:
    """The rows about to go into `practice`'s files, checked to be that practice's own."""
    for r in rows:
        if r["practice_code"] != practice:
            raise ValueError(MISPLACED_ROW.format(row=r["practice_code"], practice=practice))
    return rows


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
