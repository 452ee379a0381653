"""A model meeting a new population: the comparison with the training reference (pure), and
`recalibrate` on matured local outcomes (store + MLflow, a model trained for the test)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.models.calibrate import Calibrator
from riskstrat.models.population import (
    FEATURE_SHIFT,
    OUT_OF_RANGE,
    SEVERE,
    SMALL_SAMPLE,
    compare_population,
)
from riskstrat.models.recalibrate import check_population, updated_calibrator
from riskstrat.models.reference import build_reference


def population(n: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(50 + 30 * shift, 15, n),
            "ltc_count": rng.poisson(1 + 4 * shift, n).astype(float),
            "days_since_ae": rng.exponential(200 * (1 + 20 * shift), n),
            "gp_contacts_365d": rng.poisson(4 * (1 + 10 * shift), n).astype(float),
            "imd_decile": rng.integers(1, 11, n).astype(float),
            "label": rng.binomial(1, 0.03, n),
        }
    )


FEATURES = ["age", "ltc_count", "days_since_ae", "gp_contacts_365d", "imd_decile"]


@pytest.fixture(scope="module")
def reference() -> dict:
    train = population(5000, seed=1)
    return build_reference(train, np.full(len(train), 0.03), features=FEATURES, bins=10)


def test_same_population_has_no_caveat(reference) -> None:
    check = compare_population(
        population(2000, seed=2), np.full(2000, 0.031), reference=reference, task="crisis"
    )
    assert check.caveats == [] and not check.severe
    assert check.prevalence == pytest.approx(0.03, abs=0.01)
    assert check.psi["psi"].max() < 0.1


def test_shifted_population_gets_the_severe_caveat(reference) -> None:
    shifted = population(2000, seed=3, shift=1.0)
    check = compare_population(shifted, np.full(2000, 0.2), reference=reference, task="crisis")
    assert check.severe
    assert check.caveats[0] == SEVERE.format(task="crisis")
    assert any(
        c.startswith(FEATURE_SHIFT.split("{n}")[0].format(task="crisis")) for c in check.caveats
    )
    assert any("outside the training range" in c for c in check.caveats)
    assert any("times the training prevalence" in c for c in check.caveats)
    summary = check.as_dict()
    assert summary["severe"] and summary["max_psi"] > 0.25  # aggregates only: no patient rows
    assert OUT_OF_RANGE.split("{share")[0].format(task="crisis") in " ".join(check.caveats)


def test_small_sample_is_reported_not_silent(reference) -> None:
    """Below 500 rows PSI is shown with a caveat (the old monitoring said nothing)."""
    few = population(120, seed=4, shift=1.0)
    check = compare_population(few, np.full(120, 0.03), reference=reference, task="crisis")
    assert SMALL_SAMPLE.format(task="crisis", n=120, min_rows=500) in check.caveats
    assert any(c.startswith("crisis: population differs") for c in check.caveats)
    assert not check.severe  # PSI and ranges alone do not decide at this size
    assert check.caveats[0] == SMALL_SAMPLE.format(task="crisis", n=120, min_rows=500)
    # a small sample with nothing to say adds no line (a daily discharge list is always small)
    quiet = compare_population(
        population(120, seed=6), np.full(120, 0.03), reference=reference, task="crisis"
    )
    assert quiet.caveats == [] and len(quiet.psi) == len(FEATURES)


def test_matured_calibration_is_reported(reference) -> None:
    matured = {"as_of": "2025-01-06", "rows": 900, "events": 9, "observed": 0.01,
               "expected": 0.03, "observed_expected": 1 / 3}  # fmt: skip
    check = compare_population(
        population(900, seed=5), np.full(900, 0.03), reference=reference, task="crisis",
        matured=matured,
    )  # fmt: skip
    assert check.severe
    assert any("observed/expected 0.33" in c for c in check.caveats)


def test_recalibrated_calibrator_composes() -> None:
    platt = Calibrator(method="platt", a=-1.0, b=0.8)
    raw = np.array([0.01, 0.1, 0.5, 0.9])
    new = updated_calibrator(platt, a=0.5, b=1.2)
    lp = np.log(platt(raw) / (1 - platt(raw)))
    np.testing.assert_allclose(new(raw), 1 / (1 + np.exp(-(0.5 + 1.2 * lp))))
    iso = Calibrator(method="isotonic", x=(0.0, 0.5, 1.0), y=(0.01, 0.2, 0.6))
    new = updated_calibrator(iso, a=-0.7, b=1.0)
    assert np.all(np.diff(new.y) > 0) and new.x == iso.x
    assert new(np.array([0.5]))[0] == pytest.approx(1 / (1 + np.exp(0.7 - np.log(0.2 / 0.8))))


def test_recalibrated_centred_isotonic_composes_and_round_trips() -> None:
    """The crisis calibrator (centred isotonic: knots and tail slope are risk logits) followed by
    logit(p) -> a + b logit(p) is one centred-isotonic calibrator, also after to_dict/from_dict
    (what the bundle stores), inside the knots and beyond them (the tails)."""
    from riskstrat.models.calibrate import fit_calibrator

    rng = np.random.default_rng(3)
    raw = rng.uniform(0, 1, 4000)
    old = fit_calibrator(raw, rng.binomial(1, 0.3 * raw), method="centred_isotonic")
    assert old.method == "centred_isotonic" and len(old.x) > 2
    new = Calibrator.from_dict(updated_calibrator(old, a=-1.6, b=0.7).to_dict())
    assert new.method == "centred_isotonic" and new.x == old.x and new.on_logit == old.on_logit
    score = np.r_[1e-4, rng.uniform(0, 1, 500), 1 - 1e-4]
    p = old(score)
    expected = 1 / (1 + np.exp(-(-1.6 + 0.7 * np.log(p / (1 - p)))))
    np.testing.assert_allclose(new(score), expected, rtol=1e-9)
    with pytest.raises(ValueError, match="spline"):
        updated_calibrator(Calibrator(method="spline"), a=0.0, b=1.0)  # type: ignore[arg-type]


# --- recalibrate on a store whose outcomes differ from training ------------------------------


#: Fast model settings (the recalibration is under test, not the model), bagged: a
#: recalibrated model must keep its fold boosters.
FAST = {
    "lightgbm": {"n_estimators": 40, "learning_rate": 0.1, "num_leaves": 15,
                 "min_child_samples": 20, "num_threads": 1},
    "early_stopping": {"rounds": 10},
    "evaluation": {"bootstrap": 10, "shap_sample": 200, "min_group_rows": 50},
    "calibration": {"cross_fit_folds": 2, "bag_folds": True},
}  # fmt: skip


@pytest.fixture(scope="module")
def over_predicted(small_store: Path, tmp_path_factory: pytest.TempPathFactory, settings_under):
    """A crisis champion trained (fast) on the small store, then a copy of the store in which
    70 % of emergency admissions never happened: a population with fewer crises than the
    champion learned, so it over-predicts there."""
    from riskstrat.models.train import train_task

    home = tmp_path_factory.mktemp("recalibrate")
    settings = settings_under(home, mlflow_db=home / "mlflow.db")
    settings.paths.store.parent.mkdir(parents=True)
    shutil.copy(small_store, settings.paths.store)
    train_task("crisis", settings=settings, overrides=FAST)
    with duckdb.connect(str(settings.paths.store)) as con:
        con.execute(
            "DELETE FROM spells WHERE admission_method = 'emergency' AND hash(spell_id) % 10 < 7"
        )
    return settings


def test_recalibrate_brings_calibration_in_the_large_within_10_percent(over_predicted) -> None:
    from riskstrat.models.recalibrate import recalibrate_task
    from riskstrat.models.registry import load_model

    result = recalibrate_task("crisis", settings=over_predicted)
    before, after = result.before["observed_expected"], result.after["observed_expected"]
    assert before < 0.8  # the champion over-predicts on this population
    assert abs(after - 1) <= 0.10  # calibration-in-the-large within 10 % relative
    assert result.after["rows"] == result.before["rows"] > 1000
    assert result.version == "2" and result.base_version == "1"
    assert "promote" in result.gate and result.gate["reasons"]  # the normal gate was run
    uri = over_predicted.paths.mlflow_uri
    alias = "champion" if result.gate["promote"] else "challenger"
    new = load_model("crisis", alias=alias, tracking_uri=uri)
    assert new.version == "2" and new.meta["recalibrated_from"] == "1"
    first = load_model("crisis", version="1", tracking_uri=uri)
    assert new.booster.num_trees() == first.booster.num_trees()
    assert len(new.members) == len(first.members) == 2  # the bagged members came along
    assert [m.model_to_string() for m in new.members] == [
        m.model_to_string() for m in first.members
    ]
    printed = "\n".join(result.lines())
    print("\n" + printed)
    assert "observed/expected" in printed and "promotion gate" in printed


def test_the_update_is_not_fitted_on_the_patients_the_gate_judges(over_predicted) -> None:
    """The gate judges a recalibrated version on the held-out patients' test rows, and the
    latest matured date is the crisis test date: those patients must not fit the update."""
    from riskstrat.models.config import load_model_config
    from riskstrat.models.data import load_task_data
    from riskstrat.models.recalibrate import matured_rows, recalibrate_task
    from riskstrat.models.registry import load_model
    from riskstrat.models.split import patient_unit
    from riskstrat.registry.store import connect, latest_extract

    store, uri = over_predicted.paths.store, over_predicted.paths.mlflow_uri
    result = recalibrate_task("crisis", settings=over_predicted, register=False)
    config = load_model_config("crisis")
    test = load_task_data("crisis", store_path=store, config=config, splits=("test",))
    assert str(test.periods.test[0]) in result.as_of  # the overlap the split has to prevent
    champion = load_model("crisis", tracking_uri=uri)
    extract = pd.Timestamp(latest_extract(store)["extract_date"]).date()
    with connect(store) as con:
        every = matured_rows(
            con, "crisis", model=champion, as_of=[date.fromisoformat(d) for d in result.as_of],
            extract=extract,
        )  # fmt: skip
    held = patient_unit(every["patient_id"], seed=config.seed) < config.split.test_patient_share
    fitted_on = every[~held]
    gate_rows = test.dataset[test.dataset["split"] == "test"]
    assert len(gate_rows) > 0 and not set(gate_rows["patient_id"]) & set(fitted_on["patient_id"])
    assert result.held_out_rows == int(held.sum()) > 0
    assert result.before["rows"] == len(fitted_on)
    assert result.before["events"] == int(fitted_on["label"].sum())
    print(f"\nmatured rows {len(every)}: fitted on {len(fitted_on)}, left for the gate "
          f"{int(held.sum())}; gate test rows {len(gate_rows)}")  # fmt: skip


def test_recalibrate_cli_and_its_errors(over_predicted, monkeypatch, tmp_path: Path) -> None:
    from riskstrat.cli import main
    from riskstrat.cliopts import UNKNOWN_TASK, task_names, unknown_name
    from riskstrat.models.recalibrate import NO_EXTRACT

    monkeypatch.setenv("RISKSTRAT_STORE", str(over_predicted.paths.store))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", over_predicted.paths.mlflow_uri)
    run = CliRunner().invoke(main, ["recalibrate", "crisis", "--no-register"])
    assert run.exit_code == 0, run.output
    assert "after : observed" in run.output and "registered" not in run.output
    empty = tmp_path / "empty.duckdb"
    monkeypatch.setenv("RISKSTRAT_STORE", str(empty))
    run = CliRunner().invoke(main, ["recalibrate", "crisis"])
    assert run.exit_code == 2  # bad input (riskstrat.errors.EXIT_BAD_INPUT)
    assert f"Error: {NO_EXTRACT.format(store=empty)}" in run.output
    run = CliRunner().invoke(main, ["recalibrate", "crises"])  # TASK checked by riskstrat.cliopts
    assert run.exit_code == 2
    assert unknown_name(UNKNOWN_TASK, value="crises", known=task_names()) in run.output
    assert "(did you mean 'crisis'?)" in run.output


def test_scoring_the_changed_population_reports_it(over_predicted) -> None:
    """check_population with the real champion: aggregates only, caveats as sentences."""
    from riskstrat.features import build_features
    from riskstrat.models.registry import load_model
    from riskstrat.registry.store import connect
    from riskstrat.tasks import build_index, load_task

    model = load_model("crisis", version="1", tracking_uri=over_predicted.paths.mlflow_uri)
    assert "prevalence" in model.reference and "min" in model.reference["features"]["age"]
    with connect(over_predicted.paths.store) as con:
        index = build_index(con, load_task("crisis"), as_of_dates=["2025-12-29"])
        matrix = build_features(con, index, task="crisis")
        risk = model.predict_risk(matrix[model.input_names])
        caveats = check_population(con, matrix, risk, model=model, task="crisis")
    assert all(isinstance(c, str) and c.startswith("crisis: ") for c in caveats)
    # the same care system a little later (longer histories, fewer crises): not "severe"
    assert SEVERE.format(task="crisis") not in caveats


def test_population_caveats_reach_the_commissioner_in_plain_words() -> None:
    """The report shows monitoring warnings in plain words (riskstrat.reports.plain); the
    population check's caveats each have their own sentence, the severe one keeps its capitals."""
    from riskstrat.models.population import (
        CALIBRATION,
        FEATURE_SHIFT,
        OUT_OF_RANGE,
        RISK_VS_PREVALENCE,
    )
    from riskstrat.reports.plain import UNKNOWN, plain_warning

    caveats = [
        SEVERE.format(task="crisis"),
        FEATURE_SHIFT.format(task="crisis", n=1, alert=0.25, names="age"),
        OUT_OF_RANGE.format(task="crisis", share=0.12, names="age"),
        RISK_VS_PREVALENCE.format(task="crisis", mean=0.1, ratio=3.2, prevalence=0.03),
        CALIBRATION.format(task="crisis", rows=900, as_of="2025-09-30", observed=0.0081,
                           expected=0.0156, ratio=0.52),
    ]  # fmt: skip
    plain = [plain_warning(c) for c in caveats]
    assert UNKNOWN not in plain and len(set(plain)) == len(plain)
    assert "NOT VALIDATED FOR THIS POPULATION" in plain[0]
    assert "12%" in plain[2] and "3.2 times" in plain[3] and "0.81%" in plain[4]
