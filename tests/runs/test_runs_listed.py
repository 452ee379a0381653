"""Who a run says it listed is who is on its written lists.

explain_step leaves out the rising-risk rows whose rise came only from a planned admission
(outreach.engine.drop_planned_rises) after select has chosen them. The commissioner report (run
beside explain) and the manifest's per-pathway listed counts used to count select's rows: the
demo's report said 120 people listed where its practice lists hold 114 (published 115). Here a
real run (small store, trained champions, last week's scores for rising risk) has at least
FORCED rising-risk rows of people on no other list dropped as planned-only, so the published
(rounded to 5) totals must move if the dropped people are counted.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

import riskstrat.outreach.engine as outreach_engine
import riskstrat.reports.aggregates as aggregates
from riskstrat.config import Settings
from riskstrat.outreach.scoring import score
from riskstrat.registry.store import connect
from riskstrat.reports.population import published_total
from riskstrat.reports.settings import load_report_config
from riskstrat.reports.suppression import round_count
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.state import RunOptions

AS_OF = date(2025, 12, 29)  # the Monday after the small population's extract (2025-12-28)
LAST_WEEK = AS_OF - timedelta(days=7)  # rising risk compares with last week's scores
#: Rows more marked as risen only after a planned admission: with the rounding base (5), a
#: published total that counted them would differ from one that does not.
FORCED = 5


@pytest.fixture
def last_week_scored(run_settings: Settings) -> Settings:
    with connect(run_settings.paths.store, read_only=False) as con:
        score(con, as_of=LAST_WEEK, settings=run_settings)
    return run_settings


def _planned_only_too(real):
    """drop_planned_rises as explain_step calls it, with FORCED more rising-risk rows marked as
    risen only after a planned admission: rows of people on no other list of the run, so each
    one dropped is one person fewer on the lists."""

    def drop(lists: pd.DataFrame, *, selection) -> pd.DataFrame:
        rising = (lists["pathway"] == "rising_risk").to_numpy()
        elsewhere = set(lists.loc[~rising, "patient_id"])
        alone = lists.index[rising & ~lists["patient_id"].isin(elsewhere).to_numpy()]
        assert len(alone) >= FORCED, "too few rising-risk rows to drop"
        natural = lists.get("rise_planned_only", pd.Series(False, index=lists.index))
        marked = natural.astype("boolean").fillna(False) | lists.index.isin(alone[:FORCED])
        return real(lists.assign(rise_planned_only=marked.astype(bool)), selection=selection)

    return drop


def _written(run: Path, pathway: str) -> pd.DataFrame:
    """The rows of one pathway's practice lists (CSV) in the run folder."""
    frames = [pd.read_csv(p, dtype=str) for p in sorted(run.glob(f"practices/*/{pathway}.csv"))]
    return pd.concat(frames, ignore_index=True)


def test_report_and_manifest_count_the_people_on_the_written_lists(
    last_week_scored: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = last_week_scored
    monkeypatch.setattr(
        outreach_engine, "drop_planned_rises", _planned_only_too(outreach_engine.drop_planned_rises)
    )
    counted: list[set[str]] = []

    def equity(cohort: pd.DataFrame, **kwargs) -> list[dict[str, object]]:
        """The report's equity section, seeing who the report counts as listed."""
        counted.append(set(cohort.loc[cohort["listed"].astype(bool), "patient_id"]))
        return real_equity(cohort, **kwargs)

    real_equity = aggregates.equity
    monkeypatch.setattr(aggregates, "equity", equity)
    manifest = run_once(as_of=AS_OF, settings=settings, options=RunOptions(ingest=False))
    assert manifest.status == "succeeded"
    run = settings.paths.out_dir / "runs" / AS_OF.isoformat()

    # The manifest: select's rows are labelled as selected; listed = rows written per pathway.
    written = {p: _written(run, p) for p in manifest.pathways}
    selected, lists = manifest.counts["select"], manifest.counts["lists"]
    assert {p: lists[f"{p}_listed"] for p in written} == {p: len(f) for p, f in written.items()}
    assert selected["rising_risk_selected"] >= lists["rising_risk_listed"] + FORCED
    assert manifest.counts["explain"]["explained"] == sum(len(f) for f in written.values())

    # The report: exactly the report's people (crisis cohort) whose id is on a written list.
    on_lists = set(pd.concat(written.values())["patient_id"])
    with connect(settings.paths.store, read_only=True) as con:
        cohort = {
            r[0]
            for r in con.execute(
                "SELECT patient_id FROM scores WHERE task = 'crisis' AND as_of = ?", [AS_OF]
            ).fetchall()
        }
    listed = on_lists & cohort
    assert counted == [listed]
    config = load_report_config()
    agg = pd.read_csv(run / "commissioner" / "aggregates.csv", dtype={"group": str})
    shown = agg[agg["measure"] == "listed"].set_index(["section", "dimension", "group"])
    total = published_total(len(listed), config=config)
    assert shown.loc[("outreach", "ics", "Total"), "value"] == total
    assert shown.loc[("equity", "imd_quintile", "Total"), "value"] == total
    practices = pd.concat(written.values())
    practices = practices[practices["patient_id"].isin(cohort)]
    per_practice = practices.groupby("practice_code")["patient_id"].nunique()
    outreach = shown.loc["outreach"].loc["practice"]
    compared = 0
    for code, row in outreach.iterrows():
        if not row["suppressed"]:
            base = config.suppression.rounding_base
            assert row["value"] == float(round_count(per_practice.get(code, 0), base)), code
            compared += 1
    assert compared > 0
