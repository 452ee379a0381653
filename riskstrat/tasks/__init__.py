"""Prediction tasks: index rows (who, when) and labels (what happens next). See docs/tasks.md."""

from riskstrat.tasks.index import build_index
from riskstrat.tasks.labels import attach_labels
from riskstrat.tasks.spec import (
    IndexSpec,
    LabelSpec,
    TaskSpec,
    load_task,
    resolve_task,
    task_names,
)

__all__ = [
    "IndexSpec", "LabelSpec", "TaskSpec", "attach_labels", "build_index", "load_task",
    "resolve_task", "task_names",
]  # fmt: skip
