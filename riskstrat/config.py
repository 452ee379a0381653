"""Configuration: YAML files in `configs/`, validated on load, with environment overrides.

Each stage owns its own pydantic model and file (tasks, models, outreach, report, schedule,
monitoring); this module holds what they share: where the project is, the paths every stage reads,
and `load_yaml`, which turns a wrong key or type into an error naming the file and the key.

`read_yaml` is the one YAML reader of the project: a key given twice in one mapping is an error
naming the file, the key and its line (PyYAML would silently keep the last value), and an empty
file is an error (an empty riskstrat.yaml must not silently mean "all defaults").
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

CONFIG_ERROR = "{file}: {key}: {problem}"
CONFIG_MISSING = "{file}: configuration file not found"
CONFIG_MISSING_SETTINGS = (
    "{file}: configuration file not found; create it (see configs/riskstrat.yaml in the project) "
    "or set RISKSTRAT_DEFAULTS=1 to run on the built-in defaults"
)
CONFIG_EMPTY = (
    "{file}: the configuration file is empty; write its settings, or delete it and set "
    "RISKSTRAT_DEFAULTS=1 to run on the built-in defaults"
)
CONFIG_DUPLICATE_KEY = "{file}: {key}: the key is given twice (line {line}); keep one"
#: Set to 1 to run without configs/riskstrat.yaml (the built-in defaults, explicitly requested).
DEFAULTS_ENV = "RISKSTRAT_DEFAULTS"

#: Environment variables that override paths in configs/riskstrat.yaml.
ENV_OVERRIDES: dict[str, str] = {
    "RISKSTRAT_DATA_DIR": "data_dir",
    "RISKSTRAT_STORE": "store",
    "RISKSTRAT_OUT_DIR": "out_dir",
    "RISKSTRAT_SOURCE_DIR": "source_dir",
    "RISKSTRAT_PARQUET_DIR": "parquet_dir",
    "MLFLOW_TRACKING_URI": "mlflow_uri",
}


class ConfigError(ValueError):
    """A configuration file is missing, malformed, or has a wrong key or type."""


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)


def project_root() -> Path:
    """The folder holding configs/, features/ and outreach/.

    RISKSTRAT_HOME wins; otherwise the nearest folder upward from the working directory that has
    configs/riskstrat.yaml; otherwise the checkout this package was installed from.
    """
    if home := os.environ.get("RISKSTRAT_HOME"):
        return Path(home).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "configs" / "riskstrat.yaml").is_file():
            return folder
    return Path(__file__).resolve().parent.parent


def config_dir() -> Path:
    return project_root() / "configs"


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


class _UniqueKeys:
    """A loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            if key in seen:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _UniqueKeyLoader(_UniqueKeys, yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


#: The same loader on libyaml's parser (PyYAML's CSafeLoader: same constructor and resolver,
#: ~10x faster; a weekly run parses ~40 files, the features catalogue on the features step's
#: path). Any error is raised by re-reading with the pure-Python loader, so messages and their
#: line marks stay the ones that loader writes. None where PyYAML was built without libyaml.
_FastUniqueKeyLoader = (
    type("_FastUniqueKeyLoader", (_UniqueKeys, yaml.CSafeLoader), {})
    if getattr(yaml, "__with_libyaml__", False)
    else None
)


def _load_yaml_text(text: str) -> Any:
    if _FastUniqueKeyLoader is not None:
        try:
            return yaml.load(text, Loader=_FastUniqueKeyLoader)
        except yaml.YAMLError:
            pass  # the pure-Python loader raises it again, in its own words
    return yaml.load(text, Loader=_UniqueKeyLoader)


def read_yaml(path: Path | str) -> Any:
    """The parsed content of a YAML file (the project's one YAML reader).

    Raises ConfigError naming the file for a missing file, bad YAML, an empty document or a
    duplicated key (with the key and its line).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(CONFIG_MISSING.format(file=path))
    text = path.read_text(encoding="utf-8")
    try:
        raw = _load_yaml_text(text)
    except _DuplicateKey as exc:
        raise ConfigError(
            CONFIG_DUPLICATE_KEY.format(file=path, key=exc.key, line=exc.line)
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(CONFIG_ERROR.format(file=path, key="(file)", problem=exc)) from exc
    if raw is None:
        raise ConfigError(CONFIG_EMPTY.format(file=path))
    return raw


def load_yaml(path: Path | str, model: type[M]) -> M:
    """Load a YAML file into `model`; every problem names the file and the key."""
    return parse_config(read_yaml(path), model, source=Path(path))


def parse_config(raw: Any, model: type[M], *, source: Path | str) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            CONFIG_ERROR.format(
                file=source,
                key=".".join(str(p) for p in err["loc"]) or "(root)",
                problem=err["msg"],
            )
            for err in exc.errors()
        ]
        raise ConfigError("\n".join(problems)) from exc


class Paths(StrictModel):
    data_dir: Path = Path("data")
    store: Path = Path("data/store.duckdb")
    out_dir: Path = Path("out")
    source_dir: Path = Path("data/extract")
    #: The registry as partitioned Parquet (`riskstrat export`), read by the Spark engine
    #: (None: <data_dir>/parquet).
    parquet_dir: Path | None = None
    mlflow_uri: str = "sqlite:///data/mlflow.db"


#: Names a practice-code pattern must never admit: each would leave the run folder.
UNSAFE_CODES = ("", ".", "..", "../x", "a/b", "a\\b", "/tmp/x", "a b", "a\x00")
UNSAFE_PATTERN = "the pattern admits {code!r}, which is not a safe folder name"


class IngestConfig(StrictModel):
    max_reject_share: float = 0.05
    death_grace_days: int = 7
    reject_examples: int = 1_000_000  # rows kept per table in rejects files
    #: Practice codes must match this in full (None: the contract's PRACTICE_CODE_PATTERN).
    practice_code_pattern: str | None = None
    #: Returned feedback's own reject budget: above it a warning, never a stop.
    feedback_max_reject_share: float = 0.5
    #: Share of current, living patients that may lack a contacts row before the ingest stops.
    contacts_missing_share: float = 0.01
    #: Dates of birth before this (or after the extract date) are rejected.
    earliest_birth_date: dt.date = dt.date(1890, 1, 1)
    #: Latest event of each table at most this many days before the extract date, else a warning.
    freshness_days: dict[str, int] = {
        "spells": 35,
        "ae_attendances": 35,
        "gp_contacts": 14,
        "prescriptions": 35,
    }
    #: An extract date more than this many days after today (wall clock) is refused.
    future_extract_days: int = 1
    #: A CSV line longer than this stops the ingest, naming file and line (DuckDB's own limit).
    max_line_bytes: int = 2_000_000

    @field_validator("practice_code_pattern")
    @classmethod
    def _safe_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        for code in UNSAFE_CODES:
            if compiled.fullmatch(code):
                raise ValueError(UNSAFE_PATTERN.format(code=code))
        return value


class Settings(StrictModel):
    paths: Paths = Paths()
    ingest: IngestConfig = IngestConfig()
    #: The weekly run's engine (riskstrat.runs.engine): duckdb (one machine) or spark.
    engine: Literal["duckdb", "spark"] = "duckdb"

    def resolved(self, root: Path) -> Settings:
        """Relative paths anchored at `root`; environment overrides applied."""
        values = self.paths.model_dump()
        for env, key in ENV_OVERRIDES.items():
            if os.environ.get(env):
                values[key] = os.environ[env]
        if values["parquet_dir"] is None:
            values["parquet_dir"] = Path(values["data_dir"]) / "parquet"
        for key in ("data_dir", "store", "out_dir", "source_dir", "parquet_dir"):
            p = Path(values[key])
            values[key] = p if p.is_absolute() else root / p
        uri = values["mlflow_uri"]
        if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
            values["mlflow_uri"] = f"sqlite:///{(root / uri.removeprefix('sqlite:///')).resolve()}"
        return self.model_copy(update={"paths": Paths(**values)})


def load_settings(path: Path | str | None = None, *, defaults: bool | None = None) -> Settings:
    """configs/riskstrat.yaml (or `path`), resolved against the project root, env applied.

    A missing file is an error unless the built-in defaults are explicitly requested
    (`defaults=True`, or the environment variable RISKSTRAT_DEFAULTS=1); an empty file is always
    an error.
    """
    root = project_root()
    path = Path(path) if path else root / "configs" / "riskstrat.yaml"
    if defaults is None:
        defaults = os.environ.get(DEFAULTS_ENV, "").strip().lower() in ("1", "true", "yes")
    if not path.is_file():
        if not defaults:
            raise ConfigError(CONFIG_MISSING_SETTINGS.format(file=path))
        return Settings().resolved(root)
    return load_yaml(path, Settings).resolved(root)
