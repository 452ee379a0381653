"""Promotion: a challenger replaces the champion only when every rule of the gate passes
(riskstrat.models.gate); riskstrat.models.rollback undoes it.

Both versions are scored on the same rows (the latest test period, rebuilt from the store) with
bootstrap intervals. The gate table (rule, champion value and CI, challenger value and CI,
threshold, pass/fail) is printed by the CLI, logged as a `promote-<task>` run (gate.csv,
decision.json) and as `gate/<rule>` tags on the challenger's version. On promotion the old
champion keeps the alias `previous-champion`; `rollback` gives it `champion` back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event
from riskstrat.models.bundle import Bundle
from riskstrat.models.config import ModelConfig, load_model_config
from riskstrat.models.data import TaskData, load_task_data
from riskstrat.models.evaluate import MODEL, EvalResult, evaluate_scores
from riskstrat.models.gate import GateRow, gate, gate_frame
from riskstrat.models.intervals import bootstrap_scores
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    PREVIOUS_TAG,
    RETIRED_TAG,
    RiskModel,
    ensure_experiment,
    load_model,
    model_name,
    use_tracking,
)

NO_CHALLENGER = "{name}: no version has the alias 'challenger': train a new model first"
#: A retrain on the same data, config and code is the same model (LightGBM runs deterministic):
#: promoting it would change no score, yet push the real previous champion one rollback back.
REASON_SAME_MODEL = (
    "v{challenger} is the same model as champion v{champion} (equal boosters, calibrator and "
    "metadata): promoting it changes no score; retrain on a new extract or config to replace it"
)


@dataclass
class Decision:
    promote: bool
    reasons: list[str]
    champion_version: str
    challenger_version: str
    table: list[GateRow] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def _evaluate(
    model: RiskModel, test: pd.DataFrame, groups: pd.DataFrame, *, config: ModelConfig
) -> EvalResult:
    return evaluate_scores(
        test["label"].to_numpy(dtype=float),
        {MODEL: model.predict_risk(test)},
        practice=test["practice_code"].to_numpy(),
        groups=groups,
        params=config.evaluation,
        seed=config.seed,
    )


def same_model(a: Bundle, b: Bundle) -> bool:
    """Whether two bundles score every input alike: the same LightGBM model text (members
    included), calibrator and metadata (features, levels, level forecast, lineage)."""
    return (
        [m.model_to_string() for m in a.boosters] == [m.model_to_string() for m in b.boosters]
        and a.calibrator.to_dict() == b.calibrator.to_dict()
        and json.dumps(a.meta, sort_keys=True, default=str)
        == json.dumps(b.meta, sort_keys=True, default=str)
    )


def promote_task(task_name: str, *, settings: Settings) -> Decision:
    """Rebuild the latest test rows from the store and run the gate on them."""
    config = load_model_config(task_name)
    data = load_task_data(
        task_name, store_path=settings.paths.store, config=config, splits=("test",)
    )
    return promote_on_data(data, tracking_uri=settings.paths.mlflow_uri, config=config)


def promote_on_data(
    data: TaskData, *, tracking_uri: str, config: ModelConfig | None = None
) -> Decision:
    """Gate the challenger against the champion on `data`'s test rows; record the decision."""
    task = data.task.name
    config = config or load_model_config(task)
    name = model_name(task)
    champion = load_model(task, alias=CHAMPION, tracking_uri=tracking_uri)
    try:
        challenger = load_model(task, alias=CHALLENGER, tracking_uri=tracking_uri)
    except LookupError as exc:
        raise LookupError(NO_CHALLENGER.format(name=name)) from exc
    mask = (data.dataset["split"] == "test").to_numpy()
    test, groups = data.dataset[mask], data.groups[mask].reset_index(drop=True)
    old = _evaluate(champion, test, groups, config=config)
    new = _evaluate(challenger, test, groups, config=config)
    y = test["label"].to_numpy(dtype=float)
    paired = bootstrap_scores(
        y,
        {"challenger": challenger.predict_risk(test), "champion": champion.predict_risk(test)},
        n_boot=config.evaluation.bootstrap,
        seed=config.seed,
        ece_bins=config.evaluation.ece_bins,
        reference="challenger",
    )["champion"]
    delta = (paired.get("auroc_delta_lo", float("nan")), paired.get("auroc_delta_hi", float("nan")))
    passed, reasons, table = gate(old, new, params=config.gate, delta=delta)
    if same_model(champion, challenger):
        passed = False
        same = REASON_SAME_MODEL.format(challenger=challenger.version, champion=champion.version)
        reasons = [same]
    metrics = {f"champion/{k.split('/', 1)[1]}": v for k, v in old.flat_metrics().items()}
    metrics |= {f"challenger/{k.split('/', 1)[1]}": v for k, v in new.flat_metrics().items()}
    decision = Decision(
        promote=passed,
        reasons=reasons,
        champion_version=champion.version,
        challenger_version=challenger.version,
        table=table,
        metrics=metrics,
    )
    with quiet():
        _record(decision, name=name, task=task, test_rows=int(mask.sum()), uri=tracking_uri)
    log_event(
        "models.promotion",
        task=task,
        promoted=passed,
        champion=champion.version,
        challenger=challenger.version,
        reasons=len(reasons),
    )
    return decision


def _record(decision: Decision, *, name: str, task: str, test_rows: int, uri: str) -> None:
    client = use_tracking(uri)
    exp_id = ensure_experiment(name, client=client, uri=uri)
    verdict = "promoted" if decision.promote else "refused"
    v, old = decision.challenger_version, decision.champion_version
    with mlflow.start_run(experiment_id=exp_id, run_name=f"promote-{task}-v{v}-vs-v{old}") as run:
        mlflow.set_tags(
            {
                "task": task,
                "kind": "promotion",
                "decision": verdict,
                "mlflow.note.content": f"Gate: challenger v{v} vs champion v{old}: {verdict}.",
            }
        )
        mlflow.log_params(
            {"champion_version": old, "challenger_version": v, "test_rows": test_rows}
        )
        mlflow.log_metrics({k: v for k, v in decision.metrics.items() if np.isfinite(v)})
        mlflow.log_dict({"decision": verdict, "reasons": decision.reasons}, "decision.json")
        mlflow.log_text(gate_frame(decision.table).to_csv(index=False), "gate.csv")
    client.set_model_version_tag(name, v, "promotion.decision", verdict)
    client.set_model_version_tag(name, v, "promotion.reasons", " | ".join(decision.reasons)[:5000])
    client.set_model_version_tag(name, v, "promotion.run_id", run.info.run_id)
    for row in decision.table:
        client.set_model_version_tag(name, v, f"gate/{row.key}"[:250], row.result.lower())
    if decision.promote:
        client.set_registered_model_alias(name, CHAMPION, v)
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, old)
        client.delete_registered_model_alias(name, CHALLENGER)
        client.set_model_version_tag(name, old, RETIRED_TAG, v)
        client.set_model_version_tag(name, v, PREVIOUS_TAG, old)
