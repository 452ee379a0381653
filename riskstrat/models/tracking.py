"""Write a training run's record to MLflow: params, metrics, tables, plots, lineage.

Everything logged is an aggregate (metrics, subgroup tables, bins, feature names, hashes): no
patient identifiers and no patient-level rows ever reach MLflow.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.models import plots
from riskstrat.models.config import ModelConfig
from riskstrat.models.evaluate import EvalResult
from riskstrat.models.fit import FeatureInfo
from riskstrat.models.mlflow_import import mlflow, quiet

EVALUATION_DIR = "evaluation"
PLOTS_DIR = "plots"
MANIFEST_ARTIFACT = "manifest.json"
FEATURES_ARTIFACT = "features.json"
OVERALL_FILE = "overall.csv"
SUBGROUPS_FILE = "subgroups.csv"
RELIABILITY_FILE = "reliability.csv"
IMPORTANCE_FILE = "shap_importance.csv"


def flat_params(config: ModelConfig) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out[prefix] = json.dumps(value) if isinstance(value, list | tuple) else str(value)

    walk("", config.model_dump(mode="json"))
    return out


def log_evaluation(
    ev: EvalResult,
    *,
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    contrib: pd.DataFrame,
    features: list[FeatureInfo],
    manifest: dict[str, object],
) -> None:
    """Inside an active run: metrics, evaluation tables, plots, feature list, manifest."""
    mlflow.log_metrics(ev.flat_metrics())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ev.overall.to_csv(folder / OVERALL_FILE, index=False)
        ev.subgroups.to_csv(folder / SUBGROUPS_FILE, index=False)
        pd.concat(
            [r.assign(score=name) for name, r in ev.reliability.items()], ignore_index=True
        ).to_csv(folder / RELIABILITY_FILE, index=False)
        plots.global_importance(contrib).to_csv(folder / IMPORTANCE_FILE, index=False)
        for name in (OVERALL_FILE, SUBGROUPS_FILE, RELIABILITY_FILE, IMPORTANCE_FILE):
            mlflow.log_artifact(str(folder / name), artifact_path=EVALUATION_DIR)
        pngs = [
            plots.reliability_plot(ev.reliability, folder / "reliability.png"),
            plots.roc_plot(y, scores, folder / "roc.png"),
            plots.pr_plot(y, scores, folder / "pr.png"),
            plots.shap_summary_plot(contrib, folder / "shap_summary.png"),
        ]
        for png in pngs:
            mlflow.log_artifact(str(png), artifact_path=PLOTS_DIR)
    mlflow.log_dict(
        [{"name": f.name, "monotone": f.monotone, "categorical": f.categorical} for f in features],
        FEATURES_ARTIFACT,
    )
    mlflow.log_dict(manifest, MANIFEST_ARTIFACT)


def download_json(run_id: str, path: str) -> object:
    with tempfile.TemporaryDirectory() as tmp, quiet():
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=tmp)
        return json.loads(Path(local).read_text())


def download_csv(run_id: str, path: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp, quiet():
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=tmp)
        return pd.read_csv(local, dtype={"group": str})


#: Tags that let the next `train` tell a run whose process died (killed) from one still going.
PID_TAG = "riskstrat.pid"
HOST_TAG = "riskstrat.host"
STALE_TAG = "riskstrat.stale"
STALE_NOTE = "marked FAILED by a later train: the process that started it was gone (killed?)"


def process_tags() -> dict[str, str]:
    import os
    import socket

    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: str | None, host: str | None) -> bool:
    import os
    import socket

    if not pid or host != socket.gethostname():
        return host is not None and host != socket.gethostname()  # another host: leave it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def fail_stale_runs(client: object, *, experiment_id: str) -> list[str]:
    """Mark FAILED the experiment's RUNNING runs whose process is gone; returns their ids."""
    stale = []
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'"):
        tags = run.data.tags
        if _alive(tags.get(PID_TAG), tags.get(HOST_TAG)):
            continue
        client.set_tag(run.info.run_id, STALE_TAG, STALE_NOTE)
        client.set_terminated(run.info.run_id, status="FAILED")
        stale.append(run.info.run_id)
    return stale
