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


def test_the_subgroup_gap_has_its_interval() -> None:
    """The evaluation's bootstrap interval of each subgroup's calibration gap reaches the card
    (SubgroupRow dropped it: the gap stood bare beside every AUROC's interval)."""
    import pandas as pd

    from riskstrat.models.card_text import SUBGROUP_NOTE

    rng = np.random.default_rng(5)
    n = 3000
    y = (rng.random(n) < 0.1).astype(float)
    p = np.clip(0.1 + 0.2 * (y - 0.1) + rng.normal(0, 0.05, n), 0.01, 0.99)
    groups = pd.DataFrame({"sex": np.where(np.arange(n) % 2 == 0, "F", "M")})
    result = evaluate_scores(y, {MODEL: p}, groups=groups, params=EvalConfig(bootstrap=20), seed=1)
    card = build_card(
        evaluation=result, config=load_model_config("crisis"), version="1", aliases=[],
        features=["age"], manifest={"horizon_days": 90}, plots={}, monitoring={}, lineage={},
    )  # fmt: skip
    sub = result.subgroups[result.subgroups["score"] == MODEL].set_index("group")
    female = next(s for s in card.subgroups if s.group == "F")
    assert (female.gap_lo, female.gap_hi) == (sub.at["F", "gap_lo"], sub.at["F", "gap_hi"])
    assert female.gap_lo <= female.gap <= female.gap_hi
    shown = f"{100 * female.gap:.2f}% ({100 * female.gap_lo:.2f}% to {100 * female.gap_hi:.2f}%)"
    md, html = render(card)
    assert f"| {shown} |" in md and f"<td>{shown}</td>" in html
    assert "gap (95% CI)" in md and "gap (95% CI)" in html
    assert SUBGROUP_NOTE in md and SUBGROUP_NOTE in html


def test_a_miscalibrated_subgroup_line_gives_the_gap_interval() -> None:
    import pandas as pd

    from riskstrat.models.card_text import limitations
    from riskstrat.models.config import Card

    overall = pd.DataFrame(
        [{"score": MODEL, "n": 20_000, "events": 900, "auroc": 0.7, "auroc_lo": 0.68,
          "auroc_hi": 0.72}]
    )  # fmt: skip
    subgroups = pd.DataFrame(
        [{"slice": "age_band", "group": "18-44", "n": 4000, "events": 120, "observed": 0.03,
          "predicted": 0.06, "gap": -0.03, "gap_lo": -0.036, "gap_hi": -0.024, "auroc": 0.72,
          "auroc_lo": 0.66, "auroc_hi": 0.78}]
    )  # fmt: skip
    reliability = pd.DataFrame(
        {"bin": [0, 1], "n": [450, 450], "predicted": [0.02, 0.2], "observed": [0.02, 0.2]}
    )
    lines = limitations(overall, subgroups, reliability, bounds=Card(), synthetic=False)
    assert any("(gap -3.00%, 95% CI -3.60% to -2.40%, bound 2%)" in line for line in lines)


def test_a_card_written_before_gap_intervals_says_so() -> None:
    """An old card.json (no gap_lo/gap_hi) still loads, and its note says why the gap has no
    interval instead of implying every group was too small."""
    from riskstrat.models.card import ModelCard
    from riskstrat.models.card_text import SUBGROUP_NOTE_OLD

    rng = np.random.default_rng(6)
    y = (rng.random(2000) < 0.1).astype(float)
    p = np.clip(0.1 + 0.2 * (y - 0.1) + rng.normal(0, 0.05, 2000), 0.01, 0.99)
    result = evaluate_scores(y, {MODEL: p}, params=EvalConfig(bootstrap=10), seed=1)
    card = build_card(
        evaluation=result, config=load_model_config("crisis"), version="1", aliases=[],
        features=["age"], manifest={"horizon_days": 90}, plots={}, monitoring={}, lineage={},
    )  # fmt: skip
    old = card.model_dump(mode="json")
    for row in old["subgroups"]:
        del row["gap_lo"], row["gap_hi"]
    md, _ = render(ModelCard.model_validate(old))
    assert SUBGROUP_NOTE_OLD in md
    assert SUBGROUP_NOTE_OLD not in render(card)[0]
