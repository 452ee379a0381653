"""SHAP (pred_contrib) -> plain-English reasons and suggested actions, for listed people only."""

from riskstrat.explain.actions import Actions, load_actions, suggest_actions
from riskstrat.explain.explain import explain
from riskstrat.explain.reasons import as_texts, top_reasons

__all__ = ["Actions", "as_texts", "explain", "load_actions", "suggest_actions", "top_reasons"]
