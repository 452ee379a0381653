"""The one declaration of subgroups (slices), reused by evaluation, monitoring and reports.

A slice maps a row's demographics to a group label. Inputs are human-readable columns (decode the
feature matrix's categorical codes first): age (years), sex, ethnicity, imd_decile, practice_code,
ltc_count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

UNKNOWN = "Unknown"
AGE_BANDS = ((0, "0-17"), (18, "18-44"), (45, "45-64"), (65, "65-74"), (75, "75-84"), (85, "85+"))
LTC_BANDS = ((0, "0"), (1, "1"), (2, "2"), (3, "3"), (4, "4+"))
MISSING_SLICE_COLUMN = "slices need column {column!r} (for slice {slice!r})"


def _bands(values: pd.Series, bands: tuple[tuple[int, str], ...]) -> pd.Series:
    """Band label of each value: [lower, next lower), the last open-ended; else Unknown."""
    edges = np.array([lower for lower, _ in bands], dtype=float)
    labels = np.array([label for _, label in bands] + [UNKNOWN], dtype=object)
    x = values.astype(float).to_numpy(dtype=float, na_value=np.nan)
    idx = np.searchsorted(edges, x, side="right") - 1
    idx = np.where(np.isnan(x) | (idx < 0) | np.isinf(x), len(bands), idx)
    return pd.Series(labels[idx], index=values.index).astype(str)


def age_band(age: pd.Series) -> pd.Series:
    return _bands(age, AGE_BANDS)


def imd_quintile(decile: pd.Series) -> pd.Series:
    q = np.ceil(decile.astype(float) / 2)
    names = {1.0: "1 (most deprived)", 2.0: "2", 3.0: "3", 4.0: "4", 5.0: "5 (least deprived)"}
    return q.map(names).fillna(UNKNOWN).astype(str)


def ltc_band(count: pd.Series) -> pd.Series:
    return _bands(count, LTC_BANDS)


def as_label(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), UNKNOWN).astype(str)


@dataclass(frozen=True)
class Slice:
    name: str
    column: str
    title: str
    label: Callable[[pd.Series], pd.Series]


SLICES: tuple[Slice, ...] = (
    Slice("age_band", "age", "Age band", age_band),
    Slice("sex", "sex", "Sex", as_label),
    Slice("ethnicity", "ethnicity", "Ethnicity", as_label),
    Slice("imd_quintile", "imd_decile", "IMD quintile", imd_quintile),
    Slice("practice", "practice_code", "Practice", as_label),
    Slice("ltc_count", "ltc_count", "Number of long-term conditions", ltc_band),
)
SLICE_NAMES = tuple(s.name for s in SLICES)


def assign_slices(frame: pd.DataFrame, *, names: tuple[str, ...] = SLICE_NAMES) -> pd.DataFrame:
    """One column per slice (named as the slice), holding each row's group label."""
    out = {}
    for s in SLICES:
        if s.name not in names:
            continue
        if s.column not in frame.columns:
            raise KeyError(MISSING_SLICE_COLUMN.format(column=s.column, slice=s.name))
        out[s.name] = s.label(frame[s.column]).to_numpy()
    return pd.DataFrame(out, index=frame.index)


def slice_categories(frame: pd.DataFrame, *, names: tuple[str, ...] = SLICE_NAMES) -> pd.DataFrame:
    """As assign_slices, as categoricals (categories sorted): each slice's label function runs
    on the column's distinct values only, so a million rows cost one factorisation per slice."""
    out = {}
    for s in SLICES:
        if s.name not in names:
            continue
        if s.column not in frame.columns:
            raise KeyError(MISSING_SLICE_COLUMN.format(column=s.column, slice=s.name))
        codes, uniques = pd.factorize(frame[s.column], use_na_sentinel=False)
        labels = s.label(pd.Series(uniques)).to_numpy(dtype=object)
        categories = sorted(set(labels))
        position = {c: k for k, c in enumerate(categories)}
        mapped = np.array([position[label] for label in labels], dtype=np.int64)
        out[s.name] = pd.Categorical.from_codes(mapped[codes], categories=categories)
    return pd.DataFrame(out, index=frame.index)


def code_positions(
    codes: np.ndarray, *, n_groups: int, order: np.ndarray | None = None
) -> list[np.ndarray]:
    """Row positions of each code 0..n_groups-1 (one stable sort of integer codes): ascending,
    or, with `order` (a permutation of the rows), in that order."""
    if not n_groups:
        return []
    ranked = codes if order is None else codes[order]
    by_code = np.argsort(ranked, kind="stable")
    if order is not None:
        by_code = order[by_code]
    bounds = np.cumsum(np.bincount(ranked, minlength=n_groups))[:-1]
    return np.split(by_code, bounds)


def group_positions(keys: np.ndarray | pd.Series) -> list[tuple[object, np.ndarray]]:
    """(group, row positions) per distinct key, groups in sorted order.

    The positions are ascending, so `values[positions]` holds the same rows in the same order as
    `values[keys == group]` (identical sums and means to the last digit), from one factorisation
    and one stable sort instead of a full-array comparison per group.
    """
    codes, uniques = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=False)
    if not len(uniques):
        return []
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(uniques)))[:-1]
    return sorted(zip(uniques.tolist(), np.split(order, bounds), strict=True), key=lambda kv: kv[0])
