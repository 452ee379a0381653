"""One run end to end: ingest -> validate -> features -> score -> select -> explain -> lists ->
report -> monitoring -> manifest, written into its own run folder and published atomically.

The run holds the run lock (no two runs overlap, even from two processes), cleans folders left by
killed runs, and writes everything into a temporary folder that `publishing()` swaps in only when
every step has passed: a failure or a SIGKILL at any step leaves the last good outputs untouched.
Each attempt, published or not, leaves its manifest in `<out>/history/` for `riskstrat status`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path

from riskstrat.config import Settings, project_root
from riskstrat.logs import log_event, progress, timed
from riskstrat.runs.engine import steps_for
from riskstrat.runs.lock import run_lock
from riskstrat.runs.manifest import (
    MANIFEST_FILE,
    Manifest,
    config_hash,
    history_path,
    output_hashes,
    read_manifest,
    write_manifest,
)
from riskstrat.runs.publish import clean_stale, publishing, run_dir
from riskstrat.runs.state import RunOptions, RunState

#: Called after each step with (step name, state): progress display, or a test's kill point.
StepHook = Callable[[str, RunState], None]


def run_name_for(as_of: date) -> str:
    return as_of.isoformat()


def run_once(
    *,
    as_of: date,
    pathways: Sequence[str] | None = None,
    settings: Settings,
    options: RunOptions | None = None,
    on_step: StepHook | None = None,
) -> Manifest:
    """Run the pipeline for `as_of` and publish it as runs/<as_of> and latest; return the manifest.

    pathways: a subset of the configured pathways (default: all). A subset run starts from the
    published run of the same as-of, so files of the other pathways are kept.
    """
    options = options or RunOptions()
    out_dir = settings.paths.out_dir
    with run_lock(settings.paths.data_dir, timeout=options.lock_timeout_seconds):
        done = published_manifest(out_dir, as_of)
        if options.skip_if_published and _covers(done, pathways):
            log_event("run.skipped", as_of=as_of, reason="already_published")
            return done
        stale = clean_stale(out_dir)
        if stale:
            log_event("run.cleaned_stale", folders=len(stale))
        state = RunState.start(as_of=as_of, pathways=pathways, settings=settings, options=options)
        manifest = _new_manifest(state)
        state.manifest = manifest
        write_manifest(manifest, history_path(out_dir, manifest))
        partial = set(state.pathways) != set(state.all_pathways)
        try:
            with publishing(out_dir, manifest.run_name, keep_existing=partial) as folder:
                state.run_dir = folder
                _forget_own_outputs(state)
                _run_steps(state, on_step=on_step)
                manifest.status = "succeeded"
                manifest.finished_at = _now()
                manifest.warnings = list(state.warnings)
                manifest.outputs = output_hashes(folder)
                write_manifest(manifest, folder / MANIFEST_FILE)
            _record_listed(state)
        except BaseException as exc:
            manifest.status = "failed"
            manifest.error = _reason(exc)
            manifest.finished_at = _now()
            write_manifest(manifest, history_path(out_dir, manifest))
            log_event("run.failed", as_of=as_of, error=type(exc).__name__)
            raise
        finally:
            state.close()
        write_manifest(manifest, history_path(out_dir, manifest))
    log_event("run.published", as_of=as_of, run=manifest.run_name, warnings=len(manifest.warnings))
    return manifest


def _record_listed(state: RunState) -> None:
    """After publishing: who this run listed (the outreach history behind "no duplicates
    across days"). Only published lists count; if recording fails the next run may list someone
    again (a duplicate, never a missed follow-up), so it is logged, not fatal."""
    from riskstrat.outreach.store_io import record_listed

    if state.explained is None:
        return
    try:
        record_listed(state.con, state.explained, as_of=state.as_of, pathways=state.pathways)
    except Exception as exc:  # the run is already published: log, don't fail it
        log_event("run.record_listed_failed", as_of=state.as_of, error=type(exc).__name__)


def _reason(exc: BaseException) -> str:
    """The failure's one line (as the CLI prints it), for the manifest and `riskstrat status`."""
    from riskstrat.errors import describe

    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return f"stopped ({type(exc).__name__})"
    return describe(exc)[0]


def _run_steps(state: RunState, *, on_step: StepHook | None) -> None:
    manifest = state.manifest
    for name, step in progress(steps_for(state.engine), label=f"run {state.as_of}"):
        if not step.applies(state):
            continue
        start = time.perf_counter()
        with timed(f"run.{name}", as_of=state.as_of) as extra:
            counts = step.run(state)
            extra.update(counts)
        manifest.counts[name] = {k: int(v) for k, v in counts.items()}
        manifest.timings[name] = round(time.perf_counter() - start, 3)
        if on_step is not None:
            on_step(name, state)


def _forget_own_outputs(state: RunState) -> None:
    """In a run folder copied from the published one, remove what this run will rewrite.

    So a re-run never leaves behind a file an earlier run wrote and this one would not.
    """
    folder = state.run_dir
    (folder / MANIFEST_FILE).unlink(missing_ok=True)
    for pathway in state.pathways:
        for path in folder.glob(f"practices/*/{pathway}.*"):
            path.unlink()
    if state.writes_report:
        for path in folder.glob("commissioner/*"):
            path.unlink()
    for task in state.task_names:
        for path in folder.glob(f"monitoring/{task}_*"):
            path.unlink()


def _new_manifest(state: RunState) -> Manifest:
    return Manifest(
        run_id=uuid.uuid4().hex[:12],
        run_name=run_name_for(state.as_of),
        as_of=state.as_of,
        pathways=list(state.pathways),
        started_at=_now(),
        riskstrat_version=version("riskstrat"),
        config_hash=config_hash(project_root()),
        engine=state.engine,
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def published_manifest(out_dir: Path, as_of: date) -> Manifest | None:
    path = run_dir(out_dir, run_name_for(as_of)) / MANIFEST_FILE
    return read_manifest(path) if path.is_file() else None


def _covers(manifest: Manifest | None, pathways: Sequence[str] | None) -> bool:
    if manifest is None or manifest.status != "succeeded":
        return False
    return pathways is not None and set(pathways) <= set(manifest.pathways)
