"""Explain the selected rows only: contributions, reasons and actions for listed people.

Contributions are computed for the rows passed in (a practice list, never the whole population):
LightGBM's pred_contrib is cheap per row but a population-wide pass is wasted work. Rows with a
previous week's feature row (rising risk) are explained by what changed (explain.changes); rows
indexed at a discharge (readmission) get the "this discharge" line (explain.discharge).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.explain.actions import Actions, suggest_actions
from riskstrat.explain.changes import RiskOfLogit, change_reasons, expit, planned_only
from riskstrat.explain.discharge import describe_discharge
from riskstrat.explain.protocols import FeatureText, RiskModel
from riskstrat.explain.reasons import top_reasons
from riskstrat.logs import timed
from riskstrat.models.level import apply_offset, offset

EXPLAIN_TOO_MANY = "explain: {rows} rows asked for; explain selected rows, not the population"
PREVIOUS_NOT_LISTED = "explain: {count} previous-week rows are not rows of this week's matrix"
MAX_EXPLAIN_ROWS = 200_000


def risk_of_logit(model: RiskModel, index_dates: pd.Series | None = None) -> RiskOfLogit:
    """Raw log-odds -> the risk the list shows (the model's calibrator when it has one, and
    with `index_dates`, one per row, its calendar level forecast at each row's date)."""
    calibrator = getattr(model, "calibrator", None)
    calibrated = (
        expit if calibrator is None else lambda z: np.asarray(calibrator(expit(z)), "float64")
    )
    level = getattr(model, "level", None)
    if level is None or index_dates is None:
        return calibrated
    shift = offset(level, index_dates)
    return lambda z: apply_offset(calibrated(z), shift, link=level.link)


def _contributions(model: RiskModel, X: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    contrib = model.contributions(X) if len(X) else pd.DataFrame(columns=[*X.columns, "bias"])
    contrib.index = index
    return contrib


def explain(
    model: RiskModel,
    matrix: pd.DataFrame,
    *,
    texts: dict[str, FeatureText],
    actions: Actions,
    k: int = 3,
    after_discharge: bool = False,
    previous: pd.DataFrame | None = None,
    recent_days: int | None = None,
    rises: pd.Series | None = None,
    unsaid: pd.Series | None = None,
) -> pd.DataFrame:
    """reason_i, feature_i, contribution_i, modifiable_i, concept_i, recent_i (i = 1..k),
    `actions`, `reasons_are_changes`, `rise_planned_only` and, with `after_discharge`,
    `this_discharge`; aligned with matrix.

    previous: last week's feature rows of some of these people (same index labels as their
    rows in `matrix`, built at last week's as-of): their reasons are what changed
    (change_reasons), with rise_points_i, unless nothing rose. rises: the list's Rise column
    (points, same index as matrix), which those points never add up to more than. unsaid: per
    row (same index as matrix) a feature its list already states (the group of a special-group
    list), never one of its reasons; NA for none.
    """
    if len(matrix) > MAX_EXPLAIN_ROWS:
        raise ValueError(EXPLAIN_TOO_MANY.format(rows=len(matrix)))
    with timed("explain", rows=len(matrix), model=model.name):
        X = matrix[list(model.feature_names)]
        contrib = _contributions(model, X, matrix.index)
        # values from the whole matrix: a reason may read a column the model does not use
        # (said_with's same_stay: whether an admission and the last discharge are one stay)
        said = contrib
        if unsaid is not None and unsaid.notna().any():
            said = contrib.copy()
            named = unsaid.dropna().astype(str)
            for feature, rows in named.groupby(named).groups.items():
                if feature in said.columns:
                    said.loc[rows, feature] = 0.0  # not positive: never a reason
        reasons = top_reasons(
            said,
            matrix,
            texts=texts,
            k=k,
            after_discharge=after_discharge,
            recent_days=recent_days,
        )
        reasons["reasons_are_changes"] = False
        reasons["rise_planned_only"] = pd.array([pd.NA] * len(reasons), dtype="boolean")
        if previous is not None and len(previous):
            reasons = _with_changes(
                reasons, model, matrix, contrib, previous, texts=texts, k=k,
                recent_days=recent_days, rises=rises,
            )  # fmt: skip
        if after_discharge:
            reasons["this_discharge"] = describe_discharge(matrix, texts=texts)
        return reasons.assign(actions=suggest_actions(reasons, actions=actions, k=k))


def _with_changes(
    reasons: pd.DataFrame,
    model: RiskModel,
    matrix: pd.DataFrame,
    contrib: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    texts: dict[str, FeatureText],
    k: int,
    recent_days: int | None,
    rises: pd.Series | None = None,
) -> pd.DataFrame:
    unknown = previous.index.difference(matrix.index)
    if len(unknown):
        raise ValueError(PREVIOUS_NOT_LISTED.format(count=len(unknown)))
    rows = previous.index
    X = matrix.loc[rows, list(model.feature_names)]
    prev_X = previous[list(model.feature_names)]
    changes = change_reasons(
        contrib.loc[rows],
        _contributions(model, prev_X, rows),
        matrix.loc[rows],
        prev_X,
        texts=texts,
        k=k,
        risk_of_logit=risk_of_logit(model, matrix.loc[rows].get("index_date")),
        prev_risk_of_logit=risk_of_logit(model, previous.get("index_date")),
        recent_days=recent_days,
        rise_cap=None if rises is None else rises.loc[rows].to_numpy("float64"),
    )
    changed = changes.index[changes["reason_1"].notna()]
    out = reasons.copy()
    for column in changes.columns:
        if column not in out:
            out[column] = pd.Series(np.nan, index=out.index, dtype=changes[column].dtype)
        out.loc[changed, column] = changes.loc[changed, column]
    out.loc[changed, "reasons_are_changes"] = True
    out.loc[rows, "rise_planned_only"] = planned_only(X, prev_X, texts=texts)
    return out
