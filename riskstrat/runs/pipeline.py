"""One run end to end: ingest -> validate -> features -> score -> select -> explain -> lists ->
report -> monitoring -> manifest, written into its own run folder and published atomically.

The run holds the run lock (no two runs overlap, even from two processes), cleans folders left by
killed runs, and writes everything into a temporary folder that `publishing()` swaps in only when
every step has passed: a failure or a SIGKILL at any step leaves the last good outputs untouched.
Each attempt, published or not, leaves its manifest in `<out>/history/` for `riskstrat status`.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, date, datetime
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path

from riskstrat.config import Settings, project_root
from riskstrat.logs import log_event, progress_bar, timed
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
from riskstrat.runs.preflight import check_out_dir, check_run_configs
from riskstrat.runs.publish import clean_stale, publishing, run_dir
from riskstrat.runs.state import RunOptions, RunState
from riskstrat.runs.steps import Step

LANES_INVALID = (
    "run steps {waits}: a side step must wait for a main step (the first) or for the side "
    "step before it"
)
NO_LISTS = "the main lane ended before explain made the run's final lists"
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
    check_run_configs(report=options.report)
    out_dir = settings.paths.out_dir
    check_out_dir(out_dir)
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
        replaced: list[Path] = []  # the folder this run's publishing replaced
        removing: threading.Thread | None = None
        try:
            with publishing(
                out_dir, manifest.run_name, keep_existing=partial, removals=replaced
            ) as folder:
                state.run_dir = folder
                _forget_own_outputs(state)
                _run_steps(state, on_step=on_step)
                manifest.status = "succeeded"
                manifest.finished_at = _now()
                manifest.warnings = list(state.warnings)
                manifest.outputs = output_hashes(folder)
                write_manifest(manifest, folder / MANIFEST_FILE)
            # Published: the history says so at once. A run killed after this point (while
            # recording the listed) must not read as killed-before-publishing, or a later run
            # would remove the scores behind its lists (runs.forget; helper 59's review).
            write_manifest(manifest, history_path(out_dir, manifest))
            removing = _remove_in_background(replaced)
            _record_listed(state)
        except BaseException as exc:
            manifest.status = "failed"
            manifest.error = _reason(exc)
            manifest.finished_at = _now()
            manifest.scores_left = forget_failed_scores(state)
            write_manifest(manifest, history_path(out_dir, manifest))
            log_event("run.failed", as_of=as_of, error=type(exc).__name__)
            raise
        finally:
            state.close()
            if removing is not None:
                removing.join()
    log_event("run.published", as_of=as_of, run=manifest.run_name, warnings=len(manifest.warnings))
    return manifest


def forget_failed_scores(state: RunState) -> list[str]:
    """A failed run publishes nothing, so the scores it stored for a date nobody had scored
    before are removed again (scores, score_runs, scored_inputs of each such task and as-of).

    Otherwise the next run's post-discharge window (outreach.scoring.readmission_window: since
    the previous scoring) would start at the failed run's date, and the discharges of the failed
    run's window would never reach a published list. A re-run of a date already scored keeps
    what it stored (its window is the same either way). Best effort: a failure here is logged,
    never hides the run's own error.

    Returns the tasks whose scores are left (the removal failed): the failed manifest records
    them (`scores_left`) and the next run, under the run lock, removes them
    (runs.forget.killed_tasks). Before, they stayed for good: the next run's window started at
    the failed run's date."""
    from concurrent.futures import wait as wait_all

    from riskstrat.runs.forget import delete_scores

    if state.con is None or not state.unscored_before:
        return []
    try:
        if state.storing is not None:
            wait_all([state.storing])  # the background store ends before its rows are removed
        delete_scores(state.con, as_of=state.as_of, tasks=list(state.unscored_before))
        log_event("run.scores_forgotten", as_of=state.as_of, tasks=",".join(state.unscored_before))
    except Exception as exc:  # the store may be what failed (disk full): log, keep the error
        log_event("run.forget_scores_failed", as_of=state.as_of, error=type(exc).__name__)
        return list(state.unscored_before)
    return []


def _remove_in_background(folders: list[Path]) -> threading.Thread | None:
    """Delete the folders a publish replaced (a re-run of a published date: ~1,600 list files
    at 1M) in a thread of their own, beside recording the listed and closing the store; the run
    joins it before it lets go of the run lock. Nothing links to them any more."""
    if not folders:
        return None

    def remove() -> None:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    thread = threading.Thread(target=remove, name="riskstrat-publish")
    thread.start()
    return thread


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
    """The steps in order until the one the side lane waits for; then the rest of the main lane
    in a second thread while this one runs the side lane (steps that declare `waits_for`).

    The side lane runs here, on its own copy of the state (RunState.lane_copy), because its
    steps (monitoring, report) allocate the big frames: this thread's allocator arena already
    holds the pages earlier steps freed, where a new thread's would fault in fresh ones. Either
    lane's failure fails the run, with an error that does not depend on timing: the main lane's
    if it fails (the one an in-order run meets first; the side lane then stops before its next
    step), else the side lane's once the main lane is done.
    """
    steps = [step for _, step in steps_for(state.engine)]
    main, side = split_lanes(steps)
    order = [step.name for step in steps]
    done: dict[str, tuple[dict[str, int], float]] = {}
    lock, halt = threading.Lock(), threading.Event()

    def run(step: Step, lane_state: RunState) -> None:
        if step.applies(lane_state):
            start = time.perf_counter()
            with timed(f"run.{step.name}", as_of=lane_state.as_of) as extra:
                counts = step.run(lane_state)
                extra.update(counts)
            with lock:  # the manifest lists the steps in their declared order
                done[step.name] = ({k: int(v) for k, v in counts.items()},
                                   round(time.perf_counter() - start, 3))  # fmt: skip
                ran = [name for name in order if name in done]
                state.manifest.counts = {name: done[name][0] for name in ran}
                state.manifest.timings = {name: done[name][1] for name in ran}
            if on_step is not None:
                on_step(step.name, lane_state)
        with lock:
            bar.update(1)

    def run_lane(lane: Sequence[Step], lane_state: RunState, *, halts: bool) -> None:
        """halts: a failure here stops the other lane before its next step."""
        try:
            for step in lane:
                if halt.is_set():
                    return
                run(step, lane_state)
        except Exception:
            if halts:
                halt.set()
            raise
        except BaseException:  # interrupted: both lanes stop
            halt.set()
            raise

    names = [step.name for step in main]
    fork = names.index(side[0].waits_for) + 1 if side else len(main)
    with (
        progress_bar(label=f"run {state.as_of}", total=len(steps)) as bar,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskstrat-lane") as pool,
    ):
        run_lane(main[:fork], state, halts=True)
        if not side:
            return
        lane, forked_with = state.lane_copy(), len(state.warnings)
        rest = pool.submit(run_lane, main[fork:], state, halts=True)
        rest.add_done_callback(lambda _: _no_lists_coming(state))
        try:
            run_lane(side, lane, halts=False)
        finally:
            wait([rest])
            if lane.con is not None:
                lane.con.close()
            rest.result()  # the main lane's error before the side lane's
    state.warnings.extend(lane.warnings[forked_with:])  # after the main lane's, as in order


def _no_lists_coming(state: RunState) -> None:
    """The main lane has ended: a side step still waiting for its final lists (explain_step
    fulfils `state.explaining`) gets an error instead of waiting for ever. The run then raises
    the main lane's own error, the one an in-order run would meet. (Only the main lane's
    thread, which has ended, fulfils it: no race.)"""
    if state.explaining is not None and not state.explaining.done():
        state.explaining.set_exception(RuntimeError(NO_LISTS))


def split_lanes(steps: Sequence[Step]) -> tuple[list[Step], list[Step]]:
    """The main lane and the side lane: the steps that wait for an earlier one, each for the
    side step before it, the first for a main step."""
    main = [step for step in steps if step.waits_for is None]
    side = [step for step in steps if step.waits_for is not None]
    chained = all(b.waits_for == a.name for a, b in pairwise(side))
    if side and (side[0].waits_for not in {step.name for step in main} or not chained):
        raise ValueError(LANES_INVALID.format(waits=[(s.name, s.waits_for) for s in side]))
    return main, side


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
