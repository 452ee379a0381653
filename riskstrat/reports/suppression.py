"""Small-number suppression of published count tables (NHS style), with secondary suppression.

Counts from `min_count` to `max_count` are shown as the symbol (primary suppression); other counts
are rounded to the nearest `rounding_base`. A table is published with its margins (row totals,
column totals, optional group subtotals), and every margin is a linear constraint an attacker can
use. Secondary suppression makes sure no suppressed cell can be worked out from them:

1. every constraint (a total and its parts) holding exactly one suppressed cell gets a second one:
   preferably a cell that completes another such constraint too, else the smallest non-zero one
   (a zero protects nothing);
2. an audit then checks that no suppressed cell can be pinned from what is published (each shown
   count's rounding interval, each primary cell's 1..7 range, all totals). Each suppressed cell
   needs a *witness*: a second whole-number table, consistent with everything published, that
   differs from the true one by +-1 along a cycle through the cell (a row vector that keeps the
   row margins times a column vector that keeps the column margins). Two such tables mean the
   cell's range (even the LP relaxation's) is at least 1 wide. The row side is searched by one
   walk of the row tree per column vector, so every simple cycle is covered without listing
   them. A cell without a witness gets another cell of one of its constraints suppressed, and
   the audit goes on; hiding only widens what an attacker must allow, so each cell is examined
   about once. No linear programme is solved (the former audit solved two per suppressed cell
   per pass); tests/reports/test_reports_suppression.py attacks the result with one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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


class _Mask:
    """The suppression mask with, per constraint, how many of its cells are hidden (kept up to
    date as cells are hidden, so secondary suppression and widening cost little per step)."""

    def __init__(
        self, true: np.ndarray, mask: np.ndarray, constraints: list[tuple[Cell, list[Cell]]]
    ) -> None:
        self.true, self.mask = true, mask
        self.groups = [[total, *parts] for total, parts in constraints]
        self.member: dict[Cell, list[int]] = {}
        for k, group in enumerate(self.groups):
            for c in group:
                self.member.setdefault(c, []).append(k)
        self.hidden = [sum(bool(mask[c]) for c in group) for group in self.groups]
        self.lonely = [k for k, h in enumerate(self.hidden) if h == 1]
        self.added: list[Cell] = []

    def hide(self, cell: Cell) -> None:
        self.mask[cell] = True
        self.added.append(cell)
        for m in self.member.get(cell, []):
            self.hidden[m] += 1
            if self.hidden[m] == 1:
                self.lonely.append(m)

    def secondary(self) -> None:
        """Until no constraint has exactly one suppressed member, suppress a partner in it.

        The partner is the open cell that also completes most other constraints left with one
        suppressed member (so one cell protects a row and a column at once), then the smallest
        non-zero one (a zero protects nothing).
        """
        while self.lonely:
            k = self.lonely.pop()
            if self.hidden[k] != 1:
                continue
            open_cells = [c for c in self.groups[k] if not self.mask[c]]
            if not open_cells:
                continue
            nonzero = [c for c in open_cells if self.true[c] > 0] or open_cells
            self.hide(
                min(
                    nonzero,
                    key=lambda c: (
                        -sum(self.hidden[m] == 1 for m in self.member[c]),
                        self.true[c],
                        c,
                    ),
                )
            )

    def widen(self, cell: Cell) -> bool:
        """Suppress one more cell in a constraint through `cell` (the one with fewest hidden),
        the smallest non-zero open one; False if every such cell is hidden already."""
        for k in sorted(self.member.get(cell, []), key=lambda k: self.hidden[k]):
            open_cells = [c for c in self.groups[k] if not self.mask[c]]
            if open_cells:
                nonzero = [c for c in open_cells if self.true[c] > 0] or open_cells
                self.hide(min(nonzero, key=lambda c: (self.true[c], c)))
                return True
        return False


def attacker_bounds(
    shown: np.ndarray, mask: np.ndarray, *, rule: Suppression, primary: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the true counts an attacker cannot rule out from the cell alone."""
    values = np.unique(shown[~mask])
    ends = {float(v): published_bounds(float(v), rule) for v in values}
    lo = np.zeros(shown.shape)
    hi = np.full(shown.shape, np.inf)
    for v, (a, b) in ends.items():
        sel = ~mask & (shown == v)
        lo[sel], hi[sel] = a, b
    if primary is not None:
        known = mask & primary
        lo[known], hi[known] = rule.min_count, rule.max_count
    return lo, hi


class _Axis:
    """One axis (rows or columns) as a tree: margins are parents of their parts; roots are the
    nodes nothing constrains from above (a virtual root joins them)."""

    def __init__(self, parent: list[int]) -> None:
        self.parent = parent
        self.children: dict[int, list[int]] = {}
        for node, up in enumerate(parent):
            self.children.setdefault(up, []).append(node)  # -1: the virtual root
        self.paths = []
        for node in range(len(parent)):
            path = [node]
            while parent[path[-1]] >= 0:
                path.append(parent[path[-1]])
            self.paths.append(path)
        depth = [len(p) for p in self.paths]
        #: internal nodes, deepest first (children before parents)
        self.internal = sorted((n for n in self.children if n >= 0), key=lambda n: -depth[n])
        self.kids = {n: np.array(self.children[n]) for n in self.internal}

    def leaves_vectors(self, node: int) -> list[dict[int, int]]:
        """For a column: +-1 vectors that keep every margin the sum of its parts and move
        `node`: a leaf's path to its root, or two leaves' paths one minus the other."""
        leaves = [n for n in range(len(self.parent)) if n not in self.kids]
        inside = [leaf for leaf in leaves if node in self.paths[leaf]]
        outside = [leaf for leaf in leaves if leaf not in inside]
        out = [dict.fromkeys(self.paths[leaf], 1) for leaf in inside]
        for leaf in inside:
            for other in outside:
                vec = dict.fromkeys(self.paths[leaf], 1)
                for k in self.paths[other]:
                    vec[k] = vec.get(k, 0) - 1
                out.append({k: v for k, v in vec.items() if v})
        return out

    def chains(self, ok: np.ndarray) -> np.ndarray:
        """Per node: some leaf below it (or itself) has every node on its path up to and
        including this node `ok`."""
        chain = ok.copy()
        for node in self.internal:
            chain[node] = ok[node] and bool(chain[self.kids[node]].any())
        return chain

    def movable(self, node: int, plus: np.ndarray, minus: np.ndarray) -> bool:
        """Is there a +-1 vector over this axis, consistent with every margin, that moves
        `node` up, where a node may go up only if `plus` and down only if `minus`?

        Such a vector is a leaf's path up to its root (all up), or the difference of two
        leaves' paths below their lowest common ancestor L (up below L on `node`'s side, down
        on another child's side of L).
        """
        up, down = self.chains(plus), self.chains(minus)
        if not up[node]:
            return False
        path = self.paths[node]
        for t, child in enumerate(path):  # L = parent of `child`, or the virtual root
            if t and not plus[child]:
                return False
            lca = self.parent[child]
            siblings = self.children[lca]
            if any(down[s] for s in siblings if s != child):
                return True
        return True  # every node up to the root can go up: the path vector itself


def _witness(
    cell: Cell,
    rows: _Axis,
    col_vectors: list[dict[int, int]],
    up: np.ndarray,
    down: np.ndarray,
) -> bool:
    """Is there a second table, consistent with everything published, that differs from the
    true one by +-1 along a cycle through `cell` (a row vector times a column vector)?"""
    i, _ = cell
    for vec in col_vectors:
        for sign in (1, -1):
            plus = np.ones(len(rows.parent), dtype=bool)
            minus = np.ones(len(rows.parent), dtype=bool)
            for j, coef in vec.items():
                plus &= (up[:, j] if sign * coef > 0 else down[:, j]) >= 1
                minus &= (down[:, j] if sign * coef > 0 else up[:, j]) >= 1
            if rows.movable(i, plus, minus):
                return True
    return False


def _audit(
    layout: Layout,
    true: np.ndarray,
    shown: np.ndarray,
    mask: np.ndarray,
    primary: np.ndarray,
    *,
    rule: Suppression,
) -> None:
    """Suppress more until every suppressed cell has a witness (a consistent second table in
    which it differs), so none can be worked out from what is published.

    Suppressing a cell only widens what an attacker must allow, so a cell once cleared stays
    cleared: each suppressed cell is examined about once (again only after a widening it needed).
    A cell without a witness is treated as exposed (conservative: no search can miss a leak).
    """
    rows, cols = _Axis(layout.row_parent), _Axis(layout.col_parent)
    vectors = {j: cols.leaves_vectors(j) for j in range(mask.shape[1])}
    state = _Mask(true, mask, layout.constraints)
    cleared = np.zeros(mask.shape, dtype=bool)
    state.secondary()
    queue = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    lo, hi = attacker_bounds(shown, mask, rule=rule, primary=primary)
    while queue:
        cell = queue.pop()
        if cleared[cell]:
            continue
        if _witness(cell, rows, vectors[cell[1]], hi - true, true - lo):
            cleared[cell] = True
            continue
        state.added = []
        if not state.widen(cell):
            cleared[cell] = True  # every cell beside it is hidden already: nothing more to do
            continue
        state.secondary()
        for c in state.added:  # newly hidden cells: now only their range bounds them
            lo[c], hi[c] = (rule.min_count, rule.max_count) if primary[c] else (0.0, np.inf)
        queue.append(cell)
        queue += state.added


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


def suppressed_rate(
    numerator: pd.Series, denominator: pd.Series, hidden: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """A rate from true counts, hidden wherever a count it is derived from is suppressed."""
    rate = numerator.astype(float) / denominator.astype(float).where(denominator > 0)
    return rate.where(~hidden), hidden.astype(bool)
