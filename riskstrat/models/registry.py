"""MLflow model registry: log a bundle as a pyfunc model, register it per task, serve by alias.

Models are registered as `riskstrat-<task>`; the first version of a task becomes `champion`,
later ones `challenger` until the promotion gate (riskstrat.models.promote) moves the champion.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from contextlib import redirect_stderr
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from riskstrat.models.bundle import Bundle
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.pyfunc import BUNDLE_ARTIFACT, ENTRY_FILE

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous-champion"
#: Version tag naming the champion a promoted version replaced (what a rollback restores).
PREVIOUS_TAG = "promotion.previous_champion"
#: Version tag on a champion a promotion replaced (removed when a rollback restores it).
RETIRED_TAG = "retired_by"
MODEL_ARTIFACT = "model"
NO_SUCH_MODEL = "no registered model {name!r} with alias {alias!r} at {uri}: train it first"
NO_SUCH_VERSION = (
    "no version {version} of registered model {name!r} at {uri}: `riskstrat status` lists the "
    "versions"
)
#: The pyfunc's runtime requirements (exact versions are in the run's manifest).
PIP_REQUIREMENTS = ["lightgbm", "numpy", "pandas", "scikit-learn", "mlflow"]


def model_name(task_name: str) -> str:
    return f"riskstrat-{task_name}"


def use_tracking(uri: str) -> MlflowClient:
    """Point MLflow tracking and registry at `uri` (sqlite by default) and return a client."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def artifact_root(uri: str) -> str | None:
    """Artifacts beside a sqlite database (`<db folder>/mlartifacts`), never in the cwd."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
    return None


def ensure_experiment(name: str, *, client: MlflowClient, uri: str) -> str:
    """The experiment's id, creating it (artifacts beside the database) when new."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=artifact_root(uri))


@dataclass
class RiskModel(Bundle):
    """A registered model version, ready to score: the bundle plus where it came from."""

    name: str = ""
    version: str = ""
    run_id: str = ""
    aliases: tuple[str, ...] = ()


def log_bundle(
    bundle: Bundle, *, sample: pd.DataFrame, client: MlflowClient, set_alias: bool = True
) -> str:
    """Log the bundle as the active run's pyfunc model, register it, set its alias (unless
    `set_alias` is false: the caller sets `new_version_alias` once the version is complete);
    -> version.

    `sample` gives the signature (numbers in their dtype; string and `category` features as
    strings, since MLflow signatures reject `category`); no input example is stored, so no
    patient-level values reach MLflow.
    """
    name = model_name(bundle.task)
    x = signature_frame(sample[bundle.input_names], levels=bundle.levels)
    signature = infer_signature(x, bundle.predict_risk(x))
    # MLflow prints "Successfully registered model ..." to stderr; riskstrat reports it itself.
    with tempfile.TemporaryDirectory() as tmp, quiet(), redirect_stderr(io.StringIO()):
        folder = bundle.save(Path(tmp) / BUNDLE_ARTIFACT)
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=str(ENTRY_FILE),
            artifacts={BUNDLE_ARTIFACT: str(folder)},
            signature=signature,
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    if set_alias:
        with quiet():
            client.set_registered_model_alias(name, new_version_alias(client, name), version)
    return version


def new_version_alias(client: MlflowClient, name: str) -> str:
    """The alias a newly registered version gets: champion for the first, else challenger."""
    return CHALLENGER if _alias_version(client, name, CHAMPION) is not None else CHAMPION


def drop_run_versions(client: MlflowClient, name: str, *, run_id: str) -> list[str]:
    """Delete the versions of `name` registered by `run_id` (a training interrupted between
    registering its model and finishing it: no half-registered version is left); -> versions."""
    with quiet():
        found = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
        for mv in found:
            client.delete_model_version(name, str(mv.version))
    return [str(mv.version) for mv in found]


def signature_frame(x: pd.DataFrame, *, levels: Mapping[str, object]) -> pd.DataFrame:
    """Feature columns as MLflow signatures accept them: string and `category` columns as
    strings, numbers in their own dtype (the served model takes what training took)."""
    return pd.DataFrame(
        {c: (x[c].astype(str).where(x[c].notna(), None) if c in levels else x[c]) for c in x},
        index=x.index,
    )


#: Run tags that together fix a trained model: LightGBM runs deterministic with the config's
#: seed, so the same data, config and code give the same model (docs/models.md).
LINEAGE_TAGS = ("data_snapshot_hash", "config_hash", "git_sha")


def same_as_champion(client: MlflowClient, name: str, *, version: str) -> str | None:
    """The champion's version when `version` was trained on the same data, config and code
    (LINEAGE_TAGS of both runs equal), else None."""
    champion = _alias_version(client, name, CHAMPION)
    if champion is None or champion == str(version):
        return None
    tags = [
        client.get_run(client.get_model_version(name, v).run_id).data.tags
        for v in (champion, str(version))
    ]
    same = all(tags[0].get(k) and tags[0].get(k) == tags[1].get(k) for k in LINEAGE_TAGS)
    return champion if same else None


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version behind `alias`, or None."""
    return _alias_version(client, name, alias)


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def load_model(
    task_name: str, *, alias: str | None = CHAMPION, tracking_uri: str, version: str | None = None
) -> RiskModel:
    """The registered version behind `alias` (or an explicit `version`), loaded for scoring."""
    client = use_tracking(tracking_uri)
    name = model_name(task_name)
    with quiet():
        return _load(client, name, alias=alias, version=version, uri=tracking_uri)


def _load(
    client: MlflowClient, name: str, *, alias: str | None, version: str | None, uri: str
) -> RiskModel:
    try:
        mv = (
            client.get_model_version(name, version)
            if version
            else client.get_model_version_by_alias(name, alias)
        )
    except MlflowException as exc:
        raise LookupError(NO_SUCH_MODEL.format(name=name, alias=alias or version, uri=uri)) from exc
    key = (uri, name, str(mv.version), str(mv.run_id))
    bundle = _BUNDLES.get(key)
    if bundle is None:
        bundle = _BUNDLES[key] = _read_bundle(name, str(mv.version))
    return RiskModel(
        **{f.name: getattr(bundle, f.name) for f in fields(Bundle)},  # members included
        name=name,
        version=str(mv.version),
        run_id=mv.run_id,
        aliases=tuple(mv.aliases),
    )


#: Bundles already read in this process, by (tracking URI, name, version, run id): a registered
#: version never changes, so a long-lived process (the scheduler) reads each one once.
_BUNDLES: dict[tuple[str, str, str, str], Bundle] = {}
MLMODEL_FILE = "MLmodel"


def _read_bundle(name: str, version: str) -> Bundle:
    """The version's bundle, read straight from its registered artifacts (the folder the pyfunc
    wrapper loads, named in its MLmodel file) without MLflow's pyfunc loader, which re-imports
    the model code and checks the environment on every load (most of a run's model-loading time).
    A model logged some other way is loaded through the pyfunc loader."""
    import yaml
    from mlflow.artifacts import download_artifacts

    root = Path(download_artifacts(artifact_uri=f"models:/{name}/{version}"))
    spec = (
        yaml.safe_load((root / MLMODEL_FILE).read_text()) if (root / MLMODEL_FILE).is_file() else {}
    )
    artifacts = ((spec or {}).get("flavors", {}).get("python_function", {}) or {}).get("artifacts")
    folder = ((artifacts or {}).get(BUNDLE_ARTIFACT) or {}).get("path")
    if folder and (root / folder).is_dir():
        return Bundle.load(root / folder)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return loaded.unwrap_python_model().bundle


def versions_without_alias(tracking_uri: str) -> list[dict[str, str]]:
    """Registered riskstrat versions no alias points at (left by a killed or --no-register
    train, or superseded): name, version, created (UTC), run id. For `riskstrat status`."""
    from datetime import UTC, datetime

    client = use_tracking(tracking_uri)
    out = []
    with quiet():
        for model in client.search_registered_models():
            if not model.name.startswith(model_name("")):
                continue
            aliased = {str(v) for v in (model.aliases or {}).values()}
            for mv in client.search_model_versions(f"name = '{model.name}'"):
                if str(mv.version) in aliased:
                    continue
                created = datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC)
                out.append(
                    {
                        "model": model.name,
                        "version": str(mv.version),
                        "created (UTC)": created.strftime("%Y-%m-%d %H:%M"),
                        "run": str(mv.run_id or ""),
                    }
                )
    return sorted(out, key=lambda r: (r["model"], int(r["version"])))
