"""Synthea medication courses (START..STOP) -> community prescription issues.

Synthea records a course, a GP record records issues; one issue per interval (28 days) over the
course is the usual repeat-prescribing rhythm. History is capped to keep volumes realistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.adapters.synthea.mappings import AdapterRules, BnfMap
from riskstrat.adapters.synthea.report import TableCounts, drop_repeats, in_window

HOSPITAL_ONLY = "course given only during an inpatient stay (hospital-administered)"
NO_ISSUE = "no issue due before the extract date or the date of death"
BEFORE_HISTORY = "issues before the prescribing history window (history_years)"


def issue_offsets(n_issues: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, k) pairs: row i repeated n_issues[i] times with k = first[i], first[i] + 1, ..."""
    rows = np.repeat(np.arange(len(n_issues)), n_issues)
    starts = np.repeat(np.cumsum(n_issues) - n_issues, n_issues)
    return rows, first[rows] + np.arange(len(rows)) - starts


def build_prescriptions(
    medications: pd.DataFrame,
    encounters: pd.DataFrame,
    *,
    people: pd.DataFrame,
    bnf: BnfMap,
    rules: AdapterRules,
    extract_date: pd.Timestamp,
) -> tuple[pd.DataFrame, TableCounts]:
    """One issue every `issue_interval_days` from a course's start while it runs.

    A course runs until the day before STOP (a same-day course has one issue), or, when open,
    until the extract date; never past the date of death. Courses begun in hospital are issued
    in the community from discharge.
    """
    counts = TableCounts()
    policy = rules.prescriptions
    rows = medications.rename(columns={"PATIENT": "patient_id"})
    rows, counts.dropped = in_window(rows, on="START", people=people, extract_date=extract_date)
    start = rows["START"].dt.normalize()
    stop = rows["STOP"].dt.normalize()
    hospital = encounters[encounters["ENCOUNTERCLASS"].isin(policy.hospital_classes)]
    discharged = rows["ENCOUNTER"].map(hospital.set_index("Id")["STOP"]).dt.normalize()
    only_inside = discharged.notna() & stop.notna() & (stop <= discharged)
    counts.dropped[HOSPITAL_ONLY] += int(only_inside.sum())
    start = start.where(~(discharged > start), discharged)

    day = pd.Timedelta(days=1)
    runs_to = (stop - day).where(stop > start, start).where(stop.notna(), extract_date)
    death = rows["patient_id"].map(people.set_index("patient_id")["date_of_death"])
    last = runs_to.clip(upper=extract_date)
    last = last.where(~(death < last), death)
    interval = policy.issue_interval_days
    span = (last - start).dt.days.to_numpy()
    n_issues = np.where(only_inside.to_numpy() | (span < 0), 0, span // interval + 1)
    counts.dropped[NO_ISSUE] += int(((span < 0) & ~only_inside.to_numpy()).sum())

    first = np.zeros(len(rows), dtype=np.int64)
    if policy.history_years is not None:
        window_start = extract_date - pd.DateOffset(years=policy.history_years)
        before = np.ceil((window_start - start).dt.days.to_numpy() / interval)
        first = np.clip(before, 0, None).astype(np.int64)
        skipped = np.minimum(first, n_issues)
        counts.dropped[BEFORE_HISTORY] += int(skipped.sum())
        n_issues = n_issues - skipped
    which, k = issue_offsets(n_issues.astype(np.int64), first)
    codes = rows["CODE"].to_numpy()[which]
    out = pd.DataFrame(
        {
            "patient_id": rows["patient_id"].to_numpy()[which],
            "issued_on": start.to_numpy()[which] + (k * interval).astype("timedelta64[D]"),
            "bnf_code": pd.Series(codes).map({c: e.bnf for c, e in bnf.codes.items()}),
            "drug_code": codes,
        }
    )
    out = out.astype({"patient_id": "str", "drug_code": "str", "bnf_code": "str"})
    out = drop_repeats(out.sort_values(["patient_id", "issued_on"], kind="stable"), counts)
    counts.produced = len(out)
    return out, counts
