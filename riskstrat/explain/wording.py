"""configs/reasons.yaml: the settings of how reasons are worded (the recent window, the display
labels of categories, the fact each special group rests on)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from riskstrat.config import StrictModel, load_yaml, project_root
from riskstrat.explain.protocols import FeatureText

REASONS_FILE = Path("configs") / "reasons.yaml"
#: The special groups (configs/outreach.yaml special_groups): a misspelt one was never said.
Group = Literal["palliative_care", "care_home"]


class ReasonSettings(StrictModel):
    #: an event within this many days of the list date is "recent"; older is history
    recent_days: int = Field(default=90, ge=1)
    #: a change reason accounts for at least this many points of the rise
    min_change_points: float = Field(default=0.5, ge=0)
    #: feature -> category -> what a nurse reads (the codebook's names stay the model's)
    labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: special group -> the fact that puts a person in it, said beside the group's action
    group_facts: dict[Group, str] = Field(default_factory=dict)
    #: special group -> the feature that says membership: not a reason on the group's own list
    #: (its title says it already; "Lives in a care home" took a reason's place on the care-home
    #: list)
    group_features: dict[Group, str] = Field(default_factory=dict)

    @field_validator("group_facts")
    @classmethod
    def _no_separator(cls, facts: dict[str, str]) -> dict[str, str]:
        for fact in facts.values():
            if "; " in fact:  # a row's actions and whys are '; '-joined
                raise ValueError(f"group fact {fact!r} contains '; ', which separates actions")
        return facts


def load_reason_settings(path: Path | str | None = None) -> ReasonSettings:
    return load_yaml(Path(path) if path else project_root() / REASONS_FILE, ReasonSettings)


@cache
def _settings() -> ReasonSettings:
    return load_reason_settings()


def recent_days() -> int:
    """The configured recent window (read once per process)."""
    return _settings().recent_days


def min_change_points() -> float:
    """The configured smallest change worth saying (read once per process)."""
    return _settings().min_change_points


def display_labels() -> Mapping[str, Mapping[str, str]]:
    """feature -> category -> display label (read once per process)."""
    return _settings().labels


def group_facts() -> Mapping[str, str]:
    """special group -> the fact it rests on (read once per process)."""
    return _settings().group_facts


def group_features() -> Mapping[str, str]:
    """special group -> the feature saying membership (read once per process)."""
    return _settings().group_features


def display_label(
    spec: FeatureText, value: float, labels: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A value as a nurse reads it: a category's configured display label, else the
    catalogue's label (the category's name, a number)."""
    own = (display_labels() if labels is None else labels).get(spec.column, {})
    if spec.categories is not None and own:
        name = spec.categories[int(value)]
        if name in own:
            return own[name]
    return spec.label(value)
