"""Pathway selection: scores + eligibility + feedback + capacity -> per-practice lists (pure).

`build_lists` walks the pathways in priority order. For each: candidates are the pathway's task
scores for listable patients of the right group (generic pathways never include a special group),
minus anyone closed by recent feedback and anyone already on an earlier list this run; those who
meet the selection rule are ordered (pathway keys, then patient_id as the deterministic tie-break)
and cut per practice at the pathway's share of weekly_capacity, followed by a short reserve.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskstrat.outreach.calendar import add_working_days
from riskstrat.outreach.config import OutreachConfig, Pathway
from riskstrat.outreach.eligibility import eligibility, recently_closed

LIST_COLUMNS = (
    "practice_code", "pathway", "section", "rank", "patient_id", "task", "risk",
    "previous_risk", "rise_points", "index_date", "index_spell_id", "contact_by", "listed_on",
)  # fmt: skip
SCORE_COLUMNS = ("task", "patient_id", "index_date", "index_spell_id", "risk")
MISSING_SCORE_COLUMN = "scores frame: missing column {column!r}"
MAIN, RESERVE = "main", "reserve"


def build_lists(
    scores: pd.DataFrame,
    *,
    people: pd.DataFrame,
    outcomes: pd.DataFrame,
    practices: pd.DataFrame,
    pathways: dict[str, Pathway],
    config: OutreachConfig,
    as_of: date,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per listed patient (LIST_COLUMNS); a patient is on at most one list per run.

    scores: this run's scores (SCORE_COLUMNS), every task. previous: the earlier scores a rise is
    measured against (task, patient_id, risk), or None. people: eligibility.PEOPLE_COLUMNS.
    outcomes: outreach_outcomes rows. practices: practice_code, weekly_capacity.
    """
    for column in SCORE_COLUMNS:
        if column not in scores.columns:
            raise KeyError(MISSING_SCORE_COLUMN.format(column=column))
    status = eligibility(people, as_of=as_of, config=config)
    status = status[status["listable"]].drop(columns="listable")
    capacity = practices.set_index("practice_code")["weekly_capacity"]
    tasks = dict.fromkeys(p.task for p in pathways.values())
    bases = {t: _base(scores, status, task=t, previous=previous, config=config) for t in tasks}
    taken: set[str] = set()
    lists = []
    for name, pathway in pathways.items():
        base = bases[pathway.task]
        group = base["group"].isna() if pathway.group is None else base["group"] == pathway.group
        cands = base[group & _row_rules(base, pathway)]  # cheap filters first: they commute
        closed = recently_closed(
            outcomes, as_of=as_of, weeks=pathway.exclusions.recent_outcomes_weeks
        )
        cands = cands[~cands["patient_id"].isin(closed) & ~cands["patient_id"].isin(taken)]
        chosen = _cut(_qualify(cands, pathway), pathway, capacity=capacity, as_of=as_of)
        chosen = chosen.assign(pathway=name, task=pathway.task, listed_on=pd.Timestamp(as_of))
        taken.update(chosen["patient_id"])
        lists.append(chosen)
    out = pd.concat(lists, ignore_index=True) if lists else pd.DataFrame()
    for column in LIST_COLUMNS:
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="float64")
    return out[list(LIST_COLUMNS)].reset_index(drop=True)


def _lookup(keys: pd.Series, ids: pd.Series) -> np.ndarray:
    """Position of each of `ids` in `keys` (unique), -1 when absent. One factorisation of both
    columns and integer indexing: much faster than a merge on 1M Arrow strings."""
    codes, uniques = pd.factorize(pd.concat([keys, ids], ignore_index=True))
    key_codes, id_codes = codes[: len(keys)], codes[len(keys) :]
    where = np.full(len(uniques) + 1, -1, dtype=np.int64)  # code -1 (a missing id) -> -1
    known = key_codes >= 0
    where[key_codes[known]] = np.arange(len(keys))[known]
    return where[id_codes]


def _base(
    scores: pd.DataFrame,
    status: pd.DataFrame,
    *,
    task: str,
    previous: pd.DataFrame | None,
    config: OutreachConfig,
) -> pd.DataFrame:
    """A task's scores for listable patients, with practice, group, previous risk, contact-by."""
    own = scores.loc[scores["task"] == task, list(SCORE_COLUMNS[1:])]
    if own["patient_id"].duplicated().any():
        # One row per patient: the latest index (a second discharge supersedes the first).
        own = own.sort_values(["patient_id", "index_date", "risk"], ascending=[True, False, False])
        own = own.drop_duplicates("patient_id")
    pos = _lookup(status["patient_id"], own["patient_id"])
    own = own[pos >= 0].copy()
    pos = pos[pos >= 0]
    own["practice_code"] = status["practice_code"].array.take(pos)
    own["group"] = status["group"].array.take(pos)
    own["previous_risk"] = np.nan
    if previous is not None:
        prev = previous.loc[previous["task"] == task].drop_duplicates("patient_id")
        at = _lookup(prev["patient_id"], own["patient_id"])
        risk = np.full(len(own), np.nan)
        risk[at >= 0] = prev["risk"].to_numpy(dtype="float64")[at[at >= 0]]
        own["previous_risk"] = risk
    own["rise_points"] = (own["risk"] - own["previous_risk"]) * 100
    if task.startswith("readmission"):
        own["contact_by"] = add_working_days(
            own["index_date"], config.contact_within_working_days, holidays=config.bank_holidays
        )
    else:
        own["contact_by"] = pd.Series(pd.NaT, index=own.index, dtype="datetime64[s]")
    return own


def _row_rules(base: pd.DataFrame, pathway: Pathway) -> pd.Series:
    """The selection rules that look at one row only (all of them unless top_k is used, which
    ranks within the practice and so must see every candidate left after exclusions)."""
    rule = pathway.select
    keep = pd.Series(True, index=base.index)
    if rule.top_k is not None:
        return keep
    if rule.min_risk is not None:
        keep &= base["risk"] >= rule.min_risk
    if rule.min_rise_points is not None:
        keep &= (base["rise_points"] >= rule.min_rise_points).fillna(False)
    return keep


def _ordered(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Sorted by practice, the keys ('-' = descending), then patient_id: fully deterministic."""
    by = ["practice_code", *(k.removeprefix("-") for k in keys), "patient_id"]
    ascending = [True, *(not k.startswith("-") for k in keys), True]
    return frame.sort_values(by, ascending=ascending, na_position="last", kind="mergesort")


def _qualify(cands: pd.DataFrame, pathway: Pathway) -> pd.DataFrame:
    rule = pathway.select
    keep = pd.Series(rule.min_risk is None and rule.top_k is None, index=cands.index)
    if rule.min_risk is not None:
        keep |= cands["risk"] >= rule.min_risk
    if rule.top_k is not None:
        by_risk = _ordered(cands, ("-risk",))
        top = by_risk.groupby("practice_code", sort=False).cumcount() < rule.top_k
        keep |= top.reindex(cands.index)
    if rule.min_rise_points is not None:
        keep &= (cands["rise_points"] >= rule.min_rise_points).fillna(False)
    return cands[keep]


def _cut(
    cands: pd.DataFrame, pathway: Pathway, *, capacity: pd.Series, as_of: date
) -> pd.DataFrame:
    ordered = _ordered(cands, pathway.order_by)
    rank = ordered.groupby("practice_code", sort=False).cumcount() + 1
    per_run = (
        capacity.fillna(0)
        .astype(int)
        .map(lambda weekly: pathway.per_run_capacity(weekly, as_of=as_of))
    )
    main = ordered["practice_code"].map(per_run).fillna(0).astype(int)
    section = np.where(rank <= main, MAIN, np.where(rank <= main + pathway.reserve, RESERVE, ""))
    ordered = ordered.assign(rank=rank.to_numpy(), section=section)
    return ordered[ordered["section"] != ""].reset_index(drop=True)
