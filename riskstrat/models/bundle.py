"""The model bundle: booster + calibrator + feature list + drift reference, as plain files.

The bundle is the MLflow model's artifact (riskstrat.models.pyfunc wraps it) and the one object
scoring, explanations and monitoring use: predict_risk (calibrated probability), contributions
(pred_contrib log-odds + bias), feature_names and reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskstrat.models.booster import contributions, raw_score
from riskstrat.models.calibrate import Calibrator

BOOSTER_FILE = "booster.txt"
CALIBRATOR_FILE = "calibrator.json"
REFERENCE_FILE = "reference.json"
META_FILE = "meta.json"
MISSING_FEATURES = "model {name!r} needs feature column(s) not in the input: {missing}"


@dataclass
class Bundle:
    task: str
    booster: lgb.Booster
    calibrator: Calibrator
    reference: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def levels(self) -> dict[str, list[str]]:
        """String/`category` features' levels (their codes are what the booster splits on)."""
        return dict(self.meta.get("categories") or {})

    @property
    def feature_names(self) -> list[str]:
        return list(self.booster.feature_name())

    def _check(self, x: pd.DataFrame) -> None:
        missing = [f for f in self.feature_names if f not in x.columns]
        if missing:
            raise KeyError(MISSING_FEATURES.format(name=self.task, missing=", ".join(missing)))

    def predict_risk(self, x: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the task's event, one per row."""
        self._check(x)
        return self.calibrator(raw_score(self.booster, x, levels=self.levels))

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """SHAP values (log-odds) per feature plus `bias`, from LightGBM's pred_contrib."""
        self._check(x)
        return contributions(self.booster, x, levels=self.levels)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(
            str(folder / BOOSTER_FILE), num_iteration=self.booster.best_iteration
        )
        (folder / CALIBRATOR_FILE).write_text(json.dumps(self.calibrator.to_dict()))
        (folder / REFERENCE_FILE).write_text(json.dumps(self.reference))
        (folder / META_FILE).write_text(json.dumps({"task": self.task, **self.meta}, indent=2))
        return folder

    @classmethod
    def load(cls, folder: Path) -> Bundle:
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        booster = lgb.Booster(model_file=str(folder / BOOSTER_FILE))
        return cls(
            task=meta.pop("task"),
            booster=booster,
            calibrator=Calibrator.from_dict(json.loads((folder / CALIBRATOR_FILE).read_text())),
            reference=json.loads((folder / REFERENCE_FILE).read_text()),
            meta=meta,
        )
