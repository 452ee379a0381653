"""The mistakes an operator or analyst makes editing configs/ (and outreach/): each was accepted
(or an internal error) before, and is now one line naming the file, the key and what to do.

Each case edits one line of a copy of the shipped files (RISKSTRAT_HOME points at the copy) and
loads it through the loader the commands use; the whole line is checked word for word.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskstrat.cli import main
from riskstrat.cliopts import UNKNOWN_TASK
from riskstrat.config import BAD_VALUE, CONFIG_ERROR, ConfigError, project_root
from riskstrat.errors import EXIT_BAD_INPUT, describe
from riskstrat.explain import actions, wording
from riskstrat.models import config as models_config
from riskstrat.outreach import config as outreach_config
from riskstrat.reports import settings as report_settings
from riskstrat.runs import demo, monitoring
from riskstrat.tasks import spec as task_spec

TASK_CRSIS = UNKNOWN_TASK.format(
    value="crsis", hint=" (did you mean 'crisis'?)", known="crisis, readmission_30d"
)
PATHWAY_LITERAL = (
    "Input should be 'early_intervention', 'post_discharge', 'rising_risk', 'palliative_care' "
    "or 'care_home'"
)
FIX = ", correct the value"


def _outreach() -> object:
    return outreach_config.load_pathways(outreach_config.load_outreach_config())


LOADERS: dict[str, Callable[[], object]] = {
    "configs/tasks/crisis.yaml": lambda: task_spec.load_task("crisis"),
    "configs/models/crisis.yaml": lambda: models_config.load_model_config("crisis"),
    "configs/report.yaml": report_settings.load_report_config,
    "configs/monitoring.yaml": monitoring.load_monitoring_config,
    "configs/demo.yaml": demo.load_demo_config,
    "configs/outreach.yaml": _outreach,
    "outreach/early_intervention.yaml": _outreach,
    "configs/reasons.yaml": wording.load_reason_settings,
    "outreach/actions.yaml": actions.load_actions,
    "configs/models/readmission_30d.yaml": lambda: models_config.load_model_config(
        "readmission_30d"
    ),
}

# (file, text in it, replaced by, key named, problem) -- each accepted before unless noted.
CASES: list[tuple[str, str, str, str, str]] = [
    # tasks: a file whose name says otherwise wrote `crsis` features and scores
    ("configs/tasks/crisis.yaml", "name: crisis", "name: crsis", "name",
     task_spec.TASK_NAME_MISMATCH.format(name="crsis", stem="crisis")),
    ("configs/tasks/crisis.yaml", "gap_days: 0", "gap_days: 120", "label",
     task_spec.GAP_OVER_HORIZON.format(gap=120, horizon=90) + FIX),
    # models: the registered model and its card are named by `task`
    ("configs/models/crisis.yaml", "task: crisis", "task: crsis", "task",
     models_config.MODEL_TASK_MISMATCH.format(task="crsis", stem="crisis")),
    ("configs/models/crisis.yaml", "slope_bounds: [0.8, 1.2]", "slope_bounds: [1.2, 0.8]",
     "gate.slope_bounds", models_config.SLOPE_BOUNDS.format(bounds=[1.2, 0.8]) + FIX),
    ("configs/models/crisis.yaml", "top_fractions: [0.005, 0.02, 0.05]",
     "top_fractions: [0.5, 2, 5]", "evaluation.top_fractions",
     models_config.SHARES_IN_0_1.format(values=[0.5, 2.0, 5.0]) + FIX),
    ("configs/models/crisis.yaml", "stale_lags_days: [91, 182]", "stale_lags_days: [-91, 182]",
     "backtest.stale_lags_days", models_config.DAYS_POSITIVE.format(values=[-91, 182]) + FIX),
    ("configs/models/crisis.yaml", "max_ece: 0.02", "max_ece: 2", "gate.max_ece",
     BAD_VALUE.format(problem="Input should be less than or equal to 1", got="2")),
    ("configs/models/crisis.yaml", "seed: 7", "seed: -1", "seed",
     BAD_VALUE.format(problem="Input should be greater than or equal to 0", got="-1")),
    # report: a task with no file was "configs/tasks/crsis.yaml: not found"; suppression that
    # suppressed nothing while the report said "counts 7-1 hidden"
    ("configs/report.yaml", "task: crisis ", "task: crsis ", "task", TASK_CRSIS + FIX),
    ("configs/report.yaml", "  max_count: 7", "  max_count: 0", "suppression",
     report_settings.SUPPRESSION_RANGE.format(max=0, min=1) + FIX),
    ("configs/report.yaml", "funnel_limits: [0.95, 0.998]", "funnel_limits: []",
     "funnel_limits", report_settings.FUNNEL_LIMITS_EMPTY + FIX),
    ("configs/report.yaml", "{name: disease_management,", "{name: case_management,",
     "(top level)", report_settings.BAND_NAMES.format(name="case_management") + FIX),
    # monitoring: no range at all before (70 for 0.70 never warned; floor 0: infinite PSI)
    ("configs/monitoring.yaml", "auroc_warn: 0.70", "auroc_warn: 70", "performance.auroc_warn",
     BAD_VALUE.format(problem="Input should be less than or equal to 1", got="70")),
    ("configs/monitoring.yaml", "  floor: 0.0001 ", "  floor: 0 ", "psi.floor",
     BAD_VALUE.format(problem="Input should be greater than 0", got="0")),
    ("configs/monitoring.yaml", "  warn: 0.10 ", "  warn: 0.50 ", "psi",
     monitoring.PSI_ALERT_BELOW_WARN.format(alert=0.25, warn=0.5) + FIX),
    ("configs/monitoring.yaml", "  min_rows: 500 ", "  min_rows: -1 ", "psi.min_rows",
     BAD_VALUE.format(problem="Input should be greater than or equal to 0", got="-1")),
    # demo
    ("configs/demo.yaml", "patients: 40000", "patients: 0", "patients",
     BAD_VALUE.format(problem="Input should be greater than or equal to 1", got="0")),
    ("configs/demo.yaml", "end: 2025-12-28", "end: 2022-12-28", "(top level)",
     demo.DEMO_DATES.format(start="2023-01-02", end="2022-12-28", as_of="2025-12-29") + FIX),
    ("configs/demo.yaml", "tasks: [crisis, readmission_30d]", "tasks: [crsis, readmission_30d]",
     "tasks.0", TASK_CRSIS + FIX),
    ("configs/demo.yaml", "format: parquet", "format: csvv", "format",
     demo.DEMO_FORMAT.format(value="csvv", allowed="parquet, csv") + FIX),
    # outreach: a pathway's unknown task said "run `riskstrat score` first"
    ("outreach/early_intervention.yaml", "task: crisis", "task: crsis", "task",
     TASK_CRSIS + FIX),
    ("configs/outreach.yaml", "{died: 520, moved_away: 26}", "{died: 520, moved_away: -1}",
     "feedback_exclusions.every_list.moved_away",
     BAD_VALUE.format(problem="Input should be greater than or equal to 0", got="-1")),
    # reasons and actions: a misspelt group or pathway matched nothing, so a group's fact was
    # never said and an action stayed on the very list it contradicts
    ("configs/reasons.yaml", "  palliative_care: on the palliative",
     "  paliative_care: on the palliative", "group_facts.paliative_care",
     BAD_VALUE.format(problem="Input should be 'palliative_care' or 'care_home'",
                      got="'paliative_care'")),
    ("outreach/actions.yaml", "    not_for: [post_discharge]     # the first action already",
     "    not_for: [post_dischrge]     # the first action already", "rules.0.not_for.0",
     BAD_VALUE.format(problem=PATHWAY_LITERAL, got="'post_dischrge'")),
    ("outreach/actions.yaml", "  post_discharge:\n    action: Follow-up call",
     "  post_dischrge:\n    action: Follow-up call", "pathways.post_dischrge",
     BAD_VALUE.format(problem=PATHWAY_LITERAL, got="'post_dischrge'")),
    # a misspelt dict key: its path, not pydantic's `oncolgy.[key]`
    ("configs/models/readmission_30d.yaml", "    oncology: [reg_can]", "    oncolgy: [reg_can]",
     "baselines.hospital.oncolgy", BAD_VALUE.format(
         problem="Input should be 'oncology', 'index_urgent', 'admissions' or 'los'",
         got="'oncolgy'")),
]  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for folder in ("configs", "outreach", "features"):
        shutil.copytree(project_root() / folder, tmp_path / folder)
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(("file", "old", "new", "key", "problem"), CASES)
def test_a_config_mistake_is_one_line_naming_file_and_key(
    home: Path, file: str, old: str, new: str, key: str, problem: str
) -> None:
    path = home / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        LOADERS[file]()
    assert str(err.value) == CONFIG_ERROR.format(file=path, key=key, problem=problem)
    assert describe(err.value) == (str(err.value), EXIT_BAD_INPUT)


def test_a_missing_pathways_dir_names_the_setting(home: Path) -> None:
    """Was "outreachh/post_discharge.yaml: pathway 'post_discharge' ... has no file"."""
    path = home / "configs" / "outreach.yaml"
    path.write_text(path.read_text().replace("pathways_dir: outreach", "pathways_dir: outreachh"))
    with pytest.raises(ConfigError) as err:
        _outreach()
    problem = outreach_config.PATHWAYS_DIR_MISSING.format(folder=home / "outreachh")
    assert str(err.value) == CONFIG_ERROR.format(file=path, key="pathways_dir", problem=problem)


def test_through_the_cli_a_pathway_with_an_unknown_task_is_one_line(home: Path) -> None:
    """`riskstrat outreach` said "store has no crsis scores: run `riskstrat score` first"."""
    path = home / "outreach" / "early_intervention.yaml"
    path.write_text(path.read_text().replace("task: crisis", "task: crsis"))
    result = CliRunner().invoke(main, ["outreach", "--as-of", "2025-12-29"])
    expected = CONFIG_ERROR.format(file=path, key="task", problem=TASK_CRSIS + FIX)
    assert result.output == f"Error: {expected}\n"
    assert result.exit_code == EXIT_BAD_INPUT
