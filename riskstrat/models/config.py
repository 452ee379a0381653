"""Model configuration: configs/models/<task>.yaml, one file per prediction task.

Everything that decides what model comes out of a training run lives here (LightGBM parameters,
early stopping, calibration, the split rules, baselines, evaluation settings and the promotion
gate), so the config hash in the run manifest pins the model down together with the data hash.
Split rules are relative to the data (days from the extract's start and end), never fixed dates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from riskstrat.config import (
    CONFIG_ERROR,
    ConfigError,
    StrictModel,
    config_dir,
    load_yaml,
    parse_config,
)

MODELS_DIR = "models"
#: The model registered, its card and its manifest are named by `task`: it must be the file's.
MODEL_TASK_MISMATCH = "task {task!r} does not match the file name {stem!r}, make them the same"
SLOPE_BOUNDS = "slope_bounds {bounds} must be [low, high] with low < 1 < high"
SHARES_IN_0_1 = "every value must lie strictly between 0 and 1 (a share: 0.05 = 5 %), got {values}"
DAYS_POSITIVE = "every value must be a whole number of days >= 1, got {values}"
BAG_NEEDS_FOLDS = (
    "calibration.bag_folds scores with the cross-fit's fold boosters: it needs "
    "calibration.cross_fit_folds > 1, got {folds}"
)


class LightGBMParams(StrictModel):
    objective: Literal["binary"] = "binary"
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    n_estimators: int = Field(default=600, ge=1)
    num_leaves: int = Field(default=31, ge=2)
    min_child_samples: int = Field(default=100, ge=1)
    feature_fraction: float = Field(default=0.9, gt=0, le=1)
    bagging_fraction: float = Field(default=0.8, gt=0, le=1)
    bagging_freq: int = Field(default=1, ge=0)
    lambda_l2: float = Field(default=1.0, ge=0)
    max_bin: int = Field(default=255, ge=2)
    num_threads: int = Field(default=2, ge=1)
    #: How monotone constraints are enforced (LightGBM: basic | intermediate | advanced).
    monotone_constraints_method: Literal["basic", "intermediate", "advanced"] = "intermediate"


class EarlyStopping(StrictModel):
    rounds: int = Field(default=50, ge=1)
    metric: Literal["binary_logloss", "auc"] = "binary_logloss"


class SplitRules(StrictModel):
    """Periods relative to the extract (see docs/models.md for the picture)."""

    #: Days of history every training index needs before it (features look back a year).
    warmup_days: int = Field(default=365, ge=0)
    #: crisis: spacing of as-of dates, counted back from the test as-of.
    step_days: int = Field(default=28, ge=1)
    #: Length of the calibration/validation period (crisis: as-of dates inside it; readmission:
    #: discharges inside it). It ends one horizon before the test period starts.
    calibration_days: int = Field(default=56, ge=1)
    #: readmission: discharges in the last `test_days` whose label window is inside the extract.
    #: crisis: the test period is the single latest as-of date.
    test_days: int = Field(default=182, ge=1)
    #: Share of patients (by a seeded hash of patient_id) held out for the test: train and
    #: calibration rows never come from them, test rows only from them.
    test_patient_share: float = Field(default=0.4, gt=0, lt=1)
    #: Share of calibration-period patients whose rows drive early stopping; the rest calibrate.
    validation_share: float = Field(default=0.5, gt=0, lt=1)
    #: Upper bound on training rows (a seeded sample of rows); null = all.
    max_train_rows: int | None = Field(default=None, ge=1000)
    #: Upper bound on each of the valid and calib splits (a seeded sample); null = all. At 1M
    #: patients the calibration period alone gives ~1M rows: 200k of each is ample and halves
    #: the feature build.
    max_calib_rows: int | None = Field(default=None, ge=1000)


class Calibration(StrictModel):
    method: Literal["isotonic", "centred_isotonic", "platt"] = "isotonic"
    #: > 1: the calibrator is also fitted on out-of-fold raw scores of the training rows (this
    #: many patient-disjoint folds, each scored by a booster fitted without it), not only on the
    #: calib rows (docs/models.md "Cross-fitted calibration"); 0 = calib rows only.
    cross_fit_folds: int = Field(default=0, ge=0, le=20)
    #: True: the raw score is the mean log-odds of the full booster and the cross-fit's fold
    #: boosters (a bagged ensemble, lower variance; all stored in the bundle), not the full
    #: booster's alone (docs/models.md "Bagging the fold boosters"). Needs cross_fit_folds > 1.
    bag_folds: bool = False

    @model_validator(mode="after")
    def _bag_needs_folds(self) -> Calibration:
        if self.bag_folds and self.cross_fit_folds < 2:
            raise ValueError(BAG_NEEDS_FOLDS.format(folds=self.cross_fit_folds))
        return self

    #: Cross-fit at most this many training rows (a seeded sample of whole patients,
    #: riskstrat.models.crossfit.cross_fit_sample); null = all. The calibrator needs a few
    #: hundred thousand rows, not every training row: k boosters on a million rows cost more
    #: than the rest of a training run.
    cross_fit_max_rows: int | None = Field(default=None, ge=1000)


class Level(StrictModel):
    """The calendar level forecast (riskstrat.models.level, docs/models.md "Level forecast")."""

    #: Fit the store's weekly emergency-admission rate before the training cutoff and shift
    #: each scored row's logit by its label window's forecast level vs the calibration rows'.
    enabled: bool = False
    #: Annual harmonics (cos + sin pairs) of the Poisson GLM.
    harmonics: int = Field(default=1, ge=0, le=4)
    #: Forecast with the fitted linear trend (False: the season only; the trend is still fitted
    #: so it does not bias the season). docs/models.md says why this is a measured choice.
    trend: bool = True
    #: Fewer whole weeks of history than this before the cutoff: an error, not a guess.
    min_weeks: int = Field(default=52, ge=8)
    #: How the offset moves a risk: `cloglog` scales the window's cumulative hazard (the level
    #: is a rate multiplier), `logit` shifts the logit (riskstrat.models.level; measured in
    #: docs/models.md "Calibration of the old").
    link: Literal["logit", "cloglog"] = "cloglog"


class Baselines(StrictModel):
    """Feature names each baseline reads; a baseline whose features are absent is skipped."""

    #: Prior-utilisation rule: the count of emergency admissions in the last year.
    prior_utilisation: str = "emerg_adm_365d"
    logistic: bool = True
    logistic_max_iter: int = Field(default=500, ge=10)
    #: LACE: the column holding the LACE points total (L + A + C + E); null = not for this task.
    lace: str | None = None
    #: HOSPITAL-like score: each component's value is the sum of its listed columns.
    hospital: dict[Literal["oncology", "index_urgent", "admissions", "los"], list[str]] | None = (
        None
    )


class Evaluation(StrictModel):
    bootstrap: int = Field(default=200, ge=0)
    ece_bins: int = Field(default=10, ge=2)
    top_fractions: tuple[float, ...] = (0.005, 0.02, 0.05)

    @field_validator("top_fractions")
    @classmethod
    def _shares(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not all(0 < v < 1 for v in value):
            raise ValueError(SHARES_IN_0_1.format(values=list(value)))
        return value

    #: Subgroups smaller than this get no bootstrap interval (reported, flagged as small).
    min_group_rows: int = Field(default=100, ge=1)
    #: `max_subgroup_gap` (overall table, MLflow) is over subgroups of at least this many rows.
    gap_min_rows: int = Field(default=500, ge=1)
    shap_sample: int = Field(default=2000, ge=10)
    reference_bins: int = Field(default=10, ge=2)
    #: Monte Carlo replays of the no-foresight oracle (synthetic data, `--truth`; docs/models.md).
    oracle_draws: int = Field(default=20, ge=2)
    #: Many as-of dates (synthetic data, riskstrat.models.dates): every this many days back
    #: from the test date (crisis) or per run window over the test discharges (readmission)...
    dates_every_days: int = Field(default=7, ge=1)
    #: ... at most this many dates, none before the calibration period ends (crisis)
    dates_count: int = Field(default=13, ge=1)
    #: held-out patients scored at every date (a seeded sample; crisis)
    dates_max_patients: int = Field(default=4000, ge=10)
    #: Monte Carlo draws of the no-foresight oracle on those rows (crisis)
    dates_oracle_draws: int = Field(default=4, ge=2)
    #: patient-cluster bootstrap resamples of the mean over the dates
    dates_bootstrap: int = Field(default=200, ge=0)


class Gate(StrictModel):
    """Promotion gate: a challenger replaces the champion only if every rule passes."""

    auroc_margin: float = Field(default=0.005, ge=0, le=1)  # challenger AUROC >= champion - margin
    max_ece: float = Field(default=0.02, ge=0, le=1)
    slope_bounds: tuple[float, float] = (0.8, 1.2)

    @field_validator("slope_bounds")
    @classmethod
    def _around_one(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < 1 < value[1]:
            raise ValueError(SLOPE_BOUNDS.format(bounds=list(value)))
        return value

    subgroup_min_rows: int = Field(default=500, ge=1)
    subgroup_auroc_margin: float = Field(default=0.03, ge=0, le=1)
    subgroup_gap_margin: float = Field(default=0.02, ge=0, le=1)  # |calibration gap| worse by more
    #: Refuse a challenger unless its AUROC is above the champion's beyond noise (the paired
    #: bootstrap interval of challenger - champion lies above 0).
    require_improvement: bool = False


class Card(StrictModel):
    """Model card: who answers for the model, and the bounds its generated limitations use."""

    owner: str = "Population health analytics team (model owner)"
    contact: str = "riskstrat-models@example.nhs.uk"
    clinical_safety_officer: str = "Named Clinical Safety Officer (DCB0129 / DCB0160)"
    #: A subgroup of at least `subgroup_min_rows` rows with AUROC below this is a limitation.
    min_subgroup_auroc: float = Field(default=0.65, gt=0, le=1)
    #: ... or with |observed - predicted| above this.
    max_subgroup_gap: float = Field(default=0.02, ge=0)
    subgroup_min_rows: int = Field(default=300, ge=1)
    #: Highest-risk reliability bin: predicted / observed outside [1 / r, r], and the mean
    #: prediction outside the observed rate's 95% interval, is a limitation.
    top_bin_ratio: float = Field(default=1.1, gt=1)
    #: Fewer test events than this: the test size itself is a limitation.
    min_test_events: int = Field(default=200, ge=1)


class Backtest(StrictModel):
    origins: int = Field(default=3, ge=1)
    origin_step_days: int = Field(default=91, ge=1)
    stale_lags_days: tuple[int, ...] = (91, 182)

    @field_validator("stale_lags_days")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not all(v >= 1 for v in value):
            raise ValueError(DAYS_POSITIVE.format(values=list(value)))
        return value


class ModelConfig(StrictModel):
    task: str
    seed: int = Field(default=7, ge=0)  # numpy refuses a negative seed deep in training
    lightgbm: LightGBMParams = LightGBMParams()
    early_stopping: EarlyStopping = EarlyStopping()
    split: SplitRules = SplitRules()
    calibration: Calibration = Calibration()
    level: Level = Level()
    baselines: Baselines = Baselines()
    evaluation: Evaluation = Evaluation()
    gate: Gate = Gate()
    card: Card = Card()
    backtest: Backtest = Backtest()


def model_config_path(task_name: str) -> Path:
    return config_dir() / MODELS_DIR / f"{task_name}.yaml"


def load_model_config(task_name: str, *, overrides: dict[str, Any] | None = None) -> ModelConfig:
    """configs/models/<task>.yaml, with optional nested overrides (tests: fewer trees)."""
    path = model_config_path(task_name)
    config = load_yaml(path, ModelConfig)
    if config.task != task_name:
        problem = MODEL_TASK_MISMATCH.format(task=config.task, stem=task_name)
        raise ConfigError(CONFIG_ERROR.format(file=path, key="task", problem=problem))
    if overrides:
        raw = merge_overrides(config.model_dump(mode="json"), overrides)
        config = parse_config(raw, ModelConfig, source=path)
    return config


def merge_overrides(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = value
    return out
