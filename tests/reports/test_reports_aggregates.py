"""The pure core on hand-built frames: tidy, suppressed, correct figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reports_synthetic import inputs

from riskstrat.config import ConfigError, load_yaml
from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.frames import MISSING_COLUMNS, RISK_RANGE, TIDY_COLUMNS
from riskstrat.reports.settings import PYRAMID_ORDER, ReportConfig, load_report_config

CONFIG = load_report_config()
COUNT_MEASURES = {"people", "listed", "not_listed", "admitted", "not_admitted"}


@pytest.fixture(scope="module")
def built() -> tuple[dict, pd.DataFrame]:
    args = inputs()
    return args, build_aggregates(**args, config=CONFIG)


def test_tidy_unique_and_counts_follow_the_rule(built) -> None:
    _, agg = built
    assert list(agg.columns) == list(TIDY_COLUMNS)
    assert not agg.duplicated(["section", "measure", "group_type", "group"]).any()
    counts = agg[agg["measure"].isin(COUNT_MEASURES) | agg["measure"].str.startswith(
        ("people_", "feedback_"))]  # fmt: skip
    shown = counts[~counts["suppressed"]]["value"]
    assert (shown % 5 == 0).all() and not shown.between(1, 7).any()
    assert counts["value"][counts["suppressed"]].isna().all()
    assert counts["suppressed"].any()  # the tiny practice forces suppression


def test_rates_hidden_where_counts_are(built) -> None:
    _, agg = built
    eq = agg[agg.section == "equity"].set_index(["group_type", "group", "measure"])
    for (gt, g, m), row in eq.iterrows():
        if m in ("listing_rate", "listing_to_need") and eq.loc[(gt, g, "listed"), "suppressed"]:
            assert row["suppressed"] and np.isnan(row["value"])
    geo = agg[agg.section == "geography"].set_index(["group", "measure"])
    for g in geo.index.get_level_values(0).unique():
        if geo.loc[(g, "people"), "suppressed"]:
            assert geo.loc[(g, "mean_risk"), "suppressed"]


def test_expected_admissions_and_pyramid(built) -> None:
    args, agg = built
    risk = args["cohort"]["risk"]
    row = agg.query("section == 'activity' and measure == 'expected_admissions'").iloc[0]
    sd = np.sqrt((risk * (1 - risk)).sum())
    assert row["value"] == pytest.approx(risk.sum())
    assert row["upper"] - row["value"] == pytest.approx(1.959964 * sd, rel=1e-5)
    share = agg.query("section == 'pyramid' and measure == 'share'").set_index("group")["value"]
    assert share.to_dict() == pytest.approx(
        {"case_management": 0.03, "disease_management": 0.17, "self_care": 0.80}
    )
    cut = agg.query("section == 'pyramid' and measure == 'risk_from'").set_index("group")
    assert cut.at["case_management", "value"] == pytest.approx(risk.nlargest(90).min())


def test_funnel_flags_a_practice_with_excess_admissions() -> None:
    args = inputs()
    matured = args["matured"].copy()
    hot = matured["practice_code"] == "P002"
    matured.loc[hot, "label"] = (np.random.default_rng(9).random(hot.sum()) < 0.25).astype(int)
    agg = build_aggregates(**(args | {"matured": matured}), config=CONFIG)
    flags = agg.query("measure == 'funnel_0.998' and group_type == 'practice'").set_index(
        "group")["value"]  # fmt: skip
    assert flags["P002"] == 1.0 and flags["P001"] == 0.0


def test_bed_days_configured_vs_observed(built) -> None:
    args, agg = built
    obs = agg.query("measure == 'bed_days_per_admitted_person'").iloc[0]
    assert obs["group"] == "observed" and obs["value"] == pytest.approx(args["bed_days"].mean())
    conf = ReportConfig.model_validate(
        CONFIG.model_dump() | {"bed_days": {"mean_per_admission": 6.0}}
    )
    agg2 = build_aggregates(**args, config=conf)
    days = agg2.query("measure == 'expected_bed_days'").iloc[0]
    assert days["value"] == pytest.approx(6.0 * args["cohort"]["risk"].sum())


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
    assert f"{bad}: bogus: Extra inputs are not permitted" in str(err.value)
    bad.write_text("pyramid:\n  - {name: a, title: A, top_share: 0.5}\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(bad, ReportConfig)
    assert PYRAMID_ORDER in str(err.value)


def test_empty_matured_window_still_reports() -> None:
    args = inputs(400)
    agg = build_aggregates(**(args | {"matured": args["matured"].iloc[:0]}), config=CONFIG)
    perf = agg[agg.section == "performance"]
    assert set(perf["measure"]) == {"warning"}
