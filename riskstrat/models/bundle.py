"""The model bundle: booster + calibrator + feature list + drift reference, as plain files.

The bundle is the MLflow model's artifact (riskstrat.models.pyfunc wraps it) and the one object
scoring, explanations and monitoring use: predict_risk (calibrated probability, shifted by the
calendar level forecast of each row's label window when the bundle has one: meta["level"],
riskstrat.models.level), contributions (pred_contrib log-odds + bias), feature_names and
reference. A bagged model (`calibration.bag_folds`) also holds its fold boosters (`members`,
files member_<k>.txt listed in meta.json); its raw score is the mean log-odds of booster and
members and its contributions their mean. A bundle without members scores as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.models.booster import ensemble_contributions, ensemble_raw_score
from riskstrat.models.calibrate import Calibrator
from riskstrat.models.core import level_shifted
from riskstrat.models.level import LevelModel

BOOSTER_FILE = "booster.txt"
CALIBRATOR_FILE = "calibrator.json"
REFERENCE_FILE = "reference.json"
META_FILE = "meta.json"
MEMBER_FILE = "member_{k}.txt"
#: meta.json key listing the member files (absent: a single booster)
MEMBERS_META = "member_files"
LEVEL_META = "level"
INDEX_DATE = "index_date"
MISSING_FEATURES = "model {name!r} needs feature column(s) not in the input: {missing}"


@dataclass
class Bundle:
    task: str
    booster: lgb.Booster
    calibrator: Calibrator
    reference: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    #: further boosters of a bagged ensemble (module doc); empty = the booster alone
    members: tuple[lgb.Booster, ...] = ()

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        return (self.booster, *self.members)

    @property
    def levels(self) -> dict[str, list[str]]:
        """String/`category` features' levels (their codes are what the booster splits on)."""
        return dict(self.meta.get("categories") or {})

    @property
    def feature_names(self) -> list[str]:
        return list(self.booster.feature_name())

    @property
    def level(self) -> LevelModel | None:
        """The calendar level forecast (None: risk is the calibrated score as it is)."""
        data = self.meta.get(LEVEL_META)
        return LevelModel.from_dict(data) if data else None

    @property
    def input_names(self) -> list[str]:
        """Columns predict_risk reads: the features, plus `index_date` with a level forecast."""
        return [*self.feature_names, *([INDEX_DATE] if self.meta.get(LEVEL_META) else [])]

    def _check(self, x: pd.DataFrame) -> None:
        missing = [f for f in self.feature_names if f not in x.columns]
        if missing:
            raise KeyError(MISSING_FEATURES.format(name=self.task, missing=", ".join(missing)))

    def predict_risk(self, x: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the task's event, one per row (level-shifted: module doc)."""
        self._check(x)
        risk = self.calibrator(ensemble_raw_score(self.boosters, x, levels=self.levels))
        return level_shifted(risk, x, level=self.level, task=self.task)

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """SHAP values (log-odds) per feature plus `bias`, from LightGBM's pred_contrib (the
        members' mean for an ensemble); each row sums to the raw score's log-odds."""
        self._check(x)
        return ensemble_contributions(self.boosters, x, levels=self.levels)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(
            str(folder / BOOSTER_FILE), num_iteration=self.booster.best_iteration
        )
        files = [MEMBER_FILE.format(k=k) for k in range(1, len(self.members) + 1)]
        for name, member in zip(files, self.members, strict=True):
            member.save_model(str(folder / name), num_iteration=member.best_iteration)
        (folder / CALIBRATOR_FILE).write_text(json.dumps(self.calibrator.to_dict()))
        (folder / REFERENCE_FILE).write_text(json.dumps(self.reference))
        meta = {"task": self.task, **self.meta, **({MEMBERS_META: files} if files else {})}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def load(cls, folder: Path) -> Bundle:
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        booster = lgb.Booster(model_file=str(folder / BOOSTER_FILE))
        members = tuple(
            lgb.Booster(model_file=str(folder / name)) for name in meta.pop(MEMBERS_META, [])
        )
        return cls(
            task=meta.pop("task"),
            booster=booster,
            calibrator=Calibrator.from_dict(json.loads((folder / CALIBRATOR_FILE).read_text())),
            reference=json.loads((folder / REFERENCE_FILE).read_text()),
            meta=meta,
            members=members,
        )
