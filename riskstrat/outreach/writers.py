"""Per-practice files: `<run>/practices/<code>/<pathway>.csv|.xlsx|.html` and `feedback.csv`.

Identifiers are read once per run by `contacts_reader(listed)`, for exactly the listed
(practice_code, patient_id) pairs; a row it returns for any other pair (someone not on that
practice's list) stops the write. Each practice's files are then written from its own rows only.
Every practice gets a file for every pathway run, even an empty one, so "nobody this week" is
visible. Display values are prepared once for all practices (vectorised); each file is then
written from plain Python rows, which keeps a 1M-patient run's 1,600 files quick.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import pandas as pd

from riskstrat.config import project_root
from riskstrat.logs import log_event, timed
from riskstrat.outreach.columns import COLUMNS, CONTACTS_MISSING, PHONE_MISSING
from riskstrat.outreach.config import OutreachConfig, Pathway
from riskstrat.outreach.engine import Selection
from riskstrat.outreach.file_worker import FileWorkers
from riskstrat.outreach.header import empty_text, left_out_counts, list_header, list_places
from riskstrat.outreach.html import TEMPLATES_DIR
from riskstrat.outreach.listfiles import ListFile, PracticeFiles, Record, write_practice
from riskstrat.paths import output_path

#: listed (practice_code, patient_id) pairs -> their contacts and date of birth (+ practice_code),
#: nobody else's.
ContactsReader = Callable[[pd.DataFrame], pd.DataFrame]
PRACTICES_DIR = "practices"
FOREIGN_CONTACTS = (
    "contacts reader returned {count} rows for patients not on practice {practice}'s list"
)
UNKNOWN_PRACTICES = "lists hold practice codes not in the practices table: {codes}"
MISPLACED_ROW = "a row of practice {row} reached practice {practice}'s files"
IDENTIFIER_COLUMNS = ("nhs_number", "name", "phone", "address", "date_of_birth")
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
    selection: Selection | None = None,
    config: OutreachConfig | None = None,
    in_workers: bool = False,
) -> list[Path]:
    """Write every practice's files for `pathways`; returns the paths written.

    lists: select output joined with explain output (reason_i, modifiable_i, actions,
    action_why). practices: practice_code, practice_name (every practice gets files, listed or
    not), weekly_capacity. selection/config: what each list's header says about who was left
    out and what is not repeated (omitted: the header gives the rule only). in_workers: the
    files are written by processes of their own (outreach/file_worker.py; the same bytes), so
    the caller's other threads keep the GIL meanwhile; started before the rows are prepared.
    """
    unknown = sorted(set(lists["practice_code"]) - set(practices["practice_code"]))
    if unknown:
        raise ValueError(UNKNOWN_PRACTICES.format(codes=unknown[:5]))
    with (
        timed("outreach.write", practices=len(practices), rows=len(lists)),
        FileWorkers() if in_workers else nullcontext() as workers,
    ):
        display = _with_contacts(
            display_frame(lists, order=tuple(pathways)), contacts_reader, as_of=as_of
        )
        missing_total = int(display["contacts_missing"].sum()) if len(display) else 0
        jobs = practice_jobs(
            _split(_records(display)), run_dir=run_dir, pathways=pathways, practices=practices,
            as_of=as_of, model_labels=model_labels or {}, selection=selection, config=config,
        )  # fmt: skip
        if workers is not None:
            written = workers.write(jobs, templates=project_root() / TEMPLATES_DIR)
        else:
            written = [path for job in jobs for path in write_practice(job)]
    log_event(
        "outreach.written", files=len(written), practices=len(practices),
        contacts_missing=missing_total,
    )  # fmt: skip
    return written


def practice_jobs(
    by_practice: dict[str, dict[str, list[Record]]],
    *,
    run_dir: Path,
    pathways: dict[str, Pathway],
    practices: pd.DataFrame,
    as_of: date,
    model_labels: dict[str, str],
    selection: Selection | None,
    config: OutreachConfig | None,
) -> list[PracticeFiles]:
    """Every practice's files as plain data (rows checked to be the practice's own, headers
    written), its folder made: what outreach/listfiles.py writes."""
    capacity = (
        practices.set_index("practice_code")["weekly_capacity"]
        if ("weekly_capacity" in practices)
        else pd.Series(dtype="int64")
    )
    left_out = left_out_counts(selection) if selection is not None else None
    jobs = []
    for practice in practices[["practice_code", "practice_name"]].itertuples(index=False):
        code = practice.practice_code
        own = by_practice.get(code, {})
        folder = output_path(Path(run_dir), PRACTICES_DIR, code)
        folder.mkdir(parents=True, exist_ok=True)
        lists = []
        for name, pathway in pathways.items():
            rows = _own_rows(own.get(name, []), practice=code)
            header = list_header(
                name=name, pathway=pathway, practice_code=code,
                practice_name=practice.practice_name, as_of=as_of,
                weekly_capacity=int(capacity.get(code, 0) or 0), n_listed=len(rows),
                n_missing_contacts=sum(bool(r.get("contacts_missing")) for r in rows),
                n_missing_phone=sum(bool(r.get("phone_missing")) for r in rows),
                selection=selection, config=config, left_out=left_out,
            )  # fmt: skip
            context = {
                "title": pathway.title,
                "purpose": pathway.purpose,
                "outcome_text": pathway.risk_means,
                "practice_name": practice.practice_name,
                "practice_code": code,
                "pathway": name,
                "listed_on": as_of.strftime("%A %d %B %Y"),
                "listed_short": as_of.strftime("%d/%m/%Y"),
                "as_of": as_of,
                "model": model_labels.get(pathway.task, pathway.task),
                "header": header,
                "empty_text": "" if rows else empty_text(
                    name, selection=selection, practice_code=code, counts=left_out,
                    pathway=pathway,
                    places=list_places(name, pathway, selection=selection, config=config,
                                       practice_code=code, as_of=as_of,
                                       weekly_capacity=int(capacity.get(code, 0) or 0)),
                ),
            }  # fmt: skip
            lists.append(ListFile(name=name, rows=rows, context=context))
        feedback = [r for name in pathways for r in own.get(name, [])]
        jobs.append(PracticeFiles(folder=folder, code=code, lists=tuple(lists),
                                  feedback=feedback, pathways=tuple(pathways)))  # fmt: skip
    return jobs


def display_frame(lists: pd.DataFrame, *, order: tuple[str, ...]) -> pd.DataFrame:
    """Display values for every listed row: dates as dates, feedback columns blank, rows in
    pathway order then list order."""
    out = lists.copy()
    for i in (1, 2, 3):
        for column in (f"reason_{i}", f"modifiable_{i}"):
            if column not in out:
                out[column] = None
    for column in ("actions", "action_why", "group", "this_discharge"):
        if column not in out:
            out[column] = None
    out["discharge_date"] = out["index_date"].where(out["task"].str.startswith("readmission"))
    out["contacted_on"] = pd.NaT
    out["outcome"] = None
    # Notes is the practice's to write in; a name back after 'Could not reach' says so there.
    earlier = out.get("earlier_outcome")
    out["notes"] = None if earlier is None else earlier.astype(object).where(earlier.notna(), None)
    out["pathway_order"] = out["pathway"].map({name: i for i, name in enumerate(order)})
    out = out.sort_values(["practice_code", "pathway_order", "rank"], kind="mergesort")
    for c in COLUMNS:
        if c.kind == "date" and c.name in out:
            out[c.name] = pd.to_datetime(out[c.name]).dt.date
    return out


def _with_contacts(display: pd.DataFrame, reader: ContactsReader, *, as_of: date) -> pd.DataFrame:
    """display + nhs_number, name, phone, address, date_of_birth, age, contacts_missing: one read
    for every listed pair; any row the reader returns for a pair that is not listed (another
    practice's patient) stops the write. A listed person with no usable contacts row (no name or
    no NHS number) stays listed, with CONTACTS_MISSING in the name cell."""
    if display.empty:
        return display.assign(**{c: None for c in IDENTIFIER_COLUMNS}, age=None,
                              contacts_missing=False, phone_missing=False)  # fmt: skip
    pairs = display[PAIR].drop_duplicates()
    contacts = reader(pairs)
    listed = pd.MultiIndex.from_frame(pairs.astype(str))
    foreign = ~pd.MultiIndex.from_frame(contacts[PAIR].astype(str)).isin(listed)
    if foreign.any():
        first = str(contacts.loc[foreign, "practice_code"].iloc[0])
        raise ValueError(FOREIGN_CONTACTS.format(count=int(foreign.sum()), practice=first))
    contacts = contacts.drop_duplicates(PAIR)
    name = (
        contacts["given_name"].fillna("") + " " + contacts["family_name"].fillna("")
    ).str.strip()
    nhs = contacts["nhs_number"].astype("object")
    ident = pd.DataFrame(
        {
            "practice_code": contacts["practice_code"],
            "patient_id": contacts["patient_id"],
            "nhs_number": nhs,
            "name": name.where(name != "", None),
            "phone": contacts["phone"],
            "address": contacts.get("address"),
            "date_of_birth": contacts.get("date_of_birth", pd.NaT),
        }
    )
    out = display.merge(ident, on=PAIR, how="left", validate="many_to_one")
    missing = (
        out["name"].isna()
        | out["nhs_number"].isna()
        | (out["nhs_number"].astype("str").str.strip() == "")
    )
    out["contacts_missing"] = missing.to_numpy(dtype=bool)
    out["name"] = out["name"].astype("object").where(~missing, CONTACTS_MISSING)
    # Contacts but no phone number: said in the cell and counted in the header (a row whose
    # contacts are missing says so in its name cell already).
    no_phone = ~missing & (out["phone"].isna() | (out["phone"].astype("str").str.strip() == ""))
    out["phone_missing"] = no_phone.to_numpy(dtype=bool)
    out["phone"] = out["phone"].astype("object").where(~no_phone, PHONE_MISSING)
    born = pd.to_datetime(out["date_of_birth"])
    out["age"] = _age(born, as_of=as_of)
    out["date_of_birth"] = born.dt.date
    return out


def _age(born: pd.Series, *, as_of: date) -> pd.Series:
    """Completed years at as_of (null when the date of birth is unknown)."""
    had_birthday = (born.dt.month < as_of.month) | (
        (born.dt.month == as_of.month) & (born.dt.day <= as_of.day)
    )
    years = as_of.year - born.dt.year - (~had_birthday).astype("int64")
    return years.astype("Int64")


def _records(frame: pd.DataFrame) -> list[Record]:
    """Rows as dicts of plain Python values (missing = None), practice_code kept."""
    names = (
        ["practice_code", "contacts_missing", "phone_missing"]
        + [c.name for c in COLUMNS]
        + [f"modifiable_{i}" for i in (1, 2, 3)]
    )
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
