"""Fit the LightGBM model: monotone constraints and categoricals from the feature catalogue,
early stopping on the validation slice, seeded and single-pass deterministic."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.models.config import EarlyStopping, LightGBMParams

BAD_MONOTONE = "feature {name!r}: monotone direction must be -1, 0 or 1, got {value!r}"
NO_EVENTS = "{split}: {n} rows but {events} events: the model needs both outcomes to learn from"
TOO_FEW_TRAIN = (
    "train: {n} rows, fewer than twice lightgbm.min_child_samples ({m}): LightGBM cannot split "
    "them and the model would score every row alike (AUROC 0.5); train on a longer extract, a "
    "shorter split.warmup_days or more rows (--max-rows)"
)
#: Threads for predict/pred_contrib: 0 = all cores (OpenMP default). The training config's
#: `num_threads` is saved into the model file but is a training choice; each row's prediction is
#: independent of the others, so the values are identical whatever the thread count.
PREDICT_THREADS = 0
#: Rows per predict call: the model matrix is made (and written to fresh memory) one chunk at a
#: time, 64k rows x ~70 features = ~35 MB, instead of ~470 MB at once for 880k rows. New memory
#: is slow to touch on the benchmark VM (docs/scale.md, "Steady-state week ... perfcore").
PREDICT_CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class FeatureInfo:
    """What the model needs to know about one input column."""

    name: str
    monotone: int = 0  # +1: risk never falls as the value rises; -1: never rises; 0: free
    categorical: bool = False
    #: A string/`category` column's levels (their order gives the codes LightGBM splits on);
    #: empty for numeric columns, including numeric category codes (used as they are).
    levels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.monotone not in (-1, 0, 1):
            raise ValueError(BAD_MONOTONE.format(name=self.name, value=self.monotone))


def lgb_params(
    params: LightGBMParams, *, features: Sequence[FeatureInfo], stopping: EarlyStopping, seed: int
) -> dict[str, object]:
    """LightGBM parameters; categoricals are never constrained (LightGBM does not allow it)."""
    out = params.model_dump(exclude={"n_estimators"})
    out |= {
        "metric": stopping.metric,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
        "monotone_constraints": [0 if f.categorical else f.monotone for f in features],
    }
    return out


def matrix(
    x: pd.DataFrame, names: Sequence[str], *, levels: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    """float64 model matrix; a column with `levels` is coded 0..k-1 by them (unseen or missing
    values are NaN, which LightGBM treats as missing for a categorical feature)."""
    levels = levels or {}
    if not levels:
        return x[list(names)].to_numpy(dtype=np.float64)
    out = np.empty((len(x), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        if name in levels:
            col = x[name]
            values = np.where(col.notna().to_numpy(), col.astype(str).to_numpy(), None)
            codes = pd.Index(list(levels[name]), dtype=object).get_indexer(values)
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = x[name].to_numpy(dtype=np.float64)
    return out


def feature_levels(features: Sequence[FeatureInfo]) -> dict[str, tuple[str, ...]]:
    return {f.name: f.levels for f in features if f.levels}


def check_outcomes(y: np.ndarray, *, split: str) -> None:
    events = int(np.sum(y))
    if events == 0 or events == len(y):
        raise ValueError(NO_EVENTS.format(split=split, n=len(y), events=events))


def check_train_rows(n: int, *, min_child_samples: int) -> None:
    """Refuse a training set LightGBM cannot make one split of (each leaf needs
    `min_child_samples` rows): it would fit a constant model without a word."""
    if n < 2 * min_child_samples:
        raise ValueError(TOO_FEW_TRAIN.format(n=n, m=min_child_samples))


def fit_booster(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    features: Sequence[FeatureInfo],
    params: LightGBMParams,
    stopping: EarlyStopping,
    seed: int,
    callbacks: Sequence[Callable[..., None]] = (),
) -> lgb.Booster:
    """Boost up to n_estimators rounds, stopping when the validation loss stops improving."""
    check_outcomes(y_train, split="train")
    names = [f.name for f in features]
    cats = [f.name for f in features if f.categorical]
    levels = feature_levels(features)
    train = lgb.Dataset(
        matrix(x_train, names, levels=levels),
        label=np.asarray(y_train, dtype=float),
        feature_name=names,
        categorical_feature=cats,
        free_raw_data=True,
    )
    valid = lgb.Dataset(
        matrix(x_valid, names, levels=levels),
        label=np.asarray(y_valid, dtype=float),
        reference=train,
    )
    return lgb.train(
        lgb_params(params, features=features, stopping=stopping, seed=seed),
        train,
        num_boost_round=params.n_estimators,
        valid_sets=[valid],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(stopping.rounds, verbose=False), *callbacks],
    )


def predict_matrix(
    x: pd.DataFrame, names: Sequence[str], *, levels: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    """The model matrix for predicting: `matrix`'s values, written column by column into one
    column-major (Fortran-ordered) float64 array, which LightGBM reads without copying. Each
    column is one contiguous copy (a row-major array would be written with a stride of the row
    length: cache-hostile, most of the time at 1M rows). `x` may hold other columns (keys,
    practice): nothing but this one array is allocated at the matrix's size."""
    levels = levels or {}
    out = np.empty((len(x), len(names)), dtype=np.float64, order="F")
    for j, name in enumerate(names):
        if name in levels:
            out[:, j] = matrix(x[[name]], [name], levels=levels)[:, 0]
        else:
            out[:, j] = x[name].to_numpy(dtype=np.float64)
    return out


def _chunk_matrices(
    x: pd.DataFrame, names: Sequence[str], *, levels: Mapping[str, Sequence[str]] | None
) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, model matrix) of each PREDICT_CHUNK_ROWS-row chunk of `x`: each row's
    prediction depends on that row alone, so chunked values are those of one call on the whole
    matrix, and the matrix is never made at the frame's size."""
    for start in range(0, len(x), PREDICT_CHUNK_ROWS):
        chunk = x.iloc[start : start + PREDICT_CHUNK_ROWS]
        yield start, predict_matrix(chunk, names, levels=levels)


def _predict(
    booster: lgb.Booster,
    x: pd.DataFrame,
    *,
    levels: Mapping[str, Sequence[str]] | None,
    margin: bool = False,
) -> np.ndarray:
    """Probability (or log-odds margin) from the best iteration, a chunk at a time."""
    out = np.empty(len(x), dtype=np.float64)
    for start, chunk in _chunk_matrices(x, booster.feature_name(), levels=levels):
        out[start : start + len(chunk)] = booster.predict(
            chunk,
            num_iteration=booster.best_iteration,
            raw_score=margin,
            num_threads=PREDICT_THREADS,
        )
    return out


def raw_score(
    booster: lgb.Booster, x: pd.DataFrame, *, levels: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    """Uncalibrated probability from the best iteration (chunked: `_predict`)."""
    return _predict(booster, x, levels=levels)


def contributions(
    booster: lgb.Booster, x: pd.DataFrame, *, levels: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """pred_contrib: per-feature log-odds contributions plus `bias` (they sum to the raw margin)."""
    names = booster.feature_name()
    values = booster.predict(
        predict_matrix(x, names, levels=levels),
        num_iteration=booster.best_iteration,
        pred_contrib=True,
        num_threads=PREDICT_THREADS,
    )
    return pd.DataFrame(values, columns=[*names, "bias"], index=x.index)


def raw_margin(
    booster: lgb.Booster, x: pd.DataFrame, *, levels: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    """Log-odds margin from the best iteration (the scale an ensemble averages on)."""
    return _predict(booster, x, levels=levels, margin=True)


def ensemble_raw_score(
    boosters: Sequence[lgb.Booster],
    x: pd.DataFrame,
    *,
    levels: Mapping[str, Sequence[str]] | None = None,
) -> np.ndarray:
    """Uncalibrated probability of an ensemble: the logistic of its members' mean log-odds
    margin (on that scale its contributions, the members' mean, add up to it). One member:
    exactly `raw_score`."""
    if len(boosters) == 1:
        return raw_score(boosters[0], x, levels=levels)
    margin = np.empty(len(x), dtype=np.float64)
    for start, chunk in _chunk_matrices(x, boosters[0].feature_name(), levels=levels):
        margin[start : start + len(chunk)] = np.mean(  # each chunk's matrix made once
            [
                b.predict(chunk, num_iteration=b.best_iteration, raw_score=True,
                          num_threads=PREDICT_THREADS)
                for b in boosters
            ],
            axis=0,
        )  # fmt: skip
    return 1.0 / (1.0 + np.exp(-margin))


def ensemble_contributions(
    boosters: Sequence[lgb.Booster],
    x: pd.DataFrame,
    *,
    levels: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """The members' mean pred_contrib: sums to the ensemble's margin (`ensemble_raw_score`),
    and each value is still an exact SHAP value (SHAP is linear in the model)."""
    if len(boosters) == 1:
        return contributions(boosters[0], x, levels=levels)
    names = boosters[0].feature_name()
    x_matrix = predict_matrix(x, names, levels=levels)  # made once for every member
    values = [
        b.predict(x_matrix, num_iteration=b.best_iteration, pred_contrib=True,
                  num_threads=PREDICT_THREADS)
        for b in boosters
    ]  # fmt: skip
    total = values[0].copy()
    for more in values[1:]:
        total += more
    return pd.DataFrame(total / len(values), columns=[*names, "bias"], index=x.index)
