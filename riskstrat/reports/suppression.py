"""Small-number suppression of published count tables (NHS style), with secondary suppression.

Counts from `min_count` to `max_count` are shown as the symbol (primary suppression); other counts
are rounded to the nearest `rounding_base`. A table is published with its margins (row totals,
column totals, optional group subtotals), and every margin is a linear constraint an attacker can
use. Secondary suppression makes sure no suppressed cell can be worked out from them:

1. every constraint (a total and its parts) holding exactly one suppressed cell gets a second one:
   the smallest non-zero published cell of that constraint (a zero protects nothing);
2. an audit then checks that no suppressed cell can be pinned from what is published (each shown
   count's rounding interval, each primary cell's 1..7 range, all totals). It looks for a
   *witness*: a second table, consistent with everything published, that differs from the true
   one by +-1 along a cycle of cells (one row path times one column path through the margins).
   Two consistent whole-number tables that differ in a cell mean that cell cannot be worked out,
   and one witness clears every cell on its cycle. Only a cell without a witness is bounded by
   linear programming (rare); a pinned cell gets another cell suppressed beside it, and the
   audit goes on. Cost: about linear in the number of suppressed cells, not one LP per cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
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


@dataclass(frozen=True)
class Layout:
    """A table with its margins: rows and columns as trees (each margin is its parts' parent)."""

    table: pd.DataFrame
    kinds: list[str]
    constraints: list[tuple[Cell, list[Cell]]]
    row_parent: list[int]  # -1: no parent (nothing constrains the row from above)
    col_parent: list[int]


def _augment(
    counts: pd.DataFrame,
    row_groups: Mapping[str, Sequence[str]] | None,
    row_total: bool,
    col_total: bool,
) -> Layout:
    """The table with its margins, each row's kind, the sum constraints and the two trees."""
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
    table = pd.DataFrame(
        base.reindex(rows).to_numpy(dtype=float), index=rows, columns=list(counts.columns)
    )
    for group, parts in members.items():
        table.loc[group] = table.loc[parts].sum().to_numpy()
    if row_total:
        table.loc[TOTAL] = table.loc[top].sum().to_numpy()
        kinds.append("total")
    data_cols = list(range(len(counts.columns)))
    if col_total:
        table[TOTAL] = table.iloc[:, data_cols].sum(axis=1)
    pos = {r: i for i, r in enumerate(table.index)}
    row_parent = [-1] * len(table)
    for group, parts in members.items():
        for part in parts:
            row_parent[pos[part]] = pos[group]
    if row_total:
        for r in top:
            row_parent[pos[r]] = pos[TOTAL]
    n_cols = table.shape[1]
    col_parent = [n_cols - 1 if col_total and j < n_cols - 1 else -1 for j in range(n_cols)]
    constraints: list[tuple[Cell, list[Cell]]] = []
    if col_total:
        constraints += [((i, n_cols - 1), [(i, j) for j in data_cols]) for i in range(len(table))]
    for group, parts in members.items():
        for j in range(n_cols):
            constraints.append(((pos[group], j), [(pos[p], j) for p in parts]))
    if row_total:
        for j in range(n_cols):
            constraints.append(((pos[TOTAL], j), [(pos[r], j) for r in top]))
    return Layout(table, kinds, constraints, row_parent, col_parent)


def _secondary(
    true: np.ndarray, mask: np.ndarray, constraints: list[tuple[Cell, list[Cell]]]
) -> None:
    """Until no constraint has exactly one suppressed member, suppress a partner in it.

    The partner is the open cell that also completes most other constraints left with one
    suppressed member (so one cell protects a row and a column at once), then the smallest
    non-zero one (a zero protects nothing).
    """
    groups = [[total, *parts] for total, parts in constraints]
    member: dict[Cell, list[int]] = {}
    for k, group in enumerate(groups):
        for c in group:
            member.setdefault(c, []).append(k)
    hidden = [sum(bool(mask[c]) for c in group) for group in groups]
    lonely = [k for k, h in enumerate(hidden) if h == 1]
    while lonely:
        k = lonely.pop()
        if hidden[k] != 1:
            continue
        open_cells = [c for c in groups[k] if not mask[c]]
        if not open_cells:
            continue
        nonzero = [c for c in open_cells if true[c] > 0] or open_cells
        pick = min(nonzero, key=lambda c: (-sum(hidden[m] == 1 for m in member[c]), true[c], c))
        mask[pick] = True
        for m in member[pick]:
            hidden[m] += 1
            if hidden[m] == 1:
                lonely.append(m)


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
    cells: Sequence[Cell] | None = None,
) -> dict[Cell, tuple[float, float]]:
    """An attacker's bounds on suppressed cells from everything published (LP relaxation).

    `primary` (optional) marks cells the attacker is assumed to know are primary, so lie in
    min_count..max_count: a stronger attacker than the symbol alone allows. `cells`: which
    suppressed cells to bound (default all).
    """
    n_rows, n_cols = shown.shape
    lo, hi = attacker_bounds(shown, mask, rule=rule, primary=primary)
    bounds = [
        (float(a), None if np.isinf(b) else float(b))
        for a, b in zip(lo.ravel(), hi.ravel(), strict=True)
    ]
    a_eq = np.zeros((len(constraints), n_rows * n_cols))
    for k, (total, parts) in enumerate(constraints):
        a_eq[k, total[0] * n_cols + total[1]] = -1.0
        for i, j in parts:
            a_eq[k, i * n_cols + j] += 1.0
    b_eq = np.zeros(len(constraints))
    if cells is None:
        cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    out: dict[Cell, tuple[float, float]] = {}
    for cell in cells:
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(n_rows * n_cols)
            cost[cell[0] * n_cols + cell[1]] = sign
            res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            ends.append(sign * res.fun if res.status == 0 else (np.inf if sign < 0 else -np.inf))
        out[cell] = (ends[0], ends[1])
    return out


def attacker_bounds(
    shown: np.ndarray, mask: np.ndarray, *, rule: Suppression, primary: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the true counts an attacker cannot rule out from the cell alone."""
    lo = np.zeros(shown.shape)
    hi = np.full(shown.shape, np.inf)
    cache: dict[float, tuple[float, float]] = {}
    for (i, j), v in np.ndenumerate(shown):
        if mask[i, j]:
            if primary is not None and primary[i, j]:
                lo[i, j], hi[i, j] = rule.min_count, rule.max_count
            continue
        if v not in cache:
            cache[v] = published_bounds(float(v), rule)
        lo[i, j], hi[i, j] = cache[v]
    return lo, hi


#: Candidate cycles tried per cell before the audit falls back to linear programming.
WITNESS_TRIES = 400


class _Axis:
    """One axis (rows or columns) as a tree: margins are parents of their parts."""

    def __init__(self, parent: list[int]) -> None:
        self.parent = parent
        children: dict[int, list[int]] = {}
        for node, up in enumerate(parent):
            if up >= 0:
                children.setdefault(up, []).append(node)
        self.leaves = [n for n in range(len(parent)) if n not in children]
        self.paths = []
        for node in range(len(parent)):
            path = [node]
            while parent[path[-1]] >= 0:
                path.append(parent[path[-1]])
            self.paths.append(path)
        self.under = {n: [leaf for leaf in self.leaves if n in self.paths[leaf]] for n in
                      range(len(parent))}  # fmt: skip

    def vectors(self, node: int) -> Iterator[dict[int, int]]:
        """Sparse +-1 vectors that keep every margin the sum of its parts and move `node`: a
        leaf's path to its root, or the difference of two leaves' paths (siblings first)."""
        inside = self.under[node]
        outside = [leaf for leaf in self.leaves if leaf not in set(inside)]
        if node in self.leaves:
            near = [s for s in outside if self.parent[s] == self.parent[node]]
            for s in near:
                yield {node: 1, s: -1}
            outside = [s for s in outside if self.parent[s] != self.parent[node]]
        for leaf in inside:
            yield dict.fromkeys(self.paths[leaf], 1)
        for leaf in inside:
            for other in outside:
                vec = dict.fromkeys(self.paths[leaf], 1)
                for k in self.paths[other]:
                    vec[k] = vec.get(k, 0) - 1
                yield {k: v for k, v in vec.items() if v}


def _witness(
    cell: Cell, rows: _Axis, cols: _Axis, up: np.ndarray, down: np.ndarray
) -> list[Cell] | None:
    """Cells moved by a +-1 cycle through `cell` that keeps every published figure true (None
    if none found within WITNESS_TRIES candidates)."""
    col_vectors = list(itertools.islice(cols.vectors(cell[1]), 64))
    tries = 0
    for r in rows.vectors(cell[0]):
        for c in col_vectors:
            tries += 1
            if tries > WITNESS_TRIES:
                return None
            support = [((i, j), a * b) for i, a in r.items() for j, b in c.items()]
            for sign in (1, -1):
                if all((up if sign * coef > 0 else down)[ij] >= 1 for ij, coef in support):
                    return [ij for ij, _ in support]
    return None


def _audit(
    layout: Layout,
    true: np.ndarray,
    shown: np.ndarray,
    mask: np.ndarray,
    primary: np.ndarray,
    *,
    rule: Suppression,
) -> None:
    """Suppress more until every suppressed cell has a witness or an LP shows it is not pinned.

    Suppressing a cell only widens what an attacker must allow, so a cell once cleared stays
    cleared: each suppressed cell is examined about once (again only after a widening it needed).
    """
    rows, cols = _Axis(layout.row_parent), _Axis(layout.col_parent)
    cleared = np.zeros(mask.shape, dtype=bool)
    _secondary(true, mask, layout.constraints)
    queue = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    lo, hi = attacker_bounds(shown, mask, rule=rule, primary=primary)
    while queue:
        cell = queue.pop()
        if cleared[cell]:
            continue
        moved = _witness(cell, rows, cols, hi - true, true - lo)
        if moved is not None:
            for ij in moved:
                cleared[ij] = cleared[ij] or bool(mask[ij])
            continue
        lo_c, hi_c = cell_ranges(
            shown, mask, layout.constraints, rule=rule, primary=primary, cells=[cell]
        )[cell]
        before = mask.copy()
        if not _pinned(lo_c, hi_c) or not _widen(true, mask, layout.constraints, cell):
            cleared[cell] = True  # not pinned, or every cell beside it is hidden already
            continue
        _secondary(true, mask, layout.constraints)
        lo, hi = attacker_bounds(shown, mask, rule=rule, primary=primary)
        queue.append(cell)
        queue += [(int(i), int(j)) for i, j in zip(*np.nonzero(mask & ~before), strict=True)]


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
    layout = _augment(counts, row_groups, row_total, col_total)
    table = layout.table
    true = table.to_numpy(dtype=float)
    primary = (true >= rule.min_count) & (true <= rule.max_count)
    mask = primary.copy()
    shown = round_count(true, rule.rounding_base)
    _audit(layout, true, shown, mask, primary, rule=rule)
    published = pd.DataFrame(
        np.where(mask, np.nan, shown), index=table.index, columns=table.columns
    )
    return Protected(
        values=published,
        suppressed=pd.DataFrame(mask, index=table.index, columns=table.columns),
        kind=pd.Series(layout.kinds, index=table.index),
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
