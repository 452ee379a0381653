"""Pathway selection: scores + eligibility + feedback + listing history + capacity -> per-practice
lists, and for each list who was left out and why (pure).

`select_lists` walks the pathways in priority order. For each: the pool is the pathway's task
scores for registered, living patients of the right group that meet the pathway's row rule (for
post-discharge with `top_k`: every discharge reviewed). From the pool, in this order, are left
out (each person counted once, under the first reason): a respected data opt-out, an open
hospital spell at the list date, recent practice feedback, an earlier listing (the same
discharge; or a weekly list in the last `relist.weeks` weeks with no material rise and no new
event), and a place on an earlier list this run. The rest meet the selection rule or are
"below the rule"; they are ordered (pathway keys, then patient_id as the deterministic
tie-break) and cut per practice at the pathway's places, then a short reserve; the rest are
"beyond this run's places". See docs/outreach.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.config import ConfigError
from riskstrat.outreach.calendar import add_working_days
from riskstrat.outreach.config import OutreachConfig, Pathway, load_pathways, weekly_places
from riskstrat.outreach.eligibility import closing_outcomes, eligibility
from riskstrat.registry.contract import OUTCOME_LABELS

LIST_COLUMNS = (
    "practice_code", "pathway", "section", "rank", "patient_id", "task", "risk",
    "previous_risk", "rise_points", "index_date", "index_spell_id", "contact_by", "listed_on",
    "group", "earlier_outcome", "followed_up_on",
)  # fmt: skip
SCORE_COLUMNS = ("task", "patient_id", "index_date", "index_spell_id", "risk")
HISTORY_COLUMNS = (
    "as_of", "pathway", "practice_code", "patient_id", "index_spell_id", "risk", "section",
)  # fmt: skip
LEFT_OUT_COLUMNS = ("practice_code", "pathway", "reason", "count")
MISSING_SCORE_COLUMN = "scores frame: missing column {column!r}"
MAIN, RESERVE = "main", "reserve"
#: Extra names after the reserve of a list whose rows explain may still take off (a rise that
#: came only from a planned admission): they are explained with the list and either move up
#: into the places those rows leave or go (beyond this run's places). Never written.
SPARE = "spare"
#: Spare names per list, as a multiple of its places + reserve.
SPARE_FACTOR = 2
#: Left-out reason codes, in the order they are tested (a person counts under the first).
OPTED_OUT, IN_HOSPITAL, LISTED_BEFORE, EARLIER_LIST = (
    "opted_out", "in_hospital", "listed_before", "earlier_list",
)  # fmt: skip
FEEDBACK_PREFIX = "feedback:"  # + outcome code
BELOW_RULE, OVER_CAPACITY = "below_rule", "over_capacity"
#: After explaining: a rise driven only by a planned admission (explain's rise_planned_only).
PLANNED_ONLY = "planned_only"


@dataclass
class Selection:
    """The lists, plus what each list's header says about them."""

    lists: pd.DataFrame
    #: practice_code, pathway, reason, count: who met the pool's rule but is not listed, and why.
    left_out: pd.DataFrame
    #: (practice_code, pathway) -> people (or discharges) reviewed for that list.
    reviewed: dict[tuple[str, str], int] = field(default_factory=dict)
    #: task -> (mean risk of everyone scored this run, how many were scored).
    population: dict[str, tuple[float, int]] = field(default_factory=dict)
    #: task -> date of the earlier scores a rise is measured against (None: no comparison).
    compared_with: dict[str, date | None] = field(default_factory=dict)
    #: Each list row's index label in the `scores` frame it was selected from (aligned with
    #: `lists`): a run whose scores frame is its matrices' rows in order finds each listed
    #: row's features by position, without matching ids against the whole matrix.
    score_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    #: practice_code -> the rows of its returned sheets the latest ingest could not use
    #: (file, row, column, value, rule; the store's feedback_rejects): each of its lists says
    #: so, so a slip is corrected rather than silently lost.
    feedback_rejects: dict[str, list[tuple]] = field(default_factory=dict)
    #: (practice_code, pathway) -> the main-list places this run (what the header says).
    places: dict[tuple[str, str], int] = field(default_factory=dict)
    #: The date of the extract the lists come from (None: not known); the header says what
    #: happened after it is not known to the list.
    extract_date: date | None = None


def build_lists(scores: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    """select_lists(...).lists: one row per listed patient (LIST_COLUMNS)."""
    return select_lists(scores, **kwargs).lists  # type: ignore[arg-type]


def select_lists(
    scores: pd.DataFrame,
    *,
    people: pd.DataFrame,
    outcomes: pd.DataFrame,
    practices: pd.DataFrame,
    pathways: dict[str, Pathway],
    config: OutreachConfig,
    as_of: date,
    previous: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
) -> Selection:
    """Lists (LIST_COLUMNS; a patient is on at most one list per run) and what was left out.

    scores: this run's scores (SCORE_COLUMNS), every task. previous: the earlier scores a rise is
    measured against (task, patient_id, risk), or None. people: eligibility.PEOPLE_COLUMNS (+
    optional in_hospital, last_event). outcomes: outreach_outcomes rows. practices:
    practice_code, weekly_capacity. history: earlier runs' listed rows (HISTORY_COLUMNS), or None.
    """
    for column in SCORE_COLUMNS:
        if column not in scores.columns:
            raise KeyError(MISSING_SCORE_COLUMN.format(column=column))
    # Not filtered to the listable rows here: _base looks ids up among them (a copy of the 1M
    # people rows cost ~1 s at 1M, most of it first writes to fresh memory).
    status = eligibility(people, as_of=as_of, config=config)
    excluded_groups = {g for g, how in config.special_groups.items() if how == "exclude"}
    capacity = practices.set_index("practice_code")["weekly_capacity"]
    # Places are shared among every configured pathway, whichever run today (a weekday run of
    # post_discharge alone must give it the same week as Monday's run of all of them).
    configured = _configured(config, pathways)
    shares = {int(w): weekly_places(configured, int(w)) for w in capacity.fillna(0).unique()}
    places = {
        (str(code), name): p.per_run_capacity(int(w), as_of=as_of, week=shares[int(w)][name])
        for code, w in capacity.fillna(0).items()
        for name, p in pathways.items()
    }
    tasks = dict.fromkeys(p.task for p in pathways.values())
    bases = {
        t: _base(
            scores, status, task=t, previous=previous, config=config,
            pathways=[p for p in pathways.values() if p.task == t],
        )
        for t in tasks
    }  # fmt: skip
    history = _empty_history() if history is None else history
    taken: set[str] = set()
    lists, left_out, score_rows = [], [], []
    reviewed: dict[tuple[str, str], int] = {}
    for name, pathway in pathways.items():
        base = bases[pathway.task]
        if pathway.include_groups:
            group = ~base["group"].isin(excluded_groups)
        elif pathway.group is None:
            group = base["group"].isna()
        else:
            group = base["group"] == pathway.group
        pool = base[group & _row_rules(base, pathway)]  # cheap filters first: they commute
        for code, n in pool.groupby("practice_code").size().items():
            reviewed[(str(code), name)] = int(n)
        reason = _left_out_reasons(
            pool, pathway=pathway, name=name, outcomes=outcomes, history=history,
            pathways=pathways, config=config, as_of=as_of, taken=taken,
        )  # fmt: skip
        cands = pool[reason.isna()]
        # A rank rule (top_k) ranks this run's candidates together with those listed before:
        # a discharge already followed up keeps its place, so a lower one is not promoted.
        ranked = _qualify(pool[reason.isna() | (reason == LISTED_BEFORE)], pathway)
        qualified = cands.loc[cands.index.intersection(ranked.index)]
        reason.loc[cands.index.difference(qualified.index)] = BELOW_RULE
        per_run = pd.Series({code: n for (code, path), n in places.items() if path == name})
        chosen = _cut(qualified, pathway, places=per_run)
        reason.loc[qualified.index.difference(pd.Index(chosen["_row"]))] = OVER_CAPACITY
        score_rows.append(chosen["_row"].to_numpy())
        chosen = chosen.drop(columns="_row")
        chosen = chosen.assign(pathway=name, task=pathway.task, listed_on=pd.Timestamp(as_of))
        taken.update(chosen.loc[chosen["section"] != SPARE, "patient_id"])
        lists.append(chosen)
        # Two columns of the left-out rows, not a copy of the whole pool with its reasons.
        counted = pd.DataFrame({"practice_code": pool["practice_code"], "reason": reason})
        counted = counted[reason.notna()]
        counts = counted.groupby(["practice_code", "reason"]).size().rename("count")
        left_out.append(counts.reset_index().assign(pathway=name))
    out = pd.concat(lists, ignore_index=True) if lists else pd.DataFrame()
    if len(out):
        notes = _earlier_outcomes(
            out["patient_id"], outcomes=outcomes, as_of=as_of, after=config.relist
        )
        out["earlier_outcome"] = _with_earlier_listing(
            out, notes, history=history, outcomes=outcomes, as_of=as_of, config=config,
            known=configured,
        )  # fmt: skip
        out["followed_up_on"] = _discharge_followed_up(
            out, history=history, outcomes=outcomes, as_of=as_of, config=config
        )
    for column in LIST_COLUMNS:
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="float64")
    gone = pd.concat(left_out, ignore_index=True) if left_out else pd.DataFrame()
    gone = gone.reindex(columns=list(LEFT_OUT_COLUMNS))
    return Selection(
        lists=out[list(LIST_COLUMNS)].reset_index(drop=True),
        left_out=gone.reset_index(drop=True),
        reviewed=reviewed,
        score_rows=np.concatenate(score_rows) if score_rows else np.empty(0, dtype=np.int64),
        population=_population(scores),
        places=places,
    )


def _configured(config: OutreachConfig, pathways: dict[str, Pathway]) -> dict[str, Pathway]:
    """Every pathway the configuration holds, in its order, with `pathways` (the ones run now)
    in place of their files' (a caller's own definitions win); just `pathways` when the files
    cannot be read."""
    try:
        found = load_pathways(config)
    except (ConfigError, OSError):
        return dict(pathways)
    return {**found, **pathways} if set(pathways) <= set(found) else dict(pathways)


def run_places(
    name: str, pathway: Pathway, *, config: OutreachConfig, weekly_capacity: int, as_of: date
) -> int:
    """A practice's main-list places for one pathway on as_of, as select_lists gives them
    (for a Selection that does not carry `places`, e.g. one combined from parts)."""
    week = weekly_places(_configured(config, {name: pathway}), int(weekly_capacity))[name]
    return pathway.per_run_capacity(int(weekly_capacity), as_of=as_of, week=week)


def _earlier_outcomes(
    patients: pd.Series, *, outcomes: pd.DataFrame, as_of: date, after: object
) -> pd.Series:
    """Per listed row, a note when the person's latest returned outcome is one that lists them
    again ('Could not reach', relist.discharge_again_after): "Could not reach on the list of
    29/12/2025" (the Notes column), so a nurse sees why a name is back; NA otherwise."""
    again = tuple(getattr(after, "discharge_again_after", ()))
    none = pd.Series(pd.NA, index=patients.index, dtype="object")
    if outcomes.empty or not again:
        return none
    mine = outcomes[outcomes["patient_id"].isin(set(patients))]
    if mine.empty:
        return none
    when = pd.to_datetime(mine["contacted_on"]).fillna(pd.to_datetime(mine["listed_on"]))
    mine = mine.assign(_when=when, _listed=pd.to_datetime(mine["listed_on"]))
    mine = mine[mine["_listed"] < pd.Timestamp(as_of)]
    latest = mine.sort_values(["patient_id", "_when", "_listed"], kind="mergesort")
    latest = latest.drop_duplicates("patient_id", keep="last").set_index("patient_id")
    latest = latest[latest["outcome"].isin(again)]
    if latest.empty:
        return none
    text = [
        f"{OUTCOME_LABELS.get(o, o)} on the list of {d:%d/%m/%Y}"
        for o, d in zip(latest["outcome"], latest["_listed"], strict=True)
    ]
    notes = pd.Series(text, index=latest.index, dtype="object")
    return patients.map(notes).astype("object").where(patients.isin(notes.index), pd.NA)


def _with_earlier_listing(
    rows: pd.DataFrame,
    notes: pd.Series,
    *,
    history: pd.DataFrame,
    outcomes: pd.DataFrame,
    as_of: date,
    config: OutreachConfig,
    known: dict[str, Pathway],
) -> pd.Series:
    """The Notes text of each listed row: the person's latest listing in the last
    `relist.weeks` weeks (any list, main or reserve), what the practice returned for it, and,
    for a weekly main listing, why the name is back ("On the Early intervention list of
    29/12/2025: back, risk up 6 points since"); `notes` (an older 'Could not reach') first.
    Before, only 'Could not reach' said anything: 158 of 161 names back within 4 weeks (a
    nurse's month on the demo) looked new."""
    rule = config.relist
    day = pd.Timestamp(as_of)
    if history.empty:
        return notes
    hist = history.assign(as_of=pd.to_datetime(history["as_of"]))
    hist = hist[(hist["as_of"] < day) & (hist["as_of"] >= day - pd.Timedelta(weeks=rule.weeks))]
    hist = _same_practice(hist, rows)
    if hist.empty:
        return notes
    last = hist.sort_values(["as_of", "pathway"], kind="mergesort")
    last = last.drop_duplicates("patient_id", keep="last").set_index("patient_id")
    returned: dict[tuple[str, str, pd.Timestamp], str] = {}
    mine = outcomes[outcomes["patient_id"].isin(set(last.index))] if len(outcomes) else outcomes
    if not mine.empty:  # the outcomes table only grows: read the listed people's rows only
        for pid, path, on, outcome in zip(
            mine["patient_id"], mine["pathway"], pd.to_datetime(mine["listed_on"]),
            mine["outcome"], strict=True,
        ):  # fmt: skip
            returned[(str(pid), str(path), on)] = OUTCOME_LABELS.get(outcome, str(outcome))
    weekly = {n for n, p in known.items() if p.cadence == "weekly"}
    out = notes.astype("object").copy()
    last_event = rows.get("last_event")
    for i, pid in zip(rows.index, rows["patient_id"], strict=True):
        if pid not in last.index:
            continue
        seen = last.loc[pid]
        path, on = str(seen["pathway"]), seen["as_of"]
        title = known[path].title if path in known else path.replace("_", " ")
        text = f"On the {title} list of {on:%d/%m/%Y}"
        if seen["section"] == RESERVE:
            text += " (reserve)"
        label = returned.get((str(pid), path, on))
        if label is not None:
            text += f": returned '{label}'"
        elif rows.at[i, "pathway"] in weekly and path in weekly and seen["section"] == MAIN:
            rise = (float(rows.at[i, "risk"]) - float(seen["risk"])) * 100
            event = last_event is not None and pd.Timestamp(last_event.at[i]) >= on
            if rise >= rule.rise_points - 1e-9:
                text += f": back, risk up {rise:.0f} points since"
            elif event:
                text += ": back, new emergency admission, discharge or A&E visit since"
        older = out.at[i]
        out.at[i] = (
            text
            if pd.isna(older) or on.strftime("%d/%m/%Y") in str(older)
            else (f"{older}; {text}")
        )
    return out


def _discharge_followed_up(
    rows: pd.DataFrame,
    *,
    history: pd.DataFrame,
    outcomes: pd.DataFrame,
    as_of: date,
    config: OutreachConfig,
) -> pd.Series:
    """Per listed row not itself indexed at a discharge, the date of the person's latest
    listing on a discharge list's main section (post-discharge, whose first action is the
    follow-up call) in `history`; NaT when there is none or the practice returned an outcome
    of `relist.discharge_again_after` ('Could not reach') for it or a later listing (the call
    did not happen). explain_lists gives a discharge listed before that date no second
    follow-up call (outreach/actions.yaml `once_per_discharge`): in a nurse's month on the
    demo world 79 of the 238 weekly rows suggesting "Follow-up call after hospital discharge"
    were about a discharge a post-discharge list had already asked for.

    No look-back of its own: how long a discharge calls for a follow-up is the action's
    `recent.within_days` (30), one fact, and the history read back covers it
    (store_io.load_history). Before, listings older than `relist.weeks` (4 weeks, 28 days)
    were not looked at, so a discharge 29-30 days before a weekly run, listed 28-29 days
    before it (a weekly run the day after a bank holiday), was asked for a second call."""
    none = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns]")
    if history.empty or rows.empty:
        return none
    day = pd.Timestamp(as_of)
    hist = history.assign(as_of=pd.to_datetime(history["as_of"]))
    hist = hist[(hist["as_of"] < day) & (hist["section"] == MAIN) & hist["index_spell_id"].notna()]
    hist = _same_practice(hist, rows)
    if hist.empty:
        return none
    latest = hist.groupby("patient_id")["as_of"].max()
    found = pd.DataFrame(
        {
            "patient_id": rows["patient_id"].to_numpy(),
            "listed_at": rows["patient_id"].map(latest).to_numpy(),
        }
    )
    found["listed_at"] = pd.to_datetime(found["listed_at"])
    again = _returned_again(found, outcomes=outcomes, after=config.relist.discharge_again_after)
    keep = rows["index_spell_id"].isna().to_numpy() & ~again
    at = found["listed_at"].where(keep).astype("datetime64[ns]")
    return pd.Series(at.to_numpy(), index=rows.index)


def _population(scores: pd.DataFrame) -> dict[str, tuple[float, int]]:
    """task -> (mean risk, rows) of the scores: each task's risks in row order (the same mean,
    to the last bit, as a groupby's group; iterating a groupby copied every column)."""
    tasks = scores["task"].dropna().unique()
    out = {}
    for task in sorted(str(t) for t in tasks):
        risk = scores["risk"][(scores["task"] == task).to_numpy()]
        out[task] = (float(risk.mean()), len(risk))
    return out


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in HISTORY_COLUMNS})


def _left_out_reasons(
    pool: pd.DataFrame,
    *,
    pathway: Pathway,
    name: str,
    outcomes: pd.DataFrame,
    history: pd.DataFrame,
    pathways: dict[str, Pathway],
    config: OutreachConfig,
    as_of: date,
    taken: set[str],
) -> pd.Series:
    """A left-out reason code per pool row (NA = still a candidate); the first reason wins."""
    reason = pd.Series(pd.NA, index=pool.index, dtype="object")

    def mark(hit: pd.Series | np.ndarray, code: str) -> None:
        reason[np.asarray(hit, dtype=bool) & reason.isna().to_numpy()] = code

    mark(pool["opted_out"], OPTED_OUT)
    mark(pool["in_hospital"], IN_HOSPITAL)
    weeks = config.feedback_exclusions.weeks_for(pathway)
    closed = closing_outcomes(_still_true(outcomes, pool), as_of=as_of, weeks=weeks)
    by_outcome = pool["patient_id"].map(closed)
    for outcome in closed.unique():
        mark(by_outcome == outcome, FEEDBACK_PREFIX + str(outcome))
    mark(
        _listed_before(pool, pathway=pathway, name=name, history=history, outcomes=outcomes,
                       pathways=pathways, config=config, as_of=as_of),
        LISTED_BEFORE,
    )  # fmt: skip
    mark(pool["patient_id"].isin(taken), EARLIER_LIST)
    return reason


#: Returned outcomes that hold only at the practice that returned them: 'Moved away' left
#: the person off every list for 26 weeks, so the practice they moved to never had them.
PRACTICE_BOUND = ("moved_away",)


def _still_true(outcomes: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """`outcomes` without those of PRACTICE_BOUND returned by a practice the person is no
    longer registered at (`listed_practice`, the listing's practice; kept when unknown)."""
    if outcomes.empty or "listed_practice" not in outcomes:
        return outcomes
    bound = outcomes["outcome"].isin(PRACTICE_BOUND) & outcomes["listed_practice"].notna()
    if not bound.any():
        return outcomes
    now = pool.drop_duplicates("patient_id").set_index("patient_id")["practice_code"]
    current = outcomes["patient_id"].map(now)
    moved = (
        bound & current.notna() & (current.astype(str) != outcomes["listed_practice"].astype(str))
    )
    return outcomes[~moved]


def _listed_before(
    pool: pd.DataFrame,
    *,
    pathway: Pathway,
    name: str,
    history: pd.DataFrame,
    outcomes: pd.DataFrame,
    pathways: dict[str, Pathway],
    config: OutreachConfig,
    as_of: date,
) -> np.ndarray:
    """True where an earlier run listed this person and nothing since justifies listing again.

    Discharge lists (weekdays): the same discharge (patient and index spell) on any earlier
    day's list of this pathway, main or reserve. Weekly lists: any weekly main list (reserve
    names are often never called) in the last `relist.weeks` weeks,
    unless the risk rose by `relist.rise_points` or a new event happened since that listing.
    Either way, an outcome in `relist.discharge_again_after` (unreachable) returned for the
    listing lets the person be listed again.
    """
    rule = config.relist
    day = pd.Timestamp(as_of)
    if history.empty or pool.empty:
        return np.zeros(len(pool), dtype=bool)
    hist = history.assign(as_of=pd.to_datetime(history["as_of"]))
    hist = hist[hist["as_of"] < day]
    if pathway.cadence == "weekdays":
        hist = hist[hist["pathway"] == name]  # main or reserve: a discharge is on one list only
        keys = ["practice_code", "patient_id", "index_spell_id"]
    else:
        weekly = [n for n, p in pathways.items() if p.cadence == "weekly"] or [name]
        since = day - pd.Timedelta(weeks=rule.weeks)
        # Only the main list counts: reserve names are often never called, so they may return.
        hist = hist[
            hist["pathway"].isin(weekly) & (hist["as_of"] >= since) & (hist["section"] == MAIN)
        ]
        keys = ["practice_code", "patient_id"]
    if hist.empty:
        return np.zeros(len(pool), dtype=bool)
    last = hist.sort_values("as_of", kind="mergesort").drop_duplicates(keys, keep="last")
    last = last[[*keys, "as_of", "risk"]].rename(columns={"as_of": "listed_at", "risk": "risk_at"})
    probe = pool[keys].astype("object").reset_index(drop=True)
    found = probe.merge(last.astype({k: "object" for k in keys}), on=keys, how="left")
    hit = found["listed_at"].notna().to_numpy()
    again = _returned_again(found, outcomes=outcomes, after=rule.discharge_again_after)
    if pathway.cadence != "weekdays":
        rose = pool["risk"].to_numpy() >= found["risk_at"].to_numpy(dtype="float64") + (
            rule.rise_points / 100 - 1e-12
        )
        event = pd.to_datetime(pool["last_event"]).to_numpy() >= found["listed_at"].to_numpy()
        # Not in place: _returned_again's array may be a read-only view (pandas copy-on-write).
        again = again | rose | (event if rule.new_event else False)
    return hit & ~again


def _same_practice(hist: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The history rows of `rows`' people at the practice that lists them now. A listing at
    another practice is not this practice's: a person who registered elsewhere since was left
    off the new practice's weekly list for 4 weeks ("on a list in the last 4 weeks"), and its
    Notes told the new practice of a list it never had."""
    if hist.empty:
        return hist
    now = pd.MultiIndex.from_arrays(
        [rows["patient_id"].astype(str), rows["practice_code"].astype(str)]
    )
    then = pd.MultiIndex.from_arrays(
        [hist["patient_id"].astype(str), hist["practice_code"].astype(str)]
    )
    return hist[then.isin(now)]


def _returned_again(
    found: pd.DataFrame, *, outcomes: pd.DataFrame, after: tuple[str, ...]
) -> np.ndarray:
    """True where the practice returned one of `after` for a listing on or after listed_at."""
    if outcomes.empty or not after:
        return np.zeros(len(found), dtype=bool)
    rows = outcomes[outcomes["outcome"].isin(after)]
    if rows.empty:
        return np.zeros(len(found), dtype=bool)
    latest = rows.assign(at=pd.to_datetime(rows["listed_on"])).groupby("patient_id")["at"].max()
    when = found["patient_id"].map(latest)
    return (pd.to_datetime(when) >= found["listed_at"]).fillna(False).to_numpy(dtype=bool)


def _lookup(keys: pd.Series, ids: pd.Series, *, among: np.ndarray | None = None) -> np.ndarray:
    """Position of each of `ids` in `keys` (the first, when a key repeats), -1 when absent (or
    missing). among: a mask of the keys to look in (default all). A hash join in an in-memory
    DuckDB over the columns' Arrow buffers: no Python string per row, and several times
    quicker than factorising 1M Arrow strings in pandas."""
    where = np.full(len(ids), -1, dtype=np.int64)
    if not len(ids) or not len(keys):
        return where
    keep = np.ones(len(keys), dtype=bool) if among is None else np.asarray(among, dtype=bool)
    left = pa.table(
        {"key": _arrow_text(keys), "pos": np.arange(len(keys), dtype=np.int64), "keep": keep}
    )
    right = pa.table({"id": _arrow_text(ids), "row": np.arange(len(ids), dtype=np.int64)})
    with _memory_db().cursor() as con:  # its own connection: the views are its alone
        con.register("lookup_keys", left)
        con.register("lookup_ids", right)
        found = con.sql(
            "SELECT row, pos FROM lookup_ids JOIN lookup_keys ON id = key WHERE keep"
        ).to_arrow_table()
    row, pos = found["row"].to_numpy(), found["pos"].to_numpy()
    if np.bincount(row, minlength=1).max() > 1:
        # A repeated key: the first position per id (no GROUP BY in the join: it costs more
        # than this sort, and keys are unique in the usual case).
        order = np.lexsort((pos, row))
        row, first = np.unique(row[order], return_index=True)
        pos = pos[order][first]
    where[row] = pos
    return where


#: One in-memory DuckDB per process for the lookups (starting and stopping a database costs
#: ~0.1 s a call); keyed by process id, so a forked child never uses its parent's threads.
_MEMORY_DBS: dict[int, duckdb.DuckDBPyConnection] = {}


def _memory_db() -> duckdb.DuckDBPyConnection:
    pid = os.getpid()
    if pid not in _MEMORY_DBS:
        _MEMORY_DBS[pid] = duckdb.connect()
    return _MEMORY_DBS[pid]


def _arrow_text(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column's values as Arrow strings (zero-copy for pandas' Arrow-backed `str`)."""
    return pa.array(column.array) if column.dtype == "str" else pa.array(column.astype("str").array)


def _base(
    scores: pd.DataFrame,
    status: pd.DataFrame,
    *,
    task: str,
    previous: pd.DataFrame | None,
    config: OutreachConfig,
    pathways: list[Pathway] | None = None,
) -> pd.DataFrame:
    """A task's scores for registered, living patients, with practice, group, opt-out, open
    spell, last event, previous risk and contact-by.

    pathways: the task's pathways; only rows that meet one of their row rules (_row_rules) are
    kept, since no other row can be in a pool (None: every row)."""
    own = scores.loc[scores["task"] == task, list(SCORE_COLUMNS[1:])]
    listable = status["listable"].to_numpy(dtype=bool)
    pos = _lookup(status["patient_id"], own["patient_id"], among=listable)
    if np.bincount(pos[pos >= 0]).max(initial=0) > 1:
        # One row per patient: the latest index (a second discharge supersedes the first).
        # (Repeats among people who are not listable go with them: no need to look for those.)
        own = own.sort_values(["patient_id", "index_date", "risk"], ascending=[True, False, False])
        own = own.drop_duplicates("patient_id")
        pos = _lookup(status["patient_id"], own["patient_id"], among=listable)
    own = own[pos >= 0]  # a new frame (copy-on-write): no .copy() of 880k rows needed
    pos = pos[pos >= 0]
    rises = pd.DataFrame({"risk": own["risk"], "previous_risk": np.nan}, index=own.index)
    if previous is not None:
        mine = (previous["task"] == task).to_numpy(dtype=bool)
        prev = previous if mine.all() else previous[mine]  # one task's scores: no 880k copy
        at = _lookup(prev["patient_id"], own["patient_id"])  # a repeated id: its first row
        risk = np.full(len(own), np.nan)
        risk[at >= 0] = prev["risk"].to_numpy(dtype="float64")[at[at >= 0]]
        rises["previous_risk"] = risk
    rises["rise_points"] = (rises["risk"] - rises["previous_risk"]) * 100
    if pathways is not None:
        # Before the people's columns are taken: at 1M most crisis rows meet no rule.
        keep = np.zeros(len(own), dtype=bool)
        for pathway in pathways:
            keep |= _row_rules(rises, pathway).to_numpy(dtype=bool)
        own, pos, rises = own[keep], pos[keep], rises[keep]
    for column in ("practice_code", "group", "opted_out", "in_hospital", "last_event"):
        own[column] = status[column].array.take(pos)
    own["previous_risk"] = rises["previous_risk"]
    own["rise_points"] = rises["rise_points"]
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


def _cut(cands: pd.DataFrame, pathway: Pathway, *, places: pd.Series) -> pd.DataFrame:
    """Main list (the practice's places this run, `places` by practice_code; plus, with
    min_risk_beyond_capacity, everyone at or above min_risk), then the reserve. `_row` keeps
    each row's index in `cands`."""
    ordered = _ordered(cands, pathway.order_by).rename_axis("_row").reset_index()
    places = ordered["practice_code"].map(places).fillna(0).astype(int)
    must = pd.Series(False, index=ordered.index)
    if pathway.min_risk_beyond_capacity and pathway.select.min_risk is not None:
        must = ordered["risk"] >= pathway.select.min_risk
    n_must = must.groupby(ordered["practice_code"]).transform("sum")
    free = (places - n_must).clip(lower=0)
    other_rank = (~must).groupby(ordered["practice_code"]).cumsum()
    main = must | (other_rank <= free)
    # A reserve backs up main rows: a list without any (no places this run and nobody listed
    # beyond them) has none either. Before, a practice with no places on a list (weekly
    # capacity 0; 0 rising-risk places at 1-4 a week; a weekday's 0 post-discharge places)
    # got a list of reserve names only, under "Reserve (if someone above cannot be reached)"
    # with nobody above.
    has_main = main.groupby(ordered["practice_code"]).transform("any")
    reserve = ~main & (other_rank <= free + pathway.reserve) & has_main
    spare = pd.Series(False, index=ordered.index)
    if pathway.select.min_rise_points is not None:  # explain may take planned-only rises off
        extra = SPARE_FACTOR * (free + pathway.reserve)
        spare = ~main & ~reserve & (other_rank <= free + pathway.reserve + extra) & has_main
    section = np.where(main, MAIN, np.where(reserve, RESERVE, np.where(spare, SPARE, "")))
    ordered = ordered.assign(section=section, _main=~main)
    ordered = ordered[ordered["section"] != ""]
    ordered = ordered.sort_values(["practice_code", "_main"], kind="mergesort")
    rank = ordered.groupby("practice_code", sort=False).cumcount() + 1
    return ordered.assign(rank=rank.to_numpy()).drop(columns="_main").reset_index(drop=True)


def drop_planned_rises(lists: pd.DataFrame, *, selection: Selection | None) -> pd.DataFrame:
    """Explained lists without the rows whose rise came only from a planned admission
    (`rise_planned_only`: the person is under specialist care and the discharge is followed up
    on the post-discharge list), and without spare names. Reserve, then spare, names move up
    into the places they leave, so the list keeps its main places and reserve while people meet
    its rule (before, 7 of 20 rising-risk lists of a nurse's month left 9 places empty with
    8-31 people beyond the run's places); spares not needed are counted beyond this run's
    places. Each practice list's header counts the rows taken off (selection.left_out, reason
    PLANNED_ONLY)."""
    if lists.empty:
        return lists
    if "rise_planned_only" in lists:
        hit = lists["rise_planned_only"].fillna(False).astype(bool).to_numpy()
    else:
        hit = np.zeros(len(lists), dtype=bool)
    spare = (lists["section"] == SPARE).to_numpy()
    if not hit.any() and not spare.any():
        return lists
    pair = ["practice_code", "pathway"]
    extra = []
    if hit.any():
        counts = lists[hit].groupby(pair).size().rename("count").reset_index()
        extra.append(counts.assign(reason=PLANNED_ONLY)[list(LEFT_OUT_COLUMNS)])
    kept = lists[~hit]
    # A spare already on another list of this run (a later pathway) cannot move up.
    others = kept.loc[kept["section"] != SPARE, "patient_id"]
    kept = kept[(kept["section"] != SPARE) | ~kept["patient_id"].isin(set(others))]
    # Only the lists that lost someone or hold spares are re-ranked: as many main places and
    # reserve names as select gave them.
    touched = pd.MultiIndex.from_frame(kept[pair]).isin(
        pd.MultiIndex.from_frame(lists.loc[hit | spare, pair])
    )
    moved = kept[touched].sort_values("rank", kind="mergesort")
    if not moved.empty:
        by = [lists[c] for c in pair]
        mains = (lists["section"] == MAIN).groupby(by).sum()
        reserves = (lists["section"] == RESERVE).groupby(by).sum()
        at = pd.MultiIndex.from_frame(moved[pair])
        order = moved.groupby(pair, sort=False).cumcount().to_numpy() + 1
        n_main = mains.reindex(at).to_numpy()
        n_kept = n_main + reserves.reindex(at).to_numpy()
        kept = kept.copy()
        kept.loc[moved.index, "rank"] = order
        kept.loc[moved.index, "section"] = np.where(
            order <= n_main, MAIN, np.where(order <= n_kept, RESERVE, SPARE)
        )
    unused = kept["section"] == SPARE
    if unused.any():
        counts = kept[unused].groupby(pair).size().rename("count").reset_index()
        extra.append(counts.assign(reason=OVER_CAPACITY)[list(LEFT_OUT_COLUMNS)])
    if selection is not None and extra:
        selection.left_out = _add_left_out(selection.left_out, pd.concat(extra))
    return kept[~unused]


def _add_left_out(left_out: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """left_out + extra, one row per (practice, pathway, reason): counts of a reason already
    there (beyond this run's places) are added to."""
    both = pd.concat([left_out, extra], ignore_index=True)
    keys = ["practice_code", "pathway", "reason"]
    summed = both.groupby(keys, sort=False, dropna=False)["count"].sum().reset_index()
    return summed[list(LEFT_OUT_COLUMNS)]
