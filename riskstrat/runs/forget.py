"""Scores a run stored but never published are removed again, so the next post-discharge window
(outreach.scoring.readmission_window: since the previous scoring) starts at the last published
list and no discharge is left off every list.

A run that fails removes its own (runs.pipeline.forget_failed_scores). A run killed mid-run
(SIGKILL, a power cut, the OOM killer) cannot: its history manifest is left `running`. The next
run, holding the run lock (so no run is alive), removes them for it (`forget_killed_scores`).
So it does for a failed run whose own removal failed (the store was what failed, say): its
manifest names the tasks whose scores it left (`scores_left`).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from riskstrat.logs import log_event

#: Killed runs looked for: as-ofs this many days before the run (the post-discharge window
#: reaches back at most outreach.scoring.CATCH_UP_MAX_DAYS).
KILLED_LOOKBACK_DAYS = 14


def delete_scores(con: Any, *, as_of: date, tasks: list[str]) -> None:
    """Remove the (task, as_of) scores, score_runs and scored_inputs rows, in one transaction."""
    from riskstrat.outreach.store_io import has_table
    from riskstrat.scored import SCORE_RUNS_TABLE, SCORED_INPUTS_TABLE, SCORES_TABLE

    con.execute("BEGIN TRANSACTION")
    try:
        for table in (SCORES_TABLE, SCORE_RUNS_TABLE, SCORED_INPUTS_TABLE):
            if has_table(con, table):
                con.execute(
                    f"DELETE FROM {table} WHERE as_of = ? AND list_contains(?, task)",
                    [as_of, list(tasks)],
                )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def killed_tasks(
    out_dir: Path, *, as_of: date, own_run_id: str, task_of: dict[str, str]
) -> dict[date, list[str]]:
    """(as-of -> tasks) of runs left `running` in the history (killed: the caller holds the run
    lock), and the `scores_left` of failed runs, from KILLED_LOOKBACK_DAYS before `as_of` to
    `as_of`, less the tasks a run of the same as-of has scored and published (its scores are the
    published list's)."""
    from riskstrat.runs.manifest import HISTORY_DIR, read_manifest

    folder = Path(out_dir) / HISTORY_DIR
    first = (as_of - timedelta(days=KILLED_LOOKBACK_DAYS)).isoformat()
    runs = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        day = path.stem[16:26]  # <start stamp>-<as-of>-<run id>.json
        if not first <= day <= as_of.isoformat():
            continue
        try:
            runs.append(read_manifest(path))
        except (ValueError, OSError):
            continue  # status shows it as unreadable

    def tasks(manifest: Any) -> set[str]:
        return {task_of[p] for p in manifest.pathways if p in task_of}

    found: dict[date, set[str]] = {}
    for run in runs:
        if run.status == "running" and run.run_id != own_run_id:
            found.setdefault(run.as_of, set()).update(tasks(run))
        elif run.status == "failed" and run.scores_left:
            found.setdefault(run.as_of, set()).update(run.scores_left)
    # A run killed after its folder was swapped in but before its history copy was rewritten
    # did publish: the run folder's own manifest says so.
    published = [_published(out_dir, day) for day in found]
    for run in [*runs, *(m for m in published if m is not None)]:
        if run.status == "succeeded" and run.as_of in found:
            found[run.as_of] -= tasks(run)
    return {day: sorted(names) for day, names in sorted(found.items()) if names}


def _published(out_dir: Path, day: date) -> Any:
    from riskstrat.runs.manifest import MANIFEST_FILE, read_manifest
    from riskstrat.runs.publish import run_dir

    path = run_dir(out_dir, day.isoformat()) / MANIFEST_FILE
    try:
        return read_manifest(path) if path.is_file() else None
    except (ValueError, OSError):
        return None


def forget_killed_scores(state: Any) -> None:
    """Remove the scores of runs killed mid-run whose as-of no run has published since (see the
    module docstring). Before 2026-12-03 they stayed: a weekday run killed after scoring and
    re-run the next day listed only the discharges since the killed day."""
    task_of = {name: spec.task for name, spec in all_pathway_specs().items()}
    found = killed_tasks(
        state.settings.paths.out_dir,
        as_of=state.as_of,
        own_run_id=state.manifest.run_id,
        task_of=task_of,
    )
    for day, tasks in found.items():
        delete_scores(state.con, as_of=day, tasks=tasks)
        log_event("run.killed_scores_forgotten", as_of=day, tasks=",".join(tasks))


def all_pathway_specs() -> dict[str, Any]:
    from riskstrat.outreach.config import load_outreach_config, load_pathways

    return load_pathways(load_outreach_config())
