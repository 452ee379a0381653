"""Cross-fitted calibration: patient-disjoint folds, the calibrator fitted on the training
rows' out-of-fold raw scores plus the calib rows', and the cap on the rows cross-fitted (whole
patients, the same every run, nothing changed below it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from model_frames import FAST, FEATURES

from riskstrat.models.booster import feature_levels, raw_score
from riskstrat.models.calibrate import fit_calibrator
from riskstrat.models.config import load_model_config
from riskstrat.models.core import fit_all
from riskstrat.models.crossfit import cross_fit_sample, fold_of, out_of_fold_raw


def test_folds_keep_a_patient_together_and_cover_every_fold() -> None:
    train = pd.DataFrame({"patient_id": [f"P{i % 300}" for i in range(1200)]})
    fold = fold_of(train, folds=5, seed=7)
    assert set(fold) == {0, 1, 2, 3, 4}
    assert (pd.Series(fold).groupby(train["patient_id"]).nunique() == 1).all()
    np.testing.assert_array_equal(fold, fold_of(train, folds=5, seed=7))  # stable
    assert not np.array_equal(fold, fold_of(train, folds=5, seed=8))


def test_the_calibrator_is_fitted_on_out_of_fold_and_calib_scores(split_matrix) -> None:
    config = load_model_config(
        "readmission_30d",
        overrides={
            **FAST,
            "baselines": {"logistic": False},
            "calibration": {"cross_fit_folds": 3, "bag_folds": False},
        },
    )
    fitted = fit_all(split_matrix, features=FEATURES, config=config)
    train = split_matrix[split_matrix["split"] == "train"]
    valid = split_matrix[split_matrix["split"] == "valid"]
    calib = split_matrix[split_matrix["split"] == "calib"]
    oof = out_of_fold_raw(train, valid, features=FEATURES, config=config, folds=3)
    assert not np.isnan(oof).any()
    in_sample = raw_score(fitted.booster, train, levels=feature_levels(FEATURES))
    assert not np.allclose(oof, in_sample)  # scored by boosters that did not see the row
    raw = np.concatenate([oof, raw_score(fitted.booster, calib, levels=feature_levels(FEATURES))])
    y = np.concatenate([train["label"].to_numpy(float), calib["label"].to_numpy(float)])
    assert fitted.calibrator == fit_calibrator(raw, y, method="platt")
    plain = fit_all(
        split_matrix,
        features=FEATURES,
        config=config.model_copy(update={"calibration": config.calibration.model_copy(
            update={"cross_fit_folds": 0})}),
    )  # fmt: skip
    assert plain.calibrator != fitted.calibrator


def _patients(rows_per_patient: list[int]) -> pd.DataFrame:
    ids = [f"P{k}" for k, n in enumerate(rows_per_patient) for _ in range(n)]
    return pd.DataFrame({"patient_id": ids, "row": range(len(ids))}, index=range(7, 7 + len(ids)))


def test_cross_fit_sample_takes_whole_patients_up_to_the_cap() -> None:
    train = _patients([1 + k % 7 for k in range(600)])  # 2,397 rows, 1 to 7 per patient
    got = cross_fit_sample(train, max_rows=1000, seed=7)
    assert 1000 - 7 < len(got) <= 1000  # filled up to the cap, never over it
    whole = train[train["patient_id"].isin(got["patient_id"])]
    pd.testing.assert_frame_equal(got, whole)  # every row of each patient taken, in order
    pd.testing.assert_frame_equal(got, cross_fit_sample(train, max_rows=1000, seed=7))
    other = cross_fit_sample(train, max_rows=1000, seed=8)
    assert set(other["patient_id"]) != set(got["patient_id"])
    again = cross_fit_sample(train.sample(frac=1, random_state=1), max_rows=1000, seed=7)
    assert set(again["patient_id"]) == set(got["patient_id"])  # by patient, not by position


def test_cross_fit_sample_is_the_training_rows_themselves_up_to_the_cap() -> None:
    train = _patients([3] * 400)
    assert cross_fit_sample(train, max_rows=1200, seed=7) is train
    assert cross_fit_sample(train, max_rows=None, seed=7) is train
    assert len(cross_fit_sample(train, max_rows=1199, seed=7)) == 1197


def _cross_fit(split_matrix, **calibration) -> tuple:
    config = load_model_config(
        "readmission_30d",
        overrides={
            **FAST,
            "baselines": {"logistic": False},
            "calibration": {"cross_fit_folds": 3, "bag_folds": False, **calibration},
        },
    )
    return config, fit_all(split_matrix, features=FEATURES, config=config)


def test_a_cap_at_or_above_the_training_rows_changes_nothing(split_matrix) -> None:
    _, uncapped = _cross_fit(split_matrix)
    _, capped = _cross_fit(split_matrix, cross_fit_max_rows=12_000)  # = the training rows
    assert capped.calibrator == uncapped.calibrator
    test = split_matrix[split_matrix["split"] == "test"]
    np.testing.assert_array_equal(capped.predict(test), uncapped.predict(test))


def test_a_cap_below_cross_fits_the_sample_only(split_matrix) -> None:
    config, fitted = _cross_fit(split_matrix, cross_fit_max_rows=5000)
    train = split_matrix[split_matrix["split"] == "train"]
    valid = split_matrix[split_matrix["split"] == "valid"]
    calib = split_matrix[split_matrix["split"] == "calib"]
    sample = cross_fit_sample(train, max_rows=5000, seed=config.seed)
    assert len(sample) == 5000  # one row per patient here
    oof = out_of_fold_raw(sample, valid, features=FEATURES, config=config, folds=3)
    raw = np.concatenate([oof, raw_score(fitted.booster, calib, levels=feature_levels(FEATURES))])
    y = np.concatenate([sample["label"].to_numpy(float), calib["label"].to_numpy(float)])
    assert fitted.calibrator == fit_calibrator(raw, y, method="platt")
    _, uncapped = _cross_fit(split_matrix)
    assert fitted.calibrator != uncapped.calibrator
