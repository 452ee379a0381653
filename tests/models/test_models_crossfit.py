"""Cross-fitted calibration: patient-disjoint folds, and the calibrator fitted on the training
rows' out-of-fold raw scores plus the calib rows'."""

from __future__ import annotations

import numpy as np
import pandas as pd
from model_frames import FAST, FEATURES

from riskstrat.models.booster import feature_levels, raw_score
from riskstrat.models.calibrate import fit_calibrator
from riskstrat.models.config import load_model_config
from riskstrat.models.core import fit_all
from riskstrat.models.crossfit import fold_of, out_of_fold_raw


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
