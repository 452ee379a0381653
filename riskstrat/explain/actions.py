"""Suggested actions: outreach/actions.yaml says what a practice team can do for each list and
about each reason a person is listed.

A row's actions (`row_actions`): the pathway's own first action (post-discharge: the follow-up
call with medicines reconciliation; palliative care: the care plan review; care home: the care
home's clinical lead), then the action for the person's special group when the list mixes
groups (a palliative patient on the post-discharge list), then at most `max_driver_actions`
actions picked by the person's reasons in reason order: de-duplicated, never one the list rules
out (`not_for`: no annual long-term conditions review for a palliative patient), never one for a
driver whose value is absent or zero, and with "recent" wording only when the event is within
the rule's window (older events get the rule's `otherwise` wording, or no action). Each action
carries its short `why`.

Two facts the features leave out are read from the row:
- a row indexed at a discharge whose stay began as an emergency (LACE acuity `lace_a` 3) has
  just had emergency care, though `days_since_emerg_adm` (features/index_stay.sql) leaves that
  stay out by design (it is a "previous" admission count): a rule that checks it counts as
  recent ("Anticipatory care plan after recent emergency care", never "past emergency care" for
  someone discharged days ago);
- a special group's action rests on the group's fact, which may be no reason of the row: its
  why says the fact (configs/reasons.yaml `group_facts`: "on the palliative care register: a
  current plan ..."), so no action rests on something the row does not show.

One hospital stay is one reason (an emergency admission and the discharge that ended it:
`said_with` in features/*.yml) and one action, whichever of the two the reason's points came
from: the first that applies of the discharge's rules, then the admission's (within 30 days of
the discharge the follow-up call, then the anticipatory care plan). Before, a stay said by its
discharge 31 days ago had no action and the same stay said by its admission had the care plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from riskstrat.config import StrictModel, load_yaml, project_root
from riskstrat.explain.discharge import ACUITY, EMERGENCY_ACUITY
from riskstrat.explain.protocols import FeatureText, SaidWithText
from riskstrat.explain.reasons import as_texts
from riskstrat.explain.wording import Group
from riskstrat.explain.wording import group_facts as configured_group_facts
from riskstrat.features.catalogue import load_catalogue
from riskstrat.registry.contract import PATHWAYS

ACTIONS_FILE = Path("outreach") / "actions.yaml"
JOIN = "; "
JOIN_IN_TEXT = "action or why {text!r} contains '; ', which separates a row's actions"
ONCE_NEEDS_RECENT = (
    "rule {action!r}: once_per_discharge needs `recent` (the columns that date the discharge)"
)
#: Days since the person's latest listing on a post-discharge list's main section (whose first
#: action is the follow-up call), from outreach.engine's `followed_up_on`: a rule with
#: `once_per_discharge` is not suggested for an event (its `recent` columns) before it.
FOLLOWED_UP_DAYS = "days_since_follow_up_listed"
#: The days since the last emergency admission before the index stay: on a row whose index
#: stay began as an emergency, emergency care ended on the index date (the discharge).
EMERGENCY_DAYS = "days_since_emerg_adm"


def _no_join(text: str | None) -> str | None:
    if text and JOIN in text:
        raise ValueError(JOIN_IN_TEXT.format(text=text))
    return text


class Recent(StrictModel):
    """The rule's wording says "recent": it applies only when one of `columns` (days since the
    event) is at most `within_days`; otherwise `otherwise` (None = no action)."""

    within_days: int = Field(ge=0)
    columns: tuple[str, ...] = Field(min_length=1)
    otherwise: str | None = None

    _plain = field_validator("otherwise")(_no_join)


class Step(StrictModel):
    action: str
    why: str

    _plain = field_validator("action", "why")(_no_join)


class ActionRule(StrictModel):
    action: str
    features: tuple[str, ...] = Field(min_length=1)  # glob patterns over feature names
    why: str = ""
    #: pathways or special groups on whose rows this action contradicts the plan of care (a
    #: misspelt name matched no row, and the action stayed on the very rows it contradicts)
    not_for: tuple[Literal[PATHWAYS], ...] = ()  # type: ignore[valid-type]
    recent: Recent | None = None
    #: The action is the follow-up of one discharge (its `recent` columns date it): not
    #: suggested again on a later list when a post-discharge list (main) already asked for it
    #: after that discharge, unless the practice returned 'Could not reach' for it.
    once_per_discharge: bool = False

    _plain = field_validator("action", "why")(_no_join)

    @model_validator(mode="after")
    def _dated(self) -> ActionRule:
        if self.once_per_discharge and self.recent is None:
            raise ValueError(ONCE_NEEDS_RECENT.format(action=self.action))
        return self


class Actions(StrictModel):
    default: str  # when nothing else applies
    default_why: str = ""
    #: pathway -> its first action
    pathways: dict[Literal[PATHWAYS], Step] = Field(default_factory=dict)  # type: ignore[valid-type]
    #: special group -> its action on lists that include the group (post-discharge)
    groups: dict[Group, Step] = Field(default_factory=dict)
    max_driver_actions: int = Field(default=2, ge=0)
    rules: tuple[ActionRule, ...]

    _plain = field_validator("default", "default_why")(_no_join)

    def for_feature(self, feature: str) -> list[str]:
        return [r.action for r in self.rules_for(feature)]

    def rules_for(self, feature: str) -> list[ActionRule]:
        return [r for r in self.rules if any(fnmatchcase(feature, p) for p in r.features)]

    def why_of(self, action: str) -> str:
        if action == self.default:
            return self.default_why
        steps = [*self.pathways.values(), *self.groups.values()]
        for step in steps:
            if step.action == action:
                return step.why
        for rule in self.rules:
            if action in (rule.action, rule.recent.otherwise if rule.recent else None):
                return rule.why
        return ""


def load_actions(path: Path | str | None = None) -> Actions:
    return load_yaml(Path(path) if path else project_root() / ACTIONS_FILE, Actions)


def follow_up_days(actions: Actions) -> int:
    """How many days after a discharge its follow-up action is still suggested: the longest
    `recent.within_days` of the `once_per_discharge` rules (0: none). The one number for how
    far back a post-discharge listing that asked for it counts (outreach.engine's
    `followed_up_on` looks at every listing it is given; the history read covers this)."""
    return max(
        (r.recent.within_days for r in actions.rules if r.once_per_discharge and r.recent),
        default=0,
    )


def suggest_actions(reasons: pd.DataFrame, *, actions: Actions, k: int = 3) -> pd.Series:
    """'; '-joined driver actions for each row's reason features (feature_1..k), de-duplicated,
    in reason order; the default action when no reason maps to one. (No list context: the
    outreach stage replaces these with `row_actions`.)"""
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
        out.append(JOIN.join(chosen) if chosen else actions.default)
    return pd.Series(out, index=reasons.index, name="actions", dtype="str")


def stays_of(texts: Mapping[str, FeatureText]) -> dict[str, SaidWithText]:
    """The admission feature of each `said_with` pair (features/*.yml) -> its pairing."""
    return {name: t.said_with for name, t in texts.items() if t.said_with is not None}


def row_actions(
    rows: pd.DataFrame,
    *,
    actions: Actions,
    values: pd.DataFrame | None = None,
    k: int = 3,
    group_facts: Mapping[str, str] | None = None,
    stays: Mapping[str, SaidWithText] | None = None,
) -> pd.DataFrame:
    """`actions` and `action_why` ('; '-joined, same order) for each row.

    rows: pathway, group (special group or NA) and feature_1..k (the reasons' features), index
    aligned with `values` (the feature matrix: the drivers' values and the days-since columns a
    "recent" rule checks; `lace_a` on rows indexed at a discharge). group_facts: special group ->
    its fact, said in the group action's why (default: configs/reasons.yaml). stays: the
    `said_with` pairs, admission feature -> pairing (default: the feature catalogue's).
    """
    facts = configured_group_facts() if group_facts is None else group_facts
    stays = stays_of(as_texts(load_catalogue())) if stays is None else stays
    features = [f"feature_{i}" for i in range(1, k + 1)]
    vals = values if values is not None else pd.DataFrame(index=rows.index)
    out_actions, out_why = [], []
    groups = rows["group"] if "group" in rows else pd.Series(None, index=rows.index)
    # Only the columns a rule can read: the reasons' features and the "recent" rules' columns.
    read = {f for f in features if f in rows for f in rows[f].dropna().unique()}
    read |= {c for rule in actions.rules if rule.recent for c in rule.recent.columns}
    read.add(FOLLOWED_UP_DAYS)
    read |= {c for first, pair in stays.items() for c in (first, pair.column, pair.same_stay)}
    read.add(ACUITY)
    value_rows = _value_rows(vals[[c for c in vals.columns if c in read]])
    known = len(vals.columns) > 0  # values given: an absent driver calls for no action
    rules_of = cache(actions.rules_for)  # the same few features on every row
    for idx, pathway, group, *feats in zip(
        rows.index, rows["pathway"], groups, *(rows[f] for f in features), strict=True
    ):
        value_of = value_rows.get(idx) if known else None
        context = {str(pathway), str(group)} if isinstance(group, str) else {str(pathway)}
        steps: list[tuple[str, str]] = []
        if pathway in actions.pathways:
            steps.append(_pair(actions.pathways[pathway]))
        if isinstance(group, str) and group in actions.groups and group != pathway:
            action, why = _pair(actions.groups[group])
            fact = facts.get(group)
            steps.append((action, f"{fact}: {why}" if fact and why else fact or why))
        drivers = _driver_actions(
            feats,
            actions=actions,
            rules_of=rules_of,
            context=context,
            value_of=value_of,
            stays=stays,
        )
        steps += [s for s in drivers if s[0] not in {a for a, _ in steps}]
        if not steps:
            steps.append((actions.default, actions.default_why))
        out_actions.append(JOIN.join(a for a, _ in steps))
        out_why.append(JOIN.join(w for _, w in steps))
    return pd.DataFrame(
        {"actions": out_actions, "action_why": out_why}, index=rows.index, dtype="str"
    )


def _pair(step: Step) -> tuple[str, str]:
    return step.action, step.why


def _value_rows(values: pd.DataFrame) -> dict[object, Mapping[str, object]]:
    """Each row's values by column name (index label -> {column: value}), read in one pass
    (a `.loc` per row costs more than the rest of row_actions)."""
    names = [str(c) for c in values.columns]
    return {
        idx: dict(zip(names, row, strict=True))
        for idx, row in zip(values.index, values.itertuples(index=False, name=None), strict=True)
    }


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _days_since(value_of: Mapping[str, object], column: str) -> float:
    """The row's days since the event of `column`; for the last emergency admission, 0 on a row
    whose index stay (just discharged) began as an emergency."""
    if column == EMERGENCY_DAYS and _number(value_of.get(ACUITY)) == EMERGENCY_ACUITY:
        return 0.0
    return _number(value_of.get(column))


def _one_stay(
    feature: str, value_of: Mapping[str, object], stays: Mapping[str, SaidWithText]
) -> list[str] | None:
    """The stay's two features, discharge first, when `feature` is one of a `said_with` pair
    and the row's two events are one stay (the pairing's `same_stay` time equals its `column`
    time); None otherwise."""
    for first, pair in stays.items():
        if feature in (first, pair.column):
            later = _number(value_of.get(pair.column))
            if later == _number(value_of.get(pair.same_stay)):  # NaN never equals
                return [pair.column, first]
    return None


def _rule_actions(
    rules: list[ActionRule], *, context: set[str], value_of: Mapping[str, object] | None
) -> list[tuple[str, str]]:
    """(action, why) of each rule that applies here: not ruled out by the list, with its
    "recent" wording only within its window (else `otherwise`, or nothing)."""
    out = []
    for rule in rules:
        if context & set(rule.not_for):
            continue
        if rule.once_per_discharge and value_of is not None and _followed_up(rule, value_of):
            continue
        action = rule.action
        if rule.recent is not None and value_of is not None:
            days = [_days_since(value_of, c) for c in rule.recent.columns]
            if not any(d <= rule.recent.within_days for d in days if not np.isnan(d)):
                action = rule.recent.otherwise
        if action:
            out.append((action, rule.why))
    return out


def _followed_up(rule: ActionRule, value_of: Mapping[str, object]) -> bool:
    """The event the rule's `recent` columns date happened before the person's latest
    post-discharge listing (FOLLOWED_UP_DAYS): that list asked for this follow-up already."""
    listed = _number(value_of.get(FOLLOWED_UP_DAYS))
    if np.isnan(listed) or rule.recent is None:
        return False
    days = [_days_since(value_of, c) for c in rule.recent.columns]
    return any(d > listed for d in days if not np.isnan(d))


def _driver_actions(
    feats: list[object],
    *,
    actions: Actions,
    rules_of: Callable[[str], list[ActionRule]],
    context: set[str],
    value_of: Mapping[str, object] | None,
    stays: Mapping[str, SaidWithText],
) -> list[tuple[str, str]]:
    """Actions for the reasons' features, in reason order, at most max_driver_actions; a
    reason that says one hospital stay gets one action (module docstring). value_of: the row's
    values (None: not known, every driver counts)."""
    chosen: list[tuple[str, str]] = []
    for feature in feats:
        if not isinstance(feature, str):
            continue
        value = _number(value_of.get(feature)) if value_of is not None else 1.0
        if value_of is not None and (
            np.isnan(value) or (value == 0 and not feature.startswith("days_"))
        ):
            continue  # an absent or zero driver calls for no action
        stay = _one_stay(feature, value_of, stays) if value_of is not None else None
        where = {"context": context, "value_of": value_of}
        if stay is None:
            found = _rule_actions(rules_of(feature), **where)
        else:
            found = [a for m in stay for a in _rule_actions(rules_of(m), **where)][:1]
        for action, why in found:
            if action not in (a for a, _ in chosen):
                chosen.append((action, why))
        if len(chosen) >= actions.max_driver_actions:
            break
    return chosen[: actions.max_driver_actions]
