"""The page: charts that suit the data, trend only with history, funnel only when matured,
plain-English warnings, and the tidy CSV with its generated dictionary (appendable by week)."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from reports_synthetic import AS_OF, PRACTICES, WARNINGS, history, inputs

from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.commissioner import warnings_frame
from riskstrat.reports.dictionary import (
    COLUMNS,
    KEY,
    MEASURES,
    dictionary_markdown,
    kind_of,
    to_csv_frame,
)
from riskstrat.reports.figures import DASH, format_value
from riskstrat.reports.plain import STILL_VALID, plain_warning
from riskstrat.reports.render import render_html
from riskstrat.reports.section_geography import NO_FUNNEL
from riskstrat.reports.section_outreach import NO_FEEDBACK
from riskstrat.reports.settings import load_report_config

CONFIG = load_report_config()


def page(args: dict) -> str:
    agg = build_aggregates(**args, config=CONFIG)
    return render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG, horizon_days=90)


@pytest.fixture(scope="module")
def built() -> tuple[dict, pd.DataFrame, str]:
    args = inputs()
    agg = build_aggregates(**args, config=CONFIG)
    html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=CONFIG, horizon_days=90)
    return args, agg, html


def _svgs(html: str, title: str) -> list[str]:
    return [s for s in re.findall(r"<svg.*?</svg>", html, flags=re.S) if title in s]


def test_ratio_charts_share_one_log_scale_centred_on_1(built) -> None:
    _, _, html = built
    charts = _svgs(html, "Listing relative to need by")
    assert len(charts) >= 5
    ticks = {tuple(re.findall(r'fill="#768692">([\d.]+)</text>', s)) for s in charts}
    assert len(ticks) == 1  # the same axis on every chart of the section
    (axis,) = ticks
    values = [float(t) for t in axis]
    assert 1.0 in values and values == sorted(values)
    assert values[0] == pytest.approx(1 / values[-1], rel=0.02)  # symmetric on a log scale
    # the 1 line sits mid-axis: log scale centred on 1
    one = [re.search(r'<line x1="([\d.]+)"[^>]*stroke="#1d2b36"/>', s) for s in charts]
    assert all(m and abs(float(m.group(1)) - (190 + (640 - 190 - 70) / 2)) < 0.2 for m in one)


def test_small_unknown_group_does_not_stretch_the_axis() -> None:
    args = inputs()
    cohort = args["cohort"]
    unknown = cohort.index[:30]
    cohort = cohort.assign(sex=cohort["sex"].replace("U", "F"))
    cohort.loc[unknown, "sex"] = "U"
    cohort.loc[unknown, "listed"] = False
    cohort.loc[unknown[:9], "listed"] = True  # 9 of 30 listed: a huge, uncertain ratio
    html = page(args | {"cohort": cohort})
    (sex,) = _svgs(html, "Listing relative to need by sex")
    ticks = [float(t) for t in re.findall(r'fill="#768692">([\d.]+)</text>', sex)]
    assert max(ticks) <= CONFIG.charts.ratio_axis_max
    assert '<path d="M' in sex  # the clipped interval ends in an arrow at the edge


def test_practices_compared_by_standardised_rate_per_1000(built) -> None:
    _, agg, html = built
    assert _svgs(html, "Expected admissions per 1,000 over 90 days, age-sex standardised")
    assert not _svgs(html, "Expected emergency admissions by practice")
    rates = agg.query("measure == 'standardised_per_1000' and dimension == 'practice'")
    assert len(rates) == len(PRACTICES)


def test_indirect_standardisation_removes_age_and_sex_differences() -> None:
    """Two practices whose people differ only in age mix have the same standardised rate."""
    args = inputs()
    cohort = args["cohort"].copy()
    old = cohort["practice_code"] == "P001"
    cohort.loc[old, "age"] = 85.0  # older list, so higher risk from age alone
    cohort["risk"] = np.where(cohort["age"] >= 85, 0.3, 0.05)
    agg = build_aggregates(**(args | {"cohort": cohort}), config=CONFIG)
    rows = agg.query("dimension == 'practice'").set_index(["group", "measure"])["value"]
    crude = rows[("P001", "expected_per_1000")], rows[("P002", "expected_per_1000")]
    std = rows[("P001", "standardised_per_1000")], rows[("P002", "standardised_per_1000")]
    assert crude[0] > 1.5 * crude[1]
    assert std[0] == pytest.approx(std[1], rel=0.03)


def test_funnel_only_with_matured_predictions(built) -> None:
    args, _, html = built
    assert _svgs(html, "Funnel plot") and NO_FUNNEL not in html
    empty = page(args | {"matured": args["matured"].iloc[:0]})
    assert not _svgs(empty, "Funnel plot") and NO_FUNNEL in empty


def test_funnel_table_has_the_all_practices_row(built) -> None:
    """The analyst checks the practices' people, admitted and expected against a total row
    (the table had none), the same figures as section 5's overall; no limits on it."""
    _, agg, html = built
    start = html.index("Admitted vs expected by practice")
    body = html[start : html.index("</table>", start)]
    rows = re.findall(
        r"<tr class=\"(\w+)\">\s*<th scope=\"row\">([^<]+)</th>(.*?)</tr>", body, re.S
    )
    assert [name for _, name, _ in rows][-1] == "All practices"
    kind, _, cells = rows[-1]
    assert kind == "total"
    shown = re.findall(r"<td>([^<]*)</td>", cells)
    perf = agg[(agg.section == "performance") & (agg.dimension == "ics")]
    value = perf.set_index("measure")["value"]
    assert shown[0] == f"{value['people']:,.0f}" and shown[1] == f"{value['admitted']:,.0f}"
    assert shown[2] == f"{value['expected_admissions']:,.1f}"
    assert shown[-2:] == [DASH, DASH]
    practices = [c for k, _, c in rows if k == "cell"]
    people = [float(re.findall(r"<td>([^<]*)</td>", c)[0].replace(",", "")) for c in practices]
    # totals are rounded on their own: the practices' rounded counts add up to within 2.5 each
    assert abs(sum(people) - value["people"]) <= 2.5 * len(people)


@pytest.mark.parametrize(("weeks", "line"), [(1, False), (2, True), (6, True)])
def test_trend_line_needs_three_runs(weeks: int, line: bool) -> None:
    """History of earlier runs + this week: the line appears from 3 points on."""
    args = inputs(800) | {"history": history(weeks)}
    html = page(args)
    charts = _svgs(html, "Expected emergency admissions, week by week")
    assert bool(charts) == line
    if line:
        (chart,) = charts
        points = re.findall(r'<polyline points="([^"]+)"', chart)[0].split()
        assert len(points) == weeks + 1
        xs = [float(p.split(",")[0]) for p in points]
        assert xs == sorted(xs)  # weeks on the x axis, oldest first
    else:
        assert "A trend chart appears once 3 weekly runs are kept" in html


def test_pyramid_shows_thresholds_and_expected_admissions_not_shares(built) -> None:
    args, agg, html = built
    pyr = agg[agg.section == "pyramid"]
    assert set(pyr["measure"]) == {"people", "expected_admissions", "risk_from", "risk_to"}
    # no band's outer end is one person's risk: not the top band's highest, not the bottom
    # band's lowest (the demo's top band read "0.1445 to 0.7915", its highest risk)
    risk = args["cohort"]["risk"].round(4)
    assert not set(pyr.loc[pyr.measure.str.startswith("risk_"), "value"]) & {
        risk.max(),
        risk.min(),
    }
    top, bottom = CONFIG.pyramid[0].name, CONFIG.pyramid[-1].name
    ends = set(zip(pyr["group"], pyr["measure"], strict=True))
    assert (top, "risk_to") not in ends and (bottom, "risk_from") not in ends
    top_from = pyr.query("group == @top and measure == 'risk_from'")["value"].iloc[0]
    bottom_to = pyr.query("group == @bottom and measure == 'risk_to'")["value"].iloc[0]
    assert f"<td>{format_value(top_from, 'risk')} or more</td>" in html
    assert f"<td>up to {format_value(bottom_to, 'risk')}</td>" in html
    assert "Risk of an emergency admission" in html and "fixed by rank" in html
    # each band's own share (3 + 17 + 80 = 100), not the cumulative "top 20%" / "top 100%"
    assert (
        "case management = the top 3%, disease management = the next 17% (to the top 20%), "
        "supported self-care = the remaining 80%" in html
    )
    assert "top 100%" not in html


def test_warnings_translated_for_commissioners_and_kept_technical_in_csv() -> None:
    plain = plain_warning(WARNINGS[0])
    assert "PSI" not in plain and "days_since_ae" not in plain and STILL_VALID in plain
    assert "still valid" not in plain  # drift is not evidence that the figures hold
    assert "differs from the one the model was trained on" in plain
    assert "A&E" in plain
    frame = warnings_frame(WARNINGS, as_of=AS_OF)
    assert list(frame.columns) == ["as_of", "source", "technical", "plain"]
    assert frame.at[0, "technical"] == WARNINGS[0] and frame.at[0, "plain"] == plain
    # what each warning is about (every row said "monitoring" before)
    mixed = warnings_frame([*WARNINGS, "ingest: optional table 'x' absent", "odd"], as_of=AS_OF)
    assert mixed["source"].tolist() == ["crisis", "ingest", "monitoring"]


def _csv(agg: pd.DataFrame) -> str:
    return to_csv_frame(agg).to_csv(index=False)


def test_csv_counts_are_whole_numbers_and_every_measure_is_defined(built) -> None:
    _, agg, _ = built
    text = _csv(agg)
    back = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    assert list(back.columns) == list(COLUMNS)
    counts = back[back["measure"].map(kind_of) == "count"]
    shown = counts[counts["value"] != ""]["value"]
    assert shown.str.fullmatch(r"\d+").all()  # 1055, never 1055.0
    assert set(back["suppressed"]) <= {"true", "false"}
    doc = dictionary_markdown(CONFIG, horizon_days=90, task_title="the risk")
    for measure in agg["measure"].unique():
        kind_of(measure)  # raises for an undefined measure
        assert measure in doc or any(measure.startswith(p.split("<")[0]) for p in
                                     ("people_<name>", "feedback_<name>"))  # fmt: skip
    for column in COLUMNS:
        assert f"| {column} |" in doc
    assert set(MEASURES) <= set(re.findall(r"^\| ([\w.]+) \|", doc, flags=re.M))


def test_bed_days_per_person_is_in_days_not_a_ratio() -> None:
    """An analyst reads the unit column: 7.9 bed days is not 'ratio (1 = as expected)'."""
    doc = dictionary_markdown(CONFIG, horizon_days=90, task_title="the risk")
    row = re.search(r"^\| bed_days_per_admitted_person \|.*$", doc, flags=re.M)
    assert row and "| bed days per admitted person |" in row.group(0)
    assert "1 = as expected" not in row.group(0)


def test_two_weeks_append_to_one_long_table() -> None:
    first = inputs(1200)
    second = first | {"as_of": AS_OF + timedelta(days=7)}
    a = _csv(build_aggregates(**first, config=CONFIG))
    b = _csv(build_aggregates(**second, config=CONFIG))
    stacked = a + b.split("\n", 1)[1]  # append the second week without its header
    table = pd.read_csv(StringIO(stacked), dtype={"group": str, "as_of": str},
                        keep_default_na=False, na_values=[""])  # fmt: skip
    assert set(table["as_of"]) == {AS_OF.isoformat(), (AS_OF + timedelta(days=7)).isoformat()}
    assert not table.duplicated(list(KEY)).any()
    assert table["as_of"].notna().all() and len(table) == 2 * len(a.splitlines()[1:])
    people = table.query("section == 'activity' and measure == 'expected_admissions'")
    assert len(people) == 2


def test_activity_shows_bed_days_as_whole_days(built) -> None:
    """aggregates.csv holds bed days as whole days; the page said '7,516.0 (6,680.0 to 8,352.0)'."""
    _, _, html = built
    row = re.search(r"Expected emergency bed days</th>\s*<td[^>]*>([^<]*)<", html)
    assert row, "the activity table has no bed-days row"
    assert re.fullmatch(r"[\d,]+ \([\d,]+ to [\d,]+\)", row.group(1)), row.group(1)


def test_a_register_named_by_its_code_is_not_repeated(built) -> None:
    """'COPD (COPD)' read as a typo; other registers keep their code: 'Heart failure (HF)'."""
    _, _, html = built
    assert "COPD (COPD)" not in html
    assert re.search(r">COPD<", html) and "Heart failure (HF)" in html


def test_outreach_without_any_feedback_says_the_zeros_are_no_returns() -> None:
    """No feedback returned (the demo's first weeks, or no feedback table): the outcome
    columns' zeros are no returns, not no contacts; with feedback the note is absent."""
    config = load_report_config()
    args = inputs()
    note = NO_FEEDBACK.split("{window}")[1]
    pages = {}
    for name, outcomes in (("with", args["outcomes"]), ("without", args["outcomes"].iloc[:0])):
        agg = build_aggregates(**(args | {"outcomes": outcomes}), config=config)
        html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=config, horizon_days=90)
        pages[name] = html[html.index('id="outreach"') : html.index('id="trend"')]
    assert note in pages["without"]
    assert "No feedback was returned on lists dated" in pages["without"]
    assert note not in pages["with"]


def test_expected_activity_interval_is_chance_only() -> None:
    """The 95% interval on expected admissions is chance variation given the risks; a board
    read it as the estimate's uncertainty (the demo's model was off by 12%, the interval +-6%)."""
    config = load_report_config()
    agg = build_aggregates(**inputs(), config=config)
    html = render_html(agg, as_of=AS_OF, practices=PRACTICES, config=config, horizon_days=90)
    activity = html[html.index('id="activity"') : html.index('id="performance"')]
    assert "if the risks are right" in activity
    assert "leaves out any error in the model itself" in activity


def test_warnings_csv_names_files_not_server_paths(tmp_path) -> None:
    """A commissioner's file does not map the server: the demo's warnings.csv named
    /tmp/.../data/demo/population/extract in its technical column (stop 28). The ingest
    notices' shapes, with a real absolute folder."""
    extract = tmp_path / "data" / "demo" / "population" / "extract"
    warnings = [
        f"ingest: optional table 'outreach_outcomes' absent from {extract}",
        f"ingest: {extract / 'prescriptions.parquet'}: optional column 'drug_code' absent (read "
        "as empty)",
        WARNINGS[0],
    ]
    frame = warnings_frame(warnings, as_of=AS_OF)
    assert frame["technical"].tolist() == [
        "ingest: optional table 'outreach_outcomes' absent from extract",
        "ingest: prescriptions.parquet: optional column 'drug_code' absent (read as empty)",
        WARNINGS[0],
    ]
    assert not frame.apply(lambda col: col.str.contains(str(tmp_path), regex=False)).any().any()
