"""The options every command shares, defined once: one date type, one --store, --out, --pathway,
TASK. Imports nothing heavy (click, the standard library and YAML file names), so
`riskstrat --help` stays fast.

Names across commands: --as-of / --extract-date (ISO dates), --store (the DuckDB file),
--out (an output folder, in every command), --pathway (repeatable), TASK (positional, a
configs/tasks name).
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

NOT_A_DATE = "{value!r} is not a date (YYYY-MM-DD), for example 2025-12-29"
UNKNOWN_TASK = "unknown task {value!r}{hint}: choose one of {known} (configs/tasks/*.yaml)"
UNKNOWN_PATHWAY = "unknown pathway {value!r}{hint}: choose one of {known}"
CLOSE_NAME = " (did you mean {close!r}?)"
OUT_IS_A_FILE_NAME = (
    "{value!r} is a file name, but --out is a folder in every command: "
    "pass the folder to write into"
)
STORE_NOT_FOUND = (
    "store {path} does not exist: run `riskstrat ingest` first, "
    "or pass --store with an existing file"
)


class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD; gives a datetime.date."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(NOT_A_DATE.format(value=value), param, ctx)


ISO_DATE = IsoDate()


def close_hint(value: object, known: list[str]) -> str:
    """' (did you mean ...?)' when a known name is one typo away (difflib's 0.6 ratio), else ''."""
    close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
    return CLOSE_NAME.format(close=close[0]) if close else ""


def unknown_name(message: str, *, value: object, known: list[str]) -> str:
    """UNKNOWN_TASK or UNKNOWN_PATHWAY for `value`, with the closest known name if there is one."""
    return message.format(value=value, hint=close_hint(value, known), known=", ".join(known))


def task_names() -> list[str]:
    from riskstrat.tasks import task_names as configured

    return configured()


def pathway_names() -> list[str]:
    from riskstrat.registry.contract import PATHWAYS

    return list(PATHWAYS)


class TaskName(click.ParamType):
    """A task configured in configs/tasks/."""

    name = "TASK"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        known = task_names()
        if value not in known:
            self.fail(unknown_name(UNKNOWN_TASK, value=value, known=known), param, ctx)
        return str(value)


class PathwayName(click.ParamType):
    """An outreach pathway (riskstrat.registry.contract.PATHWAYS)."""

    name = "PATHWAY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        known = pathway_names()
        if value not in known:
            self.fail(unknown_name(UNKNOWN_PATHWAY, value=value, known=known), param, ctx)
        return str(value)


class StoreFile(click.Path):
    """The DuckDB store: a file that must already exist (so a typo never creates an empty one)."""

    def __init__(self, *, must_exist: bool = True) -> None:
        super().__init__(dir_okay=False, path_type=Path)
        self.must_exist = must_exist

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(super().convert(value, param, ctx))
        if self.must_exist and not path.is_file():
            self.fail(STORE_NOT_FOUND.format(path=path), param, ctx)
        return path


class OutFolder(click.Path):
    """--out: a folder in every command, which names its own files inside it. A name ending in one
    of the files riskstrat writes (.parquet, .csv, ...) is the old file meaning of `features` and
    `backtest`, refused so it never becomes a folder called `crisis.parquet`."""

    FILE_SUFFIXES = (".parquet", ".csv", ".xlsx", ".html", ".json", ".duckdb")

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(super().convert(value, param, ctx))
        if path.suffix.lower() in self.FILE_SUFFIXES:
            self.fail(OUT_IS_A_FILE_NAME.format(value=str(value)), param, ctx)
        return path


def out_option(help_text: str, *, required: bool = False) -> Any:
    """`--out DIR`: the folder a command writes into; `help_text` says what goes where."""
    return click.option(
        "--out", "out_dir", type=OutFolder(), required=required, default=None, help=help_text
    )


def existing_store(path: Path | None) -> Path:
    """The store to read: the option's path or the configured one, which must exist."""
    from riskstrat.config import load_settings

    path = path or load_settings().paths.store
    if not Path(path).is_file():
        raise click.BadParameter(STORE_NOT_FOUND.format(path=path), param_hint="'--store'")
    return Path(path)


#: What --as-of means in every command (one meaning; each command may add what it does with it).
AS_OF_MEANING = "As-of date (YYYY-MM-DD): the run's date; only data dated before it is used."


def as_of_option(detail: str = "", *, required: bool = True) -> Any:
    help_text = f"{AS_OF_MEANING} {detail}".strip()
    return click.option("--as-of", "as_of", required=required, type=ISO_DATE, help=help_text)


def extract_date_option(help_text: str, *, required: bool = False) -> Any:
    return click.option("--extract-date", required=required, type=ISO_DATE, help=help_text)


def store_option(*, must_exist: bool = True, help_text: str | None = None) -> Any:
    return click.option(
        "--store",
        type=StoreFile(must_exist=must_exist),
        default=None,
        help=help_text or "DuckDB store (default: paths.store in configs/riskstrat.yaml).",
    )


def pathway_option(help_text: str) -> Any:
    """`--pathway P` (repeatable); `--pathways` is the same option under its older name."""
    return click.option(
        "--pathway", "--pathways", "pathways", multiple=True, type=PathwayName(), help=help_text
    )


#: The engines a run can use (riskstrat.runs.engine.ENGINES; listed here so --help imports
#: no stage).
ENGINE_NAMES = ("duckdb", "spark")


def engine_option(help_text: str) -> Any:
    """`--engine duckdb|spark`: overrides `engine` in configs/riskstrat.yaml (None: the config)."""
    return click.option("--engine", type=click.Choice(ENGINE_NAMES), default=None, help=help_text)


TASK = click.argument("task", type=TaskName())
