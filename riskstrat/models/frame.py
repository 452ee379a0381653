"""Prepare any pandas frame for the recipe: check the label, choose the features, split the rows.

Pure functions over a frame and column names. The split is a column of train / valid / calib /
test ("" = unused): given, or drawn by a seeded hash of a group column (patients never straddle
train and test), optionally after a temporal cut (test rows are the latest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskstrat.models.booster import FeatureInfo
from riskstrat.models.split import SPLITS, patient_unit

NO_COLUMN = "{role} column {column!r} is not in the frame (columns: {columns})"
BAD_LABEL = "label column {column!r}: {detail}; it must hold 0/1 (or True/False) with no missing"
BAD_SPLIT = "split column {column!r}: values {values} are not train, valid, calib, test or ''"
BAD_FEATURE = "feature column {column!r} has dtype {dtype}: use numbers, strings or `category`"
BAD_SIZES = "split sizes: test {test:g} + valid {valid:g} + calib {calib:g} must be below 1"
NO_FEATURES = "no feature columns left after removing the label, group, time and split columns"
IDENTIFIER_LIKE = (
    "feature column {column!r} has {levels} distinct values for {units} training {unit}: it "
    "looks like an identifier (a number, name, date of birth or postcode), and a text column's "
    "values are stored with the model in MLflow: give it as `group`, `exclude` it, or encode it "
    "(e.g. an age instead of a date of birth); list it in `features` to keep it anyway"
)
#: A text column inferred as a feature is refused as identifier-like when its training levels
#: exceed this share of the training units (groups, else rows) and number at least ID_MIN_LEVELS
#: (diagnosis codes: ~700 levels for ~70k patients, 1 %; a date of birth: ~90 %).
ID_SHARE = 0.5
ID_MIN_LEVELS = 50


@dataclass(frozen=True)
class SplitSizes:
    """Shares of rows (or of groups) per split; the rest trains."""

    test: float = 0.25
    valid: float = 0.15
    calib: float = 0.15

    def __post_init__(self) -> None:
        if min(self.test, self.valid, self.calib) <= 0 or self.test + self.valid + self.calib >= 1:
            raise ValueError(BAD_SIZES.format(test=self.test, valid=self.valid, calib=self.calib))


def require(frame: pd.DataFrame, column: str, *, role: str) -> None:
    if column not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise KeyError(NO_COLUMN.format(role=role, column=column, columns=shown))


def label_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The label as 0/1 integers, or a ValueError naming the column and the rule."""
    require(frame, column, role="label")
    col = frame[column]
    if col.isna().any():
        raise ValueError(BAD_LABEL.format(column=column, detail=f"{int(col.isna().sum())} missing"))
    if col.dtype == bool:
        return col.to_numpy(dtype=int)
    values = pd.to_numeric(col, errors="coerce")
    bad = sorted({str(v) for v, ok in zip(col, values.isin([0, 1]), strict=True) if not ok})
    if bad:
        raise ValueError(BAD_LABEL.format(column=column, detail=f"values {bad[:5]}"))
    return values.to_numpy(dtype=int)


def _is_text(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(col.dtype)


def levels_of(col: pd.Series) -> tuple[str, ...]:
    """A categorical column's levels: a `category` dtype's own order, else the sorted values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return tuple(str(c) for c in col.cat.categories)
    return tuple(sorted({str(v) for v in col.dropna().unique()}))


def infer_features(
    frame: pd.DataFrame,
    *,
    features: Sequence[str | FeatureInfo] | None,
    exclude: Sequence[str],
    categorical: Sequence[str] = (),
    monotone: Mapping[str, int] | None = None,
    train: pd.Series | None = None,
    units: tuple[int, str] | None = None,
) -> list[FeatureInfo]:
    """FeatureInfo per model input: strings and `category` columns are categorical (levels from
    the training rows `train` mask), numbers numeric; `categorical` also marks numeric codes.
    `units`: (count, name) of the training units (patients, rows); an inferred text feature
    with about one level per unit is refused (IDENTIFIER_LIKE), as its levels would be stored
    with the model."""
    monotone = dict(monotone or {})
    rows = frame if train is None else frame[train.to_numpy()]
    out = []
    for item in features if features is not None else list(frame.columns):
        given = item if isinstance(item, FeatureInfo) else None
        name = given.name if given else str(item)
        if features is None and name in exclude:
            continue
        require(frame, name, role="feature")
        col = frame[name]
        text = _is_text(col)
        if not text and not (
            pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
        ):
            raise ValueError(BAD_FEATURE.format(column=name, dtype=col.dtype))
        cat = text or name in categorical or bool(given and given.categorical)
        levels = levels_of(rows[name]) if text else ()
        if features is None and units is not None and len(levels) >= ID_MIN_LEVELS:
            count, unit = units
            if len(levels) > ID_SHARE * count:
                raise ValueError(
                    IDENTIFIER_LIKE.format(column=name, levels=len(levels), units=count, unit=unit)
                )
        out.append(
            FeatureInfo(
                name,
                monotone=0 if cat else monotone.get(name, given.monotone if given else 0),
                categorical=cat,
                levels=levels,
            )
        )
    if not out:
        raise ValueError(NO_FEATURES)
    return out


def given_split(frame: pd.DataFrame, column: str) -> pd.Series:
    require(frame, column, role="split")
    values = frame[column].fillna("").astype(str)
    bad = sorted(set(values) - {*SPLITS, ""})
    if bad:
        raise ValueError(BAD_SPLIT.format(column=column, values=bad[:5]))
    return pd.Series(values.to_numpy(), index=frame.index, name="split", dtype=str)


def draw_split(
    frame: pd.DataFrame,
    *,
    group: str | None,
    time: str | None,
    sizes: SplitSizes,
    seed: int,
) -> pd.Series:
    """train / valid / calib / test per row.

    - no time: each group (or row) goes to test, valid, calib or train by a seeded hash.
    - time: rows at or after the (1 - test) quantile of time are the test period, rows in the
      preceding valid + calib share the calibration period, earlier rows train; with a group,
      test rows come only from a held-out share of groups (the larger of `sizes.test` and 30 %)
      and no other row of those groups is used, so no patient is in both train and test.
    """
    if group is not None:
        require(frame, group, role="group")
        u = patient_unit(frame[group], seed=seed)
    else:
        u = np.random.default_rng(seed).random(len(frame))
    out = np.full(len(frame), "train", dtype=object)
    if time is None:
        cuts = np.cumsum([sizes.test, sizes.valid, sizes.calib])
        out[u < cuts[2]] = "calib"
        out[u < cuts[1]] = "valid"
        out[u < cuts[0]] = "test"
        return pd.Series(out, index=frame.index, name="split", dtype=str)
    require(frame, time, role="time")
    col = frame[time]
    if pd.api.types.is_numeric_dtype(col.dtype):
        t = col.to_numpy(dtype=float)
    else:
        t = pd.to_datetime(col).to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    test_from = np.quantile(t, 1 - sizes.test)
    calib_from = np.quantile(t, 1 - sizes.test - sizes.valid - sizes.calib)
    in_test, in_calib = t >= test_from, (t >= calib_from) & (t < test_from)
    held = u < max(sizes.test, 0.3) if group is not None else np.zeros(len(u), dtype=bool)
    v = np.random.default_rng(seed + 1).random(len(frame)) if group is None else u
    share = sizes.valid / (sizes.valid + sizes.calib)
    if group is not None:  # rescale the non-held groups' draw to [0, 1)
        cut = max(sizes.test, 0.3)
        v = (u - cut) / (1 - cut)
    out[in_calib & (v < share)] = "valid"
    out[in_calib & (v >= share)] = "calib"
    out[in_test] = "test" if group is None else ""
    if group is not None:
        out[in_test & held] = "test"
        out[~in_test & held] = ""
    return pd.Series(out, index=frame.index, name="split", dtype=str)


def data_digest(frame: pd.DataFrame, *, exclude: Sequence[str] = ()) -> str:
    """A short content hash of the frame (values and column names; `exclude` left out)."""
    cols = [c for c in frame.columns if c not in exclude]
    hashed = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes() + "|".join(map(str, cols)).encode())
    return digest.hexdigest()[:12]
