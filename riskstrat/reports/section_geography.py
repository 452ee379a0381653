"""HTML sections 1-2: the risk pyramid, risk by PCN and practice (rates per 1,000), funnel."""

from __future__ import annotations

import numpy as np

from riskstrat.reports.charts import bar_chart, dot_chart, scatter_chart
from riskstrat.reports.figures import (
    AREA_KINDS,
    DASH,
    Figures,
    area_name,
    matured_period,
    over,
    section,
    table,
)
from riskstrat.reports.intervals import funnel_limits
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.suppression import TOTAL

FUNNEL_STATUS = {1.0: "above", -1.0: "below", 0.0: "within"}
NO_FUNNEL = (
    "The funnel plot of admissions against predictions appears once predictions made one "
    "horizon ago have matured (their follow-up period has ended); there are none yet."
)
PYRAMID_NOTE = (
    "The bands are fixed by rank: {shares}. Their sizes are therefore set by design; what "
    "varies is the risk it takes to enter each band and the admissions expected in it."
)
RATE_NOTE = (
    "Practices are compared by expected emergency admissions per 1,000 registered people "
    "{over}, age-sex standardised against the whole area (see Methods): a practice above the area "
    "line has more need than the age and sex of its list explain. The crude rate is in the "
    "table. The intervals show chance variation in admissions only: risks are computed from "
    "what each practice records, so a practice that codes fewer long-term conditions looks "
    "lower-risk than it is; the funnel plot below checks predictions against what happened."
)


def pyramid(f: Figures, config: ReportConfig, horizon_days: int) -> dict:
    names = [b.name for b in config.pyramid]
    titles = [b.title for b in config.pyramid]
    chart = bar_chart(
        titles,
        [f.value("pyramid", "expected_admissions", "band", n) for n in names],
        lower=[f.get("pyramid", "expected_admissions", "band", n).lower for n in names],
        upper=[f.get("pyramid", "expected_admissions", "band", n).upper for n in names],
        title=f"Expected emergency admissions {over(horizon_days)} by band",
        desc=f"Expected people with an emergency admission {over(horizon_days)} in each band, with "
        "95% intervals. "
        + "; ".join(
            f"{t}: {f.fmt('pyramid', 'expected_admissions', 'band', n, kind='num')}"
            for t, n in zip(titles, names, strict=True)
        ),
        value_format="{:,.0f}",
    )
    rows = [
        (
            "cell",
            [
                t,
                f.fmt("pyramid", "people", "band", n),
                band_range(f, n),
                f.fmt("pyramid", "expected_admissions", "band", n, kind="num", interval=True),
            ],
        )
        for t, n in zip(titles, names, strict=True)
    ]
    shown = table(
        "Risk pyramid: who is in each band",
        [
            "Band",
            "People",
            f"Risk of an emergency admission {over(horizon_days).replace('over', 'in')}",
            f"Expected admissions {over(horizon_days)} (95% interval)",
        ],
        rows,
    )
    shares = band_shares(config)
    block = {"id": "pyramid-bands", "chart": chart, "caption": "Risk pyramid.", "table": shown}
    return section("pyramid", "Risk pyramid", [block], notes=[PYRAMID_NOTE.format(shares=shares)])


def band_range(f: Figures, name: str) -> str:
    """A band's risk range as published: "0.1445 or more" for the top band and "up to 0.0285"
    for the bottom one (their outer ends, one person's risk each, are not published)."""
    low = f.get("pyramid", "risk_from", "band", name)
    high = f.get("pyramid", "risk_to", "band", name)
    if low is None and high is None:
        return DASH
    if any(row is not None and row.suppressed for row in (low, high)):
        return f.symbol
    if high is None:
        return f"{f.fmt('pyramid', 'risk_from', 'band', name, kind='risk')} or more"
    if low is None:
        return f"up to {f.fmt('pyramid', 'risk_to', 'band', name, kind='risk')}"
    return (
        f"{f.fmt('pyramid', 'risk_from', 'band', name, kind='risk')} to "
        f"{f.fmt('pyramid', 'risk_to', 'band', name, kind='risk')}"
    )


def band_shares(config: ReportConfig) -> str:
    """The bands' own shares of the people, from the config's cumulative top shares: "case
    management = the top 3%, disease management = the next 17% (to the top 20%), supported
    self-care = the remaining 80%" (the old "disease management = top 20%" and "supported
    self-care = top 100%" read as each band's size, beside a table whose counts say otherwise)."""
    parts, above = [], 0.0
    bands = list(config.pyramid)
    for i, band in enumerate(bands):
        own = 100 * (band.top_share - above)
        name = band.title.lower()
        if i == 0:
            parts.append(f"{name} = the top {own:g}%")
        elif i == len(bands) - 1 and band.top_share >= 1:
            parts.append(f"{name} = the remaining {own:g}%")
        else:
            parts.append(f"{name} = the next {own:g}% (to the top {100 * band.top_share:g}%)")
        above = band.top_share
    return ", ".join(parts)


def _practices(f: Figures) -> list[str]:
    sel = f.frame[(f.frame.section == "geography") & (f.frame.measure == "people")]
    return list(sel.loc[sel.dimension == "practice", "group"])


def geography(
    f: Figures,
    config: ReportConfig,
    names: dict[str, str],
    horizon_days: int,
    matured: tuple | None = None,
) -> dict:
    rows_all = f.frame[(f.frame.section == "geography") & (f.frame.measure == "people")]
    order = list(zip(rows_all["group"], rows_all["dimension"], strict=True))
    band_names = [b.name for b in config.pyramid]
    rows = []
    for g, gt in order:
        rows.append(
            (
                AREA_KINDS.get(gt, "cell"),
                [area_name(g, gt, names), f.fmt("geography", "people", gt, g)]
                + [f.fmt("geography", f"people_{b}", gt, g) for b in band_names]
                + [
                    f.fmt("geography", "expected_admissions", gt, g, kind="num", interval=True),
                    f.fmt("geography", "expected_per_1000", gt, g, kind="rate"),
                    f.fmt("geography", "standardised_per_1000", gt, g, kind="rate", interval=True),
                ],
            )
        )
    shown = table(
        f"People, bands and expected emergency admissions {over(horizon_days)} by PCN and practice",
        [
            "Area",
            "People",
            *[b.title for b in config.pyramid],
            f"Expected admissions {over(horizon_days)} (95% interval)",
            f"Per 1,000 {over(horizon_days)} (crude)",
            f"Per 1,000 {over(horizon_days)}, age-sex standardised (95% interval)",
        ],
        rows,
    )
    practices = _practices(f)
    rate = {p: f.value("geography", "standardised_per_1000", "practice", p) for p in practices}
    ordered = sorted(practices, key=lambda p: -rate[p] if np.isfinite(rate[p]) else np.inf)
    area = f.value("geography", "standardised_per_1000", "ics", TOTAL)

    def bound(p: str, end: str) -> float:
        row = f.get("geography", "standardised_per_1000", "practice", p)
        return np.nan if row is None or row.suppressed else float(getattr(row, end))

    chart = dot_chart(
        [names.get(p, p) for p in ordered],
        [rate[p] for p in ordered],
        [bound(p, "lower") for p in ordered],
        [bound(p, "upper") for p in ordered],
        reference=area if np.isfinite(area) else 0.0,
        title=f"Expected admissions per 1,000 {over(horizon_days)}, age-sex standardised",
        desc="Each practice's standardised rate with its 95% interval, highest first; the "
        f"dashed line is the whole area ({format_rate(area)} per 1,000).",
    )
    blocks = [
        {
            "id": "geography-areas",
            "chart": chart,
            "caption": "Standardised rate per 1,000 by practice.",
            "table": shown,
        }
    ]
    blocks.append(funnel(f, config, names, practices, period=matured_period(matured)))
    notes = [RATE_NOTE.format(over=over(horizon_days))]
    return section("geography", "Risk by PCN and practice", blocks, notes=notes)


def format_rate(v: float) -> str:
    return f"{v:,.1f}" if np.isfinite(v) else DASH


def _funnel_row(
    f: Figures, config: ReportConfig, names: dict[str, str], p: str, gt: str = "practice"
) -> list[str]:
    """A practice's row, or (gt "ics") the all-practices row: the sums to check the practices
    against, without limits (the funnel compares practices, not the area with itself)."""
    status = []
    for level in config.funnel_limits:
        v = f.value("performance", f"funnel_{level:g}", gt, p) if gt == "practice" else np.nan
        status.append(DASH if not np.isfinite(v) else FUNNEL_STATUS[v])
    return [
        area_name(p, gt, names),
        f.fmt("performance", "people", gt, p),
        f.fmt("performance", "admitted", gt, p),
        f.fmt("performance", "expected_admissions", gt, p, kind="num"),
        f.fmt("performance", "observed_to_expected", gt, p, kind="ratio", interval=True),
        *status,
    ]


def funnel(
    f: Figures,
    config: ReportConfig,
    names: dict[str, str],
    practices: list[str],
    *,
    period: str = matured_period(None),
) -> dict:
    """Observed / expected per practice against Poisson control limits (a block of section 2);
    one sentence instead when there are no matured predictions."""
    if not f.groups("performance", "practice"):
        return {
            "id": "geography-funnel",
            "heading": "Admissions against predictions",
            "text": NO_FUNNEL,
        }
    pts = []
    for p in practices:
        e = f.value("performance", "expected_admissions", "practice", p)
        r = f.value("performance", "observed_to_expected", "practice", p)
        if np.isfinite(e) and np.isfinite(r):
            pts.append((e, r, p))
    rows = [("cell", _funnel_row(f, config, names, p)) for p in practices]
    # the all-practices row: until stop 29 the table had none, so its counts could not be
    # checked against the total (section 5's overall figures are the same row)
    rows.append((AREA_KINDS["ics"], _funnel_row(f, config, names, TOTAL, gt="ics")))
    top = max([x for x, _, _ in pts] + [1.0]) * 1.05
    grid = np.linspace(max(top / 200, 0.5), top, 80)
    curves = []
    for level in config.funnel_limits:
        lo, hi = funnel_limits(grid, level=level)
        curves += [(f"{level:g} lower", grid, lo / grid), (f"{level:g} upper", grid, hi / grid)]
    chart = scatter_chart(
        pts,
        title="Funnel plot: admitted / expected, last completed period",
        desc="Each practice's ratio of people admitted to the sum of risks predicted one horizon "
        "ago, against the expected number; dashed and solid curves are the "
        + " and ".join(f"{100 * lv:g}%" for lv in config.funnel_limits)
        + " control limits.",
        x_label="Expected admissions",
        y_label="Admitted / expected",
        curves=curves,
        y_reference=1.0,
        y_cap=max([2.0] + [1.5 * y for _, y, _ in pts]),
    )
    shown = table(
        f"Admitted vs expected by practice ({period})",
        [
            "Practice",
            "People",
            "Admitted",
            "Expected",
            "Admitted / expected (95% interval)",
            *[f"{100 * lv:g}% limits" for lv in config.funnel_limits],
        ],
        rows,
    )
    return {
        "id": "geography-funnel",
        "heading": "Admissions against predictions (funnel plot)",
        "chart": chart,
        "caption": "Funnel plot by practice.",
        "table": shown,
    }
