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
import difflib
import os
import re
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_ERROR = "{file}: {key}: {problem}"
#: Several problems of one file, on one line: the first names the file, each names its key.
CONFIG_MORE = "; {key}: {problem}"
CONFIG_MISSING = "{file}: configuration file not found"
#: An unknown key (a typo, or a key at the wrong indentation), with the likely intended key.
UNKNOWN_KEY_CLOSE = "unknown key, did you mean {close!r}? correct its spelling"
UNKNOWN_KEY_ELSEWHERE = "unknown key here, it belongs {where}: correct its indentation"
UNKNOWN_KEY = "unknown key, remove it or use one of: {known}"
MISSING_KEY = "required but missing, add it (the shipped file in configs/ shows an example)"
#: A value of the wrong type or out of range: pydantic's words, the value given, what to do.
BAD_VALUE = "{problem} (got {got}), correct the value"
NO_VALUE = "no value: nothing after the colon"
DATE_HINT = "write dates as YYYY-MM-DD, for example 2025-12-29"
EXPECTED_MAPPING = "expected a mapping of keys (key: value lines below it)"
EXPECTED_LIST = "expected a list ([a, b], or one '- item' line each)"
#: YAML that does not parse: where, what, and the usual cause in words.
CONFIG_YAML = "{file}: line {line}, column {column}: {problem}, fix the file there"
YAML_TAB = "a tab character: YAML indents with spaces only, replace the tab with spaces"
YAML_INDENT = (
    "the indentation does not line up with the lines above (a key at the wrong level, or a "
    "list item mixed with keys)"
)
YAML_COLON = (
    "a 'key: value' where none is allowed (a key indented under a value, or a value holding "
    "': ' that needs quotes)"
)
YAML_BAD_DATE = "{value!r} is not a calendar date (YYYY-MM-DD)"
CONFIG_MISSING_SETTINGS = (
    "{file}: configuration file not found; create it (see configs/riskstrat.yaml in the project) "
    "or set RISKSTRAT_DEFAULTS=1 to run on the built-in defaults"
)
CONFIG_EMPTY = (
    "{file}: the configuration file is empty; write its settings, or delete it and set "
    "RISKSTRAT_DEFAULTS=1 to run on the built-in defaults"
)
#: Any other configuration file (RISKSTRAT_DEFAULTS covers configs/riskstrat.yaml only).
CONFIG_EMPTY_FILE = (
    "{file}: the configuration file is empty, write its settings (the project's shipped copy "
    "shows them)"
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


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A YAML date, or an error at its line: 2025-02-30 has the form of a date, and PyYAML's
    own constructor raised a bare ValueError for it (an internal error, no file or line)."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, YAML_BAD_DATE.format(value=node.value), node.start_mark
        ) from exc


class _UniqueKeyLoader(_UniqueKeys, yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


#: The same loader on libyaml's parser (PyYAML's CSafeLoader: same constructor and resolver,
#: ~10x faster; a weekly run parses ~40 files, the features catalogue on the features step's
#: path). Any error is raised by re-reading with the pure-Python loader, so messages and their
#: line marks stay the ones that loader writes. None where PyYAML was built without libyaml.
_FastUniqueKeyLoader = (
    type("_FastUniqueKeyLoader", (_UniqueKeys, yaml.CSafeLoader), {})
    if getattr(yaml, "__with_libyaml__", False)
    else None
)
if _FastUniqueKeyLoader is not None:
    _FastUniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _load_yaml_text(text: str) -> Any:
    if _FastUniqueKeyLoader is not None:
        try:
            return yaml.load(text, Loader=_FastUniqueKeyLoader)
        except yaml.YAMLError:
            pass  # the pure-Python loader raises it again, in its own words
    return yaml.load(text, Loader=_UniqueKeyLoader)


def _yaml_problem(exc: yaml.YAMLError, *, file: Path) -> str:
    """One line for a YAML syntax error: file, line, column, the problem in words."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return CONFIG_ERROR.format(file=file, key="(file)", problem=" ".join(str(exc).split()))
    problem = str(getattr(exc, "problem", "") or exc)
    if "'\\t'" in problem:
        problem = YAML_TAB
    elif "expected <block end>" in problem:
        problem = YAML_INDENT
    elif "mapping values are not allowed" in problem:
        problem = YAML_COLON
    return CONFIG_YAML.format(
        file=file, line=mark.line + 1, column=mark.column + 1, problem=problem
    )


def read_yaml(path: Path | str, *, empty: str = CONFIG_EMPTY_FILE) -> Any:
    """The parsed content of a YAML file (the project's one YAML reader).

    Raises ConfigError naming the file for a missing file, bad YAML (with its line and column),
    an empty document (`empty`: the message) or a duplicated key (with the key and its line).
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
        raise ConfigError(_yaml_problem(exc, file=path)) from exc
    if raw is None:
        raise ConfigError(empty.format(file=path))
    return raw


def load_yaml(path: Path | str, model: type[M], *, empty: str = CONFIG_EMPTY_FILE) -> M:
    """Load a YAML file into `model`; every problem names the file and the key."""
    return parse_config(read_yaml(path, empty=empty), model, source=Path(path))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The config models an annotation holds (X, X | None, tuple[X, ...], dict[str, X])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _models_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[type[BaseModel]]:
    """The models that may hold the mapping at `loc` (list indices and dict keys pass through)."""
    current = [model]
    for part in loc:
        inner = [
            m
            for cls in current
            if isinstance(part, str) and part in cls.model_fields
            for m in _models_in(cls.model_fields[part].annotation)
        ]
        if inner or (isinstance(part, str) and any(part in c.model_fields for c in current)):
            current = inner
    return current


def _paths_of(model: type[BaseModel], key: str, prefix: str = "", depth: int = 0) -> list[str]:
    """Dotted paths in `model` whose last key is `key` (where a mis-indented key belongs)."""
    found = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if name == key:
            found.append(path)
        if depth < 4:
            for sub in _models_in(field.annotation):
                found += _paths_of(sub, key, f"{path}.", depth + 1)
    return found


def _unknown_key(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, str | None]:
    """(problem, the known key it was probably meant to be) for an unknown key at `loc`."""
    key = str(loc[-1])
    known = sorted({n for m in _models_at(model, loc[:-1]) for n in m.model_fields})
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return UNKNOWN_KEY_CLOSE.format(close=close[0]), close[0]
    here = _dotted(tuple(p for p in loc[:-1] if isinstance(p, str)))
    elsewhere = [p for p in _paths_of(model, key) if p.rsplit(".", 1)[0] != here]
    if elsewhere:
        parent = elsewhere[0].rpartition(".")[0]
        where = f"under {parent}" if parent else "at the top level"
        return UNKNOWN_KEY_ELSEWHERE.format(where=where), None
    return UNKNOWN_KEY.format(known=", ".join(known) or "(none)"), None


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _got(value: Any) -> str:
    if value is None:
        return NO_VALUE  # `capacity_share:` with nothing after it
    if isinstance(value, dict):
        return "a mapping of keys"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _problem(model: type[BaseModel], err: Any) -> tuple[str, str | None]:
    """(problem in words with what to do, a known key an unknown one was meant to be)."""
    kind, msg = err["type"], str(err["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return _unknown_key(model, tuple(err["loc"]))
    if kind == "missing":
        return MISSING_KEY, None
    if kind == "value_error":
        return f"{msg}, correct the value", None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = EXPECTED_MAPPING
    elif kind in ("list_type", "tuple_type"):
        msg = EXPECTED_LIST
    problem = BAD_VALUE.format(problem=msg, got=_got(err.get("input")))
    if kind.startswith(("date", "datetime")):
        problem = problem.replace("correct the value", DATE_HINT)
    return problem, None


def parse_config(raw: Any, model: type[M], *, source: Path | str) -> M:
    """`raw` validated into `model`; else one ConfigError line naming the file and each key."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        problems, meant = [], set()
        for err in errors:
            problem, close = _problem(model, err)
            at = tuple(p for p in err["loc"] if p != "[key]")  # a dict's key: the key is the path
            problems.append((_dotted(at) or "(top level)", problem))
            if close:
                meant.add(_dotted((*tuple(err["loc"])[:-1], close)))
        # A misspelled required key also leaves that key missing: say it once, as the typo.
        problems = [(k, p) for k, p in problems if not (p == MISSING_KEY and k in meant)]
        (key, problem), *more = problems
        line = CONFIG_ERROR.format(file=source, key=key, problem=problem)
        line += "".join(CONFIG_MORE.format(key=k, problem=p) for k, p in more)
        raise ConfigError(line) from exc


class Paths(StrictModel):
    data_dir: Path = Path("data")
    store: Path = Path("data/store.duckdb")
    out_dir: Path = Path("out")
    source_dir: Path = Path("data/extract")
    #: The registry as partitioned Parquet (`riskstrat export`), read by the Spark engine
    #: (None: <data_dir>/parquet).
    parquet_dir: Path | None = None
    mlflow_uri: str = "sqlite:///data/mlflow.db"

    @field_validator("mlflow_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return tracking_uri(value)


#: `sqlite//data/mlflow.db` was taken for a folder by MLflow, which stopped with internal error 70.
NOT_A_TRACKING_URI = (
    "{value!r} is not an MLflow tracking URI, write sqlite:///<path to mlflow.db> "
    "(relative to the project) or http(s)://host:port"
)
ENVIRONMENT = "the environment"


def tracking_uri(value: str) -> str:
    """`value` if it reads as a tracking URI (a scheme, and sqlite's three slashes)."""
    scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value)
    if scheme is None or (value.startswith("sqlite:") and not value.startswith("sqlite:///")):
        raise ValueError(NOT_A_TRACKING_URI.format(value=value))
    return value


#: Names a practice-code pattern must never admit: each would leave the run folder.
UNSAFE_CODES = ("", ".", "..", "../x", "a/b", "a\\b", "/tmp/x", "a b", "a\x00")
UNSAFE_PATTERN = "the pattern admits {code!r}, which is not a safe folder name"


class IngestConfig(StrictModel):
    max_reject_share: float = Field(default=0.05, ge=0, le=1)
    death_grace_days: int = Field(default=7, ge=0)
    reject_examples: int = Field(default=1_000_000, ge=0)  # rows kept per table in rejects files
    #: Practice codes must match this in full (None: the contract's PRACTICE_CODE_PATTERN).
    practice_code_pattern: str | None = None
    #: Returned feedback's own reject budget: above it a warning, never a stop.
    feedback_max_reject_share: float = Field(default=0.5, ge=0, le=1)
    #: Share of current, living patients that may lack a contacts row before the ingest stops.
    contacts_missing_share: float = Field(default=0.01, ge=0, le=1)
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
    future_extract_days: int = Field(default=1, ge=0)
    #: A CSV line longer than this stops the ingest, naming file and line (DuckDB's own limit).
    max_line_bytes: int = Field(default=2_000_000, ge=1)
    #: A registry table accepting more than this share fewer rows than in the previous extract
    #: stops the ingest (a truncated or partial file); 1 switches the check off.
    max_row_drop_share: float = Field(default=0.2, ge=0, le=1)

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
        try:
            tracking_uri(values["mlflow_uri"])
        except ValueError as exc:
            key = "MLFLOW_TRACKING_URI"
            raise ConfigError(CONFIG_ERROR.format(file=ENVIRONMENT, key=key, problem=exc)) from exc
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
    return load_yaml(path, Settings, empty=CONFIG_EMPTY).resolved(root)
