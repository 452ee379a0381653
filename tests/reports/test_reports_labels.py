"""Every figure labelled with its period, population and unit, as an analyst lifting one table
(or the CSV alone) needs it: the horizon on every expected count and rate per 1,000, the dates
of the outreach feedback window and of the matured predictions, the suppression rule as
configured, and a data dictionary that names what every dimension's groups are."""

from __future__ import annotations

import re
from datetime import date

import pytest
from reports_synthetic import AS_OF, PRACTICES, inputs

from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.context import Context, ModelContext
from riskstrat.reports.dictionary import DIMENSIONS, dictionary_markdown
from riskstrat.reports.render import render_html
from riskstrat.reports.settings import load_report_config

CONFIG = load_report_config()
MATURED = (date(2025, 9, 29), date(2025, 9, 29), date(2025, 12, 27))


def context(horizon_days: int = 90) -> Context:
    return Context(as_of=AS_OF, extract_date=date(2025, 12, 28), data_from=date(2023, 1, 2),
                   horizon_days=horizon_days, model=ModelContext(), matured=MATURED)  # fmt: skip


@pytest.fixture(scope="module")
def agg():
    return build_aggregates(**inputs(), config=CONFIG)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_expected_count_and_rate_states_its_horizon(agg) -> None:
    """'Per 1,000 (crude)' read as the usual per-year rate: 27.1 beside ~110 a year."""
    html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG,
                       horizon_days=365, context=context(365))  # fmt: skip
    heads = " ".join(re.findall(r"<thead>(.*?)</thead>", html, flags=re.S))  # column headers
    headers = [_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", heads, flags=re.S)]
    labelled = [h for h in headers if "per 1,000" in h.lower() or h.startswith("Expected adm")]
    assert len(labelled) >= 10
    for header in labelled:
        assert "over 365 days" in header, header
    captions = re.findall(r"<caption>(.*?)</caption>", html, flags=re.S)
    assert any("expected emergency admissions over 365 days by PCN" in c for c in captions)
    assert "Expected activity over the next 365 days" in html
    titles = re.findall(r"<title[^>]*>(.*?)</title>", html, flags=re.S)
    for title in titles:
        if title.startswith("Expected") and "week by week" not in title:
            assert len(title) <= 74, title  # longer titles run off the chart's width
            assert "over 365 days" in title, title
    assert "over 90 days" not in html


def test_feedback_window_has_its_dates(agg) -> None:
    html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG, horizon_days=90)
    # and the bed days' observed stays (riskstrat.reports.loader.bed_days: [as_of - 90, as_of))
    assert (
        "Bed days per admitted person (observed: completed emergency spells admitted "
        "2025-09-30 to 2025-12-28)" in html
    )
    assert "(last weeks)" not in html
    # (as_of - 84 days, as_of]: configs/report.yaml outreach_lookback_days
    assert "feedback returned on lists dated 2025-10-07 to 2025-12-29, the last 12 weeks" in html


def test_matured_predictions_named_by_their_dates(agg) -> None:
    html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG, horizon_days=90,
                       context=context())  # fmt: skip
    period = "predictions made on 2025-09-29, admissions 2025-09-29 to 2025-12-27"
    captions = re.findall(r"<caption>(.*?)</caption>", html, flags=re.S)
    assert f"Admitted vs expected by practice ({period})" in captions
    assert f"Overall, {period}" in captions
    assert sum(period in c for c in captions) >= 2 + 5  # funnel, overall, each slice
    assert "one horizon ago" not in " ".join(captions)


def test_suppression_rule_as_configured_everywhere() -> None:
    """Methods said 'Counts 1-7 ... nearest 5' whatever configs/report.yaml set."""
    rule = CONFIG.suppression.model_copy(update={"max_count": 9, "rounding_base": 10})
    config = CONFIG.model_copy(update={"suppression": rule})
    frame = build_aggregates(**inputs(), config=config)
    html = render_html(frame, as_of=AS_OF, practices=PRACTICES, config=config, horizon_days=90,
                       context=context())  # fmt: skip
    doc = dictionary_markdown(config, horizon_days=90, task_title="the risk")
    for text in (_text(html), doc):
        assert "1-9" in text and "nearest 10" in text
        assert "1-7" not in text and "nearest 5" not in text
    assert "a total can differ from the sum of its rounded parts" in _text(html)


def test_dictionary_states_population_horizon_interval_and_every_dimension(agg) -> None:
    doc = dictionary_markdown(CONFIG, horizon_days=90, task_title="the risk of an admission")
    assert "over the 90 days after `as_of`, not per year" in doc
    assert "`lower` and `upper` are 95% intervals" in doc
    assert "scored at `as_of` for the risk of an admission" in doc
    assert "configs/report.yaml`" not in doc.split("## Dimensions")[0]  # no internal config
    documented = set(re.findall(r"^\| (\w+) \|", doc.split("## Dimensions")[1].split("##")[0],
                                flags=re.M))  # fmt: skip
    assert set(agg["dimension"]) <= documented == set(DIMENSIONS) | {"dimension"}
    assert "'85+'" in doc and "'4+'" in doc and "'Unknown'" in doc


def test_practice_comparison_and_model_intervals_state_their_limits(agg) -> None:
    """The standardised rates' intervals are chance only (not coding differences), and the
    About block's AUROC interval is the card's bootstrap, not the Methods' Hanley-McNeil."""
    text = _text(render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG,
                             horizon_days=90, context=context()))  # fmt: skip
    assert "a practice that codes fewer long-term conditions looks lower-risk" in text
    assert "comes from the model card, with its bootstrap (percentile) interval" in text


def test_performance_slice_tables_show_the_overall_auroc_in_their_all_row(agg) -> None:
    """The All row of 'Performance by ...' showed '–' for AUROC beside the groups' values."""
    html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG, horizon_days=90,
                       context=context())  # fmt: skip
    auroc = agg.query("section == 'performance' and measure == 'auroc' and dimension == 'ics'")
    row = auroc.iloc[0]
    shown = f"{row.value:.2f} ({row.lower:.2f} to {row.upper:.2f})"
    tables = re.findall(r"<caption>Performance by .*?</table>", html, flags=re.S)
    assert len(tables) == 5
    for t in tables:
        (last,) = re.findall(r'<tr class="total">(.*?)</tr>', t, flags=re.S)
        assert shown in last, last
