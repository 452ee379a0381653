"""Rising risk: reasons are the largest increases in contribution between two weeks of the facts
that changed (pure), their points share out the net rise, one stay is said once, and a rise
driven only by planned care is flagged."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskstrat.explain import as_texts, explain, load_actions, top_reasons
from riskstrat.explain.changes import (
    MISALIGNED,
    change_reasons,
    expit,
    lower_first,
    planned_only,
    points_text,
    shown_points,
)
from riskstrat.features import load_catalogue

TEXTS = as_texts(load_catalogue())
NAN = np.nan


def frames(now: dict, then: dict, now_c: dict, then_c: dict):
    """The four frames change_reasons takes, rows "a", "b", ... (as many as the lists hold)."""
    n = len(next(iter(now.values())))
    idx = pd.Index(list("abcdefgh"[:n]))
    bias = {"bias": [-4.0] * n}
    return (
        pd.DataFrame({**now_c, **bias}, index=idx),
        pd.DataFrame({**then_c, **bias}, index=idx),
        pd.DataFrame(now, index=idx),
        pd.DataFrame(then, index=idx),
    )


def test_reasons_are_the_concepts_whose_contribution_rose_most() -> None:
    cols = [
        "emerg_adm_90d",
        "emerg_adm_365d",
        "days_since_emerg_adm",
        "distinct_drugs_90d",
        "reg_copd",
    ]
    now = dict(zip(cols, [[1, 0], [1, 0], [6, NAN], [11, 3], [1, 1]], strict=True))
    then = dict(zip(cols, [[0, 0], [0, 0], [NAN, NAN], [8, 3], [1, 1]], strict=True))
    now_c = dict(
        zip(cols, [[0.4, -0.1], [0.2, -0.1], [0.6, 0.0], [0.3, 0.0], [0.5, 0.5]], strict=True)
    )
    then_c = dict(
        zip(cols, [[-0.1, -0.1], [-0.1, -0.1], [0.0, 0.0], [0.1, 0.0], [0.5, 0.5]], strict=True)
    )
    out = change_reasons(*frames(now, then, now_c, then_c), texts=TEXTS, k=3)
    logit_now = -4.0 + sum(v[0] for v in now_c.values())
    adm = 0.5 + 0.3 + 0.6  # the concept's three members' increases, summed
    own = (expit(logit_now) - expit(logit_now - adm)) * 100  # everything else held
    drugs_own = (expit(logit_now) - expit(logit_now - 0.2)) * 100
    # the two effects add up to more than the net rise: each is scaled down to its share
    net = (expit(logit_now) - expit(logit_now - adm - 0.2)) * 100
    assert own + drugs_own > net
    points, drugs = own * net / (own + drugs_own), drugs_own * net / (own + drugs_own)
    assert out.loc["a", "contribution_1"] == pytest.approx(adm)
    assert out.loc["a", "rise_points_1"] == pytest.approx(points)
    assert out.loc["a", "rise_points_2"] == pytest.approx(drugs)
    shown = shown_points(np.array([points, drugs]))
    assert (
        out.loc["a", "reason_1"] == f"New: emergency admission 6 days ago {points_text(shown[0])}"
    )
    assert out.loc["a", "feature_1"] == "days_since_emerg_adm" and bool(out.loc["a", "recent_1"])
    assert out.loc["a", "reason_2"] == (
        f"Taking 11 different medicines (polypharmacy, 10 or more) (was 8) {points_text(shown[1])}"
    )
    # an unchanged register is not a change; nothing rose for b
    assert pd.isna(out.loc["a", "reason_3"])
    assert out.loc["b", ["reason_1", "reason_2", "reason_3"]].isna().all()
    # a change worth fewer points than the configured minimum is not said
    assert drugs < 5 < points
    strict = change_reasons(*frames(now, then, now_c, then_c), texts=TEXTS, k=3, min_points=5)
    assert strict.loc["a", "feature_1"] == "days_since_emerg_adm"
    assert pd.isna(strict.loc["a", "reason_2"])


def test_a_new_stay_is_one_change_reason() -> None:
    """A new emergency admission and the discharge that ended it: one reason, both rises."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "days_since_discharge", "reg_copd"]
    now = dict(zip(cols, [[1, 1], [6, 6], [1, 1], [1, 1]], strict=True))
    then = dict(zip(cols, [[0, 0], [NAN, NAN], [NAN, 300], [1, 1]], strict=True))
    now_c = dict(zip(cols, [[0.3, 0.3], [0.6, 0.6], [1.2, 1.2], [0.5, 0.5]], strict=True))
    then_c = dict(zip(cols, [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.5, 0.5]], strict=True))
    # the last discharge ended the emergency stay (a column the model does not use)
    now_c, then_c, now_v, then_v = frames(now, then, now_c, then_c)
    out = change_reasons(now_c, then_c, now_v.assign(days_since_emerg_discharge=[1, 1]), then_v,
                         texts=TEXTS, k=3)  # fmt: skip
    logit_now = -4.0 + 0.3 + 0.6 + 1.2 + 0.5
    stay = 0.3 + 0.6 + 1.2  # both concepts' rises; the discharge's (1.2) the larger
    points = (expit(logit_now) - expit(logit_now - stay)) * 100
    for row in ("a", "b"):  # b was discharged before (300 days): the newer discharge is new
        assert out.loc[row, "reason_1"] == (
            "New: emergency admission 6 days ago, discharged from hospital yesterday "
            f"{points_text(points)}"
        )
        assert out.loc[row, "feature_1"] == "days_since_discharge"
        assert out.loc[row, "contribution_1"] == pytest.approx(stay)
        assert out.loc[row, "rise_points_1"] == pytest.approx(points)
        assert pd.isna(out.loc[row, "reason_2"])
    # without that column (or another stay ended last), two reasons
    two = change_reasons(now_c, then_c, now_v, then_v, texts=TEXTS, k=3)
    assert two.loc["a", "reason_1"].startswith("New: discharged from hospital yesterday")
    assert two.loc["a", "reason_2"].startswith("New: emergency admission 6 days ago")


def test_the_points_of_a_rise_never_add_up_to_more_than_the_rise() -> None:
    """Defect 1 (demo P00034122: rose 13.2 points, its reason said +19): the admission's own
    effect exceeds the net rise because something else fell; its points are its share."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "distinct_drugs_90d"]
    now = dict(zip(cols, [[1, 1], [6, 6], [8, 11]], strict=True))
    then = dict(zip(cols, [[0, 0], [NAN, NAN], [11, 8]], strict=True))
    now_c = dict(zip(cols, [[0.5, 0.5], [1.0, 1.0], [0.0, 0.3]], strict=True))
    then_c = dict(zip(cols, [[0.0, 0.0], [0.0, 0.0], [0.6, 0.0]], strict=True))
    out = change_reasons(*frames(now, then, now_c, then_c), texts=TEXTS, k=3, min_points=0)
    now_logit = -4.0 + np.array([1.5, 1.8])
    net = (expit(now_logit) - expit(np.array([-3.4, -4.0]))) * 100
    for r, row in enumerate(("a", "b")):  # a: medicines fell; b: both rose
        parts = out.loc[row, ["rise_points_1", "rise_points_2", "rise_points_3"]].fillna(0)
        assert 0 < parts.sum() <= net[r] + 1e-9
        said = [float(t.rsplit("(+", 1)[1].split(" ")[0]) for t in out.loc[row].filter(
            regex=r"^reason_\d$").dropna()]  # fmt: skip
        assert sum(said) <= round(net[r], 1) + 1e-9
    # a: the admission is the only change that rose: it carries the whole net rise
    own = (expit(now_logit[0]) - expit(now_logit[0] - 1.5)) * 100
    assert own > net[0] and out.loc["a", "rise_points_1"] == pytest.approx(net[0])
    assert out.loc["a", "reason_1"] == f"New: emergency admission 6 days ago {points_text(net[0])}"
    assert pd.isna(out.loc["a", "reason_2"])  # medicines fell: not a reason for the rise


def test_the_points_never_exceed_the_lists_rise_when_the_calendar_level_fell() -> None:
    """The list's rise is risk now at this week's calendar level minus last week's risk at last
    week's level; the reasons share out the rise from the features, at most the list's rise."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm"]
    now = dict(zip(cols, [[1, 1], [6, 6]], strict=True))
    then = dict(zip(cols, [[0, 0], [NAN, NAN]], strict=True))
    now_c = dict(zip(cols, [[0.5, 0.5], [1.0, 1.0]], strict=True))
    then_c = dict(zip(cols, [[0.0, 0.0], [0.0, 0.0]], strict=True))
    shift = np.array([-0.3, 0.3])  # a: the level fell since last week; b: it rose

    def this_week(z: np.ndarray) -> np.ndarray:
        return expit(z)

    def last_week(z: np.ndarray) -> np.ndarray:
        return expit(z - shift)

    out = change_reasons(*frames(now, then, now_c, then_c), texts=TEXTS, k=3,
                         risk_of_logit=this_week, prev_risk_of_logit=last_week)  # fmt: skip
    features = (expit(-2.5) - expit(-4.0)) * 100
    listed = (expit(-2.5) - expit(-4.0 - shift)) * 100
    assert listed[0] < features < listed[1]
    assert out.loc["a", "rise_points_1"] == pytest.approx(listed[0])  # capped at the list's
    assert out.loc["b", "rise_points_1"] == pytest.approx(features)  # the calendar's part unsaid


def test_a_stays_nights_are_said_with_its_admission_and_discharge() -> None:
    """Defect 2 (demo P00039578, P00037453): "New: emergency admission 6 days ago, discharged
    from hospital 2 days ago" beside "New: 4 nights in hospital in the last 2 years": one stay."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "days_since_discharge", "bed_days_730d"]
    now = dict(zip(cols, [[1, 0], [6, NAN], [2, 2], [4, 9]], strict=True))
    then = dict(zip(cols, [[0, 0], [NAN, NAN], [NAN, 300], [0, 5]], strict=True))
    now_c = dict(zip(cols, [[0.3, 0.0], [0.6, 0.0], [1.2, 1.0], [0.2, 0.3]], strict=True))
    then_c = dict(zip(cols, [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.1]], strict=True))
    now_c, then_c, now_v, then_v = frames(now, then, now_c, then_c)
    # a: the last discharge ended the emergency stay; b: a (planned) stay ended 2 days ago
    now_v = now_v.assign(days_since_emerg_discharge=[2, NAN])
    out = change_reasons(now_c, then_c, now_v, then_v, texts=TEXTS, k=3)
    assert out.loc["a", "reason_1"].startswith(
        "New: emergency admission 6 days ago, discharged from hospital 2 days ago (+"
    )
    assert out.loc["a", "contribution_1"] == pytest.approx(0.3 + 0.6 + 1.2 + 0.2)
    logit = -4.0 + 2.3
    assert out.loc["a", "rise_points_1"] == pytest.approx((expit(logit) - expit(-4.0)) * 100)
    assert pd.isna(out.loc["a", "reason_2"])
    assert out.loc["b", "reason_1"].startswith("New: discharged from hospital 2 days ago (+")
    assert out.loc["b", "contribution_1"] == pytest.approx(1.0 + 0.2)
    assert pd.isna(out.loc["b", "reason_2"])


def test_the_points_never_exceed_a_smaller_rise_column_from_another_model() -> None:
    """Last week's stored score came from another model version (a retrain in between): the
    list's Rise column is smaller than the rise this model computes, and the points share out
    the Rise column, not more (review)."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "days_since_discharge", "bed_days_730d"]
    now = dict(zip(cols, [[0], [NAN], [2], [3]], strict=True))
    then = dict(zip(cols, [[0], [NAN], [300], [3]], strict=True))
    now_c = dict(zip(cols, [[0.0], [0.0], [1.5], [0.1]], strict=True))
    then_c = dict(zip(cols, [[0.0], [0.0], [0.0], [0.1]], strict=True))
    now_c, then_c, now_v, then_v = frames(now, then, now_c, then_c)
    frames_ = (now_c, then_c, now_v.assign(days_since_emerg_discharge=[NAN]), then_v)
    free = change_reasons(*frames_, texts=TEXTS, k=3)
    capped = change_reasons(*frames_, texts=TEXTS, k=3, rise_cap=np.array([2.0]))
    assert free.loc["a", "rise_points_1"] > 2.0
    assert capped.loc["a", "rise_points_1"] == pytest.approx(2.0)
    assert capped.loc["a", "reason_1"].endswith("(+2.0 points)")


def test_nights_that_fell_are_not_said_as_the_new_stays_nights() -> None:
    """Older nights slid out of the window while a short new stay ended: the nights fell. That
    fall is not this stay's nights and must not take from the discharge's points (review)."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "days_since_discharge", "bed_days_730d"]
    now = dict(zip(cols, [[0], [NAN], [2], [3]], strict=True))
    then = dict(zip(cols, [[0], [NAN], [300], [8]], strict=True))
    now_c = dict(zip(cols, [[0.0], [0.0], [1.0], [0.1]], strict=True))
    then_c = dict(zip(cols, [[0.0], [0.0], [0.0], [0.4]], strict=True))
    now_c, then_c, now_v, then_v = frames(now, then, now_c, then_c)
    now_v = now_v.assign(days_since_emerg_discharge=[NAN])
    out = change_reasons(now_c, then_c, now_v, then_v, texts=TEXTS, k=3)
    assert out.loc["a", "reason_1"].startswith("New: discharged from hospital 2 days ago (+")
    assert out.loc["a", "contribution_1"] == pytest.approx(1.0)


def test_a_stay_that_began_before_last_week_is_said_whole_by_its_discharge() -> None:
    """In hospital at last week's run (admitted 26 days before it), discharged yesterday: the
    admission is no change, but the stay is one: said by its discharge with the admission's
    date and nights, the discharge's and nights' points only."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "days_since_discharge", "bed_days_730d"]
    now = dict(zip(cols, [[1], [33], [1], [32]], strict=True))
    then = dict(zip(cols, [[1], [26], [NAN], [26]], strict=True))
    now_c = dict(zip(cols, [[0.4], [0.5], [1.2], [0.3]], strict=True))
    then_c = dict(zip(cols, [[0.4], [0.3], [0.0], [0.2]], strict=True))
    now_c, then_c, now_v, then_v = frames(now, then, now_c, then_c)
    now_v = now_v.assign(days_since_emerg_discharge=[1])
    out = change_reasons(now_c, then_c, now_v, then_v, texts=TEXTS, k=3)
    assert out.loc["a", "reason_1"].startswith(
        "New: emergency admission 33 days ago, discharged from hospital yesterday (+"
    )
    assert out.loc["a", "contribution_1"] == pytest.approx(1.2 + 0.1)  # not the admission's
    assert out.loc[["a"], ["reason_2", "reason_3"]].isna().all(axis=None)


def test_a_fact_that_did_not_change_is_not_a_reason_for_the_rise() -> None:
    """Defect 3 (demo P00017084: "Has 3 long-term conditions (+0.9 points)", 3 at both runs):
    a contribution that moved only through what changed is not a reason; nor is an event that
    only got a week older."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "ltc_count", "days_since_discharge"]
    now = dict(zip(cols, [[1, 1], [6, 6], [3, 4], [307, 307]], strict=True))
    then = dict(zip(cols, [[0, 0], [NAN, NAN], [3, 3], [300, 300]], strict=True))
    now_c = dict(zip(cols, [[0.5, 0.5], [1.0, 1.0], [0.4, 0.4], [0.2, 0.2]], strict=True))
    then_c = dict(zip(cols, [[0.0, 0.0], [0.0, 0.0], [0.2, 0.2], [0.0, 0.0]], strict=True))
    out = change_reasons(*frames(now, then, now_c, then_c), texts=TEXTS, k=3, min_points=0)
    reasons = out.filter(regex=r"^reason_\d$")
    assert out.loc["a", "feature_1"] == "days_since_emerg_adm"
    assert reasons.loc["a"].notna().sum() == 1  # 3 conditions at both runs; discharge older
    assert out.loc["b", "reason_2"].startswith("Has 4 long-term conditions (was 3) (+")
    assert not reasons.stack().str.contains("discharged", case=False).any()


def test_wording_helpers() -> None:
    assert points_text(9.2) == "(+9.2 points)" and points_text(0.64) == "(+0.6 points)"
    assert points_text(17.0) == "(+17.0 points)"
    # one decimal each, adding up to the rounding of their sum (largest remainders)
    assert shown_points(np.array([6.06, 6.06])).tolist() == [6.1, 6.0]
    assert shown_points(np.array([17.5661])).tolist() == [17.6]
    assert shown_points(np.array([0.04, 0.04, 0.04])).tolist() == [0.1, 0.0, 0.0]
    assert lower_first("Emergency admission 6 days ago") == "emergency admission 6 days ago"
    for keep in ("A&E visit yesterday", "COPD diagnosed 3 months ago", "HbA1c very high: 80"):
        assert lower_first(keep) == keep


def test_misaligned_weeks_are_an_error() -> None:
    a = pd.DataFrame({"reg_copd": [1.0]}, index=["x"])
    b = pd.DataFrame({"reg_copd": [1.0]}, index=["y"])
    with pytest.raises(ValueError) as err:
        change_reasons(a, a, a, b, texts=TEXTS)
    assert str(err.value) == MISALIGNED.format(detail="1 vs 1 rows")


def test_a_rise_after_planned_care_only_is_flagged() -> None:
    idx = pd.Index(["planned", "both", "none", "emergency"])
    now = pd.DataFrame(
        {"elective_adm_90d": [1, 1, 0, 0], "emerg_adm_90d": [0, 1, 0, 0],
         "days_since_emerg_adm": [NAN, 3, NAN, 2], "ae_90d": [0, 0, 0, 0]}, index=idx,
    )  # fmt: skip
    then = pd.DataFrame(
        {"elective_adm_90d": [0, 0, 0, 0], "emerg_adm_90d": [0, 0, 0, 0],
         "days_since_emerg_adm": [NAN, NAN, NAN, 400], "ae_90d": [0, 0, 0, 0]}, index=idx,
    )  # fmt: skip
    flags = planned_only(now, then, texts=TEXTS)
    assert flags.to_dict() == {"planned": True, "both": False, "none": False, "emergency": False}


class Tiny:
    """A real LightGBM model over real catalogue features, with a calibrator."""

    name, version = "crisis", "1"
    feature_names = (
        "emerg_adm_90d",
        "days_since_emerg_adm",
        "distinct_drugs_90d",
        "age",
        "elective_adm_90d",
    )

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        n = 4000
        X = pd.DataFrame(
            {"emerg_adm_90d": rng.poisson(0.2, n).astype(float),
             "days_since_emerg_adm": np.where(rng.random(n) < 0.3, rng.integers(1, 700, n), np.nan),
             "distinct_drugs_90d": rng.poisson(4, n).astype(float),
             "age": rng.uniform(20, 95, n).round(),
             "elective_adm_90d": rng.poisson(0.1, n).astype(float)}
        )  # fmt: skip
        z = -4 + 1.2 * X["emerg_adm_90d"] + 0.15 * X["distinct_drugs_90d"] + 0.03 * (X["age"] - 60)
        y = rng.random(n) < 1 / (1 + np.exp(-z))
        self.booster = lgb.train(
            {"objective": "binary", "verbose": -1, "num_leaves": 8, "seed": 1},
            lgb.Dataset(X, label=y.astype(int)),
            num_boost_round=30,
        )

    def calibrator(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(raw) * 0.9

    def predict_risk(self, X: pd.DataFrame) -> np.ndarray:
        return self.calibrator(self.booster.predict(X[list(self.feature_names)]))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        values = self.booster.predict(X[list(self.feature_names)], pred_contrib=True)
        return pd.DataFrame(values, columns=[*self.feature_names, "bias"], index=X.index)


def test_explain_uses_last_weeks_row_for_rising_rows_only() -> None:
    model = Tiny()
    now = pd.DataFrame(
        {"emerg_adm_90d": [2.0, 0.0, 2.0], "days_since_emerg_adm": [5.0, NAN, 5.0],
         "distinct_drugs_90d": [9.0, 4.0, 9.0], "age": [80.0, 70.0, 80.0],
         "elective_adm_90d": [0.0, 1.0, 0.0]}, index=[10, 11, 12],
    )  # fmt: skip
    prev = pd.DataFrame(
        {"emerg_adm_90d": [0.0, 0.0], "days_since_emerg_adm": [NAN, NAN],
         "distinct_drugs_90d": [9.0, 4.0], "age": [80.0, 70.0], "elective_adm_90d": [0.0, 0.0]},
        index=[10, 11],
    )  # fmt: skip
    out = explain(model, now, texts=TEXTS, actions=load_actions(), previous=prev)
    assert out.loc[10, "reasons_are_changes"] and out.loc[10, "reason_1"].startswith("New: ")
    delta = model.contributions(now.loc[[10]]) - model.contributions(prev.loc[[10]])
    adm = delta[["emerg_adm_90d", "days_since_emerg_adm"]].sum(axis=1).iloc[0]
    assert out.loc[10, "contribution_1"] == pytest.approx(adm)
    # the rise in points uses the model's calibrator (x 0.9 here)
    logit = model.contributions(now.loc[[10]]).sum(axis=1).iloc[0]
    expected = (model.calibrator(expit(logit)) - model.calibrator(expit(logit - adm))) * 100
    assert out.loc[10, "rise_points_1"] == pytest.approx(expected)
    # row 11 rose after a planned admission only; row 12 had no previous row: level reasons
    assert bool(out.loc[11, "rise_planned_only"]) and not bool(out.loc[10, "rise_planned_only"])
    assert not out.loc[12, "reasons_are_changes"] and pd.isna(out.loc[12, "rise_planned_only"])
    level = top_reasons(model.contributions(now.loc[[12]]), now.loc[[12]], texts=TEXTS)
    assert out.loc[12, "reason_1"] == level.loc[12, "reason_1"]
    assert out["actions"].notna().all()


def test_an_emergency_admission_and_the_ae_visit_it_came_through_are_one_reason() -> None:
    """The demo's rising-risk lists (29/12/2025), 2 of 20 rows: "New: emergency admission
    yesterday, discharged the same day (+6.3 points)" and "New: A&E visit yesterday (+1.1
    points)", one emergency said as two reasons (and given two actions). Now one reason with
    both rises. An A&E visit on another day (c: 4 days before the admission) stays its own."""
    cols = ["emerg_adm_90d", "days_since_emerg_adm", "days_since_discharge", "ae_90d",
            "days_since_ae"]  # fmt: skip
    now = dict(zip(cols, [[1, 1, 1], [1, 6, 6], [1, 2, 2], [1, 1, 1], [1, 7, 10]], strict=True))
    then = dict(zip(cols, [[0] * 3, [NAN] * 3, [NAN] * 3, [0] * 3, [NAN] * 3], strict=True))
    now_c = dict(zip(cols, [[0.3] * 3, [0.6] * 3, [1.2] * 3, [0.1] * 3, [0.4] * 3], strict=True))
    then_c = dict(zip(cols, [[0.0] * 3] * 5, strict=True))
    now_c, then_c, now_v, then_v = frames(now, then, now_c, then_c)
    now_v = now_v.assign(days_since_emerg_discharge=[1, 2, 2])  # each: one emergency stay
    out = change_reasons(now_c, then_c, now_v, then_v, texts=TEXTS, k=3)
    logit = -4.0 + 0.3 + 0.6 + 1.2 + 0.1 + 0.4
    everything = (expit(logit) - expit(-4.0)) * 100
    assert out.loc["a", "reason_1"] == (
        f"New: emergency admission (via A&E) yesterday, discharged the same day "
        f"{points_text(everything)}"
    )
    assert out.loc["a", "contribution_1"] == pytest.approx(0.3 + 0.6 + 1.2 + 0.1 + 0.4)
    assert pd.isna(out.loc["a", "reason_2"])
    # b: arrived the evening before the admission day, admitted after midnight
    assert out.loc["b", "reason_1"].startswith(
        "New: emergency admission (via A&E) 6 days ago, discharged from hospital 2 days ago (+"
    )
    assert pd.isna(out.loc["b", "reason_2"])
    assert "A&E" not in out.loc["c", "reason_1"]
    assert out.loc["c", "reason_2"].startswith("New: A&E visit 10 days ago (+")
