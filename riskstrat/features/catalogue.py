"""The feature catalogue: the YAML contracts beside each feature group's SQL in `features/`.

Each `features/<group>.yml` says what its SQL returns: per column the meaning, the clinical
rationale, the plain-English reason template, the monotone direction, whether it is modifiable,
whether the model may use it, the codebook of a categorical and the data tests. Everything else
(training, explanations, reports, docs/features.md) reads these facts from here.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from string import Formatter
from typing import Literal

from pydantic import model_validator

from riskstrat.config import ConfigError, StrictModel, load_yaml, project_root

FEATURE_DIR = "features"
DUPLICATE_COLUMN = "{file}: column {column!r} is already defined in group {other!r}"
MISSING_SQL = "{file}: feature group has no SQL file beside it ({sql})"
GROUP_NAME = "{file}: group: {group!r} must be the file's name (without .yml)"
NO_GROUPS = "{folder}: no feature groups (<group>.yml + <group>.sql) found"
UNKNOWN_FEATURE = "unknown feature {column!r}"
CATEGORIES_NEED_CATEGORY = "categories are given only (and always) for dtype 'category'"
REASON_PLACEHOLDER = (
    "reason {reason!r}: unknown placeholder {{{name}}} (a reason may use {{value}} and, "
    "except for a category, {{s}})"
)


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

    @model_validator(mode="after")
    def _categories_match_dtype(self) -> FeatureSpec:
        if (self.dtype == "category") != (self.categories is not None):
            raise ValueError(CATEGORIES_NEED_CATEGORY)
        return self

    @model_validator(mode="after")
    def _reason_placeholders(self) -> FeatureSpec:
        """A typo in a template fails at load (naming file and key), not in an outreach list."""
        allowed = {"value"} if self.categories is not None else {"value", "s"}
        for _, name, _, _ in Formatter().parse(self.reason):
            if name is not None and name not in allowed:
                raise ValueError(REASON_PLACEHOLDER.format(reason=self.reason, name=name))
        return self

    def label(self, value: float) -> str:
        """Human-readable value: the category label for a code, an integer without decimals."""
        if self.categories is not None:
            return self.categories[int(value)]
        if self.dtype in ("int", "flag") or float(value).is_integer():
            return str(int(value))
        return f"{value:.1f}"

    def reason_text(self, value: float) -> str:
        """The plain-English reason for a row's value (flags: the text for value 1).

        `{s}` is "" when the value is exactly 1 and "s" otherwise ("1 admission", "0.5 years").
        """
        return self.reason.format(value=self.label(value), s="" if float(value) == 1 else "s")


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
        sql=sql_path.read_text(encoding="utf-8"),
        sql_path=sql_path,
    )


def load_catalogue(folder: Path | str | None = None) -> Catalogue:
    """Read and validate every `<group>.yml` (+ its SQL) in `folder` (default: features/)."""
    folder = Path(folder) if folder else feature_dir()
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
    return Catalogue(groups=tuple(groups))
