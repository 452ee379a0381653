"""The promotion gate's rules, pure: two evaluations of the same rows in, the decision, its
reasons and the gate table (rule, champion value and CI, challenger value and CI, threshold,
result) out. riskstrat.models.promote runs it on the registry's versions and records it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from riskstrat.models.config import Gate
from riskstrat.models.evaluate import MODEL, EvalResult

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
            f"paired CI of the difference above 0: {lo:+.4f} to {hi:+.4f}",
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
                    f">= champion - {params.subgroup_auroc_margin:g} = "
                    f"{r.auroc_old - params.subgroup_auroc_margin:.4f}",
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
                    f"|gap| <= |champion's| + {params.subgroup_gap_margin:g} = "
                    f"{abs(r.gap_old) + params.subgroup_gap_margin:.4f}",
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
        if lo is None or hi is None or math.isnan(lo):
            return f"{v:.4f}"
        if min(lo, hi) < 0:  # "-0.0558--0.0176" reads as a subtraction: say "to"
            return f"{v:+.4f} ({lo:+.4f} to {hi:+.4f})"
        return f"{v:.4f} ({lo:.4f}-{hi:.4f})"

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
