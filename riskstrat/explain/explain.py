"""Explain the selected rows only: contributions, reasons and actions for listed people.

Contributions are computed for the rows passed in (a practice list, never the whole population):
LightGBM's pred_contrib is cheap per row but a population-wide pass is wasted work.
"""

from __future__ import annotations

import pandas as pd

from riskstrat.explain.actions import Actions, suggest_actions
from riskstrat.explain.protocols import FeatureText, RiskModel
from riskstrat.explain.reasons import top_reasons
from riskstrat.logs import timed

EXPLAIN_TOO_MANY = "explain: {rows} rows asked for; explain selected rows, not the population"
MAX_EXPLAIN_ROWS = 200_000


def explain(
    model: RiskModel,
    matrix: pd.DataFrame,
    *,
    texts: dict[str, FeatureText],
    actions: Actions,
    k: int = 3,
) -> pd.DataFrame:
    """reason_1..k, feature_i, contribution_i, modifiable_i and `actions`, aligned with matrix."""
    if len(matrix) > MAX_EXPLAIN_ROWS:
        raise ValueError(EXPLAIN_TOO_MANY.format(rows=len(matrix)))
    with timed("explain", rows=len(matrix), model=model.name):
        X = matrix[list(model.feature_names)]
        contrib = model.contributions(X) if len(X) else pd.DataFrame(columns=[*X.columns, "bias"])
        contrib.index = matrix.index
        reasons = top_reasons(contrib, X, texts=texts, k=k)
        return reasons.assign(actions=suggest_actions(reasons, actions=actions, k=k))
