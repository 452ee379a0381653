"""Task definitions (configs/tasks/<name>.yaml): who is indexed when, and what the label is.

A task is ACES style: an index rule (every registered, living patient at an as-of date; or every
eligible discharge) and a label window after the index date. See docs/tasks.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from riskstrat.config import CONFIG_ERROR, ConfigError, StrictModel, config_dir, load_yaml
from riskstrat.registry.contract import ADMISSION_METHODS, DISCHARGE_DESTINATIONS

TASK_DIR = "tasks"
UNKNOWN_VALUE = "{what} {value!r} is not one of {allowed}"
#: The features file, the scores' task column and the report all use `name`: a file whose name
#: says otherwise wrote `crsis` scores while every reader looked for `crisis`.
TASK_NAME_MISMATCH = "{name!r} does not match the file name {stem!r}, make them the same"
#: A gap longer than the window itself: the label starts after the horizon it names.
GAP_OVER_HORIZON = (
    "gap_days ({gap}) is longer than horizon_days ({horizon}): the label window would start "
    "after the horizon it names; shorten the gap or lengthen the horizon"
)


class IndexSpec(StrictModel):
    #: population: every registered, living patient at each as-of date.
    #: discharge: every eligible discharge; index_date = discharge_date.
    kind: Literal["population", "discharge"]
    exclude_admission_methods: tuple[Literal[ADMISSION_METHODS], ...] = ()  # type: ignore[valid-type]
    exclude_destinations: tuple[Literal[DISCHARGE_DESTINATIONS], ...] = ()  # type: ignore[valid-type]
    exclude_death_on_discharge: bool = False  # date_of_death on (or before) the discharge date
    exclude_pregnancy_diagnoses: bool = False  # primary diagnosis in ICD-10 chapter XV (O00-O99)
    #: discharge tasks at an as-of date D: discharges dated in [D - as_of_window_days, D).
    as_of_window_days: int = Field(default=7, ge=1)


class LabelSpec(StrictModel):
    event: Literal["emergency_admission"] = "emergency_admission"
    horizon_days: int = Field(ge=1)
    gap_days: int = Field(default=0, ge=0)  # window = [index + gap, index + gap + horizon)
    count_death: bool = False  # SPARRA convention: a death in the window is also an event
    exclude_index_spell: bool = False  # the index spell never labels itself

    @model_validator(mode="after")
    def _gap_within_horizon(self) -> LabelSpec:
        if self.gap_days > self.horizon_days:
            raise ValueError(GAP_OVER_HORIZON.format(gap=self.gap_days, horizon=self.horizon_days))
        return self


class TaskSpec(StrictModel):
    name: str
    description: str
    index: IndexSpec
    label: LabelSpec

    @property
    def has_index_spell(self) -> bool:
        """Index rows carry index_spell_id (the readmission family)."""
        return self.index.kind == "discharge"

    @property
    def keys(self) -> list[str]:
        return ["patient_id", "index_date"] + (["index_spell_id"] if self.has_index_spell else [])


def task_names() -> list[str]:
    """Every configured task (configs/tasks/*.yaml), sorted."""
    return sorted(p.stem for p in (config_dir() / TASK_DIR).glob("*.yaml"))


def check_task(name: str) -> str:
    """`name` if configs/tasks/<name>.yaml exists, else a ValueError in the CLI's words (a task
    named in another config: schedule.yaml's jobs, report.yaml, demo.yaml, a pathway)."""
    from riskstrat.cliopts import UNKNOWN_TASK, unknown_name

    known = task_names()
    if name not in known:
        raise ValueError(unknown_name(UNKNOWN_TASK, value=name, known=known))
    return name


#: A task named in another config (schedule.yaml's jobs, report.yaml, demo.yaml, a pathway),
#: checked against configs/tasks/ when that config is loaded.
TaskName = Annotated[str, AfterValidator(check_task)]


def load_task(name: str) -> TaskSpec:
    """configs/tasks/<name>.yaml, validated (a wrong key or type names file and key)."""
    path = config_dir() / TASK_DIR / f"{name}.yaml"
    spec = load_yaml(path, TaskSpec)
    if spec.name != name:
        problem = TASK_NAME_MISMATCH.format(name=spec.name, stem=name)
        raise ConfigError(CONFIG_ERROR.format(file=path, key="name", problem=problem))
    return spec


def resolve_task(task: TaskSpec | str) -> TaskSpec:
    return task if isinstance(task, TaskSpec) else load_task(task)
