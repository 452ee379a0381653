"""Golden outputs of the weekly run (issue 19: "outputs byte-identical before and after, a test
compares them"). A first run on the small population (nothing scored before), then the same week
as a steady-state run (the 90-day-old and the last two weeks' scores present, as the weekly
service leaves the store); the hash of every published list file (CSV, XLSX, HTML and the
practices' feedback.csv) and of the commissioner report (aggregates.csv, its dictionary, the
warnings table and the report page with its tables) is compared with
tests/golden/weekly_run.json. Monitoring files and the manifest (timings, run ids) are not.

CSV and HTML files are hashed byte for byte (sha256). An XLSX is hashed by its parts in name
order, leaving out the zip entries' timestamps and docProps/core.xml (the writer stamps the save
time there): runs.manifest.content_hash, the hash the run's manifest records too.

After an INTENDED change of the published outputs, regenerate the golden file with
    RISKSTRAT_UPDATE_GOLDEN=1 pytest tests/runs/test_runs_golden.py -n 0
and commit tests/golden/weekly_run.json with the change that explains it.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from riskstrat.config import Settings
from riskstrat.filehash import content_hash
from riskstrat.outreach.scoring import score
from riskstrat.registry.store import connect
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.state import RunOptions

GOLDEN = Path(__file__).parents[1] / "golden" / "weekly_run.json"
UPDATE_ENV = "RISKSTRAT_UPDATE_GOLDEN"
AS_OF = date(2025, 12, 29)  # the Monday after the small population's extract (2025-12-28)
#: The earlier weeks a steady-state week finds scored: the 90-day-old (matured labels) week and
#: the last two weeks (rising risk compares with last week's).
EARLIER = (AS_OF - timedelta(days=91), AS_OF - timedelta(days=14), AS_OF - timedelta(days=7))
#: What is compared (folders of the run): every practice's files and the commissioner report.
GOLDEN_PARTS = ("practices/", "commissioner/")
CHANGED = (
    "published outputs differ from {golden} ({count} files): {files}. If the change is "
    "intended, regenerate it with {env}=1 pytest tests/runs/test_runs_golden.py -n 0 and "
    "commit it with the change that explains it"
)


def _hashes(settings: Settings) -> dict[str, str]:
    run = settings.paths.out_dir / "runs" / AS_OF.isoformat()
    return {
        str(p.relative_to(run)): content_hash(p)
        for p in sorted(run.rglob("*"))
        if p.is_file() and str(p.relative_to(run)).startswith(GOLDEN_PARTS)
    }


def _weekly_runs(settings: Settings) -> dict[str, dict[str, str]]:
    """The first run, then the steady-state run of the same week: their output hashes."""
    options = RunOptions(ingest=False)
    out = {}
    assert run_once(as_of=AS_OF, settings=settings, options=options).status == "succeeded"
    out["first"] = _hashes(settings)
    for day in EARLIER:
        with connect(settings.paths.store, read_only=False) as con:
            score(con, as_of=day, settings=settings)
    steady = run_once(as_of=AS_OF, settings=settings, options=options)
    assert steady.status == "succeeded"
    assert steady.counts["select"]["rising_risk_selected"] > 0  # last week's scores compared
    assert steady.monitoring["crisis"]["matured_scored_on"] == EARLIER[0].isoformat()
    out["steady"] = _hashes(settings)
    return out


def _changed(golden: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    return sorted(
        f"{run}/{name}"
        for run in sorted(golden.keys() | now.keys())
        for name in golden.get(run, {}).keys() | now.get(run, {}).keys()
        if golden.get(run, {}).get(name) != now.get(run, {}).get(name)
    )


def test_weekly_run_outputs_match_the_golden_hashes(run_settings: Settings) -> None:
    now = _weekly_runs(run_settings)
    for run in ("first", "steady"):
        names = now[run]
        assert "commissioner/aggregates.csv" in names
        for suffix in (".csv", ".xlsx", ".html"):
            assert sum(n.startswith("practices/") and n.endswith(suffix) for n in names) > 8
    if os.environ.get(UPDATE_ENV) == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"{GOLDEN} rewritten ({UPDATE_ENV}=1)")
    golden = json.loads(GOLDEN.read_text())
    changed = _changed(golden, now)
    shown = ", ".join(changed[:12]) + (", ..." if len(changed) > 12 else "")
    assert not changed, CHANGED.format(
        golden=GOLDEN.name, count=len(changed), files=shown, env=UPDATE_ENV
    )


def test_the_comparison_names_every_changed_file() -> None:
    golden = {"first": {"a.csv": "1", "b.xlsx": "2"}, "steady": {"a.csv": "3"}}
    now = {"first": {"a.csv": "1", "b.xlsx": "9", "c.html": "4"}, "steady": {}}
    assert _changed(golden, now) == ["first/b.xlsx", "first/c.html", "steady/a.csv"]
    assert _changed(golden, golden) == []
