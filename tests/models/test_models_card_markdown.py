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


def test_the_html_card_escapes_its_text() -> None:
    """card.html.j2 is escaped like HTML: the dates note's `gap_to_<reference>` and a
    configured owner with `<` and `&` show as text, not as tags a browser hides."""
    from html.parser import HTMLParser

    from riskstrat.models.card import DatesSection, DatesSummaryRow

    rng = np.random.default_rng(4)
    y = (rng.random(1000) < 0.1).astype(float)
    result = evaluate_scores(
        y, {MODEL: np.clip(0.1 + 0.2 * (y - 0.1), 0.01, 0.99)},
        params=EvalConfig(bootstrap=10), seed=1,
    )  # fmt: skip
    config = load_model_config("crisis", overrides={"card": {"owner": "Analytics <PHM> & Co"}})
    card = build_card(
        evaluation=result, config=config, version="1", aliases=[], features=["age"],
        manifest={"horizon_days": 90}, plots={}, monitoring={}, lineage={},
    )  # fmt: skip
    dates = DatesSection(
        every_days=7, patients=100, draws=4, first="2025-07-01", last="2025-09-30", rows=1300,
        events=30, summary=[DatesSummaryRow(score=MODEL, mean=0.7, min=0.6, max=0.8, lo=0.65,
        hi=0.75)], per_date=[{"as_of": "2025-07-01", "rows": 100, "events": 3, MODEL: 0.7}],
    )  # fmt: skip
    card = card.model_copy(update={"dates": dates})
    _, html = render(card)
    tags: set[str] = set()

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs) -> None:
            tags.add(tag)

    Tags().feed(html)
    assert "reference" not in tags and "phm" not in tags
    assert "gap_to_&lt;reference&gt; is the reference minus the model" in html
    assert "Analytics &lt;PHM&gt; &amp; Co" in html
