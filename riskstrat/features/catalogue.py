"""The feature catalogue: the YAML contracts beside each feature group's SQL in `features/`.

Each `features/<group>.yml` says what its SQL returns: per column the meaning, the clinical
rationale, the plain-English reason template, the monotone direction, whether it is modifiable,
whether the model may use it, the codebook of a categorical and the data tests. Everything else
(training, explanations, reports, docs/features.md) reads these facts from here.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from string import Formatter
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from riskstrat.config import ConfigError, StrictModel, load_yaml, project_root

FEATURE_DIR = "features"
DUPLICATE_COLUMN = "{file}: column {column!r} is already defined in group {other!r}"
MISSING_SQL = "{file}: feature group has no SQL file beside it ({sql})"
MISSING_INCLUDE = "{file}: `-- include: {include}` names no SQL file beside it"
NESTED_INCLUDE = "{file}: an included file may not include another ({include})"
#: A line `-- include: <name>.sql` in a group's SQL stands for that file of the feature folder:
#: a definition several groups share (transfer_link.sql: what links the spells of a transfer
#: chain), kept in one place. The line is replaced by the file's text at its indentation.
INCLUDE = re.compile(r"^([ \t]*)-- include: ([\w.-]+\.sql)\b[^\n]*$", re.MULTILINE)
GROUP_NAME = "{file}: group: {group!r} must be the file's name (without .yml)"
NO_GROUPS = "{folder}: no feature groups (<group>.yml + <group>.sql) found"
UNKNOWN_FEATURE = "unknown feature {column!r}"
CATEGORIES_NEED_CATEGORY = "categories are given only (and always) for dtype 'category'"
REASON_PLACEHOLDER = (
    "reason {reason!r}: unknown placeholder {{{name}}} (a reason may use {{value}} and, "
    "except for a category, {{s}}; {{when}} needs `when:`, {{band}} needs `bands:`)"
)
BANDS_ORDER = "bands: every band but the last needs `below`, in increasing order; the last has none"
ABSENCE_NEEDS_NUMBER = "absence_reason is only for a flag or a count (a value of 0)"
STAY_NIGHTS = "stay_nights {template!r}: unknown placeholder {{{name}}} (use {{nights}}, {{s}})"
SAID_WITH = (
    "{file}: column {column!r}: said_with names {other!r}, which must be another feature with "
    "`when: days_ago` (and {column!r} too): said_with joins two times since events"
)
#: Days in a month and a year, for wording durations.
MONTH_DAYS, YEAR_DAYS = 30.44, 365.25


#: Days in one of each unit a duration is said in.
UNIT_DAYS = {"day": 1, "week": 7, "month": MONTH_DAYS, "year": YEAR_DAYS}


def time_unit(days: float) -> str:
    """The unit a clinician says `days` in: days under 8 weeks, then weeks up to 16, months
    under 2 years, then years."""
    d = max(0, round(float(days)))
    if d < 56:
        return "day"
    if d < 16 * 7:
        return "week"
    return "month" if d < 2 * YEAR_DAYS else "year"


def friendly_ago(days: float, *, unit: str | None = None) -> str:
    """A duration as a clinician says it, in its own unit (time_unit: "6 days ago", "10 weeks
    ago", "14 months ago", "3 years ago") or in `unit` (years whole, the rest rounded)."""
    d = max(0, round(float(days)))
    unit = unit or time_unit(d)
    n = math.floor(d / YEAR_DAYS) if unit == "year" else round(d / UNIT_DAYS[unit])
    if unit == "day" and n == 0:
        return "today"
    if unit == "day" and n == 1:
        return "yesterday"
    return f"{n} {unit}{'' if n == 1 else 's'} ago"


class Band(StrictModel):
    """A clinical category of a numeric value: values below `below` (the last band: the rest).
    `concern: false` bands are never spoken (a healthy BMI is not a reason to call)."""

    label: str
    below: float | None = None
    concern: bool = True


class SaidWith(StrictModel):
    """Two times since events that are one stay (an admission and the discharge that ended it)
    are said as one reason when both would be: `column` is the time since the later event,
    `same_stay` a time that equals it when the row's two events are one stay (the last
    emergency stay's discharge), `same_value` the wording when both were the same day."""

    column: str
    same_stay: str
    same_value: str
    #: when the two times would read the same ("7 months ago"): the stay's length instead
    stay_nights: str

    @field_validator("stay_nights")
    @classmethod
    def _nights_placeholders(cls, template: str) -> str:
        for _, name, _, _ in Formatter().parse(template):
            if name is not None and name not in ("nights", "s"):
                raise ValueError(STAY_NIGHTS.format(template=template, name=name))
        return template


class DataTests(StrictModel):
    """dbt-style checks run on every build: a failure names group, column and test."""

    not_null: bool = False
    min: float | None = None
    max: float | None = None


class FeatureSpec(StrictModel):
    column: str
    dtype: Literal["int", "float", "flag", "category"]
    description: str
    rationale: str
    reason: str  # plain English; {value}: the number or category label, {s}: plural "s"
    monotone: Literal[-1, 0, 1] = 0
    modifiable: bool
    use_in_model: bool = True
    categories: list[str] | None = None  # codebook: code i means categories[i]
    tests: DataTests = DataTests()
    group: str = ""  # filled from the file name
    #: "context": in the model, never a reason slot (age, sex, ethnicity, deprivation)
    role: Literal["reason", "context"] = "reason"
    #: features describing one fact share a concept; a row speaks only its strongest member
    concept: str | None = None
    #: the wording when the value is 0; without it a 0 (or unset flag) is never a reason
    absence_reason: str | None = None
    #: the value is the time since an event: {when} says it ("6 days ago", "2 years ago")
    when: Literal["days_ago", "years_ago"] | None = None
    #: a count's look-back window in days (decides whether the fact is "recent")
    window_days: int | None = Field(default=None, ge=1)
    #: clinical categories of the value, {band} in the reason
    bands: list[Band] | None = None
    #: decimals of a float value in the reason
    decimals: int = Field(default=1, ge=0, le=4)
    #: wording on a row whose index is a discharge (readmission): the earlier events are
    #: "previous"; the index spell's own features say "this discharge"
    discharge_reason: str | None = None
    #: an admission/attendance count or time: planned or unplanned care (rising-risk rule)
    event: Literal["planned", "unplanned"] | None = None
    #: the time since the end of this event (one stay, one reason: explain.reasons.join_pairs)
    said_with: SaidWith | None = None

    @model_validator(mode="after")
    def _categories_match_dtype(self) -> FeatureSpec:
        if (self.dtype == "category") != (self.categories is not None):
            raise ValueError(CATEGORIES_NEED_CATEGORY)
        return self

    @model_validator(mode="after")
    def _reason_placeholders(self) -> FeatureSpec:
        """A typo in a template fails at load (naming file and key), not in an outreach list."""
        allowed = {"value"} if self.categories is not None else {"value", "s"}
        allowed |= {"when"} if self.when else set()
        allowed |= {"band"} if self.bands else set()
        for template in (self.reason, self.absence_reason, self.discharge_reason):
            for _, name, _, _ in Formatter().parse(template or ""):
                if name is not None and name not in allowed:
                    raise ValueError(REASON_PLACEHOLDER.format(reason=template, name=name))
        return self

    @model_validator(mode="after")
    def _bands_ordered(self) -> FeatureSpec:
        if self.bands:
            cuts = [b.below for b in self.bands[:-1]]
            if (
                any(c is None for c in cuts)
                or self.bands[-1].below is not None
                or any(a >= b for a, b in pairwise(cuts))
            ):
                raise ValueError(BANDS_ORDER)
        if self.absence_reason is not None and self.dtype not in ("flag", "int"):
            raise ValueError(ABSENCE_NEEDS_NUMBER)
        return self

    @property
    def concept_name(self) -> str:
        return self.concept or self.column

    def label(self, value: float) -> str:
        """Human-readable value: the category label for a code, an integer without decimals."""
        if self.categories is not None:
            return self.categories[int(value)].replace("_", " ")
        if self.dtype in ("int", "flag") or float(value).is_integer():
            return str(int(value))
        return f"{value:.{self.decimals}f}"

    def band(self, value: float) -> Band | None:
        for b in self.bands or ():
            if b.below is None or value < b.below:
                return b
        return None

    def age_days(self, value: float) -> float | None:
        """How long ago the fact happened, in days (a count: its window), or None (timeless)."""
        if self.when == "days_ago":
            return float(value)
        if self.when == "years_ago":
            return float(value) * YEAR_DAYS
        return float(self.window_days) if self.window_days else None

    def facts(self, values: np.ndarray) -> np.ndarray:
        """Per value, whether it is worth saying as a reason: a value (not missing), not a
        context feature, not a 0 or unset flag (unless `absence_reason` makes the absence the
        concern), not in a band that is no concern. The one definition of a sayable fact."""
        values = np.asarray(values, dtype="float64")
        if self.role == "context":
            return np.zeros(values.shape, dtype=bool)
        ok = ~np.isnan(values)
        if self.categories is None and self.absence_reason is None:
            ok &= values != 0
        if self.bands:
            cuts = np.array([b.below for b in self.bands[:-1]], dtype="float64")
            concern = np.array([b.concern for b in self.bands], dtype=bool)
            idx = np.searchsorted(cuts, np.nan_to_num(values), side="right")
            ok &= concern[idx]
        return ok

    def is_fact(self, value: float) -> bool:
        return bool(self.facts(np.array([value]))[0])

    def reason_text(self, value: float, *, after_discharge: bool = False) -> str:
        """The plain-English reason for a row's value (flags: the text for value 1).

        `{s}` is "" when the value is exactly 1 and "s" otherwise ("1 admission", "0.5 years");
        `{when}` is the friendly time since the event; `{band}` the value's category label. On a
        row indexed at a discharge, `discharge_reason` (if any) is used instead of `reason`.
        """
        template = self.reason
        if after_discharge and self.discharge_reason:
            template = self.discharge_reason
        if self.absence_reason is not None and value == 0:
            template = self.absence_reason
        fields = {"value": self.label(value), "s": "" if float(value) == 1 else "s"}
        if self.when:
            fields["when"] = friendly_ago(self.age_days(value) or 0.0)
        if self.bands:
            band = self.band(value)
            fields["band"] = band.label if band else ""
        return template.format(**fields)


class GroupFile(StrictModel):
    group: str
    order: int  # position of the group in the matrix
    description: str
    needs_index_spell: bool = False  # only for tasks whose index is a hospital spell
    features: list[FeatureSpec]


class FeatureGroup(StrictModel):
    name: str
    order: int
    description: str
    needs_index_spell: bool
    features: tuple[FeatureSpec, ...]
    sql: str
    sql_path: Path

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.features)


class Catalogue(StrictModel):
    groups: tuple[FeatureGroup, ...]

    @cached_property
    def features(self) -> tuple[FeatureSpec, ...]:
        return tuple(f for g in self.groups for f in g.features)

    def spec(self, column: str) -> FeatureSpec:
        for f in self.features:
            if f.column == column:
                return f
        raise KeyError(UNKNOWN_FEATURE.format(column=column))

    def groups_for(self, task: object) -> tuple[FeatureGroup, ...]:
        """Groups that apply to a task (the index-spell group only when the index is a spell)."""
        spell = bool(getattr(task, "has_index_spell", False))
        return tuple(g for g in self.groups if spell or not g.needs_index_spell)

    def columns(self, task: object) -> list[str]:
        """Every feature column the matrix of `task` holds, in catalogue order."""
        return [c for g in self.groups_for(task) for c in g.columns]

    def model_features(self, task: object) -> list[str]:
        """The columns the model of `task` uses (use_in_model), in catalogue order."""
        return [f.column for g in self.groups_for(task) for f in g.features if f.use_in_model]

    @property
    def categorical(self) -> list[str]:
        return [f.column for f in self.features if f.dtype == "category"]

    @property
    def monotone(self) -> dict[str, int]:
        return {f.column: f.monotone for f in self.features}

    @property
    def codebook_version(self) -> str:
        """Hash of every codebook: a model trained on one version refuses another."""
        books = {f.column: f.categories for f in self.features if f.categories is not None}
        digest = hashlib.sha256(json.dumps(books, sort_keys=True).encode()).hexdigest()
        return f"cb-{digest[:12]}"


def feature_dir() -> Path:
    return project_root() / FEATURE_DIR


def load_group(path: Path) -> FeatureGroup:
    spec = load_yaml(path, GroupFile)
    if spec.group != path.stem:
        raise ConfigError(GROUP_NAME.format(file=path, group=spec.group))
    sql_path = path.with_suffix(".sql")
    if not sql_path.is_file():
        raise ConfigError(MISSING_SQL.format(file=path, sql=sql_path.name))
    return FeatureGroup(
        name=spec.group,
        order=spec.order,
        description=spec.description,
        needs_index_spell=spec.needs_index_spell,
        features=tuple(f.model_copy(update={"group": spec.group}) for f in spec.features),
        sql=expand_includes(sql_path),
        sql_path=sql_path,
    )


def expand_includes(sql_path: Path) -> str:
    """The SQL of `sql_path` with every `-- include: <name>.sql` line replaced by that file
    (beside it, indented as the line; an included file includes nothing)."""

    def included(match: re.Match[str]) -> str:
        indent, name = match.groups()
        path = sql_path.parent / name
        if not path.is_file():
            raise ConfigError(MISSING_INCLUDE.format(file=sql_path, include=name))
        text = path.read_text(encoding="utf-8").rstrip()
        if nested := INCLUDE.search(text):
            raise ConfigError(NESTED_INCLUDE.format(file=path, include=nested.group(2)))
        return "\n".join(indent + line if line else line for line in text.splitlines())

    return INCLUDE.sub(included, sql_path.read_text(encoding="utf-8"))


#: Catalogues already read, by folder and the (name, size, mtime) of its files: a run asks for
#: the catalogue in many places (features, decode, reasons, the report's wording); the YAML is
#: parsed and validated once per process while the files stay as they are.
_CATALOGUES: dict[tuple[str, tuple[tuple[str, int, int], ...]], Catalogue] = {}


def load_catalogue(folder: Path | str | None = None) -> Catalogue:
    """Read and validate every `<group>.yml` (+ its SQL) in `folder` (default: features/)."""
    folder = Path(folder) if folder else feature_dir()
    stamps = tuple(
        (p.name, st.st_size, st.st_mtime_ns)
        for p in sorted([*folder.glob("*.yml"), *folder.glob("*.sql")])
        for st in (p.stat(),)
    )
    key = (str(folder.resolve()), stamps)
    if key not in _CATALOGUES:
        _CATALOGUES[key] = _read_catalogue(folder)
    return _CATALOGUES[key]


def _read_catalogue(folder: Path) -> Catalogue:
    groups = sorted((load_group(p) for p in folder.glob("*.yml")), key=lambda g: (g.order, g.name))
    if not groups:
        raise ConfigError(NO_GROUPS.format(folder=folder))
    seen: dict[str, str] = {}
    for g in groups:
        for f in g.features:
            if f.column in seen:
                raise ConfigError(
                    DUPLICATE_COLUMN.format(
                        file=g.sql_path.with_suffix(".yml"), column=f.column, other=seen[f.column]
                    )
                )
            seen[f.column] = g.name
    by_column = {f.column: f for g in groups for f in g.features}
    for g in groups:
        for f in g.features:
            if f.said_with is None:
                continue
            for name in (f.said_with.column, f.said_with.same_stay):
                other = by_column.get(name)
                if other is None or other is f or not f.when == other.when == "days_ago":
                    file = g.sql_path.with_suffix(".yml")
                    raise ConfigError(SAID_WITH.format(file=file, column=f.column, other=name))
    return Catalogue(groups=tuple(groups))
