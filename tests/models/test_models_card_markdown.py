"""The model card's Markdown as a data scientist reads it (`riskstrat model-card TASK`)."""

from __future__ import annotations

import numpy as np

from riskstrat.models.card import build_card, render
from riskstrat.models.config import Evaluation as EvalConfig
from riskstrat.models.config import load_model_config
from riskstrat.models.evaluate import MODEL, evaluate_scores


def test_the_index_date_periods_are_a_list_of_their_own() -> None:
    # the demo's card read "Index-date periods:- train_start: 2024-01-02" (one run-on line)
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.1).astype(float)
    p = np.clip(0.1 + 0.2 * (y - 0.1) + rng.normal(0, 0.05, 2000), 0.01, 0.99)
    result = evaluate_scores(y, {MODEL: p}, params=EvalConfig(bootstrap=10), seed=1)
    periods = {"train_start": "2024-01-02", "train_end": "2025-02-07", "test_start": "2025-09-30"}
    card = build_card(
        evaluation=result,
        config=load_model_config("crisis"),
        version="1",
        aliases=["champion"],
        features=["age"],
        manifest={"horizon_days": 90, "periods": periods, "extract_date": "2025-12-28"},
        plots={},
        monitoring={},
        lineage={},
    )
    md, _ = render(card)
    assert "Index-date periods:\n\n- train_start: 2024-01-02\n- train_end: 2025-02-07\n" in md
    assert "periods:-" not in md
