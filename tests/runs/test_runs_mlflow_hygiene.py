"""After a killed `train`: its MLflow run (left RUNNING) is marked FAILED by the next train, and
`riskstrat status` lists registered versions no alias points at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskstrat.config import Settings, load_settings
from riskstrat.models.registry import model_name, use_tracking, versions_without_alias
from riskstrat.models.tracking import STALE_TAG, fail_stale_runs, process_tags
from riskstrat.runs.schedule import load_schedule
from riskstrat.runs.status import status_text

KILLED_TRAIN = """
import os, signal, sys
import mlflow
from riskstrat.models.registry import use_tracking
from riskstrat.models.tracking import process_tags
use_tracking(sys.argv[1])
exp = mlflow.set_experiment("riskstrat-crisis")
mlflow.start_run(experiment_id=exp.experiment_id, run_name="train-crisis")
mlflow.set_tags(process_tags())
print(mlflow.active_run().info.run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # killed mid-train: the run never ends
"""


@pytest.mark.slow
def test_stale_running_run_is_failed_and_a_live_one_kept(
    run_settings: Settings, private_mlflow: tuple[Path, Path]
) -> None:
    uri = f"sqlite:///{private_mlflow[0]}"
    out = subprocess.run(
        [sys.executable, "-c", KILLED_TRAIN, uri], capture_output=True, text=True, env=os.environ
    )
    assert out.returncode == -9, out.stderr[-2000:]
    killed = out.stdout.split()[0]
    client = use_tracking(uri)
    assert client.get_run(killed).info.status == "RUNNING"
    experiment = client.get_experiment_by_name(model_name("crisis")).experiment_id
    live = client.create_run(experiment, tags=process_tags())  # this process: still alive
    assert fail_stale_runs(client, experiment_id=experiment) == [killed]
    run = client.get_run(killed)
    assert run.info.status == "FAILED" and STALE_TAG in run.data.tags
    assert client.get_run(live.info.run_id).info.status == "RUNNING"
    client.set_terminated(live.info.run_id)


@pytest.mark.slow
def test_status_lists_versions_without_an_alias(
    run_settings: Settings, private_mlflow: tuple[Path, Path]
) -> None:
    uri = f"sqlite:///{private_mlflow[0]}"
    client = use_tracking(uri)
    name = model_name("crisis")
    champion = client.get_model_version_by_alias(name, "champion")
    assert versions_without_alias(uri) == []
    # What a train killed between registering and setting the alias leaves behind.
    orphan = client.create_model_version(name, source=champion.source, run_id=champion.run_id)
    rows = versions_without_alias(uri)
    assert [(r["model"], r["version"]) for r in rows] == [(name, str(orphan.version))]
    text = status_text(load_schedule(), settings=load_settings())
    assert "Model versions without an alias" in text
    assert f"{name}  {orphan.version}" in text
