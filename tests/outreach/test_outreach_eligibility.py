"""Eligibility that matches what a practice can do: nobody in hospital on a contact list (and no
place used), recent discharges of special groups followed up, no duplicates across days, and
the header's account of who was left out and why."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from outreach_frames import AS_OF, crisis_scores, no_outcomes, people, practices

from riskstrat.outreach.config import load_outreach_config, load_pathways
from riskstrat.outreach.engine import (
    IN_HOSPITAL,
    LISTED_BEFORE,
    OVER_CAPACITY,
    Selection,
    select_lists,
)
from riskstrat.outreach.header import list_header
from riskstrat.outreach.store_io import (
    PEOPLE_SQL,
    load_history,
    load_outcomes,
    load_people,
    record_listed,
)
from riskstrat.registry.contract import TABLES, ddl


@pytest.fixture
def config():
    return load_outreach_config()


@pytest.fixture
def pathways(config):
    return load_pathways(config)


def _select(pop, config, pathways, *, scores=None, capacity=20, as_of=AS_OF, history=None,
            outcomes=None, previous=None) -> Selection:  # fmt: skip
    return select_lists(
        crisis_scores(pop, as_of=as_of) if scores is None else scores,
        people=pop,
        outcomes=no_outcomes() if outcomes is None else outcomes,
        practices=practices(capacity=capacity),
        pathways=pathways,
        config=config,
        as_of=as_of,
        previous=previous,
        history=history,
    )


def _discharges(pop: pd.DataFrame, *, day: str, risk: list[float], spells=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": "readmission_30d",
            "patient_id": pop["patient_id"].iloc[: len(risk)].to_numpy(),
            "index_date": pd.Timestamp(day),
            "index_spell_id": spells or [f"s{i}" for i in range(len(risk))],
            "risk": risk,
        }
    )


def test_in_hospital_never_on_a_contact_list_and_uses_no_place(config, pathways):
    pop = people(300)
    pop["risk"] = np.linspace(0.9, 0.06, 300)
    pop["in_hospital"] = False
    inpatients = [0, 1, 2, 5, 40, 150]  # the very top, and others
    pop.loc[inpatients, "in_hospital"] = True
    pop.loc[[5], "palliative"] = True
    pop.loc[[40], "care_home"] = True
    read = _discharges(pop.iloc[[1, 7, 9]], day="2025-05-30", risk=[0.6, 0.5, 0.4])
    scores = pd.concat([crisis_scores(pop), read], ignore_index=True)
    sel = _select(pop, config, pathways, scores=scores, capacity=20)
    listed = sel.lists
    assert not set(pop.loc[inpatients, "patient_id"]) & set(listed["patient_id"])
    # No place was used by them: every list still fills its places.
    for (_, name), rows in listed[listed["section"] == "main"].groupby(
        ["practice_code", "pathway"]
    ):
        if name == "early_intervention":
            assert len(rows) == pathways[name].per_run_capacity(20, as_of=AS_OF)
    counted = sel.left_out[sel.left_out["reason"] == IN_HOSPITAL]
    by = counted.groupby("pathway")["count"].sum()
    assert by["early_intervention"] == 4  # ids 0, 1, 2, 150 (5 and 40 are special groups)
    assert by["palliative_care"] == 1 and by["care_home"] == 1
    assert by["post_discharge"] == 1  # readmitted: id 1 is in hospital again


def test_open_spell_read_from_the_store():
    """A person admitted before the run date and not yet discharged (or discharged after it) is
    in hospital; discharged before it, or admitted after it, is not."""
    con = duckdb.connect()
    for name in ("patients", "conditions", "spells", "ae_attendances"):
        con.execute(ddl(TABLES[name]))
    pop = people(5)
    patients = pop.drop(columns=["risk", "palliative"]).assign(
        date_of_birth=pd.Timestamp("1940-01-01"), sex="F", ethnicity="White", lsoa_code=None,
        imd_decile=5, lives_alone=None,
    )[list(TABLES["patients"].column_names)]  # fmt: skip
    con.register("p", patients)
    con.execute("INSERT INTO patients SELECT * FROM p")
    day = pd.Timestamp(AS_OF)
    spells = pd.DataFrame(
        {
            "spell_id": ["a", "b", "c", "d", "e"],
            "patient_id": pop["patient_id"],
            "provider_code": None,
            "admission_date": [day - pd.Timedelta(days=d) for d in (200, 3, 10, 0, -2)],
            "discharge_date": [pd.NaT, day + pd.Timedelta(days=1), day - pd.Timedelta(days=1),
                               pd.NaT, pd.NaT],
            "admission_method": "emergency",
            "primary_diagnosis": "I50",
            "discharge_destination": None,
        }
    )[list(TABLES["spells"].column_names)]  # fmt: skip
    con.register("s", spells)
    con.execute("INSERT INTO spells SELECT * FROM s")
    read = load_people(con, as_of=AS_OF)
    # The same frame as the plain query's `.df()` (dates as datetime64[us], text as `str`).
    pd.testing.assert_frame_equal(read, con.execute(PEOPLE_SQL, {"as_of": AS_OF}).df())
    got = read.set_index("patient_id")
    assert got["in_hospital"].tolist() == [True, True, False, True, False]
    assert got.loc["id00002", "last_event"] == day - pd.Timedelta(days=1)  # the discharge
    # A run asks for the last events of the people listed before only: the same frame, with
    # NaT for everyone else (and nobody asked for: no last event at all).
    some = load_people(con, as_of=AS_OF, last_event_of=pd.Series(["id00002", "id00003", "x"]))
    some = some.set_index("patient_id").loc[got.index]
    pd.testing.assert_frame_equal(some.drop(columns="last_event"), got.drop(columns="last_event"))
    assert some.loc[["id00002", "id00003"], "last_event"].equals(
        got.loc[["id00002", "id00003"], "last_event"]
    )
    assert some.drop(index=["id00002", "id00003"])["last_event"].isna().all()
    assert got["last_event"].notna().sum() > 2  # others had events: they were left out
    none = load_people(con, as_of=AS_OF, last_event_of=pd.Series([], dtype="str"))
    assert none["last_event"].isna().all() and len(none) == len(read)


def test_palliative_and_care_home_discharges_are_followed_up_beyond_capacity(config, pathways):
    """Every special-group discharge at or above the threshold is on a list, with its own action
    group, even when the day's places are few."""
    pop = people(40, practices=("P1",))
    pop.loc[[0, 1], "palliative"] = True
    pop.loc[[2, 3], "care_home"] = True
    read = _discharges(pop.iloc[:8], day="2025-05-30",
                       risk=[0.54, 0.05, 0.32, 0.25, 0.9, 0.8, 0.7, 0.21])  # fmt: skip
    sel = _select(pop, config, {"post_discharge": pathways["post_discharge"]}, scores=read,
                  capacity=4)  # fmt: skip
    listed = sel.lists
    threshold = pathways["post_discharge"].select.min_risk
    above = read.loc[read["risk"] >= threshold, "patient_id"]
    assert set(above) <= set(listed.loc[listed["section"] == "main", "patient_id"])
    assert pathways["post_discharge"].per_run_capacity(4, as_of=AS_OF) == 1  # only one place
    groups = dict(zip(listed["patient_id"], listed["group"], strict=True))
    assert groups["id00000"] == "palliative_care" and groups["id00002"] == "care_home"
    assert sel.reviewed[("P1", "post_discharge")] == 8
    # The low-risk palliative discharge is below the rule (top_k 2 are taken by higher risks).
    assert "id00001" not in set(listed["patient_id"])


def test_weekly_special_group_sections_skip_people_in_hospital(config, pathways):
    pop = people(60, practices=("P1",))
    pop["risk"] = 0.5
    pop.loc[0:3, "palliative"] = True
    pop["in_hospital"] = False
    pop.loc[0, "in_hospital"] = True
    listed = _select(pop, config, pathways, capacity=100).lists
    pal = listed.loc[listed["pathway"] == "palliative_care", "patient_id"]
    assert set(pal) == {"id00001", "id00002", "id00003"}


def _history(lists: pd.DataFrame, *, day: date) -> pd.DataFrame:
    return lists.assign(as_of=pd.Timestamp(day))[
        ["as_of", "pathway", "practice_code", "patient_id", "index_spell_id", "risk", "section"]
    ]


def test_a_discharge_is_followed_up_once_across_working_days_and_bank_holidays(config, pathways):
    """Friday 23 May 2025, the bank-holiday Monday 26 and Tuesday 27: the same discharge, scored
    again by overlapping windows, is listed on the first day only, unless the practice returned
    'unreachable'."""
    pop = people(20, practices=("P1",))
    post = {"post_discharge": pathways["post_discharge"]}
    read = _discharges(pop, day="2025-05-22", risk=[0.6, 0.5, 0.3, 0.05])
    seen: list[set[str]] = []
    history = None
    for day in (date(2025, 5, 23), date(2025, 5, 26), date(2025, 5, 27)):
        sel = _select(pop, config, post, scores=read, capacity=40, as_of=day, history=history)
        seen.append(set(sel.lists["patient_id"]))
        step = _history(sel.lists, day=day)
        history = step if history is None else pd.concat([history, step], ignore_index=True)
        if day > date(2025, 5, 23):
            gone = sel.left_out[sel.left_out["reason"] == LISTED_BEFORE]["count"].sum()
            assert gone == len(seen[0])
    assert seen[0] == {"id00000", "id00001", "id00002"}  # at or above 20 % (0.05 is not)
    assert seen[1] == set() and seen[2] == set()
    # A new discharge of the same person is a new reason to call.
    again = _discharges(pop, day="2025-05-26", risk=[0.6], spells=["s-new"])
    sel = _select(pop, config, post, scores=again, capacity=40, as_of=date(2025, 5, 27),
                  history=history)  # fmt: skip
    assert set(sel.lists["patient_id"]) == {"id00000"}
    # 'Could not reach' returned for Friday's listing: listed again.
    outcomes = pd.DataFrame(
        {"patient_id": ["id00001"], "pathway": ["post_discharge"],
         "listed_on": [pd.Timestamp("2025-05-23")], "contacted_on": [pd.NaT],
         "outcome": ["unreachable"]}
    )  # fmt: skip
    sel = _select(pop, config, post, scores=read, capacity=40, as_of=date(2025, 5, 27),
                  history=history, outcomes=outcomes)  # fmt: skip
    assert set(sel.lists["patient_id"]) == {"id00001"}


def _last_weeks_lists(config, pathways, *, n: int):
    """n people of one practice, their weekly lists of last week (capacity 20) and the early
    intervention list's main and reserve names: (people, weekly pathways, last week's date,
    last week's lists, main, reserve)."""
    pop = people(n, practices=("P1",))
    pop["risk"] = np.linspace(0.5, 0.06, n)
    pop["last_event"] = pd.NaT
    weekly = {k: p for k, p in pathways.items() if p.cadence == "weekly"}
    last_week = AS_OF - pd.Timedelta(weeks=1).to_pytimedelta()
    first = _select(pop, config, weekly, capacity=20, as_of=last_week).lists
    ei = first[first["pathway"] == "early_intervention"]
    main = ei.loc[ei["section"] == "main", "patient_id"].tolist()
    reserve = ei.loc[ei["section"] == "reserve", "patient_id"].tolist()
    return pop, weekly, last_week, first, main, reserve


def test_weekly_lists_leave_out_recent_listings_unless_risk_rose_or_a_new_event(config, pathways):
    pop, weekly, last_week, first, ei, reserve = _last_weeks_lists(config, pathways, n=100)
    assert reserve
    history = _history(first, day=last_week)
    pop.loc[pop["patient_id"] == ei[0], "risk"] += 0.06  # rose 6 points: relisted
    pop.loc[pop["patient_id"] == ei[1], "risk"] += 0.03  # 3 points: not
    pop.loc[pop["patient_id"] == ei[2], "last_event"] = pd.Timestamp(AS_OF) - pd.Timedelta(days=2)
    sel = _select(pop, config, weekly, capacity=20, history=history)
    now = set(sel.lists["patient_id"])
    assert {ei[0], ei[2]} <= now
    assert not set(ei[1:2] + ei[3:]) & now
    assert set(reserve) <= now  # reserve names were probably never called: listed again
    lo = sel.left_out
    gone = lo[(lo["pathway"] == "early_intervention") & (lo["reason"] == LISTED_BEFORE)]
    assert int(gone["count"].sum()) == len(ei) - 2
    # Listed five weeks ago (beyond relist.weeks = 4): listed again.
    old = history.assign(as_of=pd.Timestamp(AS_OF) - pd.Timedelta(weeks=5))
    assert set(ei) <= set(
        _select(pop, config, weekly, capacity=20, history=old).lists["patient_id"]
    )


def test_listing_history_round_trips_through_the_store(config, pathways):
    pop = people(50, practices=("P1",))
    sel = _select(pop, config, pathways, capacity=20)
    con = duckdb.connect()
    assert load_history(con, as_of=AS_OF, weeks=4) is None
    assert record_listed(con, sel.lists, as_of=AS_OF, pathways=tuple(pathways)) == len(sel.lists)
    record_listed(con, sel.lists, as_of=AS_OF, pathways=tuple(pathways))  # idempotent
    later = load_history(con, as_of=AS_OF + pd.Timedelta(days=7).to_pytimedelta(), weeks=4)
    assert len(later) == len(sel.lists)
    assert load_history(con, as_of=AS_OF, weeks=4).empty  # a date never sees itself


def test_header_says_what_high_means_and_who_was_left_out(config, pathways):
    pop = people(40, practices=("P1",))
    pop["in_hospital"] = False
    read = _discharges(pop, day="2025-05-30", risk=[0.6, 0.5, 0.1, 0.05, 0.3])
    pop.loc[4, "in_hospital"] = True
    scores = pd.concat([crisis_scores(pop), read], ignore_index=True)
    sel = _select(pop, config, pathways, scores=scores, capacity=4)
    post = sel.lists[sel.lists["pathway"] == "post_discharge"]
    header = list_header(
        name="post_discharge", pathway=pathways["post_discharge"], practice_code="P1",
        practice_name="Practice P1", as_of=AS_OF, weekly_capacity=4, n_listed=len(post),
        n_missing_contacts=1, selection=sel, config=config,
    )  # fmt: skip
    assert header.rule.startswith("Listed: risk of 20% or more (high), or among this practice's 2")
    # the mean of the five, which are every practice's (a list's other counts are its own)
    assert "Average risk across the 5 discharges scored in all practices: 31%" in header.rule
    assert header.left_out.startswith(f"5 discharges reviewed: {len(post)} listed, 3 not: ")
    assert "1 in hospital now" in header.left_out and "below the list's rule" in header.left_out
    assert header.repeats == (
        "Not repeated: each discharge is followed up once (again only if the practice returned "
        "'Could not reach')."
    )
    assert header.missing_contacts.startswith("1 listed person has no contact details")
    ei = list_header(
        name="early_intervention", pathway=pathways["early_intervention"], practice_code="P1",
        practice_name="Practice P1", as_of=AS_OF, weekly_capacity=4, n_listed=2,
        n_missing_contacts=0, selection=sel, config=config,
    )  # fmt: skip
    lo = sel.left_out
    over = lo[(lo["pathway"] == "early_intervention") & (lo["reason"] == OVER_CAPACITY)]
    assert f"{int(over['count'].sum()):,} beyond this run's places" in ei.left_out
    assert "in the last 4 weeks" in ei.repeats and "rose by 5 points" in ei.repeats
    # Only a main listing keeps a name off (a reserve name is back, its Notes say "(reserve)"):
    # the header said "anyone on a weekly list", against those Notes (24 rows on a Monday).
    assert ei.repeats.startswith("Not repeated: anyone on a weekly list (not its reserve) in")
    # The order the rows are in: a post-discharge list puts an earlier contact-by date above a
    # higher risk, and said nothing about it.
    assert "this run; earliest contact-by date first, then highest risk; " in header.rule
    assert ei.rule.startswith("Listed: highest risk first, from those at 5% or more; ")
    rising = list_header(
        name="rising_risk", pathway=pathways["rising_risk"], practice_code="P1",
        practice_name="Practice P1", as_of=AS_OF, weekly_capacity=4, n_listed=0,
        n_missing_contacts=0, selection=sel, config=config,
    )  # fmt: skip
    assert "; largest rise first, then highest risk; " in rising.rule


def test_relist_rules_are_configured_and_checked(tmp_path):
    from riskstrat.config import ConfigError
    from riskstrat.outreach.config import load_outreach_config as load

    relist = load_outreach_config().relist
    assert (relist.weeks, relist.rise_points, relist.new_event) == (4, 5, True)
    assert relist.discharge_again_after == ("unreachable",)
    bad = tmp_path / "outreach.yaml"
    bad.write_text("relist:\n  discharge_again_after: [phoned]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"outreach\.yaml: relist\.discharge_again_after"):
        load(bad)


def test_rises_from_a_planned_admission_only_leave_the_rising_list_and_reserve_moves_up(
    config, pathways
):
    from riskstrat.outreach.engine import PLANNED_ONLY, drop_planned_rises

    pop = people(200, practices=("P1",))
    pop["risk"] = np.linspace(0.06, 0.6, 200)
    prev = crisis_scores(pop)
    prev.loc[prev.index[40:50], "risk"] -= 0.08  # ten rose 8 points
    sel = _select(pop, config, pathways, capacity=20, previous=prev)
    selected = sel.lists[sel.lists["pathway"] == "rising_risk"]
    rising = selected[selected["section"] != "spare"]  # spares are explained, never written
    places = int((rising["section"] == "main").sum())
    assert places >= 1 and (rising["section"] == "reserve").any()
    planned = rising["patient_id"].iloc[0]
    explained = sel.lists.assign(rise_planned_only=sel.lists["patient_id"] == planned)
    out = drop_planned_rises(explained, selection=sel)
    now = out[out["pathway"] == "rising_risk"]
    assert planned not in set(now["patient_id"])
    assert now["rank"].tolist() == list(range(1, len(rising) + 1))
    assert int((now["section"] == "main").sum()) == places  # a reserve name moved up
    # ... and the first spare into the reserve
    assert now["patient_id"].tolist() == selected["patient_id"].tolist()[1 : len(rising) + 1]
    gone = sel.left_out[sel.left_out["reason"] == PLANNED_ONLY]
    assert gone[["practice_code", "pathway", "count"]].values.tolist() == [["P1", "rising_risk", 1]]
    # The header must not promise a follow-up: a discharge on this run's post-discharge list is
    # "on another list", so the person left out here is on no list this run.
    header = list_header(
        name="rising_risk", pathway=pathways["rising_risk"], practice_code="P1",
        practice_name="Practice P1", as_of=AS_OF, weekly_capacity=20, n_listed=len(now),
        n_missing_contacts=0, selection=sel, config=config,
    )  # fmt: skip
    assert "1 risen only after a planned (elective) admission" in header.left_out
    assert "followed up" not in header.left_out
    others = out[out["pathway"] != "rising_risk"]
    pd.testing.assert_frame_equal(others, explained[explained["pathway"] != "rising_risk"])


def test_could_not_reach_on_a_weekly_list_relists_and_does_not_crash(config, pathways):
    """'Could not reach' returned for last week's weekly listing: listed again this week. (A
    practice's first returned sheet with 'Could not reach' stopped the whole weekly run with
    "output array is read-only": the flag array from the outcomes was updated in place.)"""
    pop = people(60, practices=("P1",))
    pop["risk"] = np.linspace(0.5, 0.06, 60)
    pop["last_event"] = pd.NaT
    weekly = {k: p for k, p in pathways.items() if p.cadence == "weekly"}
    last_week = AS_OF - pd.Timedelta(weeks=1).to_pytimedelta()
    first = _select(pop, config, weekly, capacity=20, as_of=last_week).lists
    main = first.loc[first["section"] == "main", "patient_id"].tolist()
    outcomes = pd.DataFrame(
        {"patient_id": main[:2], "pathway": "early_intervention",
         "listed_on": pd.Timestamp(last_week), "contacted_on": pd.NaT,
         "outcome": ["unreachable", "contacted"]}
    )  # fmt: skip
    sel = _select(pop, config, weekly, capacity=20, outcomes=outcomes,
                  history=_history(first, day=last_week))  # fmt: skip
    now = set(sel.lists["patient_id"])
    assert main[0] in now  # could not reach: tried again
    assert main[1] not in now and not set(main[2:]) & now  # contacted / listed last week


@pytest.mark.parametrize(
    ("outcome", "on_weekly", "on_discharge"),
    [("died", False, False), ("moved_away", False, False), ("in_hospital", False, True),
     ("not_appropriate", False, True), ("declined", False, True)],
)  # fmt: skip
def test_every_returned_outcome_is_honoured(config, pathways, outcome, on_weekly, on_discharge):
    """A practice returned 'Died' for someone on last week's post-discharge list; the next
    week's early-intervention list called them again (only contacted, declined and already in
    care were ever read). Died and moved away now take a person off every list; in hospital and
    not appropriate off the weekly lists (a discharge after them is still followed up)."""
    pop = people(40, practices=("P1",))
    pop["risk"] = np.linspace(0.9, 0.5, 40)
    day = pd.Timestamp(AS_OF)
    outcomes = pd.DataFrame(
        {"patient_id": ["id00000"], "pathway": ["post_discharge"],
         "listed_on": [day - pd.Timedelta(days=7)], "contacted_on": [pd.NaT],
         "outcome": [outcome]}
    )  # fmt: skip
    weekly = _select(pop, config, pathways, capacity=100, outcomes=outcomes)
    assert ("id00000" in set(weekly.lists["patient_id"])) is on_weekly
    left = weekly.left_out
    assert f"feedback:{outcome}" in set(left.loc[left["pathway"] == "early_intervention", "reason"])
    post = {"post_discharge": pathways["post_discharge"]}
    read = _discharges(pop, day="2025-05-30", risk=[0.6], spells=["s-new"])
    again = _select(pop, config, post, scores=read, capacity=40, outcomes=outcomes)
    assert ("id00000" in set(again.lists["patient_id"])) is on_discharge
    # The header says why, in the practice's own words.
    header = list_header(
        name="early_intervention", pathway=pathways["early_intervention"], practice_code="P1",
        practice_name="Practice P1", as_of=AS_OF, weekly_capacity=100, n_listed=1,
        n_missing_contacts=0, selection=weekly, config=config,
    )  # fmt: skip
    from riskstrat.registry.contract import OUTCOME_LABELS

    assert f"1 returned as '{OUTCOME_LABELS[outcome]}' recently (practice feedback)" in (
        header.left_out
    )


def test_a_name_back_after_could_not_reach_says_so_in_notes(config, pathways):
    """A nurse sees why a name is on this week's list again: its Notes read "Could not reach on
    the list of 26/05/2025"; a later 'Contacted' (or any other latest outcome) says nothing."""
    from riskstrat.outreach.writers import display_frame

    pop = people(30, practices=("P1",))
    pop["risk"] = np.linspace(0.5, 0.06, 30)
    last_week = pd.Timestamp(AS_OF) - pd.Timedelta(weeks=1)
    outcomes = pd.DataFrame(
        {"patient_id": ["id00000", "id00001", "id00001"], "pathway": "early_intervention",
         "listed_on": [last_week, last_week - pd.Timedelta(weeks=9), last_week],
         "contacted_on": pd.NaT, "outcome": ["unreachable", "unreachable", "not_appropriate"]}
    )  # fmt: skip
    weekly = {"early_intervention": pathways["early_intervention"]}
    sel = _select(pop, config, weekly, capacity=100, outcomes=outcomes)
    notes = sel.lists.set_index("patient_id")["earlier_outcome"]
    assert notes["id00000"] == "Could not reach on the list of 26/05/2025"
    assert "id00001" not in notes.index  # not appropriate: off the weekly lists
    assert notes.drop("id00000").isna().all()
    shown = display_frame(sel.lists, order=("early_intervention",)).set_index("patient_id")
    assert shown.loc["id00000", "notes"] == "Could not reach on the list of 26/05/2025"
    assert shown.drop("id00000")["notes"].isna().all()


def test_a_name_seen_in_the_last_weeks_says_on_which_list_and_why_it_is_back(config, pathways):
    """A nurse's month (2026-01): 158 of 161 names back within 4 weeks had empty Notes, so last
    week's reserve names, people just followed up after discharge and names back after a rise
    all looked new. Now Notes say which list they were on, what was returned and why back."""
    pop, weekly, last_week, first, main, reserve = _last_weeks_lists(config, pathways, n=60)
    discharged = pop["patient_id"].iloc[-1]  # low crisis risk: on no weekly list last week
    followed = pd.DataFrame(
        {"as_of": [pd.Timestamp(last_week)], "pathway": ["post_discharge"],
         "practice_code": ["P1"], "patient_id": [discharged], "index_spell_id": ["s1"],
         "risk": [0.4], "section": ["main"]}
    )  # fmt: skip
    history = pd.concat([_history(first, day=last_week), followed], ignore_index=True)
    rose = main[1]
    pop.loc[pop["patient_id"] == rose, "risk"] += 0.06
    pop.loc[pop["patient_id"] == discharged, "risk"] = 0.9
    outcomes = pd.DataFrame(
        {"patient_id": [main[0]], "pathway": "early_intervention",
         "listed_on": pd.Timestamp(last_week), "contacted_on": pd.NaT,
         "outcome": ["unreachable"]}
    )  # fmt: skip
    sel = _select(pop, config, weekly, capacity=20, outcomes=outcomes, history=history)
    notes = sel.lists.set_index("patient_id")["earlier_outcome"]
    assert (
        notes[main[0]] == "On the Early intervention list of 26/05/2025: returned 'Could not reach'"
    )
    assert (
        notes[rose] == "On the Early intervention list of 26/05/2025: back, risk up 6 points since"
    )
    assert notes[reserve[0]] == "On the Early intervention list of 26/05/2025 (reserve)"
    assert notes[discharged] == "On the Post-discharge follow-up list of 26/05/2025"
    new = set(notes.index) - {main[0], rose, discharged, *reserve}
    assert new and notes[list(new)].isna().all()  # never listed: nothing to say


def test_a_rising_list_keeps_its_places_when_explain_takes_more_rows_off_than_its_reserve(
    config, pathways
):
    """A nurse's month (2026-01): on 7 of 20 rising-risk lists explain took off more rises
    (only after a planned admission) than the reserve held, and 9 places stayed empty while
    8-31 people were 'beyond this run's places' (Z00002 on 19/01/2026: 3 places, 2 listed, no
    reserve, 12 beyond). Spare names, explained with the list, now move up into them."""
    from riskstrat.outreach.engine import OVER_CAPACITY, PLANNED_ONLY, drop_planned_rises

    pop = people(200, practices=("P1",))
    pop["risk"] = np.linspace(0.06, 0.6, 200)
    prev = crisis_scores(pop)
    prev.loc[prev.index[30:60], "risk"] -= 0.08  # thirty rose 8 points
    sel = _select(pop, config, pathways, capacity=20, previous=prev)
    selected = sel.lists[sel.lists["pathway"] == "rising_risk"]
    written = selected[selected["section"] != "spare"]
    places, reserve = (written["section"] == "main").sum(), (written["section"] == "reserve").sum()
    assert places >= 1 and reserve >= 1
    before = sel.left_out.set_index(["pathway", "reason"])["count"]
    beyond = int(before[("rising_risk", OVER_CAPACITY)])
    taken_off = written["patient_id"].iloc[: places + reserve].tolist()  # every written row
    explained = sel.lists.assign(rise_planned_only=sel.lists["patient_id"].isin(taken_off))
    out = drop_planned_rises(explained, selection=sel)
    now = out[out["pathway"] == "rising_risk"]
    assert (now["section"] == "main").sum() == places  # no place left empty
    assert (now["section"] == "reserve").sum() == reserve
    assert not set(taken_off) & set(now["patient_id"]) and "spare" not in set(out["section"])
    after = sel.left_out.set_index(["pathway", "reason"])["count"]
    assert int(after[("rising_risk", PLANNED_ONLY)]) == len(taken_off)
    unused = (selected["section"] == "spare").sum() - len(taken_off)
    assert int(after[("rising_risk", OVER_CAPACITY)]) == beyond + unused
    header = list_header(
        name="rising_risk", pathway=pathways["rising_risk"], practice_code="P1",
        practice_name="Practice P1", as_of=AS_OF, weekly_capacity=20, n_listed=len(now),
        n_missing_contacts=0, selection=sel, config=config,
    )  # fmt: skip
    assert f"{beyond + unused} beyond this run's places" in header.left_out


def test_a_weekly_row_knows_when_a_post_discharge_list_asked_for_its_follow_up(config, pathways):
    """select gives each weekly row the date of the person's latest post-discharge main listing
    (`followed_up_on`; explain_lists then suggests no second follow-up call for that discharge),
    unless the practice returned 'Could not reach' for it; a reserve listing does not count."""
    pop = people(40, practices=("P1",))
    pop["risk"] = np.linspace(0.5, 0.06, 40)
    ids = pop["patient_id"].iloc[:4].tolist()
    thursday = pd.Timestamp(AS_OF) - pd.Timedelta(days=4)
    history = pd.DataFrame(
        {"as_of": thursday, "pathway": "post_discharge", "practice_code": "P1",
         "patient_id": ids, "index_spell_id": ["s0", "s1", "s2", "s3"], "risk": 0.4,
         "section": ["main", "main", "reserve", "main"]}
    )  # fmt: skip
    # Older than relist.weeks: still the date (how long a discharge calls for a follow-up
    # call is the action's own window, which row_actions applies).
    history.loc[3, "as_of"] = pd.Timestamp(AS_OF) - pd.Timedelta(weeks=5)
    outcomes = pd.DataFrame(
        {"patient_id": [ids[1]], "pathway": "post_discharge", "listed_on": [thursday],
         "contacted_on": pd.NaT, "outcome": ["unreachable"]}
    )  # fmt: skip
    weekly = {"early_intervention": pathways["early_intervention"]}
    sel = _select(pop, config, weekly, capacity=100, history=history, outcomes=outcomes)
    on = sel.lists.set_index("patient_id")["followed_up_on"]
    assert set(ids) <= set(on.index)
    assert on[ids[0]] == thursday
    assert on[ids[3]] == history.loc[3, "as_of"]
    assert on.drop([ids[0], ids[3]]).isna().all()


def test_a_discharge_followed_up_29_days_ago_gets_no_second_call(config, pathways, tmp_path):
    """How long a discharge calls for a follow-up call is one number, the action's window
    (outreach/actions.yaml `recent.within_days`, 30 days). The weekly list looked back only
    `relist.weeks` (4 weeks, 28 days) for the post-discharge listing that asked for it: a
    weekly run on the Tuesday after Easter Monday (22/04/2025) asked again for the call after
    a discharge on Sunday 23/03, 30 days before, that Monday 24/03's post-discharge list (29
    days before) had asked for. The history read back covers the window, and the listing
    counts however old it is (row_actions' window decides)."""
    from riskstrat.explain.actions import (
        FOLLOWED_UP_DAYS,
        follow_up_days,
        load_actions,
        row_actions,
    )
    from riskstrat.outreach.lists import _with_follow_up

    actions = load_actions()
    window = follow_up_days(actions)
    assert window == 30 > 7 * config.relist.weeks
    tuesday = date(2025, 4, 22)
    listed_on = pd.Timestamp(tuesday) - pd.Timedelta(days=29)  # Monday 24/03/2025
    pop = people(40, practices=("P1",))
    pop["risk"] = np.linspace(0.5, 0.06, 40)
    pid = pop["patient_id"].iloc[0]
    history = pd.DataFrame(
        {"as_of": [listed_on], "pathway": "post_discharge", "practice_code": "P1",
         "patient_id": [pid], "index_spell_id": ["s0"], "risk": 0.4, "section": "main"}
    )  # fmt: skip
    # The store's history is read back at least as far as the action's window.
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    record_listed(con, history, as_of=listed_on.date(), pathways=["post_discharge"])
    assert len(load_history(con, as_of=tuesday, weeks=2)) == 1
    later = tuesday + pd.Timedelta(days=45).to_pytimedelta()  # beyond the 6 weeks read
    assert load_history(con, as_of=later, weeks=2).empty
    assert len(load_history(con, as_of=later, weeks=2, days=window + 45)) == 1
    weekly = {"early_intervention": pathways["early_intervention"]}
    sel = _select(pop, config, weekly, capacity=100, history=history, as_of=tuesday)
    rows = sel.lists[sel.lists["patient_id"] == pid]
    assert rows["followed_up_on"].tolist() == [listed_on]
    context = rows[["pathway", "group"]].assign(
        feature_1="days_since_discharge", feature_2=None, feature_3=None
    )
    values = pd.DataFrame({"days_since_discharge": [30.0]}, index=rows.index)
    got = row_actions(context, actions=actions, values=_with_follow_up(values, rows))
    assert _with_follow_up(values, rows)[FOLLOWED_UP_DAYS].tolist() == [29.0]
    assert "Follow-up call after hospital discharge" not in got["actions"].iloc[0]


def test_a_person_who_moved_practice_is_new_to_the_new_practice(config, pathways):
    """A person on practice P1's early-intervention list last week registers at P2 before this
    week's extract. P2 never had them: they must be on P2's list (not left out as "on a list
    in the last 4 weeks"), with no "On the Early intervention list of ..." in the Notes, and a
    post-discharge list P1 was given does not stop P2 being asked for the follow-up call.
    P1's list no longer has them (the extract's registration decides)."""
    pop, weekly, last_week, first, main, _ = _last_weeks_lists(config, pathways, n=100)
    history = _history(first, day=last_week)
    moved = main[0]
    thursday = pd.Timestamp(AS_OF) - pd.Timedelta(days=4)
    history = pd.concat(
        [history, pd.DataFrame({"as_of": [thursday], "pathway": "post_discharge",
                                "practice_code": "P1", "patient_id": [moved],
                                "index_spell_id": ["s9"], "risk": 0.4, "section": "main"})],
        ignore_index=True,
    )  # fmt: skip
    pop.loc[pop["patient_id"] == moved, "practice_code"] = "P2"
    # (risk as last week's listing: no rise, no new event that would list them again)
    sel = _select(pop, config, weekly, capacity=20, history=history)
    rows = sel.lists[sel.lists["patient_id"] == moved]
    assert rows["practice_code"].tolist() == ["P2"]
    assert rows["section"].tolist() == ["main"]
    assert pd.isna(rows["earlier_outcome"].iloc[0])
    assert pd.isna(rows["followed_up_on"].iloc[0])
    # Someone who stayed at P1 is still left out there as before.
    assert not set(main[1:]) & set(sel.lists["patient_id"])


def test_moved_away_holds_only_at_the_practice_that_returned_it(config, pathways):
    """P1 returned 'Moved away' for two people it listed; one has since registered at P2. That
    outcome left them off every list for 26 weeks, so P2 never had them. Now it holds at P1
    only (the listing's practice, `listed_practice` from the listing history); one whose
    listing is not recorded is left out as before."""
    pop = people(30, practices=("P1",))
    pop["risk"] = np.linspace(0.5, 0.06, 30)
    ids = pop["patient_id"].iloc[:3].tolist()
    pop.loc[pop["patient_id"] == ids[0], "practice_code"] = "P2"
    listed = pd.Timestamp(AS_OF) - pd.Timedelta(weeks=2)
    outcomes = pd.DataFrame(
        {"patient_id": ids, "pathway": "early_intervention", "listed_on": listed,
         "contacted_on": pd.NaT, "outcome": "moved_away", "listed_practice": ["P1", "P1", None]}
    )  # fmt: skip
    weekly = {"early_intervention": pathways["early_intervention"]}
    sel = _select(pop, config, weekly, capacity=100, outcomes=outcomes)
    now = sel.lists.set_index("patient_id")["practice_code"]
    assert now.get(ids[0]) == "P2"
    assert ids[1] not in now.index and ids[2] not in now.index
    # The store gives each outcome the practice of the listing it was returned for.
    con = duckdb.connect()
    con.execute(ddl(TABLES["outreach_outcomes"]))
    con.execute(
        "INSERT INTO outreach_outcomes (patient_id, pathway, listed_on, outcome) VALUES "
        "(?, 'early_intervention', ?, 'moved_away'), (?, 'early_intervention', ?, 'moved_away')",
        [ids[0], listed.date(), ids[2], listed.date()],
    )
    history = pd.DataFrame(
        {"as_of": [listed], "pathway": "early_intervention", "practice_code": "P1",
         "patient_id": [ids[0]], "index_spell_id": [None], "risk": 0.4, "section": "main"}
    )  # fmt: skip
    record_listed(con, history, as_of=listed.date(), pathways=["early_intervention"])
    got = load_outcomes(con, as_of=AS_OF).set_index("patient_id")["listed_practice"]
    assert got[ids[0]] == "P1" and pd.isna(got[ids[2]])
