"""The calendar level forecast: fit, forecast, offset (pure), the store reader's cutoff (no
leakage), ranking within a date, the bundle and the MLflow pyfunc path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from model_frames import FEATURES

from riskstrat.models.bundle import Bundle
from riskstrat.models.core import NO_INDEX_DATE, fit_all
from riskstrat.models.level import (
    AFTER_CUTOFF,
    LINKS,
    NO_REFERENCE,
    TOO_FEW_WEEKS,
    UNKNOWN_LINK,
    LevelModel,
    apply_offset,
    fit_level,
    offset,
    window_log_level,
    with_reference,
)
from riskstrat.models.level_data import weekly_admissions

CUTOFF = date(2025, 10, 7)
TREND, AMP, PEAK = 0.03, 0.10, 14  # log rate per year; season amplitude; peak day of year


def true_log_multiplier(days: np.ndarray) -> np.ndarray:
    years = (days - np.datetime64(CUTOFF, "D").astype(np.int64)) / 365.25
    phase = 2 * np.pi * (days - PEAK) / 365.25
    return TREND * years + AMP * np.cos(phase)


def weekly_frame(weeks: int = 156, *, exposure: float = 5e8, seed: int = 0) -> pd.DataFrame:
    """Poisson weekly counts in two age bands (band 1: 4x the rate) with a known season and
    trend; exposure large enough that the fit is close to the truth."""
    rng = np.random.default_rng(seed)
    starts = [CUTOFF - timedelta(days=7 * (k + 1)) for k in range(weeks)][::-1]
    rows = []
    for start in starts:
        mid = np.datetime64(start, "D").astype(np.int64) + 3.5
        for band, base in ((0, 1e-4), (1, 4e-4)):
            mu = exposure * base * np.exp(true_log_multiplier(np.array([mid])))[0]
            rows.append((start, band, rng.poisson(mu), exposure))
    return pd.DataFrame(rows, columns=["week_start", "age_band", "admissions", "person_days"])


def test_fit_recovers_trend_and_season() -> None:
    model = fit_level(weekly_frame(), cutoff=CUTOFF, gap_days=0, horizon_days=90)
    assert model.trend == pytest.approx(TREND, abs=0.003)
    amplitude = np.hypot(model.cos[0], model.sin[0])
    assert amplitude == pytest.approx(AMP, abs=0.005)
    peak = np.arctan2(model.sin[0], model.cos[0]) * 365.25 / (2 * np.pi)
    assert peak == pytest.approx(PEAK, abs=4)
    assert model.weeks == 156 and model.cutoff == str(CUTOFF)
    # the forecast of a window matches the truth's mean multiplier over it
    days = np.datetime64(date(2026, 1, 1), "D").astype(np.int64) + np.arange(90)
    truth = np.log(np.exp(true_log_multiplier(days)).mean())
    assert window_log_level(model, [date(2026, 1, 1)])[0] == pytest.approx(truth, abs=0.01)


def test_fit_refuses_weeks_after_the_cutoff_and_too_little_history() -> None:
    weeks = weekly_frame()
    late = weeks.assign(week_start=weeks["week_start"] + timedelta(days=7))
    with pytest.raises(ValueError) as err:
        fit_level(late, cutoff=CUTOFF, gap_days=0, horizon_days=90)
    last = max(late["week_start"])
    assert str(err.value) == AFTER_CUTOFF.format(count=1, cutoff=CUTOFF, last=last)
    with pytest.raises(ValueError) as err:
        fit_level(weekly_frame(20), cutoff=CUTOFF, gap_days=0, horizon_days=90)
    assert str(err.value) == TOO_FEW_WEEKS.format(weeks=20, cutoff=CUTOFF, needed=52)


def test_offset_is_zero_on_average_over_the_reference_rows_and_round_trips() -> None:
    model = fit_level(weekly_frame(), cutoff=CUTOFF, gap_days=0, horizon_days=90)
    with pytest.raises(ValueError) as err:
        offset(model, [CUTOFF])
    assert str(err.value) == NO_REFERENCE
    calib = [date(2025, 5, 1), date(2025, 5, 29), date(2025, 6, 26)] * 3
    ref = with_reference(model, calib)
    assert offset(ref, calib).mean() == pytest.approx(0.0, abs=1e-12)
    # winter window vs summer calibration: the forecast is higher, by the true ratio
    shift = offset(ref, [CUTOFF])[0]
    win = np.datetime64(CUTOFF, "D").astype(np.int64) + np.arange(90)
    cal = [np.datetime64(d, "D").astype(np.int64) + np.arange(90) for d in calib]
    expected = np.log(np.exp(true_log_multiplier(win)).mean()) - np.mean(
        [np.log(np.exp(true_log_multiplier(c)).mean()) for c in cal]
    )
    assert shift > 0.05 and shift == pytest.approx(expected, abs=0.01)
    assert LevelModel.from_dict(ref.to_dict()) == ref
    season_only = replace(ref, use_trend=False)
    assert offset(season_only, [CUTOFF])[0] != pytest.approx(shift, abs=1e-4)


def test_ranking_within_a_date_is_unchanged() -> None:
    rng = np.random.default_rng(1)
    risk = np.r_[rng.random(500) * 0.3, 1e-12, 0.999999]
    for link in LINKS:
        for shift in (-0.4, 0.0, 0.07, 2.0):
            shifted = apply_offset(risk, np.full(len(risk), shift), link=link)
            np.testing.assert_array_equal(np.argsort(shifted), np.argsort(risk))
            assert ((shifted > 0) & (shifted < 1)).all()
            if shift > 0:
                assert (shifted > risk).all()
        zero = apply_offset(risk[:500], np.zeros(500), link=link)
        np.testing.assert_allclose(zero, risk[:500], rtol=1e-9)


def test_cloglog_offset_scales_the_cumulative_hazard() -> None:
    """A constant daily hazard h over a 90-day window gives P = 1 - (1 - h)^90; multiplying
    the rate by m (offset log m) is exactly 1 - (1 - P)^m on the cloglog link (continuous
    time), while the logit shift under-moves high risks and agrees for small ones."""
    hazard = np.array([1e-5, 1e-4, 1e-3, 3e-3, 1e-2])
    risk = -np.expm1(90 * np.log1p(-hazard))
    m = 1.1
    truth = -np.expm1(-m * 90 * -np.log1p(-hazard))  # the same window at m x the rate
    shift = np.full(len(risk), np.log(m))
    np.testing.assert_allclose(apply_offset(risk, shift, link="cloglog"), truth, rtol=1e-9)
    logit = apply_offset(risk, shift, link="logit")
    np.testing.assert_allclose(logit[:2], truth[:2], rtol=2e-3)  # small risks: the same
    assert (logit[2:] < truth[2:]).all()  # P >= 0.09: the logit shift falls short
    assert truth[-1] - logit[-1] > 0.01 * truth[-1]


def test_level_link_round_trips_and_old_bundles_keep_the_logit() -> None:
    level = fit_level(weekly_frame(), cutoff=CUTOFF, gap_days=0, horizon_days=90)
    assert level.link == "cloglog"
    assert LevelModel.from_dict(level.to_dict()) == level
    old = {k: v for k, v in level.to_dict().items() if k != "link"}  # saved before `link`
    assert LevelModel.from_dict(old).link == "logit"
    with pytest.raises(ValueError) as err:
        replace(level, link="probit")
    assert str(err.value) == UNKNOWN_LINK.format(link="probit", links="logit, cloglog")
    with pytest.raises(ValueError) as err:
        apply_offset(np.array([0.1]), np.array([0.1]), link="probit")
    assert str(err.value) == UNKNOWN_LINK.format(link="probit", links="logit, cloglog")


def toy_store(con: duckdb.DuckDBPyConnection, *, after_cutoff: int) -> None:
    """Patients and spells with steady admissions, plus `after_cutoff` emergency admissions
    dated on or after CUTOFF (and one person registered only after it)."""
    rng = np.random.default_rng(3)
    n = 400
    patients = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(n + 1)],
            "date_of_birth": [date(1930 + i % 80, 1 + i % 12, 1) for i in range(n + 1)],
            "registered_from": [date(2020, 1, 1)] * n + [CUTOFF + timedelta(days=3)],
            "registered_to": [None] * (n + 1),
            "date_of_death": [None] * (n + 1),
        }
    )
    days = [date(2023, 1, 2) + timedelta(days=int(d)) for d in rng.integers(0, 1000, 900)]
    before = [d for d in days if d < CUTOFF]
    late = [CUTOFF + timedelta(days=i % 60) for i in range(after_cutoff)]
    spells = pd.DataFrame(
        {
            "patient_id": [f"P{i % n}" for i in range(len(before) + len(late))],
            "admission_method": "emergency",
            "admission_date": before + late,
        }
    )
    spells.loc[::7, "admission_method"] = "elective"  # not emergency: never counted
    con.register("p_src", patients)
    con.register("s_src", spells)
    con.execute(
        "CREATE TABLE patients AS SELECT patient_id, CAST(date_of_birth AS DATE) AS date_of_birth,"
        " CAST(registered_from AS DATE) AS registered_from, CAST(registered_to AS DATE) AS"
        " registered_to, CAST(date_of_death AS DATE) AS date_of_death FROM p_src"
    )
    con.execute(
        "CREATE TABLE spells AS SELECT patient_id, admission_method,"
        " CAST(admission_date AS DATE) AS admission_date FROM s_src"
    )


def test_the_store_reader_never_reads_on_or_after_the_cutoff() -> None:
    frames = []
    for late in (0, 5000):
        with duckdb.connect() as con:
            toy_store(con, after_cutoff=late)
            frames.append(weekly_admissions(con, start=date(2023, 1, 2), cutoff=CUTOFF))
            emergency_before = con.execute(
                "SELECT count(*) FROM spells WHERE admission_method = 'emergency' "
                "AND admission_date < ? AND admission_date >= ?",
                [CUTOFF, frames[-1]["week_start"].min()],
            ).fetchall()[0][0]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    weeks = frames[0]
    assert int(weeks["admissions"].sum()) == emergency_before
    last = pd.Timestamp(weeks["week_start"].max()).date()
    assert last + timedelta(days=7) == CUTOFF  # whole weeks, the last one ends at the cutoff
    assert (weeks.groupby("week_start")["person_days"].sum() == 7 * 400).all()
    fits = [fit_level(f, cutoff=CUTOFF, gap_days=0, horizon_days=90) for f in frames]
    assert fits[0] == fits[1]


@pytest.fixture(scope="module")
def level_fitted(split_matrix: pd.DataFrame):
    """The recipe fitted with a level forecast; index dates spread over a year."""
    from model_frames import FAST

    from riskstrat.models.config import load_model_config

    frame = split_matrix.copy()
    dates = pd.date_range("2024-11-04", periods=12, freq="28D")
    frame["index_date"] = dates[np.arange(len(frame)) % len(dates)]
    level = fit_level(weekly_frame(), cutoff=CUTOFF, gap_days=0, horizon_days=90)
    config = load_model_config("crisis", overrides={**FAST, "baselines": {"logistic": False}})
    return frame, fit_all(frame, features=FEATURES, config=config, level=level)


def test_fitted_and_bundle_apply_the_offset(level_fitted, tmp_path: Path) -> None:
    frame, fitted = level_fitted
    # the shipped crisis config cross-fits its calibrator: the reference level is over the
    # rows the calibrator saw (training rows scored out of fold + calib rows)
    seen = frame.loc[frame["split"].isin(["train", "calib"]), "index_date"]
    assert fitted.level is not None
    assert fitted.level == with_reference(replace(fitted.level, reference=None), seen)
    calib_only = with_reference(
        replace(fitted.level, reference=None), frame.loc[frame["split"] == "calib", "index_date"]
    )
    assert fitted.level != calib_only
    test = frame[frame["split"] == "test"]
    plain = replace(fitted, level=None).predict(test)
    shifted = fitted.predict(test)
    assert fitted.level.link == "cloglog"  # the default of new fits
    np.testing.assert_allclose(
        shifted, apply_offset(plain, offset(fitted.level, test["index_date"]), link="cloglog")
    )
    for day in test["index_date"].unique()[:3]:  # one shift per date: same order within it
        m = (test["index_date"] == day).to_numpy()
        np.testing.assert_array_equal(np.argsort(shifted[m]), np.argsort(plain[m]))
    bundle = Bundle(
        task="crisis",
        booster=fitted.booster,
        calibrator=fitted.calibrator,
        meta={"level": fitted.level.to_dict()},
    )
    loaded = Bundle.load(bundle.save(tmp_path / "bundle"))
    assert loaded.input_names == [*loaded.feature_names, "index_date"]
    np.testing.assert_allclose(loaded.predict_risk(test), shifted, rtol=1e-12)
    with pytest.raises(KeyError) as err:
        loaded.predict_risk(test.drop(columns="index_date"))
    assert err.value.args[0] == NO_INDEX_DATE.format(task="crisis")


def test_the_mlflow_pyfunc_applies_the_offset(level_fitted, tmp_path: Path) -> None:
    from riskstrat.models.mlflow_import import mlflow, quiet
    from riskstrat.models.registry import log_bundle, use_tracking

    frame, fitted = level_fitted
    bundle = Bundle(
        task="crisis",
        booster=fitted.booster,
        calibrator=fitted.calibrator,
        meta={"level": fitted.level.to_dict()},
    )
    test = frame[frame["split"] == "test"].head(200)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with quiet():
        client = use_tracking(uri)
    with quiet(), mlflow.start_run():
        version = log_bundle(bundle, sample=test, client=client)
    with quiet():
        pyfunc = mlflow.pyfunc.load_model(f"models:/riskstrat-crisis/{version}")
        served = pyfunc.predict(test[bundle.input_names])
    np.testing.assert_allclose(served, fitted.predict(test), rtol=1e-12)
    assert not np.allclose(served, replace(fitted, level=None).predict(test))


def test_task_level_is_fitted_at_the_cutoff_or_skipped_on_a_short_history() -> None:
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import fit_task_level
    from riskstrat.tasks import load_task

    task, config = load_task("crisis"), load_model_config("crisis")
    assert config.level.enabled  # the shipped crisis config carries the level forecast
    assert config.level.link == "cloglog"  # ... scaling the hazard (docs/models.md)
    assert config.calibration.cross_fit_folds == 5  # and a cross-fitted calibrator
    with duckdb.connect() as con:
        toy_store(con, after_cutoff=100)
        level = fit_task_level(con, task, config=config, start=date(2023, 1, 2), cutoff=CUTOFF)
        short = fit_task_level(
            con, task, config=config, start=CUTOFF - timedelta(days=140), cutoff=CUTOFF
        )
        off = fit_task_level(
            con,
            task,
            config=load_model_config("crisis", overrides={"level": {"enabled": False}}),
            start=date(2023, 1, 2),
            cutoff=CUTOFF,
        )
    assert level is not None and level.cutoff == str(CUTOFF)
    assert (level.horizon_days, level.gap_days) == (90, 0)
    assert short is None and off is None
