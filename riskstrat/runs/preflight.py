"""Every configuration file a run reads, loaded before the run starts.

Each stage loads its own file when it gets to it, so a typo in monitoring.yaml or report.yaml
(the last steps) stopped the weekly run after it had ingested, scored and selected: minutes of
work, a failed run in the history and no lists. Loading them all first makes the same one-line
error come before the run lock is taken and before anything is read or written.
"""

from __future__ import annotations

from riskstrat.logs import timed


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
