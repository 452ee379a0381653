"""Log a fitted model to MLflow the way its users expect (the I/O edge of the public API).

One run per fit, named `<task>-<YYYY-MM-DD>-<data hash>` and created with the fit's start time
(so the run's duration is the real one); each metric once, namespaced by scorer (`model/auroc`,
`lace/auroc`; on synthetic data `oracle/auroc`, `oracle_no_foresight/auroc`, `gap_to_oracle/auroc`,
`gap_to_oracle_no_foresight/auroc`); the training and test data as MLflow datasets (digest,
schema, row counts: feature columns and the label only, never the group/patient column);
descriptions on the experiment, the registered model and the version; the model card under
`model_card/`, linked from the version's description.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from riskstrat.config import config_dir
from riskstrat.logs import log_event, progress_bar
from riskstrat.models.card import build_card, log_card
from riskstrat.models.dates import ARTIFACT as DATES_ARTIFACT
from riskstrat.models.dates import PREFIX as DATES_PREFIX
from riskstrat.models.dates import DatesEvaluation
from riskstrat.models.frame import data_digest
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import (
    drop_run_versions,
    ensure_experiment,
    log_bundle,
    model_name,
    new_version_alias,
    signature_frame,
    use_tracking,
)
from riskstrat.models.tracking import (
    fail_stale_runs,
    flat_params,
    log_evaluation,
    process_tags,
)

if TYPE_CHECKING:
    from riskstrat.models.api import Evaluation, FittedModel

DESCRIPTION_KEY = "mlflow.note.content"
#: Run tags that tell training runs apart in the MLflow UI (their names repeat: a retrain of
#: the same data the same day has the same name): `kind` as the promote/rollback runs have it,
#: and the registered version the run produced.
KIND_TAG, TRAINING_KIND, VERSION_TAG = "kind", "training", "registered_version"
#: Status of a training run interrupted (Ctrl-C) / failed while logging (never left RUNNING).
KILLED, FAILED = "KILLED", "FAILED"
MONITORING_FILE = "monitoring.yaml"
#: Rows the logged datasets' schema is inferred from (missing values seen in a seeded sample).
SCHEMA_SAMPLE_ROWS = 10_000
EXPERIMENT_DESCRIPTION = (
    "riskstrat {task}: one run per training (named task-date-data hash), evaluated on held-out "
    "test rows against the baselines; `promote-{task}` runs record promotion gate decisions. "
    "Metrics are namespaced by scorer (model/, <baseline>/; on synthetic data oracle/ and "
    "oracle_no_foresight/, the references, and dates/ over many as-of dates)."
)
MODEL_DESCRIPTION = (
    "riskstrat {task}: calibrated LightGBM (monotone constraints, native categoricals). Aliases: "
    "`champion` serves the lists, `challenger` awaits `riskstrat promote {task}`, "
    "`previous-champion` is what `riskstrat rollback {task}` restores."
)
VERSION_DESCRIPTION = (
    "Trained by run {run_name} on data {digest}: test AUROC {auroc:.3f} ({lo}-{hi}), ECE "
    "{ece:.4f}, {n} test rows with {events} events. Model card: {card_uri} (run {run_id}, "
    "artifacts {card_path})."
)


@dataclass
class LoggedRun:
    run_id: str
    run_name: str
    experiment_id: str
    model_name: str
    version: str | None
    alias: str | None
    card_path: str | None


def run_name(task: str, *, started_at: float, digest: str) -> str:
    day = datetime.fromtimestamp(started_at, tz=UTC).date().isoformat()
    return f"{task}-{day}-{digest[:8]}"


def dataset_frame(model: FittedModel, split: str) -> pd.DataFrame:
    """What `log_input` describes: the features (as the signature types them) and the label."""
    rows = model.rows(split)
    frame = signature_frame(rows[model.feature_names], levels=model.fitted.levels)
    return frame.assign(label=rows["label"].to_numpy(dtype=float))


def mlflow_dataset(frame: pd.DataFrame, *, name: str) -> Any:
    """An MLflow PandasDataset of `frame` with our digest (all rows, vectorised hashing) and the
    schema inferred from a seeded sample: MLflow's own inference visits every value in Python
    (40 s for 295k x 68 floats); the row count in the profile is the whole frame's."""
    from mlflow.types.utils import _infer_schema

    ds = mlflow.data.from_pandas(frame, name=name, targets="label", digest=data_digest(frame)[:8])
    sample = frame.sample(n=min(len(frame), SCHEMA_SAMPLE_ROWS), random_state=0)
    ds.schema = _infer_schema(sample)  # sets the cached property
    return ds


def monitoring_thresholds() -> dict[str, Any]:
    path = config_dir() / MONITORING_FILE
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.is_file() else {}


def _fmt(v: object) -> str:
    return "-" if not isinstance(v, float) or v != v else f"{v:.3f}"


def log_dates(dates: DatesEvaluation) -> None:
    """The many-as-of-dates evaluation: `dates/<score>/auroc_by_date` with step = the as-of date as
    YYYYMMDD (one chart per score over the dates) and the tables as evaluation/dates.json
    (aggregates only: dates, counts, AUROCs)."""
    for row in dates.per_date.to_dict("records"):
        step = int(str(row["as_of"]).replace("-", ""))
        values = {
            f"{DATES_PREFIX}/{k}/auroc_by_date": float(v)
            for k, v in row.items()
            if k not in ("as_of", "rows", "events") and v == v
        }
        mlflow.log_metrics(values, step=step)
    mlflow.log_dict(dates.as_dict(), DATES_ARTIFACT)


def log_fitted(
    model: FittedModel,
    *,
    evaluation: Evaluation,
    tracking_uri: str,
    experiment: str | None,
    register: bool,
    description: str | None,
    manifest: dict[str, Any],
    tags: dict[str, str],
    bundle_meta: dict[str, Any],
) -> LoggedRun:
    task, name = model.task, model_name(model.task)
    with quiet(), progress_bar(label="MLflow logging", total=5) as bar:
        client = use_tracking(tracking_uri)
        exp_id = ensure_experiment(experiment or name, client=client, uri=tracking_uri)
        if not client.get_experiment(exp_id).tags.get(DESCRIPTION_KEY):
            client.set_experiment_tag(
                exp_id, DESCRIPTION_KEY, EXPERIMENT_DESCRIPTION.format(task=task)
            )
        fail_stale_runs(client, experiment_id=exp_id)  # runs left RUNNING by a killed train
        title = run_name(task, started_at=model.started_at, digest=model.data_digest)
        run = client.create_run(exp_id, start_time=int(model.started_at * 1000), run_name=title)
        manifest = {"rows": model.split_counts} | manifest
        with mlflow.start_run(run_id=run.info.run_id):
            try:
                version, alias, card_path = _log_run(
                    model,
                    client=client,
                    run_id=run.info.run_id,
                    title=title,
                    evaluation=evaluation,
                    register=register,
                    description=description,
                    manifest=manifest,
                    tags=tags,
                    bundle_meta=bundle_meta,
                    bar=bar,
                )
            except BaseException as exc:  # Ctrl-C included: no half-registered version
                if register:
                    drop_run_versions(client, name, run_id=run.info.run_id)
                mlflow.end_run(status=KILLED if isinstance(exc, KeyboardInterrupt) else FAILED)
                raise
    log_event("models.logged", task=task, run=title, version=version, alias=alias)
    return LoggedRun(
        run_id=run.info.run_id,
        run_name=title,
        experiment_id=exp_id,
        model_name=name,
        version=version,
        alias=alias,
        card_path=card_path,
    )


def _log_run(
    model: FittedModel,
    *,
    client: Any,
    run_id: str,
    title: str,
    evaluation: Evaluation,
    register: bool,
    description: str | None,
    manifest: dict[str, Any],
    tags: dict[str, str],
    bundle_meta: dict[str, Any],
    bar: Any,
) -> tuple[str | None, str | None, str | None]:
    """The active run's content; -> (version, alias, card path). The version's alias is set
    last, once its card and description are in place: a version that serves (champion) or
    waits for the gate (challenger) is always a complete one."""
    task, name = model.task, model_name(model.task)
    mlflow.set_tags(process_tags())
    mlflow.set_tags(
        {
            "task": task,
            KIND_TAG: TRAINING_KIND,
            "data_snapshot_hash": model.data_digest,
            DESCRIPTION_KEY: description or f"Training of {task} on data {model.data_digest}.",
        }
        | {f"baseline_skipped.{k}": v for k, v in model.skipped.items()}
        | tags
    )
    mlflow.log_params(
        flat_params(model.config)
        | {
            "best_iteration": model.fitted.booster.best_iteration,
            "n_features": len(model.features),
            **{f"rows.{k}": v for k, v in model.split_counts.items()},
            **{f"period.{k}": v for k, v in (manifest.get("periods") or {}).items()},
        }
    )
    metrics = evaluation.flat_metrics() | {"fit_seconds": model.fit_seconds}
    mlflow.log_metrics(metrics)
    if evaluation.dates is not None:
        log_dates(evaluation.dates)
    for split, context in (("train", "training"), ("test", "testing")):
        frame = dataset_frame(model, split)
        mlflow.log_input(mlflow_dataset(frame, name=f"{task}-{split}"), context=context)
    bar.update(1)
    images = log_evaluation(
        evaluation,
        y=evaluation.y,
        scores=evaluation.scores,
        contrib=evaluation.contributions,
        features=model.features,
        manifest=manifest,
    )
    bar.update(1)
    if not register:
        bar.update(3)
        return None, None, None
    bundle = model.bundle(meta=bundle_meta)
    alias = new_version_alias(client, name)
    sample = model.rows("test").head(500)
    version = log_bundle(bundle, sample=sample, client=client, set_alias=False)
    bar.update(1)
    card = build_card(
        evaluation=evaluation,
        config=model.config,
        version=version,
        aliases=[alias],
        features=model.feature_names,
        manifest=manifest,
        plots=images,
        monitoring=monitoring_thresholds(),
        lineage={
            "run_id": run_id,
            "run_name": title,
            **{k: str(v) for k, v in manifest.items() if isinstance(v, str)},
            **{f"package.{k}": v for k, v in (manifest.get("packages") or {}).items()},
        },
    )
    card_path = log_card(card)
    bar.update(1)
    _describe(
        client,
        name=name,
        version=version,
        run_id=run_id,
        title=title,
        card_path=card_path,
        model=model,
        evaluation=evaluation,
    )
    with quiet():
        client.set_registered_model_alias(name, alias, version)
    mlflow.set_tag(VERSION_TAG, version)  # run -> version (the version names its run already)
    bar.update(1)
    return version, alias, card_path


def _describe(client, *, name, version, run_id, title, card_path, model, evaluation) -> None:
    registered = client.get_registered_model(name)
    if not registered.description:
        client.update_registered_model(name, description=MODEL_DESCRIPTION.format(task=model.task))
    row = evaluation.overall.set_index("score").loc["model"]
    client.update_model_version(
        name,
        version,
        description=VERSION_DESCRIPTION.format(
            run_name=title,
            digest=model.data_digest[:12],
            auroc=row["auroc"],
            lo=_fmt(row.get("auroc_lo")),
            hi=_fmt(row.get("auroc_hi")),
            ece=row["ece"],
            n=int(row["n"]),
            events=int(row["events"]),
            card_uri=f"runs:/{run_id}/{card_path}",
            run_id=run_id,
            card_path=card_path,
        ),
    )
    client.set_model_version_tag(name, version, "model_card", f"runs:/{run_id}/{card_path}")
    client.set_model_version_tag(name, version, "run_name", title)
