"""Fixtures over the synthetic feature matrix (tests/models/model_frames.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_frames import FAST, synthetic_matrix

from riskstrat.models.config import load_model_config


@pytest.fixture
def fast_config():
    return load_model_config("crisis", overrides=FAST)


@pytest.fixture(scope="session")
def split_matrix() -> pd.DataFrame:
    frame = synthetic_matrix(24_000, seed=1)
    frame["split"] = np.repeat(["train", "valid", "calib", "test"], [12_000, 3000, 4000, 5000])
    return frame
