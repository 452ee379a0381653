"""Chart axes a commissioner can read: round tick values, written exactly (pure)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from riskstrat.reports.charts import axis_ticks, dot_chart, tick_labels


@pytest.mark.parametrize(
    ("low", "high", "labels"),
    [
        (0, 39.3, ["0", "10", "20", "30", "40"]),
        (0, 0.23, ["0.0", "0.1", "0.2", "0.3"]),
        (0, 1234, ["0", "500", "1,000", "1,500"]),
        (11.2, 13.9, ["11", "12", "13", "14"]),
        (0, 0.0, ["0.00", "0.25", "0.50", "0.75", "1.00"]),
    ],
)
def test_axis_ticks_are_round_and_span_the_data(low: float, high: float, labels: list[str]):
    ticks = axis_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert np.allclose(np.diff(ticks), ticks[1] - ticks[0])  # evenly spaced
    assert tick_labels(ticks) == labels


def test_a_rate_chart_reads_off_round_gridlines():
    """The practices' standardised rates (35.7 the highest): gridlines 0-40 by 10, not 0-41."""
    svg = dot_chart(["A", "B"], [35.7, 20.0], [32.0, 18.0], [39.3, 22.0], reference=26.6,
                    title="Rates", desc="Rates per 1,000")  # fmt: skip
    ticks = re.findall(r'fill="#768692">([\d,.]+)</text>', svg)
    assert ticks == ["0", "10", "20", "30", "40"]
