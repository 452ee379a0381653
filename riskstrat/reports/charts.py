"""Hand-built inline SVG charts: no scripts, no fonts, no network; each has <title> and <desc>.

Every chart is drawn beside a data table holding the same numbers (the accessible version).
Linear axes end on round values picked by matplotlib's tick locator (0, 10, 20, 30, 40; not
0, 10, 20, 31, 41), so a reader can read a point off the grid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape

import numpy as np
from matplotlib.ticker import MaxNLocator

WIDTH, BAR_H, PAD_L, PAD_R, PAD_T = 640, 22, 190, 60, 34
INK, ACCENT, MUTED, GRID = "#1d2b36", "#005eb8", "#768692", "#d8dde0"


def _frame(height: int, title: str, desc: str, body: list[str]) -> str:
    n = hashlib.sha1(f"{title}|{desc}".encode()).hexdigest()[:10]  # stable ids: idempotent
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" aria-labelledby="t{n} d{n}" font-family="Arial, Helvetica, sans-serif" '
        f'font-size="12"><title id="t{n}">{escape(title)}</title><desc id="d{n}">'
        f"{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def axis_ticks(low: float, high: float, *, bins: int = 4) -> np.ndarray:
    """Round tick values from a tick at or below `low` to one at or above `high` (steps of 1,
    2, 2.5 or 5 times a power of ten); the axis spans the first to the last."""
    if not high > low:
        high = low + 1.0
    ticks = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    first = ticks[ticks <= low].max(initial=ticks[0])
    last = ticks[ticks >= high].min(initial=ticks[-1])
    return ticks[(ticks >= first) & (ticks <= last)]


def tick_labels(ticks: np.ndarray) -> list[str]:
    """Tick values with the fewest decimals that write every one exactly ("0.25", "1,500")."""
    decimals = next((d for d in range(5) if np.allclose(ticks * 10**d, np.round(ticks * 10**d))), 4)
    return [f"{t:,.{decimals}f}" for t in ticks]


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    desc: str,
    lower: Sequence[float] | None = None,
    upper: Sequence[float] | None = None,
    reference: float | None = None,
    value_format: str = "{:,.0f}",
    centred: bool = False,
) -> str:
    """Horizontal bars (NaN = suppressed, drawn as a gap marked *), optional whiskers/reference."""
    vals = np.asarray(values, dtype=float)
    ends = [v for v in (*vals, *(upper or []), reference or 0) if np.isfinite(v)]
    top = max(ends) if ends else 1.0
    scale = (WIDTH - PAD_L - PAD_R) / (top or 1.0)
    height = PAD_T + BAR_H * len(labels) + 24
    body = [_text(PAD_L, 18, title, fill=INK)]
    mid = PAD_L + (WIDTH - PAD_L - PAD_R) / 2
    for i, (label, v) in enumerate(zip(labels, vals, strict=True)):
        y = PAD_T + i * BAR_H
        body.append(_text(PAD_L - 8, y + 15, str(label), anchor="end"))
        if not np.isfinite(v):
            body.append(_text(PAD_L + 4, y + 15, "* suppressed", fill=MUTED))
            continue
        w = v * scale
        x = mid - w / 2 if centred else PAD_L
        body.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{BAR_H - 6}" '
            f'fill="{ACCENT}"/>'
        )
        if lower is not None and upper is not None and np.isfinite(upper[i]):
            lo, hi = PAD_L + lower[i] * scale, PAD_L + upper[i] * scale
            body.append(
                f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + 11}" y2="{y + 11}" '
                f'stroke="{INK}" stroke-width="1.5"/>'
            )
        label_x = (x + w + 4) if not centred else (mid + w / 2 + 4)
        if upper is not None and np.isfinite(upper[i]):
            label_x = max(label_x, PAD_L + upper[i] * scale + 4)
        body.append(_text(label_x, y + 15, value_format.format(v)))
    if reference is not None:
        x = PAD_L + reference * scale
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T - 4}" y2="{height - 20}" '
            f'stroke="{INK}" stroke-dasharray="4 3"/>'
        )
        body.append(_text(x, height - 6, f"{reference:g}", anchor="middle", fill=MUTED))
    return _frame(height, title, desc, body)


def scatter_chart(
    points: Sequence[tuple[float, float, str]],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]] = (),
    diagonal: bool = False,
    y_reference: float | None = None,
    y_cap: float | None = None,
) -> str:
    """Points (x, y, label) with optional curves (name, xs, ys), a y=x line or a y reference.

    y_cap: the top of the y axis is at most this (curves are clipped), so funnel limits that
    explode at small expected counts do not flatten the points.
    """
    height, left, right, top, bottom = 360, 60, 30, 34, 46
    xs = [p[0] for p in points] + [x for _, cx, _ in curves for x in cx]
    ys = [p[1] for p in points] + [y for _, _, cy in curves for y in cy]
    x_max = max([x for x in xs if np.isfinite(x)] + [1e-9]) * 1.05
    y_all = [y for y in ys if np.isfinite(y)] + ([y_reference] if y_reference else [])
    y_min = 0.0 if diagonal else min([*y_all, 0.0])
    y_max = (max([*y_all, x_max]) if diagonal else max([*y_all, 1e-09])) * 1.05
    if diagonal:
        x_max = y_max = max(x_max, y_max)
    if y_cap is not None:
        y_max = min(y_max, y_cap)
    x_ticks, y_ticks = axis_ticks(0.0, x_max), axis_ticks(y_min, y_max)
    x_max, (y_min, y_max) = float(x_ticks[-1]), (float(y_ticks[0]), float(y_ticks[-1]))
    if diagonal:
        x_ticks = y_ticks = axis_ticks(0.0, max(x_max, y_max))
        x_max = y_max = float(x_ticks[-1])

    def sx(x: float) -> float:
        return left + (x / x_max) * (WIDTH - left - right)

    def sy(y: float) -> float:
        return height - bottom - (y - y_min) / (y_max - y_min or 1) * (height - top - bottom)

    body = [_text(left, 18, title)]
    body.append(
        f'<rect x="{left}" y="{top}" width="{WIDTH - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="{GRID}"/>'
    )
    for xv, text in zip(x_ticks, tick_labels(x_ticks), strict=True):
        body.append(_text(sx(xv), height - bottom + 16, text, anchor="middle"))
    for yv, text in zip(y_ticks, tick_labels(y_ticks), strict=True):
        body.append(_text(left - 6, sy(yv) + 4, text, anchor="end"))
    body.append(_text((left + WIDTH - right) / 2, height - 8, x_label, anchor="middle"))
    body.append(
        f'<text transform="translate(14 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="{INK}">{escape(y_label)}</text>'
    )
    if diagonal:
        body.append(
            f'<line x1="{sx(0):.1f}" y1="{sy(0):.1f}" x2="{sx(x_max):.1f}" y2="{sy(y_max):.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="4 3"/>'
        )
    if y_reference is not None:
        body.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{sy(y_reference):.1f}" '
            f'y2="{sy(y_reference):.1f}" stroke="{MUTED}" stroke-dasharray="4 3"/>'
        )
    for k, (_, cx, cy) in enumerate(curves):
        path = " ".join(
            f"{sx(x):.1f},{sy(y):.1f}"
            for x, y in zip(cx, cy, strict=True)
            if np.isfinite(y) and y_min <= y <= y_max
        )
        dash = "" if k % 2 else ' stroke-dasharray="6 3"'
        body.append(f'<polyline points="{path}" fill="none" stroke="{MUTED}"{dash}/>')
    for x, y, label in points:
        if np.isfinite(x) and np.isfinite(y):
            body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4.5" fill="{ACCENT}"/>')
            body.append(_text(sx(x) + 7, sy(y) - 6, label))
    return _frame(height, title, desc, body)


def ratio_axis(lows: Sequence[float], highs: Sequence[float], *, cap: float) -> float:
    """Half-width M of a log axis 1/M..M centred on 1 covering the given intervals (<= cap)."""
    ends = [
        max(h, 1 / lo)
        for lo, h in zip(lows, highs, strict=True)
        if np.isfinite(h) and np.isfinite(lo) and lo > 0
    ]
    half = max([1.5, *ends])
    steps = [1.5, 2.0, 3.0, 4.0, 5.0, 8.0, 10.0]
    return min(cap, next((s for s in steps if s >= half), half))


def ratio_chart(
    labels: Sequence[str],
    values: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    half: float,
    title: str,
    desc: str,
) -> str:
    """Ratios as points with interval bars on a log scale from 1/half to half, centred on 1.

    A value or interval end beyond the axis is drawn at the edge with an arrow (clipped), so
    small groups with wide intervals cannot stretch the scale; NaN rows read "suppressed".
    """
    left, right, row = 190, 70, 20
    height = PAD_T + row * len(labels) + 30
    span = WIDTH - left - right
    lim = np.log(half)

    def sx(v: float) -> float:
        t = np.log(min(max(v, 1 / half), half)) if v > 0 else -lim
        return left + (t + lim) / (2 * lim) * span

    body = [_text(left, 18, title)]
    ticks = [t for t in (0.25, 0.5, 1.0, 2.0, 4.0) if 1 / half <= t <= half]
    ticks = sorted({*ticks, round(1 / half, 2), float(half)})
    for t in ticks:
        x = sx(t)
        dash = "" if t == 1.0 else ' stroke-dasharray="2 3"'
        colour = INK if t == 1.0 else GRID
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T - 4}" y2="{height - 26}" '
            f'stroke="{colour}"{dash}/>'
        )
        body.append(_text(x, height - 12, f"{t:g}", anchor="middle", fill=MUTED))
    for i, label in enumerate(labels):
        y = PAD_T + i * row + row / 2
        body.append(_text(left - 8, y + 4, str(label), anchor="end"))
        v, lo, hi = float(values[i]), float(lower[i]), float(upper[i])
        if not np.isfinite(v):
            body.append(_text(left + 4, y + 4, "* suppressed", fill=MUTED))
            continue
        if np.isfinite(lo) and np.isfinite(hi):
            body.append(
                f'<line x1="{sx(lo):.1f}" x2="{sx(hi):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{INK}" stroke-width="1.5"/>'
            )
            for end, beyond, sign in ((lo, lo < 1 / half, -1), (hi, hi > half, 1)):
                if beyond:
                    x = sx(end)
                    body.append(f'<path d="M{x:.1f},{y:.1f} l{-6 * sign},-4 v8 z" fill="{INK}"/>')
        clipped = v <= 0 or v < 1 / half or v > half
        body.append(
            f'<circle cx="{sx(v):.1f}" cy="{y:.1f}" r="{4 if not clipped else 3}" '
            f'fill="{ACCENT if not clipped else "white"}" stroke="{ACCENT}" stroke-width="1.5"/>'
        )
        body.append(_text(WIDTH - right + 6, y + 4, f"{v:.2f}", fill=INK))
    return _frame(height, title, desc, body)


def dot_chart(
    labels: Sequence[str],
    values: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    reference: float,
    title: str,
    desc: str,
    value_format: str = "{:,.1f}",
) -> str:
    """Points with interval bars on a linear axis from 0, with a reference line (e.g. the area
    rate); for rates, where a bar length would suggest a count."""
    left, right, row = 190, 70, 16
    height = PAD_T + row * len(labels) + 30
    ticks = axis_ticks(
        0.0,
        max(
            [
                reference,
                *[u for u in upper if np.isfinite(u)],
                *[v for v in values if np.isfinite(v)],
            ]
        ),
    )
    top = float(ticks[-1])
    span = WIDTH - left - right

    def sx(v: float) -> float:
        return left + v / top * span

    body = [_text(left, 18, title)]
    for tick, text in zip(ticks, tick_labels(ticks), strict=True):
        x = sx(float(tick))
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T - 4}" y2="{height - 26}" stroke="{GRID}"/>'
        )
        body.append(_text(x, height - 12, text, anchor="middle", fill=MUTED))
    x = sx(reference)
    body.append(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T - 4}" y2="{height - 26}" stroke="{INK}" '
        f'stroke-dasharray="4 3"/>'
    )
    for i, label in enumerate(labels):
        y = PAD_T + i * row + row / 2
        body.append(_text(left - 8, y + 4, str(label), anchor="end"))
        v = float(values[i])
        if not np.isfinite(v):
            body.append(_text(left + 4, y + 4, "* suppressed", fill=MUTED))
            continue
        if np.isfinite(lower[i]) and np.isfinite(upper[i]):
            body.append(
                f'<line x1="{sx(lower[i]):.1f}" x2="{sx(upper[i]):.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{INK}" stroke-width="1.2"/>'
            )
        body.append(f'<circle cx="{sx(v):.1f}" cy="{y:.1f}" r="3.5" fill="{ACCENT}"/>')
        body.append(_text(WIDTH - right + 6, y + 4, value_format.format(v)))
    return _frame(height, title, desc, body)


def line_chart(
    labels: Sequence[str],
    values: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    title: str,
    desc: str,
    y_label: str,
) -> str:
    """A line over time (labels: dates in order, equally spaced) with its interval as a band."""
    height, left, right, top, bottom = 300, 70, 30, 34, 56
    vals = np.asarray(values, dtype=float)
    los, his = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    finite = np.concatenate([vals, los, his])
    finite = finite[np.isfinite(finite)]
    y_ticks = axis_ticks(float(finite.min()), float(finite.max()))
    y_min, y_max = float(y_ticks[0]), float(y_ticks[-1])
    n = len(labels)

    def sx(i: int) -> float:
        return left + (i / max(n - 1, 1)) * (WIDTH - left - right)

    def sy(v: float) -> float:
        return height - bottom - (v - y_min) / (y_max - y_min or 1) * (height - top - bottom)

    body = [_text(left, 18, title)]
    body.append(
        f'<rect x="{left}" y="{top}" width="{WIDTH - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="{GRID}"/>'
    )
    for yv, text in zip(y_ticks, tick_labels(y_ticks), strict=True):
        body.append(_text(left - 6, sy(float(yv)) + 4, text, anchor="end"))
    ok = [i for i in range(n) if np.isfinite(los[i]) and np.isfinite(his[i])]
    if ok:
        band = [f"{sx(i):.1f},{sy(his[i]):.1f}" for i in ok]
        band += [f"{sx(i):.1f},{sy(los[i]):.1f}" for i in reversed(ok)]
        body.append(f'<polygon points="{" ".join(band)}" fill="{GRID}" opacity="0.7"/>')
    pts = [f"{sx(i):.1f},{sy(vals[i]):.1f}" for i in range(n) if np.isfinite(vals[i])]
    body.append(
        f'<polyline points="{" ".join(pts)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>'
    )
    for i in range(n):
        if np.isfinite(vals[i]):
            body.append(f'<circle cx="{sx(i):.1f}" cy="{sy(vals[i]):.1f}" r="3" fill="{ACCENT}"/>')
        if n <= 8 or i % max(1, n // 6) == 0 or i == n - 1:
            body.append(_text(sx(i), height - bottom + 16, str(labels[i]), anchor="middle"))
    body.append(
        _text((left + WIDTH - right) / 2, height - 10, "Week (as-of date)", anchor="middle")
    )
    body.append(
        f'<text transform="translate(14 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="{INK}">{escape(y_label)}</text>'
    )
    return _frame(height, title, desc, body)
