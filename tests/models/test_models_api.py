"""The public API on a data scientist's own frame: a small public-format readmission table
(string and `category` columns, a patient group column) fitted, explained, evaluated and logged
to MLflow (sqlite in tmp_path), then read back through the MLflow client."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from model_frames import FAST
from readmission_frame import readmission_frame

from riskstrat.models import FittedModel, fit, load_model
from riskstrat.models.frame import BAD_LABEL, NO_COLUMN
from riskstrat.models.mlflow_import import mlflow, quiet

TASK = "uci_readmission"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return readmission_frame()


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> FittedModel:
    return fit(
        frame,
        label="readmit_30",
        task=TASK,
        group="patient_nbr",
        exclude=["encounter_id", "readmitted"],
        monotone={"number_inpatient": 1},
        baselines={"prior_inpatient": "number_inpatient"},
        overrides=FAST,
    )


def test_fit_splits_by_patient_and_handles_string_categoricals(model, frame) -> None:
    data = model.data
    by_split = {s: set(data.loc[data["split"] == s, "patient_nbr"]) for s in model.split_counts}
    assert not by_split["train"] & by_split["test"]
    assert not by_split["calib"] & by_split["test"]
    assert sum(model.split_counts.values()) == len(frame)
    feats = {f.name: f for f in model.features}
    assert "patient_nbr" not in feats and "readmit_30" not in feats and "readmitted" not in feats
    assert feats["race"].categorical and "Caucasian" in feats["race"].levels
    assert feats["age"].levels[0] == "[30-40)"  # a `category` column keeps its own order
    assert feats["number_inpatient"].monotone == 1 and not feats["time_in_hospital"].categorical

    p = model.predict_proba(frame)
    assert p.shape == (len(frame),) and ((p >= 0) & (p <= 1)).all()
    unseen = frame.head(5).assign(race="NotInTraining", insulin=None)
    assert np.isfinite(model.predict_proba(unseen)).all()
    # risk never falls as inpatient visits rise (monotone constraint), all else equal
    row = frame.head(1)
    more = pd.concat([row.assign(number_inpatient=k) for k in range(6)], ignore_index=True)
    assert (np.diff(model.predict_proba(more)) >= -1e-12).all()


def test_explain_sums_to_the_raw_margin(model, frame) -> None:
    from riskstrat.models.booster import matrix

    contrib = model.explain(frame.head(50))
    assert list(contrib.columns) == [*model.feature_names, "bias"]
    booster = model.fitted.booster
    x = matrix(frame.head(50), model.feature_names, levels=model.fitted.levels)
    raw = booster.predict(x, raw_score=True, num_iteration=booster.best_iteration)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-9)


def test_raw_score_in_chunks_is_the_one_call_prediction(model, frame, monkeypatch) -> None:
    from riskstrat.models import booster as booster_module
    from riskstrat.models.booster import matrix, predict_matrix, raw_score

    booster, levels = model.fitted.booster, model.fitted.levels
    x = frame.head(1000)
    assert predict_matrix(x, model.feature_names, levels=levels).flags["F_CONTIGUOUS"]
    whole = booster.predict(
        matrix(x, model.feature_names, levels=levels), num_iteration=booster.best_iteration
    )
    monkeypatch.setattr(booster_module, "PREDICT_CHUNK_ROWS", 97)  # 10 full chunks + 30 rows
    assert raw_score(booster, x, levels=levels).tobytes() == whole.tobytes()
    assert len(raw_score(booster, x.head(0), levels=levels)) == 0


def test_evaluate_gives_intervals_for_every_metric_and_baseline(model) -> None:
    ev = model.evaluate(
        subgroups=["gender", "age"],
        baselines={"stay_rule": lambda x: x["time_in_hospital"].to_numpy() / 20},
    )
    overall = ev.overall.set_index("score")
    assert list(overall.index) == ["model", "prior_inpatient", "logistic", "stay_rule"]
    assert (overall["n"] == model.split_counts["test"]).all()
    for metric in ("auroc", "auprc", "brier", "ece", "calibration_slope"):
        lo, hi, value = overall[f"{metric}_lo"], overall[f"{metric}_hi"], overall[metric]
        assert (lo <= hi).all(), metric
        assert ((lo <= value + 0.05) & (value - 0.05 <= hi)).all(), metric
    base = overall.drop(index="model")
    assert (base["auroc_delta_lo"] <= base["auroc_delta"]).all()
    assert {"gender", "age"} <= set(ev.subgroups["slice"])
    assert pd.api.types.is_integer_dtype(ev.overall["n"])
    message = NO_COLUMN.format(role="subgroup", column="no_such_column", columns="")
    with pytest.raises(KeyError, match=re.escape(message.split(" (columns")[0])):
        model.evaluate(subgroups=["no_such_column"])


def test_an_arrow_table_fits_like_its_pandas_frame(model, frame) -> None:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    again = fit(
        table,
        label="readmit_30",
        task=TASK,
        group="patient_nbr",
        exclude=["encounter_id", "readmitted"],
        monotone={"number_inpatient": 1},
        baselines={"prior_inpatient": "number_inpatient"},
        overrides=FAST,
    )
    np.testing.assert_allclose(again.predict_proba(frame), model.predict_proba(frame))


def test_bad_label_is_refused_naming_the_column(frame) -> None:
    bad = frame.assign(readmit_30=frame["readmitted"])
    with pytest.raises(ValueError) as err:
        fit(bad, label="readmit_30", group="patient_nbr", overrides=FAST)
    assert str(err.value).startswith(BAD_LABEL.split("{")[0] + "'readmit_30'")


def test_log_to_mlflow_reads_back(model, frame, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    logged = model.log_to_mlflow(tracking_uri=uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with quiet():
        run = client.get_run(logged.run_id)
        # a distinctive name: task, date, short data hash
        assert re.fullmatch(rf"{TASK}-\d{{4}}-\d\d-\d\d-{model.data_digest[:8]}", run.info.run_name)
        # each metric once, namespaced by scorer
        keys = set(run.data.metrics)
        assert {"model/auroc", "model/auroc_lo", "prior_inpatient/auroc", "logistic/ece"} <= keys
        assert all("/" in k for k in keys - {"fit_seconds"})
        assert not keys & {"auroc", "model.auroc", "ece"}
        history = client.get_metric_history(logged.run_id, "model/auroc")
        assert len(history) == 1
        # the run spans the fit (its duration is at least the fit's)
        assert (run.info.end_time - run.info.start_time) / 1000 >= model.fit_seconds
        assert run.data.metrics["fit_seconds"] == pytest.approx(model.fit_seconds)
        # datasets: digest, schema, row counts; no patient column
        inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
        assert set(inputs) == {f"{TASK}-train", f"{TASK}-test"}
        test_ds = inputs[f"{TASK}-test"]
        assert {t.value for t in test_ds.tags} == {"testing"}
        assert f'"num_rows": {model.split_counts["test"]}' in test_ds.dataset.profile
        assert "race" in test_ds.dataset.schema and "patient_nbr" not in test_ds.dataset.schema
        assert test_ds.dataset.digest
        # descriptions: experiment, registered model, version (linking the model card)
        exp = client.get_experiment(run.info.experiment_id)
        assert TASK in exp.tags["mlflow.note.content"]
        assert run.data.tags["mlflow.note.content"]
        name = f"riskstrat-{TASK}"
        assert "champion" in client.get_registered_model(name).description
        version = client.get_model_version(name, logged.version)
        assert logged.card_path in version.description and logged.run_id in version.description
        assert version.tags["model_card"] == f"runs:/{logged.run_id}/{logged.card_path}"
        files = {f.path for f in client.list_artifacts(logged.run_id, "model_card")}
        assert {logged.card_path, logged.card_path.replace(".html", ".md")} <= files
        html = Path(
            mlflow.artifacts.download_artifacts(
                run_id=logged.run_id, artifact_path=logged.card_path, dst_path=str(tmp_path)
            )
        ).read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert "Known limitations" in html and "DCB0129" in html

    # the registered model scores the raw frame (strings) as the fitted one does
    served = load_model(TASK, tracking_uri=uri)
    np.testing.assert_allclose(served.predict_risk(frame), model.predict_proba(frame))
    with quiet():
        pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{logged.version}")
        # MLflow signatures have no `category` type: the served model takes such columns as str
        served_input = frame[model.feature_names].head(20).astype({"age": str})
        np.testing.assert_allclose(
            pyfunc.predict(served_input), model.predict_proba(frame.head(20))
        )

    # no patient identifier anywhere in MLflow
    db = Path(uri.removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    text = []
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        text += [" ".join(map(str, row)) for row in con.execute(f"SELECT * FROM {table}")]
    con.close()
    for path in (db.parent / "mlartifacts").rglob("*"):
        if path.is_file():
            text.append(path.read_bytes().decode("utf-8", errors="ignore"))
    everything = "\n".join(text)
    assert "patient_nbr" not in everything
    assert not [p for p in frame["patient_nbr"].unique()[:500] if p in everything]
