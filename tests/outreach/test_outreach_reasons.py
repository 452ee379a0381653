"""Reasons are the largest positive SHAP contributions, worded by the catalogue; actions follow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from outreach_model import FEATURES, SPECS, TinyModel, frame

from riskstrat.explain import explain, load_actions, top_reasons
from riskstrat.explain.explain import EXPLAIN_TOO_MANY, MAX_EXPLAIN_ROWS
from riskstrat.explain.reasons import MISSING_TEMPLATE


@pytest.fixture(scope="module")
def model():
    return TinyModel()


def test_reasons_are_the_largest_positive_contributions(model):
    X = frame(300, seed=5)
    out = explain(model, X, texts=SPECS, actions=load_actions())
    contrib = model.contributions(X)[list(FEATURES)]
    # Contributions are exact: they add up to the model's log-odds.
    logit = np.log(model.predict_risk(X) / (1 - model.predict_risk(X)))
    np.testing.assert_allclose(model.contributions(X).sum(axis=1), logit, rtol=1e-6)
    for i in range(len(X)):
        row = contrib.iloc[i]
        fact = (X.iloc[i] == 1) | ~X.columns.isin(["lives_alone", "reg_copd"])  # flags set
        positive = row[(row > 0) & fact].sort_values(ascending=False, kind="stable")
        expected = list(positive.index[:3]) + [None] * (3 - min(3, len(positive)))
        got = [out[f"feature_{k}"].iloc[i] for k in (1, 2, 3)]
        got = [None if pd.isna(f) else f for f in got]
        assert got == expected
        for k, feature in enumerate(got, start=1):
            if feature is None:
                assert pd.isna(out[f"reason_{k}"].iloc[i])
                continue
            assert out[f"contribution_{k}"].iloc[i] == pytest.approx(row[feature])
            assert out[f"reason_{k}"].iloc[i] == SPECS[feature].reason_text(X[feature].iloc[i])
            assert out[f"modifiable_{k}"].iloc[i] == SPECS[feature].modifiable


@pytest.mark.filterwarnings(
    "ignore:LightGBM binary classifier with TreeExplainer shap values output:UserWarning"
)
def test_columns_match_shap_tree_explainer(model):
    """The wrapper labels pred_contrib columns as shap labels its values (feature order)."""
    shap = pytest.importorskip("shap")
    X = frame(50, seed=9)
    values = shap.TreeExplainer(model.booster).shap_values(X)
    values = values[1] if isinstance(values, list) else values
    np.testing.assert_allclose(model.contributions(X)[list(FEATURES)].to_numpy(), values, atol=1e-6)


def test_wording_rounding_and_missing_values():
    contrib = pd.DataFrame(
        {"emerg_adm_365d": [0.9, 0.2], "distinct_drugs_90d": [0.5, -0.1], "age": [0.3, 0.4],
         "lives_alone": [-0.2, 0.0], "reg_copd": [0.1, 0.0], "bias": [-3.0, -3.0]}
    )  # fmt: skip
    values = pd.DataFrame(
        {"emerg_adm_365d": [3.0, 1.0], "distinct_drugs_90d": [11.0, 2.0], "age": [84.6, np.nan],
         "lives_alone": [1.0, 0.0], "reg_copd": [1.0, 0.0]}
    )  # fmt: skip
    out = top_reasons(contrib, values, texts=SPECS, k=3)
    assert out.loc[0, ["reason_1", "reason_2", "reason_3"]].tolist() == [
        "3 emergency admissions in the last year",
        "11 different medicines in the last 90 days",
        "Aged 84.6",
    ]
    # Row 2: age raised risk but is missing (nothing to say); zero and negative contributions are
    # never reasons: one reason only.
    assert out.loc[1, "reason_1"] == "1 emergency admissions in the last year"
    assert out.loc[1, ["reason_2", "reason_3", "feature_2", "feature_3"]].isna().all()
    assert out.loc[0, ["modifiable_1", "modifiable_2", "modifiable_3"]].tolist() == [
        False, True, False,
    ]  # fmt: skip


def test_flag_that_is_not_set_is_never_a_reason():
    contrib = pd.DataFrame({"reg_copd": [0.8], "lives_alone": [0.5], "age": [0.1], "bias": [0.0]})
    values = pd.DataFrame({"reg_copd": [0.0], "lives_alone": [1.0], "age": [70.0]})
    out = top_reasons(contrib, values, texts=SPECS, k=3)
    assert out.loc[0, ["reason_1", "reason_2"]].tolist() == ["Lives alone", "Aged 70"]
    assert pd.isna(out.loc[0, "reason_3"])


def test_unknown_feature_is_an_error():
    contrib = pd.DataFrame({"mystery": [1.0], "bias": [0.0]})
    with pytest.raises(KeyError) as err:
        top_reasons(contrib, pd.DataFrame({"mystery": [1.0]}), texts=SPECS)
    assert err.value.args[0] == MISSING_TEMPLATE.format(feature="mystery")


def test_actions_follow_reasons_in_order():
    actions = load_actions()
    reasons = pd.DataFrame(
        {
            "feature_1": ["distinct_drugs_90d", "reg_copd", "age"],
            "feature_2": ["lives_alone", "emerg_adm_365d", None],
            "feature_3": ["distinct_drugs_90d", None, None],
        }
    )
    from riskstrat.explain import suggest_actions

    got = suggest_actions(reasons, actions=actions).tolist()
    assert got[0] == "Structured medication review; Social prescribing / care co-ordinator referral"
    assert got[1].startswith("COPD rescue pack and self-management plan; ")
    assert got[2] == actions.default


def test_explain_refuses_the_whole_population(model):
    X = pd.DataFrame(0.0, index=range(MAX_EXPLAIN_ROWS + 1), columns=list(FEATURES))
    with pytest.raises(ValueError) as err:
        explain(model, X, texts=SPECS, actions=load_actions())
    assert str(err.value) == EXPLAIN_TOO_MANY.format(rows=MAX_EXPLAIN_ROWS + 1)


def test_actions_cover_the_real_catalogue():
    """Every rule names real features; every modifiable feature has a specific action; every
    catalogue reason template formats (flags at 1, numbers at a typical value)."""
    from fnmatch import fnmatchcase

    from riskstrat.explain import as_texts
    from riskstrat.features import load_catalogue

    texts = as_texts(load_catalogue())
    actions = load_actions()
    for rule in actions.rules:
        for pattern in rule.features:
            assert any(fnmatchcase(f, pattern) for f in texts), (rule.action, pattern)
    for name, spec in texts.items():
        if spec.modifiable:
            assert actions.for_feature(name), name
        value = 0.0 if spec.categories else 1.0
        assert spec.reason_text(value)


@pytest.mark.slow
def test_explain_lists_says_what_changed_on_rising_rows(
    isolated_paths, small_store, outreach_champions, monkeypatch
):
    """On the small store with real champions, scored two weeks running: rising-risk rows are
    explained by last week's features (change reasons with points), other rows by this week's,
    post-discharge rows carry "this discharge", and no reason breaks a rule."""
    import shutil
    from datetime import date

    import duckdb
    from click.testing import CliRunner

    from riskstrat.cli import main
    from riskstrat.config import load_settings
    from riskstrat.explain import as_texts
    from riskstrat.explain.reasons import reason_violations
    from riskstrat.features import load_catalogue
    from riskstrat.outreach.config import load_outreach_config, load_pathways
    from riskstrat.outreach.lists import explain_lists, select

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{outreach_champions}")
    settings = load_settings()
    settings.paths.store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(small_store, settings.paths.store)
    weeks = (date(2025, 12, 15), date(2025, 12, 22))
    for week in weeks:
        run = CliRunner().invoke(main, ["score", "--as-of", week.isoformat()])
        assert run.exit_code == 0, run.output
    config = load_outreach_config()
    pathways = load_pathways(config)
    with duckdb.connect(str(settings.paths.store), read_only=True) as con:
        lists = select(con, as_of=weeks[1], config=config, pathways=pathways).lists
        out = explain_lists(con, lists, settings=settings, pathways=pathways, config=config)
    rising = out[out["pathway"] == "rising_risk"]
    assert len(rising) > 0
    # what changed, with points that share out the row's rise (never more than its Rise
    # column); a row whose rise no changed fact raised keeps this week's reasons, no points
    changes = rising[rising["reasons_are_changes"].astype(bool)]
    assert len(changes) > 0
    assert changes["reason_1"].str.fullmatch(r".+ \(\+\d+\.\d points\)").all()
    points = changes.filter(regex=r"^rise_points_\d$").fillna(0).sum(axis=1)
    assert (points <= changes["rise_points"] + 1e-9).all()
    kept = rising.loc[~rising["reasons_are_changes"].astype(bool), "reason_1"]
    assert not kept.str.contains("points").any()
    assert rising["rise_planned_only"].notna().all()
    others = out[out["pathway"] != "rising_risk"]
    assert not others["reasons_are_changes"].any()
    discharges = out[out["task"] == "readmission_30d"]
    assert (
        len(discharges) > 0
        and discharges["this_discharge"].str.startswith("This discharge: ").all()
    )
    assert reason_violations(out, texts=as_texts(load_catalogue())) == []


def test_a_feature_the_list_already_states_is_never_its_reason(model):
    """`unsaid`: on a special group's own list the group's feature ("Lives in a care home" on
    the care-home list) is not a reason; the next one takes its place; other rows keep it."""
    X = frame(200, seed=5)
    plain = explain(model, X, texts=SPECS, actions=load_actions())
    top = plain["feature_1"]
    unsaid = pd.Series(pd.NA, index=X.index, dtype="object")
    rows = top.index[top.notna()][:20]
    unsaid.loc[rows] = top.loc[rows]
    out = explain(model, X, texts=SPECS, actions=load_actions(), unsaid=unsaid)
    for i in rows:
        said = {out.loc[i, f"feature_{k}"] for k in (1, 2, 3)}
        assert top.loc[i] not in said
        assert out.loc[i, "feature_1"] == plain.loc[i, "feature_2"] or pd.isna(
            plain.loc[i, "feature_2"]
        )
    others = X.index.difference(rows)
    pd.testing.assert_frame_equal(out.loc[others], plain.loc[others])


def test_each_group_feature_is_a_catalogue_feature():
    from riskstrat.explain import as_texts
    from riskstrat.explain.wording import group_facts, group_features
    from riskstrat.features import load_catalogue

    catalogue = set(as_texts(load_catalogue()))
    assert set(group_features()) == set(group_facts())
    assert set(group_features().values()) <= catalogue
