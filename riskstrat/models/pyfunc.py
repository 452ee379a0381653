"""MLflow pyfunc wrapper: `mlflow.pyfunc.load_model(...).predict(frame)` gives calibrated risk.

Logged as a model from code (pyfunc_entry.py), so loading it executes our module instead of
unpickling an object.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.models.bundle import Bundle
from riskstrat.models.mlflow_import import mlflow

BUNDLE_ARTIFACT = "bundle"
ENTRY_FILE = Path(__file__).with_name("pyfunc_entry.py")


class RiskPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the bundle from the model's artifacts; predict = calibrated probability."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.bundle = Bundle.load(Path(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        return self.bundle.predict_risk(model_input)
