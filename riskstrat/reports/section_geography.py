"""HTML sections 1-2: the risk pyramid, risk by PCN and practice, and the funnel plot."""

from __future__ import annotations

import numpy as np

from riskstrat.reports.charts import bar_chart, scatter_chart
from riskstrat.reports.figures import AREA_KINDS, DASH, Figures, area_name, section, table
from riskstrat.reports.intervals import funnel_limits
from riskstrat.reports.settings import ReportConfig

FUNNEL_STATUS = {1.0: "above", -1.0: "below", 0.0: "within"}


def pyramid(f: Figures, config: ReportConfig) -> dict:
    names = [b.name for b in config.pyramid]
    titles = [b.title for b in config.pyramid]
    chart = bar_chart(
        titles,
        [f.value("pyramid", "people", "band", n) for n in names],
        title="Risk pyramid: people per band",
        desc="People in each band by rank of risk, highest risk first. "
        + "; ".join(
            f"{t}: {f.fmt('pyramid', 'people', 'band', n)} people"
            for t, n in zip(titles, names, strict=True)
        ),
        centred=True,
    )
    rows = [
        (
            "cell",
            [
                t,
                f.fmt("pyramid", "people", "band", n),
                f.fmt("pyramid", "share", "band", n, kind="pct"),
                f.fmt("pyramid", "risk_from", "band", n, kind="risk"),
                f.fmt("pyramid", "mean_risk", "band", n, kind="risk"),
            ],
        )
        for t, n in zip(titles, names, strict=True)
    ]
    shown = table("Risk pyramid", ["Band", "People", "Share", "Risk from", "Mean risk"], rows)
    note = (
        "Bands by rank of the calibrated risk of an emergency admission over the horizon: "
        + ", ".join(f"{b.title} = top {100 * b.top_share:g}%" for b in config.pyramid)
        + "."
    )
    block = {"chart": chart, "caption": "Risk pyramid.", "table": shown}
    return section("pyramid", "Risk pyramid", [block], notes=[note])


def geography(f: Figures, config: ReportConfig, names: dict[str, str]) -> dict:
    rows_all = f.frame[(f.frame.section == "geography") & (f.frame.measure == "people")]
    order = list(zip(rows_all["group"], rows_all["group_type"], strict=True))
    band_names = [b.name for b in config.pyramid]
    rows = []
    for g, gt in order:
        rows.append(
            (
                AREA_KINDS.get(gt, "cell"),
                [area_name(g, gt, names), f.fmt("geography", "people", gt, g)]
                + [f.fmt("geography", f"people_{b}", gt, g) for b in band_names]
                + [
                    f.fmt("geography", "mean_risk", gt, g, kind="risk"),
                    f.fmt("geography", "expected_admissions", gt, g, kind="num", interval=True),
                ],
            )
        )
    shown = table(
        "People, bands and expected emergency admissions by PCN and practice",
        [
            "Area",
            "People",
            *[b.title for b in config.pyramid],
            "Mean risk",
            "Expected admissions (95% interval)",
        ],
        rows,
    )
    practices = [g for g, gt in order if gt == "practice"]
    chart = bar_chart(
        [names.get(p, p) for p in practices],
        [f.value("geography", "expected_admissions", "practice", p) for p in practices],
        title="Expected emergency admissions by practice",
        desc="Sum of calibrated risks per practice over the horizon.",
        value_format="{:,.1f}",
    )
    blocks = [{"chart": chart, "caption": "Expected admissions by practice.", "table": shown}]
    blocks.append(funnel(f, config, names, practices))
    return section("geography", "Risk by PCN and practice", blocks)


def _funnel_row(f: Figures, config: ReportConfig, names: dict[str, str], p: str) -> list[str]:
    status = []
    for level in config.funnel_limits:
        v = f.value("performance", f"funnel_{level:g}", "practice", p)
        status.append(DASH if not np.isfinite(v) else FUNNEL_STATUS[v])
    return [
        area_name(p, "practice", names),
        f.fmt("performance", "people", "practice", p),
        f.fmt("performance", "admitted", "practice", p),
        f.fmt("performance", "expected_admissions", "practice", p, kind="num"),
        f.fmt("performance", "observed_to_expected", "practice", p, kind="ratio", interval=True),
        *status,
    ]


def funnel(f: Figures, config: ReportConfig, names: dict[str, str], practices: list[str]) -> dict:
    """Observed / expected per practice against Poisson control limits (a block of section 2)."""
    pts = []
    for p in practices:
        e = f.value("performance", "expected_admissions", "practice", p)
        r = f.value("performance", "observed_to_expected", "practice", p)
        if np.isfinite(e) and np.isfinite(r):
            pts.append((e, r, p))
    rows = [("cell", _funnel_row(f, config, names, p)) for p in practices]
    top = max([x for x, _, _ in pts] + [1.0]) * 1.05
    grid = np.linspace(max(top / 200, 0.5), top, 80)
    curves = []
    for level in config.funnel_limits:
        lo, hi = funnel_limits(grid, level=level)
        curves += [(f"{level:g} lower", grid, lo / grid), (f"{level:g} upper", grid, hi / grid)]
    chart = scatter_chart(
        pts,
        title="Funnel plot: observed / expected emergency admissions, last matured period",
        desc="Each practice's ratio of people admitted to the sum of risks predicted one horizon "
        "ago, against the expected number; dashed and solid curves are the "
        + " and ".join(f"{100 * lv:g}%" for lv in config.funnel_limits)
        + " control limits.",
        x_label="Expected admissions",
        y_label="Observed / expected",
        curves=curves,
        y_reference=1.0,
        y_cap=max([2.0] + [1.5 * y for _, y, _ in pts]),
    )
    shown = table(
        "Observed vs expected by practice (matured predictions)",
        [
            "Practice",
            "People",
            "Admitted",
            "Expected",
            "O/E (95% interval)",
            *[f"{100 * lv:g}% limits" for lv in config.funnel_limits],
        ],
        rows,
    )
    return {
        "heading": "Funnel plot of the last matured period",
        "chart": chart,
        "caption": "Funnel plot by practice.",
        "table": shown,
    }
