"""Suggested actions: outreach/actions.yaml maps features (glob patterns) to what a practice
team can do about them. The reasons a person is listed pick the actions, in reason order."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pandas as pd
from pydantic import Field

from riskstrat.config import StrictModel, load_yaml, project_root

ACTIONS_FILE = Path("outreach") / "actions.yaml"


class ActionRule(StrictModel):
    action: str
    features: tuple[str, ...] = Field(min_length=1)  # glob patterns over feature names
    why: str = ""


class Actions(StrictModel):
    default: str
    rules: tuple[ActionRule, ...]

    def for_feature(self, feature: str) -> list[str]:
        return [r.action for r in self.rules if any(fnmatchcase(feature, p) for p in r.features)]


def load_actions(path: Path | str | None = None) -> Actions:
    return load_yaml(Path(path) if path else project_root() / ACTIONS_FILE, Actions)


def suggest_actions(reasons: pd.DataFrame, *, actions: Actions, k: int = 3) -> pd.Series:
    """'; '-joined actions for each row's reason features (feature_1..k), de-duplicated, in
    reason order; the default action when no reason maps to one."""
    cache: dict[str, list[str]] = {}
    out = []
    for row in reasons[[f"feature_{i}" for i in range(1, k + 1)]].itertuples(index=False):
        chosen: list[str] = []
        for feature in row:
            if not isinstance(feature, str):
                continue
            if feature not in cache:
                cache[feature] = actions.for_feature(feature)
            chosen += [a for a in cache[feature] if a not in chosen]
        out.append("; ".join(chosen) if chosen else actions.default)
    return pd.Series(out, index=reasons.index, name="actions", dtype="str")
