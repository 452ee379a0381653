"""A month's retraining as a data scientist does it: a training interrupted (Ctrl-C) while it
registers its model leaves no half-registered version and no run RUNNING; a retrain on the same
data, config and code is not promoted over the identical champion. Real LightGBM and MLflow on
sqlite; the interrupt is injected where the card is built, after the version is registered."""

from __future__ import annotations

import os

import pytest
from mlflow import MlflowClient
from model_frames import FAST, synthetic_task_data

from riskstrat.models import mlflow_log
from riskstrat.models.config import load_model_config
from riskstrat.models.mlflow_import import quiet
from riskstrat.models.registry import CHALLENGER, alias_version, use_tracking
from riskstrat.models.train import train_on_data

NAME = "riskstrat-crisis"


def _interrupt(**_: object) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_while_registering_leaves_no_version_and_a_killed_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # before: version 2 stayed registered (no card, no description) with the alias challenger,
    # so `riskstrat promote` gated a model whose training never finished; its run read FAILED
    uri = os.environ["MLFLOW_TRACKING_URI"]
    config = load_model_config("crisis", overrides=FAST)
    data = synthetic_task_data()
    first = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    monkeypatch.setattr(mlflow_log, "build_card", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    client: MlflowClient = use_tracking(uri)
    with quiet():
        versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{NAME}'"))
        runs = client.search_runs(
            [client.get_experiment_by_name(NAME).experiment_id],
            order_by=["attributes.start_time ASC"],
        )
        challenger = alias_version(client, NAME, CHALLENGER)
    assert versions == [int(first.version)]
    assert challenger is None
    assert [r.info.status for r in runs] == ["FINISHED", "KILLED"]


def test_promote_refuses_a_challenger_that_is_the_champions_model() -> None:
    # a retrain on the same data, config and code was PROMOTED (all gate rules pass on equal
    # figures): the champion moved to an identical version and previous-champion to the old
    # identical one, so the real earlier champion was one rollback further back
    from riskstrat.models.promote import REASON_SAME_MODEL, promote_on_data
    from riskstrat.models.registry import CHAMPION, PREVIOUS_CHAMPION

    uri = os.environ["MLFLOW_TRACKING_URI"]
    gate = {"max_ece": 1.0, "slope_bounds": [0.01, 100.0]}  # every rule passes on equal figures
    config = load_model_config("crisis", overrides=FAST | {"gate": gate})
    data = synthetic_task_data()
    first = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    again = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    assert again.alias == CHALLENGER and again.same_as == first.version
    decision = promote_on_data(data, tracking_uri=uri, config=config)
    assert not decision.promote
    same = REASON_SAME_MODEL.format(challenger=again.version, champion=first.version)
    assert decision.reasons == [same]
    client = use_tracking(uri)
    with quiet():
        assert alias_version(client, NAME, CHAMPION) == first.version
        assert alias_version(client, NAME, PREVIOUS_CHAMPION) is None


def test_training_runs_say_which_version_they_registered() -> None:
    # a retrain of the same data the same day has the same run name: 29 runs on the demo were
    # all `readmission_30d-2026-12-03-820ab8e7` (a changed config too), none saying its version
    from riskstrat.models.mlflow_log import KIND_TAG, TRAINING_KIND, VERSION_TAG

    uri = os.environ["MLFLOW_TRACKING_URI"]
    config = load_model_config("crisis", overrides=FAST)
    data = synthetic_task_data()
    runs = [train_on_data(data, config=config, truth_dir=None, tracking_uri=uri) for _ in "ab"]
    unregistered = train_on_data(
        data, config=config, truth_dir=None, tracking_uri=uri, register=False
    )
    client = use_tracking(uri)
    with quiet():
        tags = [client.get_run(r.run_id).data.tags for r in [*runs, unregistered]]
    assert [t.get(VERSION_TAG) for t in tags] == ["1", "2", None]
    assert {t[KIND_TAG] for t in tags} == {TRAINING_KIND}
    assert len({r.run_name for r in runs}) == 1  # the name alone cannot tell them apart


def test_a_training_period_too_small_to_split_is_refused() -> None:
    # the demo's readmission with split.warmup_days 638 (2 training days, 23 rows, min_child_
    # samples 50) trained a constant model without a word: test AUROC 0.5000 (0.5000-0.5000)
    import numpy as np
    import pandas as pd

    from riskstrat.models import fit
    from riskstrat.models.booster import TOO_FEW_TRAIN

    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({"x": rng.normal(size=n), "y": rng.integers(0, 2, n)})
    frame["split"] = np.repeat(["train", "valid", "calib", "test"], [23, 659, 659, 659])
    with pytest.raises(ValueError) as err:
        fit(frame, label="y", split="split", overrides={"lightgbm": {"min_child_samples": 50}})
    assert str(err.value) == TOO_FEW_TRAIN.format(n=23, m=50)
