"""The page skeleton: the tidy aggregates -> one self-contained HTML page (sections elsewhere).

No figure is computed here or in the section modules beyond chart geometry and the findings'
rules (riskstrat.reports.findings), which read the published figures only.
"""

from __future__ import annotations

from datetime import date

import jinja2
import pandas as pd

from riskstrat.reports.context import Context
from riskstrat.reports.figures import Figures
from riskstrat.reports.findings import key_findings, overall_bias
from riskstrat.reports.section_context import context_section, findings_section, methods_section
from riskstrat.reports.section_equity import activity, equity
from riskstrat.reports.section_geography import geography, pyramid
from riskstrat.reports.section_outreach import outreach, trend
from riskstrat.reports.section_performance import performance
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.template import TEMPLATE

TITLE = "Cohort risk report for commissioners"
#: The report's task in plain words (never the internal task name).
TASK_TITLES = {
    "crisis": "the risk of an emergency hospital admission",
    "readmission_30d": "the risk of an emergency readmission within 30 days of discharge",
}


def area_names(practices: pd.DataFrame) -> dict[str, str]:
    """Display names of practices and PCNs by code."""
    names = dict(zip(practices["practice_code"], practices["practice_name"], strict=True))
    return names | dict(zip(practices["pcn_code"], practices["pcn_name"], strict=True))


def suppression_note(config: ReportConfig) -> str:
    rule = config.suppression
    return (
        f"counts {rule.min_count}-{rule.max_count} shown as {rule.symbol}, others rounded to the "
        f"nearest {rule.rounding_base}; secondary suppression protects totals; each count is "
        "rounded on its own, so a total can differ from the sum of its rounded parts"
    )


def render_html(
    aggregates: pd.DataFrame,
    *,
    as_of: date,
    practices: pd.DataFrame,
    config: ReportConfig,
    horizon_days: int,
    context: Context | None = None,
) -> str:
    """The commissioner report as one self-contained HTML page."""
    f = Figures(aggregates, symbol=config.suppression.symbol)
    names = area_names(practices)
    task_title = TASK_TITLES.get(config.task, "risk")
    sections = [
        pyramid(f, config, horizon_days),
        geography(f, config, names, horizon_days, context.matured if context else None),
        equity(f, config, horizon_days),
        activity(f, horizon_days, as_of, bias=overall_bias(f, context)),
        performance(f, context),
        outreach(f, names, as_of=as_of, config=config),
        trend(f, config, horizon_days, left_out=context.trend_left_out if context else ()),
    ]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(
        title=TITLE,
        running=f"{TITLE} - as of {as_of.isoformat()}",
        as_of=as_of.isoformat(),
        task_title=task_title,
        horizon=horizon_days,
        findings=findings_section(key_findings(f, config=config, names=names, context=context)),
        context=context_section(
            context, task_title=task_title, suppression=suppression_note(config)
        ),
        sections=sections,
        methods=methods_section(config, horizon_days=horizon_days),
    )
