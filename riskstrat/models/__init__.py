"""riskstrat.models: the project's modelling recipe as a public API (docs/models.md).

    from riskstrat.models import fit
    model = fit(frame, label="readmitted", group="patient_id")

Names are re-exported lazily from riskstrat.models.api (and config, fit, frame), so importing a
submodule such as riskstrat.models.registry does not load LightGBM.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "fit": "riskstrat.models.api",
    "FittedModel": "riskstrat.models.api",
    "Evaluation": "riskstrat.models.api",
    "data_digest": "riskstrat.models.frame",
    "SplitSizes": "riskstrat.models.frame",
    "FeatureInfo": "riskstrat.models.booster",
    "ModelConfig": "riskstrat.models.config",
    "load_model_config": "riskstrat.models.config",
    "LoggedRun": "riskstrat.models.mlflow_log",
    "load_model": "riskstrat.models.registry",
}
__all__ = [
    "Evaluation",
    "FeatureInfo",
    "FittedModel",
    "LoggedRun",
    "ModelConfig",
    "SplitSizes",
    "data_digest",
    "fit",
    "load_model",
    "load_model_config",
]

if TYPE_CHECKING:
    from riskstrat.models.api import Evaluation, FittedModel, fit
    from riskstrat.models.booster import FeatureInfo
    from riskstrat.models.config import ModelConfig, load_model_config
    from riskstrat.models.frame import SplitSizes, data_digest
    from riskstrat.models.mlflow_log import LoggedRun
    from riskstrat.models.registry import load_model


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'riskstrat.models' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
