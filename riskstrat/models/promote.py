"""The promotion gate: a challenger replaces the champion only when every rule passes; a
promotion can be undone (`rollback`).

Both versions are scored on the same rows (the latest test period, rebuilt from the store) with
bootstrap intervals. The gate table (rule, champion value and CI, challenger value and CI,
threshold, pass/fail) is printed by the CLI, logged as a `promote-<task>` run (gate.csv,
decision.json) and as `gate/<rule>` tags on the challenger's version. On promotion the old
champion keeps the alias `previous-champion`; `rollback` gives it `champion` back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.logs import log_event
from riskstrat.models.config import Gate, ModelConfig, load_model_config
from riskstrat.models.data import TaskData, load_task_data
from riskstrat.models.evaluate import MODEL, EvalResult, evaluate_scores
from riskstrat.models.intervals import bootstrap_scores
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    RiskModel,
    alias_version,
    ensure_experiment,
    load_model,
    model_name,
    use_tracking,
)

REASON_AUROC = "AUROC {new:.4f} is more than {margin:g} below the champion's {old:.4f}"
REASON_NOT_BETTER = (
    "AUROC {new:.4f} is not above the champion's {old:.4f} beyond noise (difference "
    "{delta:+.4f}, 95% CI {lo:+.4f} to {hi:+.4f})"
)
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
NO_PREVIOUS = (
    "{name}: no version has the alias 'previous-champion': nothing to roll back to (a version "
    "gets it when a promotion replaces it)"
)
PREVIOUS_TAG = "promotion.previous_champion"


@dataclass
class GateRow:
    """One rule of the gate, as printed and logged."""

    rule: str
    champion: float | None
    champion_lo: float | None
    champion_hi: float | None
    challenger: float | None
    challenger_lo: float | None
    challenger_hi: float | None
    threshold: str
    passed: bool
    #: False for a rule shown for information (it cannot refuse the challenger).
    enforced: bool = True
    #: Whether the rule's condition holds (differs from `passed` only when not enforced).
    observed: bool | None = None

    @property
    def result(self) -> str:
        if not self.enforced:
            return "yes (not required)" if self.observed else "no (not required)"
        return "pass" if self.passed else "FAIL"

    @property
    def key(self) -> str:
        """The rule as a tag key: `Subgroup AUROC (26 groups ...)` -> `subgroup_auroc`."""
        name = self.rule.split(" (")[0].lower()
        return "_".join("".join(c if c.isalnum() else " " for c in name).split())


@dataclass
class Decision:
    promote: bool
    reasons: list[str]
    champion_version: str
    challenger_version: str
    table: list[GateRow] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def _clean(v: object) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _v(frame: EvalResult, name: str) -> tuple[float, float | None, float | None]:
    row = frame.overall.set_index("score").loc[MODEL]
    return float(row[name]), _clean(row.get(f"{name}_lo")), _clean(row.get(f"{name}_hi"))


def gate(
    champion: EvalResult,
    challenger: EvalResult,
    *,
    params: Gate,
    delta: tuple[float, float] | None = None,
) -> tuple[bool, list[str], list[GateRow]]:
    """Pure: the rules of the gate over two evaluations of the same rows -> (pass, reasons,
    table). `delta`: the paired 95% interval of challenger - champion AUROC (for
    `require_improvement`)."""
    reasons: list[str] = []
    table: list[GateRow] = []

    def row(rule: str, metric: str, threshold: str, ok: bool) -> None:
        table.append(GateRow(rule, *_v(champion, metric), *_v(challenger, metric), threshold, ok))

    old, new = champion.metric(MODEL, "auroc"), challenger.metric(MODEL, "auroc")
    ok = new >= old - params.auroc_margin
    row(
        "AUROC not worse",
        "auroc",
        f">= champion - {params.auroc_margin:g} = {old - params.auroc_margin:.4f}",
        ok,
    )
    if not ok:
        reasons.append(REASON_AUROC.format(new=new, old=old, margin=params.auroc_margin))
    lo, hi = delta if delta is not None else (float("nan"), float("nan"))
    better = bool(lo > 0)
    required = params.require_improvement
    table.append(
        GateRow(
            "AUROC better beyond noise",
            *_v(champion, "auroc"),
            *_v(challenger, "auroc"),
            f"paired 95% CI of challenger - champion above 0: {lo:+.4f} to {hi:+.4f}"
            + ("" if required else " (informative: gate.require_improvement is false)"),
            better or not required,
            enforced=required,
            observed=better,
        )
    )
    if required and not better:
        reasons.append(REASON_NOT_BETTER.format(new=new, old=old, delta=new - old, lo=lo, hi=hi))
    ece = challenger.metric(MODEL, "ece")
    row("ECE", "ece", f"<= {params.max_ece:g}", ece <= params.max_ece)
    if ece > params.max_ece:
        reasons.append(REASON_ECE.format(ece=ece, limit=params.max_ece))
    slope = challenger.metric(MODEL, "calibration_slope")
    lo, hi = params.slope_bounds
    row("Calibration slope", "calibration_slope", f"in [{lo:g}, {hi:g}]", lo <= slope <= hi)
    if not lo <= slope <= hi:
        reasons.append(REASON_SLOPE.format(slope=slope, lo=lo, hi=hi))
    reasons += _subgroups(champion, challenger, params=params, table=table)
    return not reasons, reasons or [PASSED], table


def _subgroups(
    champion: EvalResult, challenger: EvalResult, *, params: Gate, table: list[GateRow]
) -> list[str]:
    reasons = []
    keys = ["slice", "group"]
    old = champion.subgroups[champion.subgroups["score"] == MODEL]
    new = challenger.subgroups[challenger.subgroups["score"] == MODEL]
    both = old.merge(new, on=keys, suffixes=("_old", "_new"))
    both = both[(both["slice"] != "overall") & (both["n_new"] >= params.subgroup_min_rows)]
    auc_fail = gap_fail = 0
    for r in both.itertuples():
        if r.auroc_new < r.auroc_old - params.subgroup_auroc_margin:
            auc_fail += 1
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
            table.append(
                GateRow(
                    f"AUROC in {r.slice} {r.group}",
                    r.auroc_old,
                    r.auroc_lo_old,
                    r.auroc_hi_old,
                    r.auroc_new,
                    r.auroc_lo_new,
                    r.auroc_hi_new,
                    f">= champion - {params.subgroup_auroc_margin:g}",
                    False,
                )
            )
        if abs(r.gap_new) > abs(r.gap_old) + params.subgroup_gap_margin:
            gap_fail += 1
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
            table.append(
                GateRow(
                    f"Calibration gap in {r.slice} {r.group}",
                    r.gap_old,
                    r.gap_lo_old,
                    r.gap_hi_old,
                    r.gap_new,
                    r.gap_lo_new,
                    r.gap_hi_new,
                    f"|gap| <= |champion's| + {params.subgroup_gap_margin:g}",
                    False,
                )
            )
    n = len(both)
    table.append(
        GateRow(
            f"Subgroup AUROC ({n} groups of >= {params.subgroup_min_rows} rows)",
            None,
            None,
            None,
            None,
            None,
            None,
            f"none worse by > {params.subgroup_auroc_margin:g} ({auc_fail} failed)",
            auc_fail == 0,
        )
    )
    table.append(
        GateRow(
            f"Subgroup calibration ({n} groups)",
            None,
            None,
            None,
            None,
            None,
            None,
            f"no |gap| worse by > {params.subgroup_gap_margin:g} ({gap_fail} failed)",
            gap_fail == 0,
        )
    )
    return reasons


def gate_frame(table: list[GateRow]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in table])


def format_gate(table: list[GateRow]) -> str:
    """The gate table as aligned text (values with their 95% intervals)."""

    def cell(v: float | None, lo: float | None, hi: float | None) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        ci = (
            f" ({lo:.4f}-{hi:.4f})"
            if lo is not None and hi is not None and not math.isnan(lo)
            else ""
        )
        return f"{v:.4f}{ci}"

    rows = [
        {
            "rule": r.rule,
            "champion (95% CI)": cell(r.champion, r.champion_lo, r.champion_hi),
            "challenger (95% CI)": cell(r.challenger, r.challenger_lo, r.challenger_hi),
            "threshold": r.threshold,
            "result": r.result,
        }
        for r in table
    ]
    return pd.DataFrame(rows).to_string(index=False)


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
        client.set_model_version_tag(name, old, "retired_by", v)
        client.set_model_version_tag(name, v, PREVIOUS_TAG, old)


@dataclass
class Rollback:
    restored: str  # the version that is champion again
    demoted: str  # the version that was champion
    previous: str | None  # the version now holding previous-champion, if any


def rollback(task_name: str, *, tracking_uri: str) -> Rollback:
    """Give `champion` back to the `previous-champion` version; the demoted version is tagged
    `rolled_back`, and `previous-champion` moves one promotion further back (or is removed)."""
    client = use_tracking(tracking_uri)
    name = model_name(task_name)
    with quiet():
        previous = alias_version(client, name, PREVIOUS_CHAMPION)
        current = alias_version(client, name, CHAMPION)
        if previous is None or current is None:
            raise LookupError(NO_PREVIOUS.format(name=name))
        client.set_registered_model_alias(name, CHAMPION, previous)
        client.set_model_version_tag(
            name, current, "rolled_back", f"champion returned to v{previous}"
        )
        before = client.get_model_version(name, previous).tags.get(PREVIOUS_TAG)
        if before and before != current:
            client.set_registered_model_alias(name, PREVIOUS_CHAMPION, before)
        else:
            client.delete_registered_model_alias(name, PREVIOUS_CHAMPION)
            before = None
        exp_id = ensure_experiment(name, client=client, uri=tracking_uri)
        with mlflow.start_run(
            experiment_id=exp_id, run_name=f"rollback-{task_name}-v{current}-to-v{previous}"
        ):
            mlflow.set_tags({"task": task_name, "kind": "rollback"})
            mlflow.log_params({"restored_version": previous, "demoted_version": current})
    log_event("models.rollback", task=task_name, restored=previous, demoted=current)
    return Rollback(restored=previous, demoted=current, previous=before)
