"""Bagging the cross-fit's fold boosters (`calibration.bag_folds`): the ensemble's raw score,
its calibrator's rows, exact SHAP contributions, the bundle on disk, old bundles and MLflow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from model_frames import FAST, FEATURES, synthetic_task_data

from riskstrat.config import ConfigError
from riskstrat.models.booster import (
    contributions,
    ensemble_contributions,
    ensemble_raw_score,
    feature_levels,
    predict_matrix,
    raw_score,
)
from riskstrat.models.bundle import MEMBERS_META, META_FILE, Bundle
from riskstrat.models.calibrate import fit_calibrator
from riskstrat.models.config import BAG_NEEDS_FOLDS, load_model_config
from riskstrat.models.core import fit_all
from riskstrat.models.crossfit import out_of_fold_raw

FOLDS = 3
SPLITS = ("train", "valid", "calib")
BAGGED = {**FAST, "baselines": {"logistic": False}}
BAGGED["calibration"] = {"cross_fit_folds": FOLDS, "bag_folds": True}


@pytest.fixture(scope="module")
def bagged(split_matrix):
    config = load_model_config("readmission_30d", overrides=BAGGED)
    return config, fit_all(split_matrix, features=FEATURES, config=config)


def _margins(fitted, x) -> np.ndarray:
    names = fitted.booster.feature_name()
    m = predict_matrix(x, names, levels=fitted.levels)
    return np.array([b.predict(m, raw_score=True) for b in fitted.boosters])


def test_bagging_needs_the_cross_fit() -> None:
    assert load_model_config("readmission_30d").calibration.bag_folds  # shipped (docs/models.md)
    with pytest.raises(ConfigError) as err:
        load_model_config(
            "readmission_30d", overrides={"calibration": {"cross_fit_folds": 0, "bag_folds": True}}
        )
    assert BAG_NEEDS_FOLDS.format(folds=0) in str(err.value)


def test_the_raw_score_is_the_members_mean_log_odds(bagged, split_matrix) -> None:
    _, fitted = bagged
    assert len(fitted.members) == FOLDS and fitted.boosters[0] is fitted.booster
    test = split_matrix[split_matrix["split"] == "test"]
    expected = 1 / (1 + np.exp(-_margins(fitted, test).mean(axis=0)))
    np.testing.assert_allclose(fitted.raw(test), expected, rtol=1e-12)
    single = raw_score(fitted.booster, test, levels=fitted.levels)
    assert not np.allclose(fitted.raw(test), single)
    # one member: exactly the single booster's score (unbagged models score as before)
    np.testing.assert_array_equal(
        ensemble_raw_score((fitted.booster,), test, levels=fitted.levels), single
    )


def test_the_calibrator_sees_out_of_fold_and_ensemble_calib_scores(bagged, split_matrix) -> None:
    config, fitted = bagged
    train, valid, calib = (split_matrix[split_matrix["split"] == s] for s in SPLITS)
    oof = out_of_fold_raw(train, valid, features=FEATURES, config=config, folds=FOLDS)
    raw = np.concatenate([oof, fitted.raw(calib)])
    y = np.concatenate([train["label"].to_numpy(float), calib["label"].to_numpy(float)])
    assert fitted.calibrator == fit_calibrator(raw, y, method=config.calibration.method)
    test = split_matrix[split_matrix["split"] == "test"]
    np.testing.assert_allclose(fitted.predict(test), fitted.calibrator(fitted.raw(test)))


@pytest.mark.filterwarnings(
    "ignore:The set_(bad|over|under) function will be deprecated:PendingDeprecationWarning"
)
@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer:UserWarning")
def test_contributions_are_exact_shap_values_that_add_up(bagged, split_matrix) -> None:
    import shap  # its import warns about matplotlib colormap setters (third-party)

    _, fitted = bagged
    x = split_matrix[split_matrix["split"] == "test"].head(300)
    contrib = ensemble_contributions(fitted.boosters, x, levels=fitted.levels)
    assert list(contrib.columns) == [*fitted.booster.feature_name(), "bias"]
    margin = np.log(fitted.raw(x) / (1 - fitted.raw(x)))
    np.testing.assert_allclose(contrib.sum(axis=1), margin, atol=1e-9)
    # the members' mean of TreeSHAP values: SHAP is linear in the model
    m = predict_matrix(x, fitted.booster.feature_name(), levels=fitted.levels)
    values = np.mean([shap.TreeExplainer(b).shap_values(m) for b in fitted.boosters], axis=0)
    np.testing.assert_allclose(contrib.drop(columns="bias").to_numpy(), values, atol=1e-9)
    single = contributions(fitted.booster, x, levels=fitted.levels)
    assert not np.allclose(contrib.to_numpy(), single.to_numpy())


def test_a_bagged_bundle_saves_and_loads_its_members(bagged, split_matrix, tmp_path) -> None:
    _, fitted = bagged
    test = split_matrix[split_matrix["split"] == "test"]
    bundle = Bundle(
        task="readmission_30d",
        booster=fitted.booster,
        calibrator=fitted.calibrator,
        meta={"categories": {k: list(v) for k, v in feature_levels(FEATURES).items()}},
        members=fitted.members,
    )
    folder = bundle.save(tmp_path / "bundle")
    meta = json.loads((folder / META_FILE).read_text())
    assert meta[MEMBERS_META] == [f"member_{k}.txt" for k in range(1, FOLDS + 1)]
    assert all((folder / name).is_file() for name in meta[MEMBERS_META])
    loaded = Bundle.load(folder)
    assert len(loaded.members) == FOLDS and MEMBERS_META not in loaded.meta
    np.testing.assert_allclose(loaded.predict_risk(test), fitted.predict(test), rtol=1e-12)
    np.testing.assert_allclose(
        loaded.contributions(test.head(50)).to_numpy(),
        ensemble_contributions(fitted.boosters, test.head(50), levels=fitted.levels).to_numpy(),
        atol=1e-12,
    )


def test_an_unbagged_bundle_is_stored_and_scored_as_before(bagged, split_matrix, tmp_path):
    _, fitted = bagged
    test = split_matrix[split_matrix["split"] == "test"]
    single = Bundle(task="readmission_30d", booster=fitted.booster, calibrator=fitted.calibrator)
    folder = single.save(tmp_path / "single")
    assert MEMBERS_META not in json.loads((folder / META_FILE).read_text())
    assert sorted(p.name for p in folder.iterdir()) == [
        "booster.txt", "calibrator.json", "meta.json", "reference.json"
    ]  # fmt: skip
    loaded = Bundle.load(folder)
    assert loaded.members == ()
    expected = fitted.calibrator(raw_score(fitted.booster, test, levels=fitted.levels))
    np.testing.assert_array_equal(loaded.predict_risk(test), expected)


def test_a_bagged_model_through_mlflow_registry_and_pyfunc(tmp_path: Path) -> None:
    from riskstrat.models.mlflow_import import mlflow, quiet
    from riskstrat.models.registry import load_model
    from riskstrat.models.train import train_on_data

    uri = os.environ["MLFLOW_TRACKING_URI"]
    config = load_model_config("crisis", overrides=BAGGED)
    data = synthetic_task_data()
    result = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    assert len(result.fitted.members) == FOLDS
    test = data.dataset[data.dataset["split"] == "test"]
    model = load_model("crisis", tracking_uri=uri)
    assert len(model.members) == FOLDS
    expected = result.fitted.predict(test)
    np.testing.assert_allclose(model.predict_risk(test), expected, rtol=1e-12)
    contrib = model.contributions(test.head(100))
    raw = result.fitted.raw(test.head(100))
    np.testing.assert_allclose(contrib.sum(axis=1), np.log(raw / (1 - raw)), atol=1e-9)
    with quiet():
        pyfunc = mlflow.pyfunc.load_model(f"models:/riskstrat-crisis/{result.version}")
        served = pyfunc.predict(test[model.input_names].head(200))
    np.testing.assert_allclose(served, expected[:200], rtol=1e-12)
