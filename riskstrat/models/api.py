"""The public modelling API: the project's recipe on any pandas frame with a label column.

    from riskstrat.models import fit
    model = fit(frame, label="readmitted", group="patient_id", time="discharge_date")
    risk = model.predict_proba(frame)        # calibrated probability of the event
    why = model.explain(frame)               # LightGBM pred_contrib (log-odds) + bias
    ev = model.evaluate(subgroups=["age_band"], baselines={"prior": "prior_visits"})
    run = model.log_to_mlflow(tracking_uri="sqlite:///mlflow.db", evaluation=ev)

The recipe: LightGBM (monotone constraints where given, string/`category` columns as native
LightGBM categoricals), early stopping on the valid rows, a calibrator fitted on the calib rows,
baselines calibrated the same way, metrics with bootstrap intervals on the test rows. The CLI's
`riskstrat train` calls this same function (riskstrat.models.train).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from time import time as epoch_seconds
from typing import Any

import numpy as np
import pandas as pd

from riskstrat.logs import log_event
from riskstrat.models.booster import FeatureInfo, ensemble_contributions
from riskstrat.models.bundle import Bundle
from riskstrat.models.config import ModelConfig, merge_overrides
from riskstrat.models.core import Fitted, Scorer, fit_all
from riskstrat.models.evaluate import MODEL, EvalResult, evaluate_scores
from riskstrat.models.frame import (
    SplitSizes,
    data_digest,
    draw_split,
    given_split,
    infer_features,
    label_values,
    require,
)
from riskstrat.models.level import LevelModel
from riskstrat.models.reference import build_reference

LABEL = "label"
SPLIT = "split"
#: Training rows the drift reference is computed from at most (a seeded sample).
REFERENCE_MAX_ROWS = 200_000
BASELINE_NOT_FOUND = "baseline {name!r}: column {column!r} is not in the frame"
SCORE_LENGTH = "baseline {name!r} gave {n} values for {rows} rows"

Baseline = str | Callable[[pd.DataFrame], np.ndarray] | np.ndarray | pd.Series


@dataclass
class Evaluation(EvalResult):
    """Evaluation tables (`overall`, `subgroups`, `reliability`) plus what the plots need."""

    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    contributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: many as-of dates against both oracles (synthetic data; riskstrat.models.dates)
    dates: Any = None

    def flat_metrics(self) -> dict[str, float]:
        """The test table's `<score>/<metric>` plus, when evaluated, `dates/...`."""
        out = super().flat_metrics()
        return out | (self.dates.flat_metrics() if self.dates is not None else {})


@dataclass
class FittedModel:
    """A fitted recipe: the calibrated LightGBM model, its calibrated baselines, the rows of
    each split, and how long the fit took."""

    task: str
    label: str
    config: ModelConfig
    fitted: Fitted
    data: pd.DataFrame  # the input frame + `label` (0/1) + `split`
    group: str | None
    time: str | None
    fit_seconds: float
    started_at: float  # epoch seconds when the fit started
    data_digest: str
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[FeatureInfo]:
        return self.fitted.features

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def split_counts(self) -> dict[str, int]:
        counts = self.data[SPLIT].value_counts()
        return {k: int(counts.get(k, 0)) for k in ("train", "valid", "calib", "test")}

    def rows(self, split: str) -> pd.DataFrame:
        return self.data[self.data[SPLIT] == split]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the event (label 1), one per row: shape (n,)."""
        return self.fitted.predict(frame)

    def explain(self, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values in log-odds per feature plus `bias` (LightGBM pred_contrib); each row
        sums to the model's raw margin (the members' mean for a bagged model)."""
        return ensemble_contributions(self.fitted.boosters, frame, levels=self.fitted.levels)

    def evaluate(
        self,
        frame: pd.DataFrame | None = None,
        *,
        subgroups: Sequence[str] | pd.DataFrame | None = None,
        baselines: Mapping[str, Baseline] | None = None,
        practice: str | np.ndarray | None = None,
        bootstrap: int | None = None,
    ) -> Evaluation:
        """AUROC, AUPRC, Brier, ECE, calibration slope/intercept with bootstrap intervals for
        the model, its fitted baselines and any `baselines` given here (probabilities: a
        column name, an array, or a function of the frame), on `frame` (default: the held-out
        test rows). `subgroups`: column names of `frame`, or a frame of group labels aligned
        with it. `practice`: a column or array; top-listed PPV is per practice."""
        test = self.rows("test") if frame is None else frame
        y = label_values(test, self.label if frame is not None else LABEL)
        scores = {MODEL: self.predict_proba(test)} | self.fitted.baseline_scores(test)
        for name, given in (baselines or {}).items():
            scores[name] = _score(name, given, test)
        if isinstance(subgroups, pd.DataFrame):
            groups = subgroups.reset_index(drop=True)
        elif subgroups:
            for col in subgroups:
                require(test, col, role="subgroup")
            groups = test[list(subgroups)].astype(str).reset_index(drop=True)
        else:
            groups = None
        if isinstance(practice, str):
            require(test, practice, role="practice")
            practice = test[practice].to_numpy()
        params = self.config.evaluation
        if bootstrap is not None:
            params = params.model_copy(update={"bootstrap": bootstrap})
        result = evaluate_scores(
            y, scores, practice=practice, groups=groups, params=params, seed=self.config.seed
        )
        n = min(len(test), params.shap_sample)
        sample = test.sample(n=n, random_state=self.config.seed)
        return Evaluation(
            overall=result.overall,
            subgroups=result.subgroups,
            reliability=result.reliability,
            y=y.astype(float),
            scores=scores,
            contributions=self.explain(sample),
        )

    def bundle(self, *, meta: Mapping[str, Any] | None = None) -> Bundle:
        """The servable bundle (booster, calibrator, drift reference, feature metadata)."""
        train = self.rows("train")
        if len(train) > REFERENCE_MAX_ROWS:
            train = train.sample(n=REFERENCE_MAX_ROWS, random_state=self.config.seed)
        numeric = [f.name for f in self.features if not f.levels]
        reference = build_reference(
            train,
            self.predict_proba(train),
            features=numeric,
            bins=self.config.evaluation.reference_bins,
        )
        info = {
            "features": [
                {"name": f.name, "monotone": f.monotone, "categorical": f.categorical}
                for f in self.features
            ],
            "categories": {f.name: list(f.levels) for f in self.features if f.levels},
            "data_snapshot_hash": self.data_digest,
        }
        if self.fitted.level is not None:
            info["level"] = self.fitted.level.to_dict()
        return Bundle(
            task=self.task,
            booster=self.fitted.booster,
            members=self.fitted.members,
            calibrator=self.fitted.calibrator,
            reference=reference,
            meta=info | dict(meta or {}),
        )

    def log_to_mlflow(
        self,
        *,
        tracking_uri: str,
        evaluation: Evaluation | None = None,
        experiment: str | None = None,
        register: bool = True,
        description: str | None = None,
        manifest: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        bundle_meta: Mapping[str, Any] | None = None,
    ) -> Any:
        """One MLflow run (named `<task>-<date>-<data hash>`, spanning the fit): params,
        namespaced metrics (`model/auroc`, `<baseline>/auroc`...), the train/test datasets
        (digest, schema, rows; the group column is never logged), evaluation tables and plots,
        the model (registered as `riskstrat-<task>`: first version champion, later challenger)
        and its model card, linked from the version's description. -> riskstrat.models.
        mlflow_log.LoggedRun."""
        from riskstrat.models.mlflow_log import log_fitted

        return log_fitted(
            self,
            evaluation=evaluation or self.evaluate(),
            tracking_uri=tracking_uri,
            experiment=experiment,
            register=register,
            description=description,
            manifest=dict(manifest or {}),
            tags=dict(tags or {}),
            bundle_meta=dict(bundle_meta or {}),
        )


def _score(name: str, given: Baseline, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(given, str):
        if given not in frame.columns:
            raise KeyError(BASELINE_NOT_FOUND.format(name=name, column=given))
        values = frame[given].fillna(0).to_numpy(dtype=float)
    elif callable(given):
        values = np.asarray(given(frame), dtype=float)
    else:
        values = np.asarray(given, dtype=float)
    if len(values) != len(frame):
        raise ValueError(SCORE_LENGTH.format(name=name, n=len(values), rows=len(frame)))
    return values


def _scorer(name: str, given: str | Callable[[pd.DataFrame], np.ndarray]) -> Scorer:
    return lambda x: _score(name, given, x)


def fit(
    frame: pd.DataFrame | Any,
    *,
    label: str,
    task: str = "custom",
    features: Sequence[str | FeatureInfo] | None = None,
    exclude: Sequence[str] = (),
    categorical: Sequence[str] = (),
    monotone: Mapping[str, int] | None = None,
    group: str | None = None,
    time: str | None = None,
    split: str | None = None,
    sizes: SplitSizes | None = None,
    baselines: Mapping[str, str | Callable[[pd.DataFrame], np.ndarray]] | None = None,
    logistic: bool = True,
    config: ModelConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    data_hash: str | None = None,
    level: LevelModel | None = None,
) -> FittedModel:
    """Fit the recipe on `frame`, a pandas DataFrame or a pyarrow Table (see the module
    docstring and docs/models.md).

    label: 0/1 column. features: columns to use (default: every other column except `exclude`,
    `group`, `time`, `split`). Strings and `category` columns are categorical; `categorical`
    marks numeric codes as categorical too; `monotone`: {column: +1 | -1}. split: a column of
    train/valid/calib/test, else rows are split by a seeded hash of `group` (or of rows), after a
    temporal cut on `time` when given (test = latest). baselines: name -> column or function of
    the frame giving a raw score, calibrated on the calib rows like the model; `logistic` adds a
    logistic-regression baseline. config / overrides: a ModelConfig (default: its defaults for
    `task`) and nested overrides, e.g. {"lightgbm": {"n_estimators": 200}}. level: a fitted
    calendar level forecast (riskstrat.models.level); the frame then needs `index_date`.
    """
    started = epoch_seconds()
    if not isinstance(frame, pd.DataFrame) and hasattr(frame, "to_pandas"):
        frame = frame.to_pandas()  # a pyarrow Table (strings stay strings: categorical)
    config = config or ModelConfig(task=task)
    if overrides:
        config = ModelConfig.model_validate(
            merge_overrides(config.model_dump(mode="json"), dict(overrides))
        )
    y = label_values(frame, label)
    if split is not None:
        assigned = given_split(frame, split)
    else:
        assigned = draw_split(
            frame, group=group, time=time, sizes=sizes or SplitSizes(), seed=config.seed
        )
    reserved = [c for c in (label, group, time, split) if c]
    training = (assigned == "train").to_numpy()
    units = (
        (int(frame.loc[training, group].nunique()), "groups")
        if group
        else (int(training.sum()), "rows")
    )
    infos = infer_features(
        frame,
        features=features,
        exclude=[*reserved, *exclude],
        categorical=categorical,
        monotone=monotone,
        train=assigned == "train",
        units=units,
    )
    data = frame.assign(**{LABEL: y, SPLIT: assigned.to_numpy()})
    scorers = {name: _scorer(name, given) for name, given in (baselines or {}).items()}
    for name, given in (baselines or {}).items():
        if isinstance(given, str):
            require(frame, given, role=f"baseline {name!r}")
    clock = perf_counter()
    fitted = fit_all(
        data, features=infos, config=config, baselines=scorers, logistic=logistic, level=level
    )
    seconds = perf_counter() - clock
    digest = data_hash or data_digest(frame, exclude=[c for c in (group,) if c])
    log_event("models.fitted", task=config.task, seconds=round(seconds, 2), data=digest)
    return FittedModel(
        task=config.task,
        label=label,
        config=config,
        fitted=fitted,
        data=data,
        group=group,
        time=time,
        fit_seconds=seconds,
        started_at=started,
        data_digest=digest,
    )
