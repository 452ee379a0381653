"""The run's two lanes (runs.pipeline._run_steps): monitoring -> report in a second thread beside
explain -> lists, really at the same time; a failure in either lane fails the whole run with
that failure's one line, and nothing is published."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from riskstrat.config import Settings
from riskstrat.errors import describe
from riskstrat.runs.manifest import recent_manifests
from riskstrat.runs.pipeline import LANES_INVALID, run_once, split_lanes
from riskstrat.runs.state import RunOptions, RunState
from riskstrat.runs.steps import STEPS, Step

AS_OF = date(2025, 12, 29)  # the Monday after the small population's extract (2025-12-28)
MAIN_LANE, SIDE_LANE = ("explain", "lists"), ("monitoring", "report")
INJECTED = "injected failure after step {step}: the run must fail with this line"


def test_steps_after_select_run_in_two_lanes() -> None:
    main, side = split_lanes([step for _, step in STEPS])
    assert [s.name for s in side] == list(SIDE_LANE)
    assert [s.name for s in main][-3:] == ["select", *MAIN_LANE]
    chain = [Step("a", dict), Step("b", dict, waits_for="a"), Step("c", dict, waits_for="a")]
    with pytest.raises(ValueError) as caught:
        split_lanes(chain)
    assert str(caught.value) == LANES_INVALID.format(waits=[("b", "a"), ("c", "a")])


def test_the_two_lanes_run_at_the_same_time(run_settings: Settings) -> None:
    """Each lane's first step waits, in its hook, until the other lane's first step is done:
    a run that did the steps one after the other would time out here."""
    both = threading.Barrier(2, timeout=60)
    threads: dict[str, str] = {}

    def meet(step: str, state: RunState) -> None:
        threads[step] = threading.current_thread().name
        if step in ("explain", "monitoring"):
            both.wait()  # BrokenBarrierError on timeout: the lanes did not overlap

    manifest = run_once(
        as_of=AS_OF, settings=run_settings, options=RunOptions(ingest=False), on_step=meet
    )
    assert manifest.status == "succeeded"
    assert threads["explain"] == threads["lists"] != threads["monitoring"] == threads["report"]
    assert threads["select"] == threads["monitoring"]  # the big frames stay in one thread
    # The manifest keeps the declared order whatever finished first.
    assert list(manifest.timings)[-4:] == [*MAIN_LANE, *SIDE_LANE]
    assert list(manifest.counts) == list(manifest.timings)
    assert manifest.monitoring and "crisis" in manifest.monitoring


@pytest.mark.parametrize("failing", [("lists",), ("monitoring",), ("report",), ("lists", "report")])
def test_a_failure_in_either_lane_fails_the_run_with_its_one_line(
    run_settings: Settings, failing: tuple[str, ...]
) -> None:
    """One failure, in the main lane or the side lane, or one in each: the run raises the
    failure an in-order run would meet first (lists before monitoring and report), records that
    one line in its manifest and publishes nothing."""
    options = RunOptions(ingest=False)

    def fail(step: str, state: RunState) -> None:
        if step in failing:
            raise ValueError(INJECTED.format(step=step))

    expected = INJECTED.format(step=failing[0])
    with pytest.raises(ValueError) as caught:
        run_once(as_of=AS_OF, settings=run_settings, options=options, on_step=fail)
    assert str(caught.value) == expected
    line = describe(caught.value)[0]  # what the CLI prints after "Error: "
    assert expected in line and "\n" not in line
    failed = recent_manifests(run_settings.paths.out_dir)[0]
    assert failed.status == "failed" and failed.error == line
    assert not (run_settings.paths.out_dir / "runs" / AS_OF.isoformat()).exists()


def test_a_run_failing_while_its_models_load_leaves_nothing_frozen(
    run_settings: Settings,
) -> None:
    """The champions load in a thread that freezes what it made (gc.freeze) when it ends; a run
    that fails before waiting for them must not leave them frozen in a long-lived scheduler
    process: RunState.close waits for the load, then unfreezes."""
    import gc
    import time

    def fail(step: str, state: RunState) -> None:
        if step == "models":  # the hook runs after the step: the load has just started
            raise ValueError(INJECTED.format(step=step))

    gc.unfreeze()
    with pytest.raises(ValueError):
        run_once(as_of=AS_OF, settings=run_settings, options=RunOptions(ingest=False), on_step=fail)
    time.sleep(2)  # a load still running after the run ended would freeze by now
    assert gc.get_freeze_count() == 0


def test_the_report_counts_the_listed_last_while_explain_runs(
    run_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report needs explain's final lists (runs.steps.await_explained) only for the figures
    that count the listed: everything else, up to the trend section, is made while explain
    runs. Here explain's last part waits until the report has made its trend section; a report
    that waited for explain any earlier would leave both lanes waiting (and time out)."""
    import riskstrat.outreach.engine as outreach_engine
    import riskstrat.reports.aggregates as aggregates

    trend_made = threading.Event()
    real_trend, real_drop = aggregates.trend, outreach_engine.drop_planned_rises

    def trend(*args, **kwargs):
        rows = real_trend(*args, **kwargs)
        trend_made.set()
        return rows

    def drop(lists, *, selection):
        assert trend_made.wait(timeout=60), "the report waited for explain before its trend"
        return real_drop(lists, selection=selection)

    monkeypatch.setattr(aggregates, "trend", trend)
    monkeypatch.setattr(outreach_engine, "drop_planned_rises", drop)
    manifest = run_once(as_of=AS_OF, settings=run_settings, options=RunOptions(ingest=False))
    assert manifest.status == "succeeded"
    lists = manifest.counts["lists"]
    assert (
        sum(v for k, v in lists.items() if k.endswith("_listed"))
        == (manifest.counts["explain"]["explained"])
    )


def test_an_explain_failing_while_the_report_waits_fails_the_run_with_its_line(
    run_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report waits for explain's final lists; explain fails meanwhile: the report is not
    left waiting, and the run fails with explain's error (the one an in-order run meets)."""
    import concurrent.futures

    import riskstrat.outreach.engine as outreach_engine
    import riskstrat.runs.steps as steps

    waiting, answered = threading.Event(), []
    real_await = steps.await_explained

    def await_explained(state: RunState):
        waiting.set()
        done, _ = concurrent.futures.wait([state.explaining], timeout=60)
        answered.append(bool(done))  # False: left waiting for lists that never come
        if not done:
            raise TimeoutError("the report was left waiting")  # instead of hanging the test
        return real_await(state)

    def drop(lists, *, selection):
        assert waiting.wait(timeout=60), "the report never asked for the listed"
        raise ValueError(INJECTED.format(step="explain"))

    monkeypatch.setattr(steps, "await_explained", await_explained)
    monkeypatch.setattr(outreach_engine, "drop_planned_rises", drop)
    with pytest.raises(ValueError) as caught:
        run_once(as_of=AS_OF, settings=run_settings, options=RunOptions(ingest=False))
    assert str(caught.value) == INJECTED.format(step="explain")
    assert answered == [True]
    failed = recent_manifests(run_settings.paths.out_dir)[0]
    assert failed.status == "failed" and failed.error == describe(caught.value)[0]
    assert not (run_settings.paths.out_dir / "runs" / AS_OF.isoformat()).exists()
