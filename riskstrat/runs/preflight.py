"""Every configuration file a run reads, loaded before the run starts.

Each stage loads its own file when it gets to it, so a typo in monitoring.yaml or report.yaml
(the last steps) stopped the weekly run after it had ingested, scored and selected: minutes of
work, a failed run in the history and no lists. Loading them all first makes the same one-line
error come before the run lock is taken and before anything is read or written.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from riskstrat.errors import EnvironmentProblem
from riskstrat.logs import timed

#: paths.out_dir names a file: a setting to correct (exit 2).
OUT_DIR_NOT_FOLDER = (
    "the output folder {path} is a file, not a folder; point paths.out_dir (or "
    "RISKSTRAT_OUT_DIR) at a folder and re-run"
)
#: The output folder cannot be written (a disk remounted read-only after errors, an NFS share
#: gone, permissions): before, "internal error OSError: [Errno 30] Read-only file system ...
#: re-run with --debug and report it" (exit 70), after the run had started.
OUT_DIR_NOT_WRITABLE = (
    "the output folder {path} cannot be written ({reason}); nothing was run and the published "
    "outputs are as they were: make the folder writable (or point paths.out_dir at one) and re-run"
)


class OutputNotWritable(EnvironmentProblem):
    """The output folder cannot be written: the machine's business (exit 3, one line)."""


def check_out_dir(out_dir: Path) -> None:
    """The run's output folder is a folder this process can create a file in (a probe file,
    removed at once), checked before the run lock is taken and before anything is written."""
    path = Path(out_dir)
    for folder in (path, *path.parents):  # the folder, or a folder above it, is a file
        if folder.exists() and not folder.is_dir():
            raise ValueError(OUT_DIR_NOT_FOLDER.format(path=folder))
    probe = path / f".riskstrat-write-test-{uuid.uuid4().hex[:8]}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
    else:
        return
    # Raised outside the handler: the CLI's error boundary reads an OSError in the chain first
    # and would say "permission denied, ..., check the file's owner and mode" instead.
    raise OutputNotWritable(OUT_DIR_NOT_WRITABLE.format(path=path, reason=reason))


def check_run_configs(*, report: bool) -> None:
    """Load (validate) the configs a run reads; raise the first ConfigError. report: the run
    writes the commissioner report (configs/report.yaml)."""
    from riskstrat.explain.actions import load_actions
    from riskstrat.explain.wording import load_reason_settings
    from riskstrat.outreach.config import load_outreach_config, load_pathways
    from riskstrat.reports.settings import load_report_config
    from riskstrat.runs.monitoring import load_monitoring_config
    from riskstrat.runs.schedule import load_schedule
    from riskstrat.tasks.spec import load_task

    with timed("run.configs"):
        pathways = load_pathways(load_outreach_config())
        for task in sorted({p.task for p in pathways.values()}):
            load_task(task)
        load_actions()
        load_reason_settings()
        load_monitoring_config()
        load_schedule()
        if report:
            load_task(load_report_config().task)
