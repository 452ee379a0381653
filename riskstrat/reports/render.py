"""The page skeleton: the tidy aggregates -> one self-contained HTML page (sections elsewhere).

No figure is computed here or in the section modules beyond chart geometry.
"""

from __future__ import annotations

from datetime import date

import jinja2
import pandas as pd

from riskstrat.reports.figures import Figures
from riskstrat.reports.section_equity import activity, equity
from riskstrat.reports.section_geography import geography, pyramid
from riskstrat.reports.section_outreach import outreach, trend
from riskstrat.reports.section_performance import performance
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.template import TEMPLATE

TITLE = "Cohort risk report for commissioners"


def area_names(practices: pd.DataFrame) -> dict[str, str]:
    """Display names of practices and PCNs by code."""
    names = dict(zip(practices["practice_code"], practices["practice_name"], strict=True))
    return names | dict(zip(practices["pcn_code"], practices["pcn_name"], strict=True))


def suppression_note(config: ReportConfig) -> str:
    rule = config.suppression
    return (
        f"counts {rule.min_count}-{rule.max_count} shown as {rule.symbol}, others rounded to the "
        f"nearest {rule.rounding_base}; secondary suppression protects totals"
    )


def render_html(
    aggregates: pd.DataFrame,
    *,
    as_of: date,
    practices: pd.DataFrame,
    config: ReportConfig,
    horizon_days: int,
) -> str:
    """The commissioner report as one self-contained HTML page."""
    f = Figures(aggregates, symbol=config.suppression.symbol)
    names = area_names(practices)
    sections = [
        pyramid(f, config),
        geography(f, config, names),
        equity(f),
        activity(f),
        performance(f),
        outreach(f, names),
        trend(f),
    ]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(
        title=TITLE,
        as_of=as_of.isoformat(),
        task=config.task,
        horizon=horizon_days,
        suppression_note=suppression_note(config),
        sections=sections,
    )
