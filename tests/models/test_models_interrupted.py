"""A training interrupted (Ctrl-C) while it registers its model leaves no half-registered version
and no run RUNNING: the registry reads as before it started. Real LightGBM and MLflow on sqlite;
the interrupt is injected where the card is built, after the version is registered."""

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
