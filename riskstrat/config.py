"""Configuration: YAML files in `configs/`, validated on load, with environment overrides.

Each stage owns its own pydantic model and file (tasks, models, outreach, report, schedule,
monitoring); this module holds what they share: where the project is, the paths every stage reads,
and `load_yaml`, which turns a wrong key or type into an error naming the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

CONFIG_ERROR = "{file}: {key}: {problem}"
CONFIG_MISSING = "{file}: configuration file not found"

#: Environment variables that override paths in configs/riskstrat.yaml.
ENV_OVERRIDES: dict[str, str] = {
    "RISKSTRAT_DATA_DIR": "data_dir",
    "RISKSTRAT_STORE": "store",
    "RISKSTRAT_OUT_DIR": "out_dir",
    "RISKSTRAT_SOURCE_DIR": "source_dir",
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


def load_yaml(path: Path | str, model: type[M]) -> M:
    """Load a YAML file into `model`; every problem names the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(CONFIG_MISSING.format(file=path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(CONFIG_ERROR.format(file=path, key="(file)", problem=exc)) from exc
    return parse_config(raw, model, source=path)


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
    mlflow_uri: str = "sqlite:///data/mlflow.db"


class IngestConfig(StrictModel):
    max_reject_share: float = 0.05
    death_grace_days: int = 7
    reject_examples: int = 1_000_000  # rows kept per table in rejects files


class Settings(StrictModel):
    paths: Paths = Paths()
    ingest: IngestConfig = IngestConfig()

    def resolved(self, root: Path) -> Settings:
        """Relative paths anchored at `root`; environment overrides applied."""
        values = self.paths.model_dump()
        for env, key in ENV_OVERRIDES.items():
            if os.environ.get(env):
                values[key] = os.environ[env]
        for key in ("data_dir", "store", "out_dir", "source_dir"):
            p = Path(values[key])
            values[key] = p if p.is_absolute() else root / p
        uri = values["mlflow_uri"]
        if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
            values["mlflow_uri"] = f"sqlite:///{(root / uri.removeprefix('sqlite:///')).resolve()}"
        return self.model_copy(update={"paths": Paths(**values)})


def load_settings(path: Path | str | None = None) -> Settings:
    """configs/riskstrat.yaml (or `path`), resolved against the project root, env applied."""
    root = project_root()
    path = Path(path) if path else root / "configs" / "riskstrat.yaml"
    settings = load_yaml(path, Settings) if path.is_file() else Settings()
    return settings.resolved(root)
