"""Hand-built inline SVG charts: no scripts, no fonts, no network; each has <title> and <desc>.

Every chart is drawn beside a data table holding the same numbers (the accessible version).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape

import numpy as np

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

    def sx(x: float) -> float:
        return left + (x / x_max) * (WIDTH - left - right)

    def sy(y: float) -> float:
        return height - bottom - (y - y_min) / (y_max - y_min or 1) * (height - top - bottom)

    body = [_text(left, 18, title)]
    body.append(
        f'<rect x="{left}" y="{top}" width="{WIDTH - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="{GRID}"/>'
    )
    for frac in (0, 0.5, 1):
        xv, yv = frac * x_max, y_min + frac * (y_max - y_min)
        body.append(_text(sx(xv), height - bottom + 16, f"{xv:.3g}", anchor="middle"))
        body.append(_text(left - 6, sy(yv) + 4, f"{yv:.3g}", anchor="end"))
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
