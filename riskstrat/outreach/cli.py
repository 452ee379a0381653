"""`riskstrat score` (score with each task's champion) and `riskstrat outreach` (per-practice
lists for a date, published atomically into the run folder of that date)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from riskstrat.cliopts import (
    STORE_NOT_FOUND,
    TaskName,
    as_of_option,
    existing_store,
    out_option,
    pathway_option,
    store_option,
)
from riskstrat.config import ConfigError, load_settings
from riskstrat.errors import EnvironmentProblem
from riskstrat.outreach.config import load_outreach_config, load_pathways
from riskstrat.registry.store import connect, store_lock
from riskstrat.runs.lock import STANDALONE_LOCK_WAIT_SECONDS, run_lock
from riskstrat.runs.publish import publishing

STORE_MISSING = STORE_NOT_FOUND
NOT_CONFIGURED = "pathway {name!r} is not configured (see configs/outreach.yaml pathway_order)"

AS_OF = as_of_option(
    "Crisis risk is scored as of it; readmission risk for the discharges just before."
)
STORE = store_option()
_store = existing_store


@click.command("score")
@click.argument("tasks", nargs=-1, type=TaskName())
@AS_OF
@STORE
def score_command(as_of: date, tasks: tuple[str, ...], store: Path | None) -> None:
    """Score every eligible patient (crisis) and the recent discharges (readmission) with each
    task's champion model, and keep the scores in the store (re-running a date replaces it).

    TASKS: the tasks to score (default: every task the configured pathways use)."""
    from riskstrat.outreach.scoring import score

    settings = load_settings()
    path = _store(store)
    with store_lock(path), connect(path, read_only=False) as con:
        scores = score(con, as_of=as_of, settings=settings, tasks=tasks or None)
    for task, n in scores.groupby("task").size().items():
        click.echo(f"{task}: {n:,} scored at {as_of}")


@click.command("outreach")
@AS_OF
@pathway_option("Pathway to list (repeatable; default: every configured pathway).")
@STORE
@out_option("Output root (default paths.out_dir); files go to runs/<as-of>/practices/.")
def outreach_command(
    as_of: date, pathways: tuple[str, ...], store: Path | None, out_dir: Path | None
) -> None:
    """Write each practice's lists (CSV, XLSX, printable HTML) and feedback template for a date,
    from the scores already in the store. Other outputs of the same date's run are kept."""
    from riskstrat.outreach.lists import write_outreach
    from riskstrat.outreach.store_io import record_listed

    settings = load_settings()
    config = load_outreach_config()
    names = pathways
    pathways = load_pathways(config)
    for name in names:
        if name not in pathways:
            raise click.ClickException(NOT_CONFIGURED.format(name=name))
    chosen = {k: v for k, v in pathways.items() if not names or k in names}
    day = as_of
    path = _store(store)
    try:
        with (
            run_lock(settings.paths.data_dir, timeout=STANDALONE_LOCK_WAIT_SECONDS),
            store_lock(path),
            connect(path, read_only=False) as con,  # records who was listed (outreach_listed)
        ):
            with publishing(
                out_dir or settings.paths.out_dir, day.isoformat(), keep_existing=True
            ) as run_dir:
                result = write_outreach(
                    con, as_of=day, settings=settings, config=config, pathways=chosen,
                    run_dir=run_dir,
                )  # fmt: skip
            # Only published lists count as listed (the history behind no duplicates).
            record_listed(con, result.lists, as_of=day, pathways=tuple(chosen))
    except (LookupError, ConfigError, EnvironmentProblem) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from exc
    counts = result.lists.groupby(["pathway", "section"]).size()
    for (pathway, section), n in counts.items():
        click.echo(f"{pathway} {section}: {n}")
    if result.selection is not None and not result.selection.left_out.empty:
        gone = result.selection.left_out.groupby(["pathway", "reason"])["count"].sum()
        for pathway, rows in gone.groupby(level=0):
            said = ", ".join(f"{r} {int(n)}" for (_, r), n in rows.items())
            click.echo(f"{pathway} left out: {said}")
    click.echo(f"{len(result.files)} files for {len({p.parent for p in result.files})} practices")


COMMANDS = [score_command, outreach_command]
