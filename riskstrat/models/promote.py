"""The promotion gate: a challenger replaces the champion only when every rule passes.

Both versions are scored on the same rows (the latest test period, rebuilt from the store), and
the decision with its reasons is recorded in MLflow: a `promote-<task>` run (metrics of both,
decision) and tags on the challenger's model version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event
from riskstrat.models.config import Gate, ModelConfig, load_model_config
from riskstrat.models.data import TaskData, load_task_data
from riskstrat.models.evaluate import MODEL, EvalResult, evaluate_scores
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import (
    CHALLENGER,
    CHAMPION,
    RiskModel,
    ensure_experiment,
    load_model,
    model_name,
    use_tracking,
)

REASON_AUROC = "AUROC {new:.4f} is more than {margin:g} below the champion's {old:.4f}"
REASON_ECE = "ECE {ece:.4f} is above {limit:g}"
REASON_SLOPE = "calibration slope {slope:.3f} is outside [{lo:g}, {hi:g}]"
REASON_SUBGROUP_AUROC = (
    "{slice} {group} ({n} rows): AUROC {new:.4f} vs champion {old:.4f} "
    "(worse by more than {margin:g})"
)
REASON_SUBGROUP_GAP = (
    "{slice} {group} ({n} rows): calibration gap {new:+.4f} vs champion {old:+.4f} "
    "(worse by more than {margin:g})"
)
PASSED = "all gate rules passed"
NO_CHALLENGER = "{name}: no version has the alias 'challenger': train a new model first"


@dataclass
class Decision:
    promote: bool
    reasons: list[str]
    champion_version: str
    challenger_version: str
    metrics: dict[str, float] = field(default_factory=dict)


def gate(champion: EvalResult, challenger: EvalResult, *, params: Gate) -> tuple[bool, list[str]]:
    """Pure: the rules of the gate over two evaluations of the same rows -> (pass, reasons)."""
    reasons = []
    old, new = champion.metric(MODEL, "auroc"), challenger.metric(MODEL, "auroc")
    if new < old - params.auroc_margin:
        reasons.append(REASON_AUROC.format(new=new, old=old, margin=params.auroc_margin))
    ece = challenger.metric(MODEL, "ece")
    if ece > params.max_ece:
        reasons.append(REASON_ECE.format(ece=ece, limit=params.max_ece))
    slope = challenger.metric(MODEL, "calibration_slope")
    lo, hi = params.slope_bounds
    if not lo <= slope <= hi:
        reasons.append(REASON_SLOPE.format(slope=slope, lo=lo, hi=hi))
    keys = ["slice", "group"]
    both = champion.subgroups.merge(challenger.subgroups, on=keys, suffixes=("_old", "_new"))
    both = both[(both["slice"] != "overall") & (both["n_new"] >= params.subgroup_min_rows)]
    for r in both.itertuples():
        if r.auroc_new < r.auroc_old - params.subgroup_auroc_margin:
            reasons.append(
                REASON_SUBGROUP_AUROC.format(
                    slice=r.slice,
                    group=r.group,
                    n=r.n_new,
                    new=r.auroc_new,
                    old=r.auroc_old,
                    margin=params.subgroup_auroc_margin,
                )
            )
        if abs(r.gap_new) > abs(r.gap_old) + params.subgroup_gap_margin:
            reasons.append(
                REASON_SUBGROUP_GAP.format(
                    slice=r.slice,
                    group=r.group,
                    n=r.n_new,
                    new=r.gap_new,
                    old=r.gap_old,
                    margin=params.subgroup_gap_margin,
                )
            )
    return not reasons, reasons or [PASSED]


def _evaluate(
    model: RiskModel, test: pd.DataFrame, groups: pd.DataFrame, *, config: ModelConfig
) -> EvalResult:
    return evaluate_scores(
        test["label"].to_numpy(dtype=float),
        {MODEL: model.predict_risk(test)},
        practice=test["practice_code"].to_numpy(),
        groups=groups,
        params=config.evaluation.model_copy(update={"bootstrap": 0}),
        seed=config.seed,
    )


def promote_task(task_name: str, *, settings: Settings) -> Decision:
    """Rebuild the latest test rows from the store and run the gate on them."""
    config = load_model_config(task_name)
    data = load_task_data(
        task_name, store_path=settings.paths.store, config=config, splits=("test",)
    )
    return promote_on_data(data, tracking_uri=settings.paths.mlflow_uri)


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
    test, groups = data.dataset[mask], data.groups[mask]
    old = _evaluate(champion, test, groups, config=config)
    new = _evaluate(challenger, test, groups, config=config)
    passed, reasons = gate(old, new, params=config.gate)
    metrics = {f"champion.{k}": v for k, v in old.flat_metrics().items() if "." not in k}
    metrics |= {f"challenger.{k}": v for k, v in new.flat_metrics().items() if "." not in k}
    decision = Decision(
        promote=passed,
        reasons=reasons,
        champion_version=champion.version,
        challenger_version=challenger.version,
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
    with mlflow.start_run(experiment_id=exp_id, run_name=f"promote-{task}") as run:
        mlflow.set_tags({"task": task, "kind": "promotion", "decision": verdict})
        mlflow.log_params(
            {
                "champion_version": decision.champion_version,
                "challenger_version": decision.challenger_version,
                "test_rows": test_rows,
            }
        )
        mlflow.log_metrics({k: v for k, v in decision.metrics.items() if np.isfinite(v)})
        mlflow.log_dict({"decision": verdict, "reasons": decision.reasons}, "decision.json")
    v = decision.challenger_version
    client.set_model_version_tag(name, v, "promotion.decision", verdict)
    client.set_model_version_tag(name, v, "promotion.reasons", " | ".join(decision.reasons)[:5000])
    client.set_model_version_tag(name, v, "promotion.run_id", run.info.run_id)
    if decision.promote:
        client.set_registered_model_alias(name, CHAMPION, v)
        client.delete_registered_model_alias(name, CHALLENGER)
        client.set_model_version_tag(name, decision.champion_version, "retired_by", v)
