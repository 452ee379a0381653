"""Actions that fit the list and the person: the pathway's own first action, at most two driver
actions, de-duplicated, never contradicting the pathway, "recent" only when it is, each with
its why."""

from __future__ import annotations

import pandas as pd
import pytest

from riskstrat.config import ConfigError, load_yaml
from riskstrat.explain.actions import JOIN, JOIN_IN_TEXT, Actions, load_actions, row_actions
from riskstrat.explain.wording import group_facts

ACTIONS = load_actions()
FOLLOW_UP = ACTIONS.pathways["post_discharge"].action
PALLIATIVE = ACTIONS.pathways["palliative_care"].action
CARE_HOME = ACTIONS.pathways["care_home"].action
LTC = "Long-term conditions review (combined annual review)"


def _rows(*rows: dict[str, object]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with pathway, group, feature_1..3; the feature values)."""
    frame = pd.DataFrame(
        [{"pathway": r["pathway"], "group": r.get("group"),
          **{f"feature_{i + 1}": f for i, f in enumerate(r["features"])}} for r in rows]
    )  # fmt: skip
    for i in (1, 2, 3):
        if f"feature_{i}" not in frame:
            frame[f"feature_{i}"] = None
    values = pd.DataFrame([r.get("values", {}) for r in rows], index=frame.index)
    return frame, values


def _actions(*rows: dict[str, object]) -> list[list[str]]:
    frame, values = _rows(*rows)
    got = row_actions(frame, actions=ACTIONS, values=values)
    whys = [w.split(JOIN) for w in got["action_why"]]
    acts = [a.split(JOIN) for a in got["actions"]]
    for a, w in zip(acts, whys, strict=True):
        assert len(a) == len(w) and all(w)  # every action has its why
    return acts


def test_each_special_pathway_starts_with_its_own_action():
    got = _actions(
        {"pathway": "post_discharge", "features": ["days_since_discharge", "reg_hf", "reg_copd"],
         "values": {"days_since_discharge": 1, "reg_hf": 1, "reg_copd": 1}},
        {"pathway": "palliative_care", "features": ["reg_hf"], "values": {"reg_hf": 1}},
        {"pathway": "care_home", "features": ["efi_latest"], "values": {"efi_latest": 0.4}},
    )  # fmt: skip
    assert got[0] == [FOLLOW_UP, "Heart failure review (weight monitoring, diuretic plan)",
                      "COPD rescue pack and self-management plan"]  # fmt: skip
    assert got[1][0] == PALLIATIVE and got[2][0] == CARE_HOME
    assert "Follow-up call after hospital discharge" not in got[0]  # no second call


def test_at_most_two_driver_actions_and_no_duplicates():
    got = _actions(
        {"pathway": "early_intervention",
         "features": ["distinct_drugs_90d", "opioid_90d", "lives_alone"],
         "values": {"distinct_drugs_90d": 12, "opioid_90d": 1, "lives_alone": 1}},
        {"pathway": "early_intervention", "features": ["reg_hf", "reg_copd", "reg_dm"],
         "values": {"reg_hf": 1, "reg_copd": 1, "reg_dm": 1}},
    )  # fmt: skip
    assert got[0] == ["Structured medication review",
                      "Social prescribing / care co-ordinator referral"]  # fmt: skip
    assert len(got[1]) == 2


def test_never_contradicts_the_pathway_or_group():
    """No annual long-term conditions review (or weight management, tight diabetes targets) for
    a palliative patient, on their own section or on the post-discharge list."""
    got = _actions(
        {"pathway": "palliative_care", "features": ["ltc_count", "reg_dm", "bmi_latest"],
         "values": {"ltc_count": 5, "reg_dm": 1, "bmi_latest": 41}},
        {"pathway": "post_discharge", "group": "palliative_care",
         "features": ["ltc_count", "efi_latest"], "values": {"ltc_count": 4, "efi_latest": 0.4}},
        {"pathway": "post_discharge", "group": "care_home", "features": ["distinct_drugs_90d"],
         "values": {"distinct_drugs_90d": 14}},
    )  # fmt: skip
    assert got[0] == [PALLIATIVE]
    assert got[1] == [FOLLOW_UP, PALLIATIVE, "Frailty assessment and falls prevention"]
    assert LTC not in got[1]
    assert got[2] == [FOLLOW_UP, CARE_HOME]  # medicines are reconciled by the first action


def test_recent_wording_only_for_recent_events():
    got = _actions(
        {"pathway": "early_intervention", "features": ["days_since_ae"],
         "values": {"days_since_ae": 875, "days_since_emerg_adm": 400}},
        {"pathway": "early_intervention", "features": ["ae_365d"],
         "values": {"ae_365d": 3, "days_since_ae": 20}},
        {"pathway": "early_intervention", "features": ["days_since_discharge"],
         "values": {"days_since_discharge": 351}},
    )  # fmt: skip
    assert got[0] == ["Anticipatory care plan (past emergency care)"]
    assert got[1] == ["Anticipatory care plan after recent emergency care"]
    assert got[2] == [ACTIONS.default]  # no "follow-up after discharge" a year later
    for row in got:
        for action in row:
            assert "recent" not in action or row is got[1]


def test_a_just_discharged_emergency_stay_is_recent_emergency_care():
    """On the demo's post-discharge lists, people discharged days ago from an emergency stay got
    "Anticipatory care plan (past emergency care)": days_since_emerg_adm leaves the index stay
    out. A stay that began as an emergency (LACE acuity 3) is recent emergency care."""
    previous = {"emerg_adm_730d": 2, "days_since_emerg_adm": 130, "days_since_ae": 400}
    got = _actions(
        {"pathway": "post_discharge", "features": ["emerg_adm_730d"],
         "values": {**previous, "lace_a": 3}},
        {"pathway": "post_discharge", "features": ["emerg_adm_730d"],
         "values": {**previous, "lace_a": 0}},  # a planned stay: the old admission is history
        {"pathway": "post_discharge", "features": ["emerg_adm_730d"],
         "values": {"emerg_adm_730d": 2, "lace_a": 3}},  # no emergency before this stay
    )  # fmt: skip
    assert got[0] == [FOLLOW_UP, "Anticipatory care plan after recent emergency care"]
    assert got[1] == [FOLLOW_UP, "Anticipatory care plan (past emergency care)"]
    assert got[2] == [FOLLOW_UP, "Anticipatory care plan after recent emergency care"]


def test_a_group_action_says_the_fact_it_rests_on():
    """A palliative care action on a post-discharge row whose reasons never say the person is on
    the palliative care register (the demo's P00025702, P00026211): the action's why says it."""
    frame, values = _rows(
        {"pathway": "post_discharge", "group": "palliative_care", "features": ["reg_copd"],
         "values": {"reg_copd": 1}},
        {"pathway": "post_discharge", "group": "care_home", "features": ["reg_copd"],
         "values": {"reg_copd": 1}},
        {"pathway": "palliative_care", "group": "palliative_care", "features": ["reg_copd"],
         "values": {"reg_copd": 1}},
    )  # fmt: skip
    got = row_actions(frame, actions=ACTIONS, values=values)
    acts = [a.split(JOIN) for a in got["actions"]]
    whys = [w.split(JOIN) for w in got["action_why"]]
    assert acts[0][1] == PALLIATIVE
    assert whys[0][1].startswith("on the palliative care register: a current plan")
    assert acts[1][1] == CARE_HOME
    assert whys[1][1].startswith("lives in a care home: ")
    # on its own list the list says it (and the first why is the pathway's own)
    assert whys[2][0] == ACTIONS.pathways["palliative_care"].why
    # every special group the actions know has its fact worded
    assert set(ACTIONS.groups) <= set(group_facts())


def test_zero_or_absent_drivers_call_for_nothing():
    got = _actions(
        {"pathway": "early_intervention", "features": ["gp_missed_90d", "bmi_latest"],
         "values": {"gp_missed_90d": 0, "bmi_latest": float("nan")}},
    )  # fmt: skip
    assert got == [[ACTIONS.default]]


def test_a_driver_missing_from_the_values_calls_for_nothing_but_without_values_it_counts():
    """Values given (here only for other columns): a reason whose value is not among them is
    absent; no values at all: every reason's rule applies."""
    frame, _ = _rows({"pathway": "early_intervention", "features": ["reg_hf"]})
    others = pd.DataFrame({"age": [80.0], "days_since_ae": [3.0]}, index=frame.index)
    assert row_actions(frame, actions=ACTIONS, values=others)["actions"].tolist() == [
        ACTIONS.default
    ]
    heart = "Heart failure review (weight monitoring, diuretic plan)"
    assert row_actions(frame, actions=ACTIONS)["actions"].tolist() == [heart]
    given = pd.DataFrame({"reg_hf": [1.0], "age": [80.0]}, index=frame.index)
    assert row_actions(frame, actions=ACTIONS, values=given)["actions"].tolist() == [heart]


def test_actions_text_may_not_hold_the_separator(tmp_path):
    path = tmp_path / "actions.yaml"
    path.write_text(
        "default: Review\nrules:\n  - action: A; B\n    features: [x]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_yaml(path, Actions)
    assert JOIN_IN_TEXT.format(text="A; B") in str(err.value)


def test_every_pathway_with_a_plan_of_care_has_its_first_action():
    assert set(ACTIONS.pathways) >= {"post_discharge", "palliative_care", "care_home"}
    assert set(ACTIONS.groups) == {"palliative_care", "care_home"}
    assert FOLLOW_UP.startswith("Follow-up call by the contact-by date")
    assert "medicines reconciliation" in FOLLOW_UP


@pytest.mark.parametrize("days_since_discharge", [20, 31, 120])
def test_one_hospital_stay_is_one_action_whichever_member_speaks(days_since_discharge):
    """A stay said as one reason ("Emergency admission 35 days ago, discharged from hospital 31
    days ago") gets the same one action whether its points came from the admission or the
    discharge (helper-54's month: said by the discharge 31 days on, it got none)."""
    stay = {"days_since_emerg_adm": days_since_discharge + 4,
            "days_since_discharge": days_since_discharge,
            "days_since_emerg_discharge": days_since_discharge}  # fmt: skip
    by_discharge, by_admission = _actions(
        {"pathway": "early_intervention", "features": ["days_since_discharge"], "values": stay},
        {"pathway": "early_intervention", "features": ["days_since_emerg_adm"], "values": stay},
    )
    expected = {
        20: "Follow-up call after hospital discharge",
        31: "Anticipatory care plan after recent emergency care",
        120: "Anticipatory care plan (past emergency care)",
    }[days_since_discharge]
    assert by_discharge == by_admission == [expected]


def test_a_discharge_that_is_not_the_emergency_stays_keeps_its_own_rule():
    """The last discharge ended a planned stay (it is not the last emergency stay's): the
    discharge reason is that stay's alone, its follow-up call only while recent."""
    values = {"days_since_emerg_adm": 200, "days_since_discharge": 31,
              "days_since_emerg_discharge": 195}  # fmt: skip
    got = _actions(
        {"pathway": "early_intervention", "features": ["days_since_discharge", "reg_hf"],
         "values": {**values, "reg_hf": 1}},
    )  # fmt: skip
    assert got == [["Heart failure review (weight monitoring, diuretic plan)"]]


@pytest.mark.parametrize("pathway", ["early_intervention", "rising_risk", "palliative_care"])
def test_a_discharge_a_post_discharge_list_asked_to_follow_up_gets_no_second_call(pathway):
    """A nurse's month (2026-01): 79 of the 238 weekly rows suggesting "Follow-up call after
    hospital discharge" were about a discharge a post-discharge list had already asked the
    practice to follow up (its Notes said "On the Post-discharge follow-up list of ...").
    That discharge's stay now takes its next action; a newer discharge still gets the call."""
    from riskstrat.explain.actions import FOLLOWED_UP_DAYS

    stay = {"days_since_emerg_adm": 10, "days_since_discharge": 8,
            "days_since_emerg_discharge": 8}  # fmt: skip
    listed_after = {**stay, FOLLOWED_UP_DAYS: 6}  # post-discharge list 6 days ago: this stay
    listed_before = {**stay, FOLLOWED_UP_DAYS: 12}  # an earlier discharge's listing
    never = dict(stay)
    got = _actions(
        *({"pathway": pathway, "features": ["days_since_discharge"], "values": v}
          for v in (listed_after, listed_before, never))
    )  # fmt: skip
    palliative = pathway == "palliative_care"
    first = [PALLIATIVE] if palliative else []
    # (no anticipatory care plan beside the palliative care plan: it is that plan)
    care_plan = [] if palliative else ["Anticipatory care plan after recent emergency care"]
    call = "Follow-up call after hospital discharge"
    assert got == [[*first, *care_plan], [*first, call], [*first, call]]
    # The option needs the columns that date the discharge.
    rule = {"action": "a", "features": ["days_since_discharge"], "once_per_discharge": True}
    with pytest.raises(ValueError, match="once_per_discharge needs"):
        Actions.model_validate({"default": "d", "rules": [rule]})


def test_the_lists_give_row_actions_the_days_since_the_follow_up_listing():
    """explain_lists hands row_actions each row's days from its post-discharge listing to its
    list date (select's followed_up_on), NaN where there was none."""
    from riskstrat.explain.actions import FOLLOWED_UP_DAYS
    from riskstrat.outreach.lists import _with_follow_up

    rows = pd.DataFrame(
        {"listed_on": pd.Timestamp("2026-01-05"),
         "followed_up_on": [pd.Timestamp("2025-12-30"), pd.NaT]}, index=[7, 9],
    )  # fmt: skip
    matrix = pd.DataFrame({"days_since_discharge": [8.0, 3.0]}, index=[7, 9])
    got = _with_follow_up(matrix, rows)
    assert got.loc[7, FOLLOWED_UP_DAYS] == 6
    assert pd.isna(got.loc[9, FOLLOWED_UP_DAYS])
    assert _with_follow_up(matrix, rows.drop(columns="followed_up_on")) is matrix


def test_a_palliative_row_has_one_care_plan_not_two():
    """The demo (29/12/2025): both palliative post-discharge rows read "Review the palliative
    care plan with the palliative care team; Anticipatory care plan after recent emergency
    care", and 2 of the 6 palliative-care rows the care plan review and an anticipatory care
    plan: the palliative care plan is that plan (anticipatory medicines, preferred place of
    care), so a nurse was asked for two plans. One action; the next driver takes the place."""
    emergency = {"emerg_adm_730d": 3, "days_since_emerg_adm": 20, "efi_latest": 0.4}
    old_emergency = {**emergency, "days_since_emerg_adm": 400, "days_since_ae": 400}
    got = _actions(
        {"pathway": "post_discharge", "group": "palliative_care",
         "features": ["emerg_adm_730d", "efi_latest"], "values": {**emergency, "lace_a": 3}},
        {"pathway": "palliative_care", "features": ["emerg_adm_730d", "efi_latest"],
         "values": emergency},
        {"pathway": "palliative_care", "features": ["emerg_adm_730d", "efi_latest"],
         "values": old_emergency},
        {"pathway": "post_discharge", "group": "care_home",  # other rows keep the plan
         "features": ["emerg_adm_730d"], "values": {**emergency, "lace_a": 3}},
    )  # fmt: skip
    frailty = "Frailty assessment and falls prevention"
    assert got[0] == [FOLLOW_UP, PALLIATIVE, frailty]
    assert got[1] == got[2] == [PALLIATIVE, frailty]
    assert got[3] == [FOLLOW_UP, CARE_HOME, "Anticipatory care plan after recent emergency care"]
