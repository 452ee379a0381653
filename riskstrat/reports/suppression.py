"""Small-number suppression of published count tables (NHS style), with secondary suppression.

Counts from `min_count` to `max_count` are shown as the symbol (primary suppression); other counts
are rounded to the nearest `rounding_base`. A table is published with its margins (row totals,
column totals, optional group subtotals), and every margin is a linear constraint an attacker can
use. Secondary suppression makes sure no suppressed cell can be worked out from them:

1. every constraint (a total and its parts) holding exactly one suppressed cell gets a second one:
   the smallest non-zero published cell of that constraint (a zero protects nothing);
2. an audit then bounds every suppressed cell by linear programming over what is published (each
   shown count's rounding interval, each primary cell's 1..7 range, all totals); a cell whose
   bounds pin it to one integer gets another cell suppressed beside it, and the audit repeats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from riskstrat.reports.settings import Suppression

TOTAL = "Total"
NEGATIVE_COUNT = "suppression needs non-negative whole counts; table has {value!r}"
GROUPS_NOT_PARTITION = "row_groups must list every row exactly once; problem rows: {rows}"

Cell = tuple[int, int]


@dataclass(frozen=True)
class Protected:
    """A published table: rounded counts (NaN where suppressed) and the suppression mask."""

    values: pd.DataFrame
    suppressed: pd.DataFrame
    kind: pd.Series  # per row: "cell", "subtotal" or "total"


def round_count(x: np.ndarray | float, base: int) -> np.ndarray:
    """Round half up to the nearest multiple of `base`."""
    return base * np.floor(np.asarray(x, dtype=float) / base + 0.5)


def published_bounds(value: float, rule: Suppression) -> tuple[float, float]:
    """The true counts an attacker knows a shown (unsuppressed) value can stand for."""
    base = rule.rounding_base
    candidates = np.arange(max(0, value - base), value + base + 1)
    ok = (round_count(candidates, base) == value) & ~(
        (candidates >= rule.min_count) & (candidates <= rule.max_count)
    )
    kept = candidates[ok]
    return (float(kept.min()), float(kept.max())) if kept.size else (value, value)


def _augment(
    counts: pd.DataFrame,
    row_groups: Mapping[str, Sequence[str]] | None,
    row_total: bool,
    col_total: bool,
) -> tuple[pd.DataFrame, list[str], list[tuple[Cell, list[Cell]]]]:
    """The table with its margins, each row's kind, and the sum constraints they imply."""
    rows: list[str] = []
    kinds: list[str] = []
    top: list[str] = []
    members: dict[str, list[str]] = {}
    if row_groups:
        listed = [r for group in row_groups.values() for r in group]
        wrong = sorted(set(map(str, counts.index)) ^ set(listed)) or sorted(
            {r for r in listed if listed.count(r) > 1}
        )
        if wrong:
            raise ValueError(GROUPS_NOT_PARTITION.format(rows=wrong))
        for group, parts in row_groups.items():
            rows += [group, *parts]
            kinds += ["subtotal", *["cell"] * len(parts)]
            top.append(group)
            members[group] = list(parts)
    else:
        rows = [str(r) for r in counts.index]
        kinds = ["cell"] * len(rows)
        top = rows
    base = counts.copy()
    base.index = [str(r) for r in base.index]
    table = pd.DataFrame(index=rows, columns=list(counts.columns), dtype=float)
    for r in base.index:
        table.loc[r] = base.loc[r].to_numpy(dtype=float)
    for group, parts in members.items():
        table.loc[group] = table.loc[parts].sum().to_numpy()
    if row_total:
        table.loc[TOTAL] = table.loc[top].sum().to_numpy()
        kinds.append("total")
    data_cols = list(range(len(counts.columns)))
    if col_total:
        table[TOTAL] = table.iloc[:, data_cols].sum(axis=1)
    pos = {r: i for i, r in enumerate(table.index)}
    constraints: list[tuple[Cell, list[Cell]]] = []
    n_cols = table.shape[1]
    if col_total:
        constraints += [((i, n_cols - 1), [(i, j) for j in data_cols]) for i in range(len(table))]
    for group, parts in members.items():
        for j in range(n_cols):
            constraints.append(((pos[group], j), [(pos[p], j) for p in parts]))
    if row_total:
        for j in range(n_cols):
            constraints.append(((pos[TOTAL], j), [(pos[r], j) for r in top]))
    return table, kinds, constraints


def _secondary(
    true: np.ndarray, mask: np.ndarray, constraints: list[tuple[Cell, list[Cell]]]
) -> None:
    """Until no constraint has exactly one suppressed member, suppress the next smallest."""
    changed = True
    while changed:
        changed = False
        for total, parts in constraints:
            group = [total, *parts]
            if sum(mask[c] for c in group) == 1 and _suppress_next(true, mask, group):
                changed = True


def _suppress_next(true: np.ndarray, mask: np.ndarray, group: list[Cell]) -> bool:
    open_cells = [c for c in group if not mask[c]]
    if not open_cells:
        return False
    nonzero = [c for c in open_cells if true[c] > 0] or open_cells
    pick = min(nonzero, key=lambda c: (true[c], c))
    mask[pick] = True
    return True


def cell_ranges(
    shown: np.ndarray,
    mask: np.ndarray,
    constraints: list[tuple[Cell, list[Cell]]],
    *,
    rule: Suppression,
    primary: np.ndarray | None = None,
) -> dict[Cell, tuple[float, float]]:
    """An attacker's bounds on each suppressed cell from everything published (LP relaxation).

    `primary` (optional) marks cells the attacker is assumed to know are primary, so lie in
    min_count..max_count: a stronger attacker than the symbol alone allows.
    """
    n_rows, n_cols = shown.shape
    idx = {(i, j): i * n_cols + j for i in range(n_rows) for j in range(n_cols)}
    bounds = []
    for i in range(n_rows):
        for j in range(n_cols):
            if not mask[i, j]:
                bounds.append(published_bounds(float(shown[i, j]), rule))
            elif primary is not None and primary[i, j]:
                bounds.append((float(rule.min_count), float(rule.max_count)))
            else:
                bounds.append((0.0, None))
    a_eq = np.zeros((len(constraints), n_rows * n_cols))
    for k, (total, parts) in enumerate(constraints):
        a_eq[k, idx[total]] = -1.0
        for c in parts:
            a_eq[k, idx[c]] += 1.0
    b_eq = np.zeros(len(constraints))
    out: dict[Cell, tuple[float, float]] = {}
    for cell in zip(*np.nonzero(mask), strict=True):
        cell = (int(cell[0]), int(cell[1]))
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(n_rows * n_cols)
            cost[idx[cell]] = sign
            res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            ends.append(sign * res.fun if res.status == 0 else (np.inf if sign < 0 else -np.inf))
        out[cell] = (ends[0], ends[1])
    return out


def _pinned(lo: float, hi: float) -> bool:
    return np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) < 1


def protect(
    counts: pd.DataFrame,
    *,
    rule: Suppression,
    row_groups: Mapping[str, Sequence[str]] | None = None,
    row_total: bool = True,
    col_total: bool = True,
) -> Protected:
    """Publish a count table with margins: primary + secondary suppression, then rounding."""
    values = counts.to_numpy(dtype=float)
    if np.any(values < 0) or np.any(values != np.floor(values)):
        bad = values[(values < 0) | (values != np.floor(values))][0]
        raise ValueError(NEGATIVE_COUNT.format(value=float(bad)))
    table, kinds, constraints = _augment(counts, row_groups, row_total, col_total)
    true = table.to_numpy(dtype=float)
    primary = (true >= rule.min_count) & (true <= rule.max_count)
    mask = primary.copy()
    shown = round_count(true, rule.rounding_base)
    while True:
        _secondary(true, mask, constraints)
        exposed = [
            cell
            for cell, (lo, hi) in cell_ranges(
                shown, mask, constraints, rule=rule, primary=primary
            ).items()
            if _pinned(lo, hi)
        ]
        if not exposed or not _widen(true, mask, constraints, exposed[0]):
            break
    published = pd.DataFrame(
        np.where(mask, np.nan, shown), index=table.index, columns=table.columns
    )
    return Protected(
        values=published,
        suppressed=pd.DataFrame(mask, index=table.index, columns=table.columns),
        kind=pd.Series(kinds, index=table.index),
    )


def _widen(
    true: np.ndarray,
    mask: np.ndarray,
    constraints: list[tuple[Cell, list[Cell]]],
    cell: Cell,
) -> bool:
    """Suppress one more cell in a constraint through `cell` (the one with most room)."""
    touching = [[t, *p] for t, p in constraints if cell == t or cell in p]
    touching.sort(key=lambda group: sum(mask[c] for c in group))
    return any(_suppress_next(true, mask, group) for group in touching)


def suppressed_rate(
    numerator: pd.Series, denominator: pd.Series, hidden: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """A rate from true counts, hidden wherever a count it is derived from is suppressed."""
    rate = numerator.astype(float) / denominator.astype(float).where(denominator > 0)
    return rate.where(~hidden), hidden.astype(bool)
