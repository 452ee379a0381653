"""The pure core on hand-built frames: tidy, suppressed, correct figures."""

from __future__ import annotations

from contextlib import ExitStack
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from reports_synthetic import inputs

from riskstrat.config import UNKNOWN_KEY, ConfigError, load_yaml
from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.frames import MISSING_COLUMNS, RISK_RANGE, TIDY_COLUMNS
from riskstrat.reports.settings import PYRAMID_ORDER, ReportConfig, load_report_config

CONFIG = load_report_config()
COUNT_MEASURES = {"people", "listed", "admitted"}


@pytest.fixture(scope="module")
def built() -> tuple[dict, pd.DataFrame]:
    args = inputs()
    return args, build_aggregates(**args, config=CONFIG)


def test_tidy_unique_and_counts_follow_the_rule(built) -> None:
    _, agg = built
    assert list(agg.columns) == list(TIDY_COLUMNS)
    assert list(TIDY_COLUMNS[:5]) == ["as_of", "section", "dimension", "group", "measure"]
    assert (agg["as_of"] == "2025-12-29").all()
    assert not agg.duplicated(["as_of", "section", "dimension", "group", "measure"]).any()
    counts = agg[agg["measure"].isin(COUNT_MEASURES) | agg["measure"].str.startswith(
        ("people_", "feedback_"))]  # fmt: skip
    shown = counts[~counts["suppressed"]]["value"]
    assert (shown % 5 == 0).all() and not shown.between(1, 7).any()
    assert counts["value"][counts["suppressed"]].isna().all()
    assert counts["suppressed"].any()  # the tiny practice forces suppression


def test_rates_hidden_where_counts_are_and_built_from_published_counts(built) -> None:
    _, agg = built
    eq = agg[agg.section == "equity"].set_index(["dimension", "group", "measure"])
    for (gt, g, m), row in eq.iterrows():
        if m in ("listing_rate", "listing_to_need") and eq.loc[(gt, g, "listed"), "suppressed"]:
            assert row["suppressed"] and np.isnan(row["value"])
        if m == "listing_rate" and not row["suppressed"]:  # published listed / published people
            shown = eq.loc[(gt, g, "listed"), "value"] / eq.loc[(gt, g, "people"), "value"]
            assert row["value"] == pytest.approx(shown, abs=5e-5)
    geo = agg[agg.section == "geography"].set_index(["group", "measure"])
    for g in geo.index.get_level_values(0).unique():
        if geo.loc[(g, "people"), "suppressed"]:
            assert geo.loc[(g, "expected_per_1000"), "suppressed"]
            assert geo.loc[(g, "standardised_per_1000"), "suppressed"]
        else:
            per = (
                1000
                * geo.loc[(g, "expected_admissions"), "value"]
                / geo.loc[(g, "people"), "value"]
            )
            slack = 50 / geo.loc[(g, "people"), "value"] + 0.05  # expected is published to 0.1
            assert geo.loc[(g, "expected_per_1000"), "value"] == pytest.approx(per, abs=slack)


def test_expected_admissions_and_pyramid(built) -> None:
    args, agg = built
    risk = args["cohort"]["risk"]
    row = agg.query("section == 'activity' and measure == 'expected_admissions'").iloc[0]
    sd = np.sqrt((risk * (1 - risk)).sum())
    assert row["value"] == pytest.approx(risk.sum(), abs=0.05)  # published to 0.1
    assert row["upper"] - row["value"] == pytest.approx(1.959964 * sd, abs=0.1)
    pyr = agg.query("section == 'pyramid'").set_index(["group", "measure"])["value"]
    assert pyr[("case_management", "people")] == 90  # top 3% of 3,000, fixed by rank
    assert pyr[("case_management", "risk_from")] == pytest.approx(risk.nlargest(90).min(), abs=5e-5)
    assert pyr[("disease_management", "risk_to")] < pyr[("case_management", "risk_from")]
    bands = sum(pyr[(b.name, "expected_admissions")] for b in CONFIG.pyramid)
    assert bands == pytest.approx(risk.sum(), abs=0.2)


def test_funnel_flags_a_practice_with_excess_admissions() -> None:
    args = inputs()
    matured = args["matured"].copy()
    hot = matured["practice_code"] == "P002"
    matured.loc[hot, "label"] = (np.random.default_rng(9).random(hot.sum()) < 0.25).astype(int)
    agg = build_aggregates(**(args | {"matured": matured}), config=CONFIG)
    flags = agg.query("measure == 'funnel_0.998' and dimension == 'practice'").set_index(
        "group")["value"]  # fmt: skip
    assert flags["P002"] == 1.0 and flags["P001"] == 0.0


def test_funnel_limits_are_published_as_ratios(built) -> None:
    """A funnel row's value is a flag (-1/0/1), its lower/upper the control limits as
    admitted/expected ratios; both were rounded as the flag (whole numbers), so the golden
    steady week's CSV gave a practice flagged below its 95% limits the limits 1 and 1."""
    from riskstrat.reports.dictionary import to_csv_frame
    from riskstrat.reports.intervals import funnel_limits

    _, agg = built
    rows = agg[agg["measure"].str.startswith("funnel_")]
    shown = rows[~rows["suppressed"]]
    assert len(shown) and set(shown["value"]) <= {-1.0, 0.0, 1.0}
    expected = agg.query("section == 'performance' and measure == 'expected_admissions'")
    e = expected.set_index(["dimension", "group"])["value"]
    for row in shown.itertuples():
        level = float(row.measure.removeprefix("funnel_"))
        lo, hi = funnel_limits(np.array([e[(row.dimension, row.group)]]), level=level)
        exp = e[(row.dimension, row.group)]
        assert row.lower == pytest.approx(lo[0] / exp, abs=0.006)
        assert row.upper == pytest.approx(hi[0] / exp, abs=0.006)
        assert row.lower < 1 < row.upper
    csv = to_csv_frame(shown)
    assert csv["value"].isin(["-1", "0", "1"]).all()
    assert csv["lower"].str.fullmatch(r"\d+\.\d\d").all(), csv["lower"].tolist()


def test_bed_days_configured_vs_observed(built) -> None:
    args, agg = built
    obs = agg.query("measure == 'bed_days_per_admitted_person'").iloc[0]
    assert obs["group"] == "observed"
    assert obs["value"] == pytest.approx(args["bed_days"].mean(), abs=0.05)  # published to 0.1 day
    conf = ReportConfig.model_validate(
        CONFIG.model_dump() | {"bed_days": {"mean_per_admission": 6.0}}
    )
    agg2 = build_aggregates(**args, config=conf)
    days = agg2.query("measure == 'expected_bed_days'").iloc[0]
    assert days["value"] == pytest.approx(6.0 * args["cohort"]["risk"].sum(), abs=0.5)


def test_bad_inputs_name_frame_and_column(tmp_path) -> None:
    args = inputs(400)
    with pytest.raises(ValueError) as err:
        build_aggregates(**(args | {"cohort": args["cohort"].drop(columns="listed")}),
                         config=CONFIG)  # fmt: skip
    assert str(err.value) == MISSING_COLUMNS.format(frame="cohort", columns=["listed"])
    with pytest.raises(ValueError) as err:
        build_aggregates(**(args | {"cohort": args["cohort"].assign(risk=1.5)}), config=CONFIG)
    assert str(err.value) == RISK_RANGE.format(frame="cohort")
    bad = tmp_path / "report.yaml"
    bad.write_text("pyramid:\n  - {name: a, title: A, top_share: 0.5}\nbogus: 1\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(bad, ReportConfig)
    known = ", ".join(sorted(ReportConfig.model_fields))
    assert f"{bad}: bogus: {UNKNOWN_KEY.format(known=known)}" in str(err.value)
    bad.write_text("pyramid:\n  - {name: a, title: A, top_share: 0.5}\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(bad, ReportConfig)
    assert PYRAMID_ORDER in str(err.value)


def test_empty_matured_window_still_reports() -> None:
    args = inputs(400)
    agg = build_aggregates(**(args | {"matured": args["matured"].iloc[:0]}), config=CONFIG)
    assert agg[agg.section == "performance"].empty


def test_listed_given_late_gives_the_same_figures_asked_for_after_the_other_sections(
    built,
) -> None:
    """A run's report passes who is listed as a function (its final lists are made beside it):
    called once, only after the sections that do not count the listed, with the same figures
    as a cohort that says who is listed."""
    import riskstrat.reports.aggregates as aggregates

    args, agg = built
    cohort = args["cohort"]
    ids = set(cohort.loc[cohort["listed"].astype(bool), "patient_id"])
    before = ("pyramid_and_geography", "activity", "performance", "trend")
    after = ("equity", "outreach")
    spies = {name: mock.patch.object(aggregates, name, wraps=getattr(aggregates, name))
             for name in (*before, *after)}  # fmt: skip
    asked: list[dict[str, bool]] = []

    def listed() -> set[str]:
        asked.append({name: spy.called for name, spy in called.items()})
        return ids

    with ExitStack() as stack:
        called = {name: stack.enter_context(patch) for name, patch in spies.items()}
        late = build_aggregates(
            **(args | {"cohort": cohort.drop(columns="listed")}), config=CONFIG, listed=listed
        )
    pd.testing.assert_frame_equal(late, agg)
    assert asked == [{**dict.fromkeys(before, True), **dict.fromkeys(after, False)}]


def test_the_whole_areas_listing_to_need_is_one_without_an_interval(built) -> None:
    """Listing to need of the whole area is 1 by definition; the demo showed "All 1.00 (0.84 to
    1.19)" under every slice, an interval on something not estimated."""
    _, agg = built
    total = agg.query("measure == 'listing_to_need' and group == 'Total'")
    assert len(total) == 5  # one per slice (the registers have no total)
    assert (total["value"] == 1.0).all()
    assert total["lower"].isna().all() and total["upper"].isna().all()
    groups = agg.query("measure == 'listing_to_need' and group != 'Total' and not suppressed")
    assert groups["lower"].notna().all()
