"""Outreach configuration: configs/outreach.yaml (shared rules) and outreach/*.yaml (pathways).

Both are pydantic StrictModels loaded with `load_yaml`, so a wrong key or type names the file and
the key. Cross-file rules (capacity shares add up to at most 1, every pathway in pathway_order has
a file) are checked here too, with messages that name the file.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from riskstrat.config import (
    CONFIG_ERROR,
    ConfigError,
    StrictModel,
    config_dir,
    load_yaml,
    project_root,
)
from riskstrat.registry.contract import OUTREACH_OUTCOMES, PATHWAYS
from riskstrat.tasks.spec import TaskName

SHARES_OVER_ONE = "{file}: capacity_share: pathways' shares add up to {total:.3f}, more than 1"
PATHWAY_FILE_MISSING = "{file}: pathway {name!r} is in pathway_order but has no file"
PATHWAYS_DIR_MISSING = (
    "folder {folder} does not exist, point it at the folder of pathway YAMLs (outreach/ in the "
    "project)"
)
PATHWAY_NAME_MISMATCH = "{file}: name: {name!r} does not match the file name"
ORDER_COLUMNS = ("risk", "rise_points", "contact_by", "index_date", "previous_risk")
BAD_ORDER_KEY = "order_by key {key!r} is not one of {allowed} (prefix '-' for descending)"
CADENCE_RUNS_PER_WEEK = {"weekly": 1, "weekdays": 5}

Group = Literal["palliative_care", "care_home"]


class Selection(StrictModel):
    min_risk: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    min_rise_points: float | None = Field(default=None, gt=0)


#: Weeks since an outcome: 0 or more (-1 read as "never" was silently "no exclusion").
Weeks = Annotated[int, Field(ge=0)]


class Exclusions(StrictModel):
    #: outcome -> weeks: a patient with that outcome recorded this recently is not listed.
    recent_outcomes_weeks: dict[Literal[OUTREACH_OUTCOMES], Weeks] = Field(  # type: ignore[valid-type]
        default_factory=dict
    )


class Pathway(StrictModel):
    name: Literal[PATHWAYS]  # type: ignore[valid-type]
    title: str
    purpose: str
    risk_means: str  # what the risk % is the chance of, in words (shown on every list)
    task: TaskName  # checked against configs/tasks/ (outreach said "run riskstrat score first")
    cadence: Literal["weekly", "weekdays"]
    capacity_share: float = Field(ge=0, le=1)
    max_rows: int | None = Field(default=None, ge=0)
    reserve: int = Field(default=0, ge=0)
    group: Group | None = None
    select: Selection = Selection()
    exclusions: Exclusions = Exclusions()
    order_by: tuple[str, ...] = ("-risk",)
    #: True: special groups (palliative care, care home) are listed here too, with their own
    #: action (post-discharge: a recent discharge is followed up whatever the section).
    include_groups: bool = False
    #: True: everyone at or above select.min_risk is listed even beyond the run's capacity (a
    #: high-risk discharge is never dropped for lack of places; the list says how many extra).
    min_risk_beyond_capacity: bool = False

    @field_validator("order_by")
    @classmethod
    def _known_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        for key in keys:
            if key.removeprefix("-") not in ORDER_COLUMNS:
                raise ValueError(BAD_ORDER_KEY.format(key=key, allowed=ORDER_COLUMNS))
        return keys

    def weekly_allocation(self, weekly_capacity: int) -> int:
        """This pathway's share of a practice's week (floor, so the shares of all pathways never
        add up to more than the weekly capacity), capped at max_rows per run."""
        n = math.floor(weekly_capacity * self.capacity_share + 1e-9)
        runs = CADENCE_RUNS_PER_WEEK[self.cadence]
        return n if self.max_rows is None else min(n, self.max_rows * runs)

    def per_run_capacity(
        self, weekly_capacity: int, *, as_of: date, week: int | None = None
    ) -> int:
        """Main-list places on as_of. A weekday pathway spreads its weekly allocation over Monday
        to Friday, front-loaded (Monday also covers the weekend's discharges): day i (Monday = 0)
        gets ceil((i+1)W/5) - ceil(iW/5), so the five days add up to exactly W. week: the
        weekly allocation (`weekly_places`); default this pathway's own floor."""
        week = self.weekly_allocation(weekly_capacity) if week is None else week
        if self.cadence == "weekly":
            return week
        i = min(as_of.weekday(), 4)
        return math.ceil((i + 1) * week / 5 - 1e-9) - math.ceil(i * week / 5 - 1e-9)


def weekly_places(pathways: dict[str, Pathway], weekly_capacity: int) -> dict[str, int]:
    """Each pathway's places in a practice's week: its share of the weekly capacity, rounded by
    largest remainders so that the week uses floor(capacity x total share) places, all of the
    capacity when the shares add up to 1 (a floor per pathway left 1-3 of a practice's places
    unused each week, and gave a practice under 20 contacts a week no palliative-care or
    care-home place at all: those lists said "0 places" while a dozen people met their rule).
    The floors first; each place they leave goes to the largest remainder (`pathways`' order
    breaks ties); then each pathway's max_rows cap."""
    exact = {n: weekly_capacity * p.capacity_share for n, p in pathways.items()}
    places = {n: math.floor(x + 1e-9) for n, x in exact.items()}
    total = math.floor(weekly_capacity * sum(p.capacity_share for p in pathways.values()) + 1e-9)
    order = sorted(exact, key=lambda n: -(exact[n] - places[n]))  # stable: ties keep order
    for name in order[: max(0, total - sum(places.values()))]:
        places[name] += 1
    return {
        n: v if p.max_rows is None else min(v, p.max_rows * CADENCE_RUNS_PER_WEEK[p.cadence])
        for (n, p), v in zip(pathways.items(), places.values(), strict=True)
    }


class Relist(StrictModel):
    """When someone listed before may be listed again (docs/outreach.md, de-duplication)."""

    #: weekly pathways: someone listed on any weekly list within this many weeks is left out ...
    weeks: int = Field(default=4, ge=0)
    #: ... unless their risk rose by at least this many points since that listing ...
    rise_points: float = Field(default=5.0, gt=0)
    #: ... or a new event (emergency admission, discharge, A&E attendance) happened since.
    new_event: bool = True
    #: post-discharge: a discharge is followed up once; listed again only after these outcomes.
    discharge_again_after: tuple[Literal[OUTREACH_OUTCOMES], ...] = ("unreachable",)  # type: ignore[valid-type]


class FeedbackExclusions(StrictModel):
    """Practice feedback that takes a person off lists on top of each pathway's own
    `exclusions.recent_outcomes_weeks` (a pathway's own entry for an outcome wins): outcome ->
    weeks since the outcome's date. Nobody is called about someone the practice reported dead
    or moved away, from any list; 'In hospital' and 'Not appropriate' keep the person off the
    weekly lists (a discharge after 'In hospital' is still followed up)."""

    every_list: dict[Literal[OUTREACH_OUTCOMES], Weeks] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"died": 520, "moved_away": 26}
    )
    weekly_lists: dict[Literal[OUTREACH_OUTCOMES], Weeks] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"in_hospital": 2, "not_appropriate": 26}
    )

    def weeks_for(self, pathway: Pathway) -> dict[str, int]:
        """Outcome -> weeks for `pathway`: these rules, then the pathway's own on top."""
        weekly = self.weekly_lists if pathway.cadence == "weekly" else {}
        return {**self.every_list, **weekly, **pathway.exclusions.recent_outcomes_weeks}


class OutreachConfig(StrictModel):
    pathways_dir: Path = Path("outreach")
    pathway_order: tuple[Literal[PATHWAYS], ...] = PATHWAYS  # type: ignore[valid-type]
    respect_data_opt_out: bool = True
    special_groups: dict[Group, Literal["section", "exclude"]] = Field(
        default_factory=lambda: {"palliative_care": "section", "care_home": "section"}
    )
    readmission_lookback_days: int | None = Field(default=None, ge=1)
    rising_compare_max_days: int = Field(default=14, ge=1)
    contact_within_working_days: int = Field(default=2, ge=0)
    relist: Relist = Relist()
    feedback_exclusions: FeedbackExclusions = FeedbackExclusions()
    bank_holidays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _unique_order(self) -> OutreachConfig:
        if len(set(self.pathway_order)) != len(self.pathway_order):
            raise ValueError("pathway_order lists a pathway twice")
        return self

    @property
    def folder(self) -> Path:
        return (
            self.pathways_dir
            if self.pathways_dir.is_absolute()
            else project_root() / (self.pathways_dir)
        )


def load_outreach_config(path: Path | str | None = None) -> OutreachConfig:
    return load_yaml(Path(path) if path else config_dir() / "outreach.yaml", OutreachConfig)


def load_pathways(config: OutreachConfig, *, folder: Path | None = None) -> dict[str, Pathway]:
    """Pathways in `config.pathway_order`, read from `<folder>/<name>.yaml`.

    A special-group pathway whose group is configured as `exclude` is left out.
    """
    folder = folder or config.folder
    if not folder.is_dir():
        source = config_dir() / "outreach.yaml"
        problem = PATHWAYS_DIR_MISSING.format(folder=folder)
        raise ConfigError(CONFIG_ERROR.format(file=source, key="pathways_dir", problem=problem))
    pathways: dict[str, Pathway] = {}
    for name in config.pathway_order:
        path = folder / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(PATHWAY_FILE_MISSING.format(file=path, name=name))
        pathway = load_yaml(path, Pathway)
        if pathway.name != name:
            raise ConfigError(PATHWAY_NAME_MISMATCH.format(file=path, name=pathway.name))
        if pathway.group and config.special_groups.get(pathway.group, "section") == "exclude":
            continue
        pathways[name] = pathway
    total = sum(p.capacity_share for p in pathways.values())
    if total > 1 + 1e-9:
        raise ConfigError(SHARES_OVER_ONE.format(file=folder, total=total))
    return pathways
