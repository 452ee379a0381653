"""Pathway selection on tiny frames: eligibility, groups, feedback, capacity, tie-breaks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from outreach_frames import AS_OF, crisis_scores, no_outcomes, people, practices

from riskstrat.outreach.config import load_outreach_config, load_pathways, weekly_places
from riskstrat.outreach.engine import build_lists


@pytest.fixture
def config():
    return load_outreach_config()


@pytest.fixture
def pathways(config):
    return load_pathways(config)


def _lists(pop, config, pathways, *, scores=None, outcomes=None, capacity=20, previous=None):
    return build_lists(
        crisis_scores(pop) if scores is None else scores,
        people=pop,
        outcomes=no_outcomes() if outcomes is None else outcomes,
        practices=practices(capacity=capacity),
        pathways=pathways,
        config=config,
        as_of=AS_OF,
        previous=previous,
    )


def test_never_lists_deceased_deregistered_opted_out_or_not_yet_registered(config, pathways):
    pop = people(400)
    pop["risk"] = 0.9  # everyone would qualify
    pop.loc[0:9, "date_of_death"] = pd.Timestamp(AS_OF) - pd.Timedelta(days=3)
    pop.loc[10:19, "date_of_death"] = pd.Timestamp(AS_OF)  # died on the list date
    pop.loc[20:29, "registered_to"] = pd.Timestamp(AS_OF) - pd.Timedelta(days=40)
    pop.loc[30:39, "registered_to"] = pd.Timestamp(AS_OF)
    pop.loc[40:49, "data_opt_out"] = True
    pop.loc[50:59, "registered_from"] = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    listed = _lists(pop, config, pathways, capacity=1000)
    barred = set(pop.loc[0:59, "patient_id"])
    assert not barred & set(listed["patient_id"])
    assert len(listed) > 100  # the others were listed
    # A death recorded after the list date is unknown at the list date: still listable.
    pop.loc[0:9, "date_of_death"] = pd.Timestamp(AS_OF) + pd.Timedelta(days=30)
    again = _lists(pop, config, pathways, capacity=1000)
    assert set(pop.loc[0:9, "patient_id"]) <= set(again["patient_id"])


def test_opt_out_listed_when_config_says_so(config, pathways):
    pop = people(40)
    pop["risk"] = 0.9
    pop.loc[0:4, "data_opt_out"] = True
    relaxed = config.model_copy(update={"respect_data_opt_out": False})
    listed = _lists(pop, relaxed, pathways, capacity=1000)
    assert set(pop.loc[0:4, "patient_id"]) <= set(listed["patient_id"])


def test_special_groups_only_in_their_own_section(config, pathways):
    pop = people(200)
    pop["risk"] = np.linspace(0.3, 0.9, 200)
    pal = set(pop.loc[190:199, "patient_id"])  # the highest risks
    home = set(pop.loc[180:189, "patient_id"])
    pop.loc[190:199, "palliative"] = True
    pop.loc[180:189, "care_home"] = True
    pop.loc[185, "palliative"] = True  # both: palliative care wins
    listed = _lists(pop, config, pathways, capacity=100)
    by = listed.groupby("pathway")["patient_id"].apply(set)
    generic = set().union(*(by.get(p, set()) for p in ("early_intervention", "rising_risk")))
    assert not (pal | home) & generic
    assert by["palliative_care"] <= pal | {pop.loc[185, "patient_id"]}
    assert by["care_home"] <= home - {pop.loc[185, "patient_id"]}
    per_practice = listed.groupby(["pathway", "practice_code"]).size()
    assert per_practice["palliative_care"].tolist() == [5, 5]  # 100 * 0.05 per practice
    assert per_practice["care_home"].tolist() == [5, 4]  # P2 has only four care-home residents
    excluded = config.model_copy(
        update={"special_groups": {"palliative_care": "exclude", "care_home": "exclude"}}
    )
    listed = _lists(pop, excluded, load_pathways(excluded), capacity=100)
    assert set(listed["pathway"]) == {"early_intervention"}
    assert not (pal | home) & set(listed["patient_id"])


def test_capacity_respected_over_a_week(config, pathways):
    """Monday's weekly lists plus Monday-to-Friday post-discharge lists fill each practice's
    weekly_capacity without exceeding it (reserves are extra, and short). (Post-discharge's
    min_risk_beyond_capacity is switched off here: tested on its own below.)"""
    pathways = {
        k: p.model_copy(update={"min_risk_beyond_capacity": False}) for k, p in pathways.items()
    }
    pop = people(3000, practices=("P1", "P2"))
    prev = crisis_scores(pop).assign(risk=lambda d: d["risk"] - 0.2)  # everyone rose 20 points
    pop.loc[0:99, "palliative"] = True
    pop.loc[100:199, "care_home"] = True
    monday = pd.Timestamp(AS_OF)
    for capacity in (3, 7, 13, 14, 20, 43):
        week_places = weekly_places(pathways, capacity)
        used = pd.Series(0, index=["P1", "P2"])
        for day in range(5):
            as_of = (monday + pd.Timedelta(days=day)).date()
            read = crisis_scores(pop.iloc[400 * day : 400 * (day + 1)]).assign(
                task="readmission_30d",
                index_date=pd.Timestamp(as_of) - pd.Timedelta(days=1),
                index_spell_id="s",
            )
            todays = {k: p for k, p in pathways.items() if day == 0 or p.cadence == "weekdays"}
            listed = build_lists(
                pd.concat([crisis_scores(pop, as_of=as_of), read], ignore_index=True),
                people=pop,
                outcomes=no_outcomes(),
                practices=practices(capacity=capacity),
                pathways=todays,
                config=config,
                as_of=as_of,
                previous=prev,
            )
            main = listed[listed["section"] == "main"]
            for (_, name), rows in main.groupby(["practice_code", "pathway"]):
                assert len(rows) == pathways[name].per_run_capacity(
                    capacity, as_of=as_of, week=week_places[name]
                )
            for (_, name), rows in listed[listed["section"] == "reserve"].groupby(
                ["practice_code", "pathway"]
            ):
                assert len(rows) <= pathways[name].reserve
            assert not listed.duplicated("patient_id").any()  # one list per person per run
            used = used.add(main.groupby("practice_code").size(), fill_value=0)
        allocated = sum(week_places.values())
        assert allocated == capacity  # the shares add up to 1: every place is used
        assert used.tolist() == [allocated, allocated]
        if capacity >= 13:  # a practice of 13 contacts a week has palliative and care-home places
            assert week_places["palliative_care"] >= 1 and week_places["care_home"] >= 1
    # A small practice still gets its post-discharge place: on Monday.
    pd_path = pathways["post_discharge"]
    week = [
        pd_path.per_run_capacity(5, as_of=(monday + pd.Timedelta(days=d)).date()) for d in range(5)
    ]
    assert week == [1, 0, 0, 0, 0]
    week = [
        pd_path.per_run_capacity(46, as_of=(monday + pd.Timedelta(days=d)).date()) for d in range(5)
    ]
    assert week == [3, 2, 2, 2, 2] and sum(week) == pd_path.weekly_allocation(46) == 11


def test_orders_by_risk_with_patient_id_tie_break(config, pathways):
    pop = people(60, practices=("P1",))
    pop["risk"] = 0.5
    pop.loc[[7, 3], "risk"] = 0.8
    listed = _lists(pop, config, pathways, capacity=20)
    ei = listed[listed["pathway"] == "early_intervention"]
    assert ei["patient_id"].tolist()[:2] == ["id00003", "id00007"]
    rest = ei["patient_id"].tolist()[2:]
    assert rest == sorted(rest)
    shuffled = pop.sample(frac=1, random_state=1)
    again = _lists(shuffled, config, pathways, capacity=20)
    pd.testing.assert_frame_equal(again, listed)


def test_min_risk_threshold(config, pathways):
    pop = people(100)
    pop["risk"] = 0.01  # below early_intervention's min_risk
    pop.loc[0, "risk"] = 0.5
    listed = _lists(pop, config, pathways, capacity=1000)
    assert listed["patient_id"].tolist() == ["id00000"]


def test_recent_feedback_excludes(config, pathways):
    pop = people(40, practices=("P1",))
    pop["risk"] = np.linspace(0.9, 0.5, 40)
    day = pd.Timestamp(AS_OF)
    outcomes = pd.DataFrame(
        {
            "patient_id": ["id00000", "id00001", "id00002", "id00003", "id00004"],
            "pathway": "early_intervention",
            "listed_on": [day - pd.Timedelta(weeks=w) for w in (2, 20, 30, 3, 9)],
            "contacted_on": [day - pd.Timedelta(weeks=1), pd.NaT, pd.NaT, pd.NaT, pd.NaT],
            "outcome": [
                "contacted",
                "already_in_care",
                "already_in_care",
                "unreachable",
                "contacted",
            ],
        }
    )
    listed = set(_lists(pop, config, pathways, outcomes=outcomes, capacity=1000)["patient_id"])
    # contacted 1 week ago (< 8) and already in care 20 weeks ago (< 26): out.
    assert not {"id00000", "id00001"} & listed
    # already in care 30 weeks ago, unreachable, contacted 9 weeks ago: listed again.
    assert {"id00002", "id00003", "id00004"} <= listed


def test_rising_risk_needs_a_rise_and_skips_early_intervention(config, pathways):
    pop = people(200, practices=("P1",))
    pop["risk"] = np.linspace(0.06, 0.6, 200)
    prev = crisis_scores(pop)
    prev.loc[prev.index[-3:], "risk"] -= 0.30  # top three rose 30 points: on early intervention
    prev.loc[prev.index[50:53], "risk"] -= 0.06  # three rose 6 points
    prev.loc[prev.index[60], "risk"] -= 0.04  # below the 5-point threshold
    listed = _lists(pop, config, pathways, capacity=20, previous=prev)
    rising = listed[listed["pathway"] == "rising_risk"]
    assert rising["patient_id"].tolist() == [f"id{i:05d}" for i in (52, 51, 50)]
    assert (rising["rise_points"] >= 5).all()
    assert set(pop["patient_id"].iloc[-3:]) <= set(
        listed.loc[listed["pathway"] == "early_intervention", "patient_id"]
    )
    assert _lists(pop, config, pathways, capacity=20)["pathway"].ne("rising_risk").all()


def test_post_discharge_threshold_or_top_k_and_contact_by(config, pathways):
    pop = people(30, practices=("P1", "P2"))
    read = pd.DataFrame(
        {
            "task": "readmission_30d",
            "patient_id": pop["patient_id"].iloc[:6],
            # Friday before the late-May bank holiday Monday (26 May 2025)
            "index_date": pd.Timestamp("2025-05-23"),
            "index_spell_id": [f"s{i}" for i in range(6)],
            "risk": [0.05, 0.06, 0.5, 0.1, 0.07, 0.08],
        }
    )
    listed = build_lists(
        read,
        people=pop,
        outcomes=no_outcomes(),
        practices=practices(capacity=200),
        pathways={"post_discharge": pathways["post_discharge"]},
        config=config,
        as_of=date(2025, 5, 27),
    )
    # P1 holds ids 0, 2, 4: 0.5 passes the threshold; top_k=2 adds 0.07. P2: 0.1 and 0.08.
    assert sorted(listed["patient_id"]) == ["id00002", "id00003", "id00004", "id00005"]
    assert (listed["contact_by"] == pd.Timestamp("2025-05-28")).all()  # Tue 27 is day 1


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [(14, {"post_discharge": 3, "early_intervention": 8, "rising_risk": 1, "palliative_care": 1,
           "care_home": 1}),
     (13, {"post_discharge": 3, "early_intervention": 7, "rising_risk": 1, "palliative_care": 1,
           "care_home": 1}),
     (33, {"post_discharge": 8, "early_intervention": 18, "rising_risk": 3, "palliative_care": 2,
           "care_home": 2})],
)  # fmt: skip
def test_the_week_uses_every_place_by_largest_remainders(pathways, capacity, expected):
    """The demo's practices of 14 and 13 contacts a week had floor(0.7) = 0 palliative-care and
    care-home places (each list said "0 places" above 9-12 people who met its rule) and used 11
    of their places; 33 used 31."""
    assert weekly_places(pathways, capacity) == expected


def test_a_weekday_run_keeps_the_weeks_places(config, pathways):
    """Places are shared among every configured pathway: a post-discharge-only weekday run has
    the same week as Monday's run of all of them."""
    from riskstrat.outreach.engine import select_lists

    pop = people(30, practices=("P1",))
    tuesday = date(2025, 6, 3)
    read = crisis_scores(pop).assign(task="readmission_30d", index_spell_id="s",
                                     index_date=pd.Timestamp("2025-06-02"))  # fmt: skip
    only = {"post_discharge": pathways["post_discharge"]}
    sel = select_lists(read, people=pop, outcomes=no_outcomes(), practices=practices(("P1",), 14),
                       pathways=only, config=config, as_of=tuesday)  # fmt: skip
    week = weekly_places(pathways, 14)["post_discharge"]
    assert sel.places[("P1", "post_discharge")] == pathways["post_discharge"].per_run_capacity(
        14, as_of=tuesday, week=week
    )


def test_an_empty_list_says_why_when_people_met_its_rule(config, pathways):
    """A list with no places this run, or whose people were all left out, no longer says
    "Nobody meets this list's criteria" above a header counting those who did."""
    from riskstrat.outreach.engine import select_lists
    from riskstrat.outreach.header import NOBODY, empty_text

    pop = people(40, practices=("P1",))
    pop["risk"] = np.linspace(0.9, 0.5, 40)
    pop.loc[0:9, "care_home"] = True
    sel = select_lists(crisis_scores(pop), people=pop, outcomes=no_outcomes(),
                       practices=practices(("P1",), 3), pathways=pathways, config=config,
                       as_of=AS_OF)  # fmt: skip
    assert sel.places[("P1", "care_home")] == 0
    said = empty_text("care_home", selection=sel, practice_code="P1", counts=None)
    assert said == "Nobody listed: this list has no places this run; 10 people meet this " \
        "list's rule (left out above)."  # fmt: skip
    pop["in_hospital"] = False
    pop.loc[0:9, "in_hospital"] = True
    sel = select_lists(crisis_scores(pop), people=pop, outcomes=no_outcomes(),
                       practices=practices(("P1",), 40), pathways=pathways, config=config,
                       as_of=AS_OF)  # fmt: skip
    said = empty_text("care_home", selection=sel, practice_code="P1", counts=None)
    assert said == "Nobody listed: 10 people meet this list's rule but each is left out for a " \
        "reason above."  # fmt: skip
    assert empty_text("palliative_care", selection=sel, practice_code="P1", counts=None) == NOBODY
    pop.loc[1:9, "in_hospital"] = False
    pop.loc[1:9, "care_home"] = False
    sel = select_lists(crisis_scores(pop), people=pop, outcomes=no_outcomes(),
                       practices=practices(("P1",), 40), pathways=pathways, config=config,
                       as_of=AS_OF)  # fmt: skip
    said = empty_text("care_home", selection=sel, practice_code="P1", counts=None)
    # (was "... but each is left out for a reason above.")
    assert said == "Nobody listed: 1 person meets this list's rule but is left out for the " \
        "reason above."  # fmt: skip


def test_a_selection_without_places_says_the_shared_places(config, pathways):
    """A Selection combined from parts (the Spark engine's) carries no `places`: its header
    still says the places select_lists used (shared by largest remainders), not the floor."""
    from dataclasses import replace

    from riskstrat.outreach.engine import select_lists
    from riskstrat.outreach.header import list_header

    pop = people(40, practices=("P1",))
    pop["risk"] = np.linspace(0.9, 0.5, 40)
    pop.loc[0:9, "care_home"] = True
    sel = select_lists(crisis_scores(pop), people=pop, outcomes=no_outcomes(),
                       practices=practices(("P1",), 14), pathways=pathways, config=config,
                       as_of=AS_OF)  # fmt: skip
    assert sel.places[("P1", "care_home")] == 1
    bare = replace(sel, places={})
    for selection in (sel, bare):
        header = list_header(
            name="care_home", pathway=pathways["care_home"], practice_code="P1",
            practice_name="Practice P1", as_of=AS_OF, weekly_capacity=14, n_listed=1,
            n_missing_contacts=0, selection=selection, config=config,
        )  # fmt: skip
        assert "; 1 place this run." in header.rule


def test_a_list_without_places_has_no_reserve_either(config, pathways):
    """A reserve backs up the main list. A practice with no places on a list (weekly capacity
    0; a weekday's 0 post-discharge places at 13 a week) got reserve names only, printed under
    "Reserve (if someone above cannot be reached)" with nobody above, and "0 on the list, 5 in
    reserve". Now the list is empty and says why; a list with main rows keeps its reserve."""
    from riskstrat.outreach.engine import OVER_CAPACITY, run_places, select_lists
    from riskstrat.outreach.header import empty_text

    pop = people(60, practices=("P1",))
    pop["risk"] = np.linspace(0.6, 0.06, 60)
    sel = select_lists(crisis_scores(pop), people=pop, outcomes=no_outcomes(),
                       practices=practices(("P1",), 0), pathways=pathways, config=config,
                       as_of=AS_OF)  # fmt: skip
    assert sel.lists.empty
    gone = sel.left_out.set_index(["pathway", "reason"])["count"]
    assert gone[("early_intervention", OVER_CAPACITY)] == 60
    said = empty_text("early_intervention", selection=sel, practice_code="P1", counts=None)
    assert said.startswith("Nobody listed: this list has no places this run; 60 people")
    # A Wednesday of a practice with 13 places a week: no post-discharge places that day.
    post = {"post_discharge": pathways["post_discharge"]}
    wednesday = date(2025, 6, 4)
    assert run_places("post_discharge", post["post_discharge"], config=config,
                      weekly_capacity=13, as_of=wednesday) == 0  # fmt: skip
    read = pd.DataFrame(
        {"task": "readmission_30d", "patient_id": pop["patient_id"].iloc[:5].to_numpy(),
         "index_date": pd.Timestamp("2025-06-03"), "index_spell_id": [f"s{i}" for i in range(5)],
         "risk": [0.15, 0.12, 0.1, 0.08, 0.05]}
    )  # fmt: skip
    day = select_lists(read, people=pop, outcomes=no_outcomes(), practices=practices(("P1",), 13),
                       pathways=post, config=config, as_of=wednesday)  # fmt: skip
    assert day.lists.empty
    # One discharge at 20 % or more is listed beyond the places: the reserve is back (the next
    # of the practice's top 2; the rest are below the list's rule).
    read.loc[0, "risk"] = 0.3
    day = select_lists(read, people=pop, outcomes=no_outcomes(), practices=practices(("P1",), 13),
                       pathways=post, config=config, as_of=wednesday)  # fmt: skip
    assert day.lists["section"].tolist() == ["main", "reserve"]
