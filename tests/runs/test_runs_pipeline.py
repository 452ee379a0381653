"""A run end to end on the small store: published layout, manifest, idempotency, and the last
good outputs surviving a failed run and a run killed with SIGKILL part-way."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from riskstrat.config import Settings
from riskstrat.runs.manifest import (
    HISTORY_DIR,
    MANIFEST_FILE,
    content_hash,
    read_manifest,
    recent_manifests,
)
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.publish import LATEST, VERSIONS_DIR
from riskstrat.runs.schedule import load_schedule
from riskstrat.runs.state import RunOptions
from riskstrat.runs.status import INTERRUPTED, status_text

EXTRACT_DATE = date(2025, 12, 28)  # tests/conftest.py SMALL_POPULATION["end"]
AS_OF = EXTRACT_DATE + timedelta(days=1)  # the Monday after the extract


def published_tree(out_dir: Path, *, hasher=None) -> dict[str, str]:
    """sha256 of every file reachable from the published names (runs/* and latest)."""
    hasher = hasher or (lambda p: hashlib.sha256(p.read_bytes()).hexdigest())
    tree = {}
    for top in sorted([*(out_dir / "runs").iterdir(), out_dir / LATEST]):
        if top.name.startswith("."):
            continue
        for path in sorted(top.rglob("*")):
            if path.is_file():
                tree[str(path.relative_to(out_dir))] = hasher(path)
        tree[f"{top.name} ->"] = os.readlink(top)
    return tree


def _score_history(settings: Settings, *, as_of: date) -> int:
    """Earlier weekly scores (as the outreach stage's `riskstrat score` would have stored)."""
    from riskstrat.outreach.scoring import score
    from riskstrat.registry.store import connect

    with connect(settings.paths.store, read_only=False) as con:
        return len(score(con, as_of=as_of, settings=settings, tasks=("crisis",)))


THEN = AS_OF - timedelta(days=91)  # one 90-day horizon before the run: outcomes known by now


@pytest.fixture
def history(run_settings: Settings) -> int:
    """Crisis scores from one horizon ago in the store, as a running service would have."""
    return _score_history(run_settings, as_of=THEN)


def test_run_publishes_lists_report_monitoring_and_manifest(
    run_settings: Settings, history: int
) -> None:
    then, scored_then = THEN, history
    manifest = run_once(as_of=AS_OF, settings=run_settings)
    out = run_settings.paths.out_dir
    run = out / "runs" / AS_OF.isoformat()
    assert (out / LATEST).resolve() == run.resolve()
    assert read_manifest(run / MANIFEST_FILE) == manifest
    assert manifest.status == "succeeded"
    assert manifest.store.extract_date == EXTRACT_DATE
    assert len(manifest.store.content_hash) == 64
    assert {m.task for m in manifest.models} == {"crisis", "readmission_30d"}
    assert all(m.alias == "champion" and "champion" in m.aliases for m in manifest.models)
    steps = ["ingest", "validate", "models", "features", "score", "select", "explain", "lists",
             "monitoring", "report"]  # fmt: skip
    assert list(manifest.counts) == steps and list(manifest.timings) == steps
    assert manifest.counts["score"]["crisis_scored"] == manifest.counts["features"]["crisis_rows"]
    practices = sorted(p.name for p in (run / "practices").iterdir())
    codes = pd.read_parquet(run_settings.paths.source_dir / "practices.parquet")["practice_code"]
    assert practices == sorted(codes)
    for pathway in manifest.pathways:
        assert (run / "practices" / practices[0] / f"{pathway}.csv").is_file()
    assert (run / "commissioner" / "report.html").is_file()
    summary = json.loads((run / "monitoring" / "summary.json").read_text())
    assert set(summary) == {"crisis", "readmission_30d"}
    assert summary["crisis"]["score"]["n"] == manifest.counts["score"]["crisis_scored"]
    # Prospective performance on the matured window (scores from `then`, labels now known).
    assert summary["crisis"]["matured_scored_on"] == then.isoformat()
    assert summary["crisis"]["matured"]["n"] == scored_then
    assert 0.5 < summary["crisis"]["matured"]["auroc"] <= 1
    perf = pd.read_csv(run / "monitoring" / "crisis_performance.csv")
    assert {"overall", "age_band", "sex", "practice"} <= set(perf["slice"])
    drift = pd.read_csv(run / "monitoring" / "crisis_drift.csv")
    assert len(drift) > 20 and (drift["psi"] >= 0).all()  # one row per model feature
    assert set(manifest.outputs) == {
        str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and p.name != MANIFEST_FILE
    }
    # No identifiers in the manifest (it goes to logs, status and audit, not to practices).
    text = (run / MANIFEST_FILE).read_text()
    ids = pd.read_parquet(run_settings.paths.source_dir / "patients.parquet")["patient_id"]
    assert not any(pid in text for pid in ids.head(2000))
    # Every attempt is in the history; status shows it.
    assert [m.status for m in recent_manifests(out)] == ["succeeded"]
    assert "succeeded" in status_text(load_schedule(), settings=run_settings)


def test_rerun_of_the_same_as_of_is_idempotent(run_settings: Settings) -> None:
    first = run_once(as_of=AS_OF, settings=run_settings)
    tree = published_tree(run_settings.paths.out_dir, hasher=content_hash)
    second = run_once(as_of=AS_OF, settings=run_settings)
    differing = {k for k in first.outputs.keys() | second.outputs.keys()
                 if first.outputs.get(k) != second.outputs.get(k)}  # fmt: skip
    assert differing == set()
    assert second.stable() == first.stable()
    again = published_tree(run_settings.paths.out_dir, hasher=content_hash)
    manifest_key = f"runs/{AS_OF}/{MANIFEST_FILE}"
    changed = {k for k in tree if tree[k] != again.get(k)} - {
        manifest_key,
        f"latest/{MANIFEST_FILE}",
        f"{AS_OF} ->",
    }
    assert changed == set()
    # Only one version folder is kept: the previous one was removed on publishing.
    assert len(list((run_settings.paths.out_dir / VERSIONS_DIR).iterdir())) == 1


def test_failed_run_leaves_published_outputs_untouched(run_settings: Settings) -> None:
    run_once(as_of=AS_OF, settings=run_settings)
    before = published_tree(run_settings.paths.out_dir)
    # A newer extract whose patients file lacks a required column: the ingest must stop.
    bad = run_settings.paths.data_dir / "bad-extract"
    bad.mkdir()
    for path in run_settings.paths.source_dir.iterdir():
        frame = pd.read_parquet(path)
        if path.stem == "patients":
            frame = frame.drop(columns=["date_of_birth"])
        frame.to_parquet(bad / path.name)
    later = AS_OF + timedelta(days=7)
    options = RunOptions(source_dir=bad, extract_date=later - timedelta(days=1))
    with pytest.raises(Exception, match="date_of_birth"):
        run_once(as_of=later, settings=run_settings, options=options)
    assert published_tree(run_settings.paths.out_dir) == before
    failed = recent_manifests(run_settings.paths.out_dir)[0]
    assert failed.status == "failed" and "date_of_birth" in failed.error
    assert not (run_settings.paths.out_dir / "runs" / later.isoformat()).exists()


KILLABLE = """
import sys, time
from datetime import date
from riskstrat.config import load_settings
from riskstrat.runs.pipeline import run_once

def hold(step, state):
    print("STEP", step, flush=True)
    if step == sys.argv[2]:
        time.sleep(300)

run_once(as_of=date.fromisoformat(sys.argv[1]), settings=load_settings(), on_step=hold)
"""


def _kill_run_after(step: str) -> list[str]:
    """Start a real run in another process and SIGKILL it once `step` is done."""
    with subprocess.Popen(
        [sys.executable, "-c", KILLABLE, AS_OF.isoformat(), step],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        seen = []
        for line in proc.stdout:
            seen.append(line.split()[1])
            if seen[-1] == step:
                break
        os.kill(proc.pid, signal.SIGKILL)
    return seen


def test_runs_killed_part_way_leave_published_outputs_untouched(run_settings: Settings) -> None:
    run_once(as_of=AS_OF, settings=run_settings)
    out = run_settings.paths.out_dir
    before = published_tree(out)
    versions = out / VERSIONS_DIR
    published_versions = set(versions.iterdir())
    # Killed after the store was written (scores), then with the run folder half written.
    for step in ("score", "lists"):
        assert _kill_run_after(step)[-1] == step
        assert published_tree(out) == before
        assert recent_manifests(out)[0].status == "running"
    leftovers = set(versions.iterdir()) - published_versions
    assert len(leftovers) == 1  # the last killed run's folder (each run first cleans older ones)
    assert INTERRUPTED in status_text(load_schedule(), settings=run_settings)
    # The next run cleans the leftovers and publishes as usual.
    run_once(as_of=AS_OF, settings=run_settings)
    assert not any(p.exists() for p in leftovers)
    assert (out / HISTORY_DIR).is_dir() and len(recent_manifests(out)) == 4


def test_subset_runs_keep_other_files_and_scheduled_runs_skip_what_is_done(
    run_settings: Settings,
) -> None:
    from riskstrat.runs.jobs import run_scheduled

    config = load_schedule()
    # Monday 07:00: the weekly job, then the weekday post-discharge job, which finds that the
    # weekly run already published post_discharge and does nothing.
    first = run_scheduled(
        config.job("weekly-early-intervention"), as_of=AS_OF, config=config, settings=run_settings
    )
    assert first.status == "succeeded" and "post_discharge" in first.pathways
    again = run_scheduled(
        config.job("weekday-post-discharge"), as_of=AS_OF, config=config, settings=run_settings
    )
    assert again.run_id == first.run_id
    assert len(recent_manifests(run_settings.paths.out_dir)) == 1
    # A hand-started post-discharge run rewrites its own files and keeps the others.
    run = run_settings.paths.out_dir / "runs" / AS_OF.isoformat()
    practice = sorted((run / "practices").iterdir())[0].name
    early = (run / "practices" / practice / "early_intervention.csv").read_bytes()
    report = (run / "commissioner" / "report.html").read_bytes()
    m = run_once(as_of=AS_OF, pathways=["post_discharge"], settings=run_settings)
    assert m.pathways == ["post_discharge"] and [x.task for x in m.models] == ["readmission_30d"]
    assert (run / "practices" / practice / "early_intervention.csv").read_bytes() == early
    assert (run / "practices" / practice / "post_discharge.csv").is_file()
    # No crisis scores in this run, so no report: the weekly one stays, as do its monitoring files.
    assert "report" not in m.counts
    assert (run / "commissioner" / "report.html").read_bytes() == report
    assert (run / "monitoring" / "crisis_drift.csv").is_file()
    summary = json.loads((run / "monitoring" / "summary.json").read_text())
    assert set(summary) == {"crisis", "readmission_30d"}
    assert set(m.monitoring) == {"readmission_30d"}


def test_unknown_pathway_is_refused(run_settings: Settings) -> None:
    from riskstrat.runs.state import UNKNOWN_PATHWAY

    with pytest.raises(ValueError) as err:
        run_once(as_of=AS_OF, pathways=["nonsense"], settings=run_settings)
    assert str(err.value).startswith(UNKNOWN_PATHWAY.format(name="nonsense", known="")[:30])
    assert not (run_settings.paths.out_dir / "runs" / AS_OF.isoformat()).exists()
