"""configs/reasons.yaml: the settings of how reasons are worded (the recent window)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from riskstrat.config import StrictModel, load_yaml, project_root

REASONS_FILE = Path("configs") / "reasons.yaml"


class ReasonSettings(StrictModel):
    #: an event within this many days of the list date is "recent"; older is history
    recent_days: int = Field(default=90, ge=1)
    #: a change reason accounts for at least this many points of the rise
    min_change_points: float = Field(default=0.5, ge=0)


def load_reason_settings(path: Path | str | None = None) -> ReasonSettings:
    return load_yaml(Path(path) if path else project_root() / REASONS_FILE, ReasonSettings)


@cache
def recent_days() -> int:
    """The configured recent window (read once per process)."""
    return load_reason_settings().recent_days


@cache
def min_change_points() -> float:
    """The configured smallest change worth saying (read once per process)."""
    return load_reason_settings().min_change_points
