"""The steady-state week (issue 19): what a run reads back from the store instead of recomputing
(the matured rows' slicing inputs kept at score time, the trend's earlier headlines, the listed
rows' features by position) gives byte-identical published outputs to recomputing everything."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from riskstrat.config import Settings
from riskstrat.filehash import content_hash
from riskstrat.outreach.lists import explain_lists
from riskstrat.outreach.scoring import score
from riskstrat.registry.store import connect
from riskstrat.reports.loader import matured_rows
from riskstrat.reports.trend import TREND_TABLE
from riskstrat.runs.manifest import MANIFEST_FILE
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.state import RunOptions, RunState
from riskstrat.runs.steps import matrix_rows
from riskstrat.scored import SCORED_INPUTS_TABLE, read_scored
from riskstrat.tasks import load_task

AS_OF = date(2025, 12, 29)  # the Monday after the small population's extract (2025-12-28)
MATURED = AS_OF - timedelta(days=91)  # one 90-day horizon (and a day) back
EARLIER = (MATURED, AS_OF - timedelta(days=14), AS_OF - timedelta(days=7))


def _published(settings: Settings) -> dict[str, str]:
    run = settings.paths.out_dir / "runs" / AS_OF.isoformat()
    return {
        str(p.relative_to(run)): content_hash(p)
        for p in sorted(run.rglob("*"))
        if p.is_file() and p.name != MANIFEST_FILE
    }


@pytest.fixture
def steady_store(run_settings: Settings) -> Settings:
    """The store as a weekly service leaves it: the matured week's and recent weeks' scores."""
    for day in EARLIER:
        with connect(run_settings.paths.store, read_only=False) as con:
            score(con, as_of=day, settings=run_settings)
    return run_settings


def test_stored_inputs_give_the_rebuilt_matured_rows(steady_store: Settings) -> None:
    task = load_task("crisis")
    with connect(steady_store.paths.store, read_only=False) as con:
        stored = matured_rows(con, task=task, scored_on=MATURED, extract=AS_OF - timedelta(1))
        assert len(stored) == len(read_scored(con, task="crisis", keys=task.keys, as_of=MATURED))
        con.execute(f"DELETE FROM {SCORED_INPUTS_TABLE} WHERE as_of = ?", [MATURED])
        assert read_scored(con, task="crisis", keys=task.keys, as_of=MATURED) is None
        rebuilt = matured_rows(con, task=task, scored_on=MATURED, extract=AS_OF - timedelta(1))
    assert stored["label"].notna().sum() > 100 and (stored["label"] == 1).sum() > 5
    pd.testing.assert_frame_equal(stored, rebuilt, check_dtype=False)


def test_steady_state_run_equals_a_run_that_recomputes_everything(steady_store: Settings) -> None:
    compared: list[int] = []

    def explain_by_join_too(step: str, state: RunState) -> None:
        """The run explains listed rows by position; a join on the keys must give the same."""
        if step != "explain" or compared:
            return
        common = dict(
            settings=state.settings,
            matrices={t: d.matrix for t, d in state.tasks.items()},
            models={t: d.model for t, d in state.tasks.items()},
        )
        by_position = explain_lists(
            state.con, state.lists, matrix_rows=matrix_rows(state), **common
        )
        by_join = explain_lists(state.con, state.lists, **common)
        pd.testing.assert_frame_equal(by_position, by_join)
        compared.append(len(by_position))

    options = RunOptions(ingest=False)
    first = run_once(
        as_of=AS_OF, settings=steady_store, options=options, on_step=explain_by_join_too
    )
    assert compared and compared[0] > 20
    assert first.counts["select"]["rising_risk_selected"] > 0  # last week's scores are compared
    assert first.monitoring["crisis"]["matured_scored_on"] == MATURED.isoformat()
    steady = _published(steady_store)
    with connect(steady_store.paths.store, read_only=True) as con:
        kept = con.execute(
            f"SELECT DISTINCT as_of FROM {SCORED_INPUTS_TABLE} WHERE task = 'crisis'"
        ).fetchall()
        trend = con.execute(f"SELECT as_of FROM {TREND_TABLE} ORDER BY as_of").fetchall()
    assert {d for (d,) in kept} == {*EARLIER, AS_OF}
    assert [d for (d,) in trend] == [*EARLIER, AS_OF]  # this week's is kept for next week's
    # A store scored before these tables existed: every figure is recomputed from the store.
    with connect(steady_store.paths.store, read_only=False) as con:
        con.execute(f"DROP TABLE {SCORED_INPUTS_TABLE}")
        con.execute(f"DROP TABLE {TREND_TABLE}")
    again = run_once(as_of=AS_OF, settings=steady_store, options=options)
    assert again.status == "succeeded"
    recomputed = _published(steady_store)
    assert recomputed == steady
    assert {"commissioner/aggregates.csv", "commissioner/report.html"} <= set(steady)
    assert sum(k.startswith("practices/") and k.endswith(".csv") for k in steady) > 8
