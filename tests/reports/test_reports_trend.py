"""The trend's incremental table (riskstrat.reports.trend) and the headline's partition path."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from reports_synthetic import AS_OF, PRACTICES, inputs
from reports_synthetic import history as history_frame

from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.context import Context, ModelContext
from riskstrat.reports.population import assign_bands, headline
from riskstrat.reports.render import render_html
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.trend import TREND_TABLE, comparable_days, history, remember

CONFIG = ReportConfig()
WEEKS = [date(2025, 11, 3) + timedelta(days=7 * k) for k in range(4)]


def _scores(n: int, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    risk = np.round(rng.beta(1, 30, n), 3)  # rounded: many ties, also at the band cut
    return pd.DataFrame({"patient_id": [f"p{k:06d}" for k in rng.permutation(n)], "risk": risk})


@pytest.mark.parametrize("n", [1, 7, 5000])
def test_headline_without_bands_equals_the_banded_one(n: int) -> None:
    cohort = _scores(n, seed=n)
    bands = assign_bands(cohort["risk"], cohort["patient_id"], config=CONFIG)
    day = WEEKS[0]
    assert headline(cohort, as_of=day, config=CONFIG) == headline(
        cohort, as_of=day, config=CONFIG, bands=bands
    )


def _store(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE scores (task VARCHAR, as_of DATE, patient_id VARCHAR, risk DOUBLE)")
    con.execute(
        "CREATE TABLE score_runs (task VARCHAR, as_of DATE, model_name VARCHAR, "
        "model_version VARCHAR, rows BIGINT, scored_at TIMESTAMP)"
    )
    for k, day in enumerate(WEEKS):
        frame = _scores(3000, seed=k).assign(task="crisis", as_of=pd.Timestamp(day))
        con.register("week", frame[["task", "as_of", "patient_id", "risk"]])
        con.execute("INSERT INTO scores SELECT * FROM week")
        con.unregister("week")
        con.execute(
            "INSERT INTO score_runs VALUES ('crisis', ?, 'm', '1', 3000, ?)",
            [day, datetime(2025, 12, 1, 8, k)],
        )


def test_history_is_kept_once_and_recomputed_after_a_rescore() -> None:
    con = duckdb.connect()
    _store(con)
    as_of = WEEKS[-1] + timedelta(days=7)
    first = history(con, as_of=as_of, config=CONFIG)
    assert list(first["as_of"].dt.date) == WEEKS
    kept = con.execute(f"SELECT count(*) FROM {TREND_TABLE}").fetchall()[0][0]
    assert kept == len(WEEKS)
    # Read back from the table: the same figures; the scores are no longer read.
    con.execute("UPDATE scores SET risk = 0.5 WHERE as_of = ?", [WEEKS[0]])
    pd.testing.assert_frame_equal(history(con, as_of=as_of, config=CONFIG), first)
    # A re-scored week (new score_runs row) is recomputed from its scores.
    con.execute(
        "UPDATE score_runs SET scored_at = ? WHERE as_of = ?", [datetime(2026, 1, 1), WEEKS[0]]
    )
    again = history(con, as_of=as_of, config=CONFIG)
    assert again.loc[0, "expected_admissions"] == pytest.approx(0.5 * 3000)
    pd.testing.assert_frame_equal(again.iloc[1:], first.iloc[1:])
    # This week's headline, appended by its report, is next week's first trend row.
    cohort = _scores(2000, seed=9)
    remember(con, cohort, as_of=as_of, config=CONFIG)
    con.execute("INSERT INTO scores SELECT 'crisis', ?, 'x', 0.1", [as_of])
    con.execute(
        "INSERT INTO score_runs VALUES ('crisis', ?, 'm', '1', 2000, ?)",
        [as_of, datetime(2026, 1, 2)],
    )
    remember(con, cohort, as_of=as_of, config=CONFIG)  # after its scoring: kept
    later = history(con, as_of=as_of + timedelta(days=7), config=CONFIG)
    assert later.iloc[-1].to_dict() == headline(cohort, as_of=as_of, config=CONFIG)


def test_weeks_scored_by_another_model_are_left_out_of_the_trend() -> None:
    """A retrained model moves every headline figure: the trend compared its expected
    admissions with the old model's as if the population had changed. Only weeks scored by this
    week's model are shown; the page names the weeks left out."""
    con = duckdb.connect()
    _store(con)
    as_of = WEEKS[-1] + timedelta(days=7)
    con.execute("INSERT INTO scores SELECT 'crisis', ?, 'x', 0.1", [as_of])
    con.execute(
        "INSERT INTO score_runs VALUES ('crisis', ?, 'm', '2', 1, ?)", [as_of, datetime(2026, 1, 1)]
    )
    con.execute("UPDATE score_runs SET model_version = '2' WHERE as_of >= ?", [WEEKS[2]])
    assert comparable_days(con, as_of=as_of, config=CONFIG) == (
        [WEEKS[3], WEEKS[2]],
        [WEEKS[1], WEEKS[0]],
    )
    kept = history(con, as_of=as_of, config=CONFIG)
    assert list(kept["as_of"].dt.date) == WEEKS[2:]
    # the same model throughout: every week (and a store without score_runs keeps them all)
    con.execute("UPDATE score_runs SET model_version = '2'")
    assert list(history(con, as_of=as_of, config=CONFIG)["as_of"].dt.date) == WEEKS
    # the page says which weeks were left out and why
    context = Context(as_of=AS_OF, extract_date=None, data_from=None, horizon_days=90,
                      model=ModelContext(), trend_left_out=(WEEKS[1], WEEKS[0]))  # fmt: skip
    agg = build_aggregates(**inputs(), config=CONFIG)
    html = render_html(
        agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG, horizon_days=90, context=context
    )
    trend = html[html.index('id="trend"') :]
    assert "Left out: 2 earlier weeks (2025-11-03 to 2025-11-10), scored by a different" in trend


def test_a_week_republished_in_the_trend_is_published_as_it_was() -> None:
    """Differencing across weeks (docs/report.md, "Across weeks"): the one figure set two
    reports share is a week's headline (its own report, and next week's trend). Both go through
    the same rounding and suppression from the same count, so the pair gives one value, never
    two versions to intersect (demo 2025-12-29 and 2026-01-05: 3 of 3 rows identical)."""
    last_week = AS_OF - timedelta(days=7)
    first = inputs(2000) | {"as_of": last_week, "history": history_frame(0)}
    first_agg = build_aggregates(**first, config=CONFIG)
    cohort = first["cohort"].iloc[3:]  # three people fewer this week
    kept = pd.DataFrame([headline(first["cohort"], as_of=last_week, config=CONFIG)])
    second_agg = build_aggregates(**(first | {"as_of": AS_OF, "cohort": cohort, "history": kept}),
                                  config=CONFIG)  # fmt: skip
    columns = ["measure", "value", "lower", "upper", "suppressed"]
    label = last_week.isoformat()
    own = first_agg[(first_agg.section == "trend") & (first_agg.group == label)][columns]
    again = second_agg[(second_agg.section == "trend") & (second_agg.group == label)][columns]
    assert len(own) == 3
    pd.testing.assert_frame_equal(own.reset_index(drop=True), again.reset_index(drop=True))
    people = first_agg.query(
        "section == 'geography' and dimension == 'ics' and measure == 'people'"
    )
    assert own.set_index("measure").at["population", "value"] == people["value"].iloc[0]
    expected = first_agg.query("section == 'activity' and measure == 'expected_admissions'")
    assert own.set_index("measure").at["expected_admissions", "value"] == expected["value"].iloc[0]
