"""The reference scorers on synthetic data: the full oracle and the no-foresight oracle.

Both get the model's evaluation (bootstrap intervals, the paired model - reference AUROC
interval, `gap_to_<reference>/*` metrics); the no-foresight oracle carries its Monte Carlo
draws and standard error, and is left out with a logged reason (never a failed training) when
the truth folder cannot give it."""

from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskstrat.logs import LOGGER_NAME
from riskstrat.models import card_text as text
from riskstrat.models.config import Evaluation as EvalConfig
from riskstrat.models.config import load_model_config
from riskstrat.models.data import TaskData
from riskstrat.models.evaluate import (
    MODEL,
    ORACLE,
    ORACLE_NO_FORESIGHT,
    evaluate_scores,
    with_notes,
)
from riskstrat.models.split import Periods
from riskstrat.models.train import (
    SKIP_DEATH,
    SKIP_OLD_TRUTH,
    no_foresight_scores,
    reference_scores,
)
from riskstrat.tasks import load_task


def _scores(n: int = 3000, seed: int = 5) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    risk = rng.beta(1, 12, n)
    y = (rng.random(n) < risk).astype(float)
    noisy = np.clip(risk * np.exp(rng.normal(0, 1.5, n)), 1e-4, 0.99)
    blurred = np.clip(risk * np.exp(rng.normal(0, 0.25, n)), 1e-4, 0.99)
    return y, {MODEL: noisy, ORACLE: risk, ORACLE_NO_FORESIGHT: blurred}


def test_both_references_get_intervals_paired_deltas_and_gaps() -> None:
    y, scores = _scores()
    result = evaluate_scores(y, scores, params=EvalConfig(bootstrap=30), seed=1)
    result.overall = with_notes(
        result.overall,
        score=ORACLE_NO_FORESIGHT,
        notes={"mc_draws": 20, "mc_se_mean": 0.001, "mc_se_max": 0.02},
    )
    by = result.overall.set_index("score")
    flat = result.flat_metrics()
    for ref in (ORACLE, ORACLE_NO_FORESIGHT):
        row = by.loc[ref]
        assert row["auroc_lo"] < row["auroc"] < row["auroc_hi"]
        assert row["auroc_delta"] == pytest.approx(by.loc[MODEL, "auroc"] - row["auroc"])
        assert row["auroc_delta_lo"] <= row["auroc_delta"] <= row["auroc_delta_hi"]
        assert row["auroc_delta_hi"] < 0  # the noisier model is below both beyond noise
        for key in ("auroc", "auprc", "brier"):
            assert flat[f"gap_to_{ref}/{key}"] == pytest.approx(row[key] - by.loc[MODEL, key])
        assert flat[f"{ref}/auroc_delta_lo"] == row["auroc_delta_lo"]
    assert flat[f"{ORACLE_NO_FORESIGHT}/mc_draws"] == 20
    assert flat[f"{ORACLE_NO_FORESIGHT}/mc_se_mean"] == 0.001
    assert not any(k.endswith("/mc_draws") for k in flat if not k.startswith(ORACLE_NO_FORESIGHT))


def test_references_are_not_baselines_in_the_card_limitations() -> None:
    y, scores = _scores()
    result = evaluate_scores(y, scores, params=EvalConfig(bootstrap=30), seed=1)
    model = result.subgroups[result.subgroups["score"] == MODEL]
    lines = text.limitations(
        result.overall,
        model,
        result.reliability[MODEL],
        bounds=load_model_config("crisis").card,
        synthetic=True,
    )
    assert not [line for line in lines if "oracle" in line and "synthetic" not in line]


def test_card_notes_say_what_each_reference_is() -> None:
    rows = [
        {"score": MODEL},
        {"score": ORACLE},
        {"score": ORACLE_NO_FORESIGHT, "mc_draws": 20.0, "mc_se_mean": 0.0011, "mc_se_max": 0.045},
    ]
    assert text.reference_notes(rows) == [
        text.ORACLE_NOTE,
        text.NO_FORESIGHT_NOTE.format(draws=20, se_mean="0.0011", se_max="0.0450"),
    ]
    assert text.reference_notes(rows[:1]) == []


@pytest.fixture(scope="module")
def truth(small_population: Path) -> Path:
    return small_population / "truth"


@pytest.fixture(scope="module")
def crisis_rows(truth: Path) -> pd.DataFrame:
    c = pd.read_parquet(truth / "crisis.parquet", columns=["patient_id", "index_date"])
    last = c[c["index_date"] == c["index_date"].max()]
    return last.drop_duplicates("patient_id").head(300).reset_index(drop=True)


def _copy(truth: Path, to: Path) -> Path:
    shutil.copytree(truth, to)
    return to


def test_no_foresight_scores_on_a_current_truth_folder(truth: Path, crisis_rows) -> None:
    got = no_foresight_scores(truth, load_task("crisis"), crisis_rows, draws=3, seed=2)
    assert not isinstance(got, str), got
    p, se = got
    assert p.shape == se.shape == (len(crisis_rows),)
    assert ((p >= 0) & (p <= 1)).all() and (se >= 0).all() and p.sum() > 0


def test_no_foresight_scores_for_readmission(truth: Path) -> None:
    r = pd.read_parquet(truth / "readmission.parquet")
    rows = r[r["eligible"]].head(200).reset_index(drop=True)
    rows = rows.rename(columns={"discharge_date": "index_date"})  # the task's keys
    got = no_foresight_scores(truth, load_task("readmission_30d"), rows, draws=2, seed=1)
    assert not isinstance(got, str), got
    p, se = got
    assert p.shape == se.shape == (len(rows),) and ((p >= 0) & (p <= 1)).all() and p.sum() > 0


def test_no_foresight_skipped_with_a_reason(truth: Path, crisis_rows, tmp_path: Path) -> None:
    task = load_task("crisis")
    old = _copy(truth, tmp_path / "old")
    (old / "laws.parquet").unlink()
    got = no_foresight_scores(old, task, crisis_rows, draws=2, seed=0)
    assert got == SKIP_OLD_TRUTH.format(path=old, file="laws.parquet")
    deaths = task.model_copy(update={"label": task.label.model_copy(update={"count_death": True})})
    assert no_foresight_scores(truth, deaths, crisis_rows, draws=2, seed=0) == SKIP_DEATH
    short = _copy(truth, tmp_path / "short")
    laws = pq.read_table(short / "laws.parquet")
    pq.write_table(laws.drop_columns([laws.column_names[0]]), short / "laws.parquet")
    got = no_foresight_scores(short, task, crisis_rows, draws=2, seed=0)
    assert isinstance(got, str) and got.startswith("KeyError:")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_training_references_without_the_no_foresight_oracle(
    truth: Path, crisis_rows, tmp_path: Path
) -> None:
    """An old truth folder: the full oracle only, the reason logged, nothing raised."""
    old = _copy(truth, tmp_path / "old")
    (old / "medicines.parquet").unlink()
    data = TaskData(
        task=load_task("crisis"),
        dataset=crisis_rows,
        groups=pd.DataFrame(index=crisis_rows.index),
        features=[],
        periods=Periods(*[(date(2025, 1, 1), date(2025, 3, 31))] * 3),
        extract_date=date(2025, 12, 28),
        data_hash="-",
        codebook_version="-",
        as_of_dates={},
    )
    config = load_model_config("crisis", overrides={"evaluation": {"oracle_draws": 2}})
    records = _Records()
    logging.getLogger(LOGGER_NAME).addHandler(records)
    try:
        scores, notes = reference_scores(old, data, crisis_rows, config=config)
        assert set(scores) == {ORACLE} and notes == {}
        skipped = [m for m in records.messages if m.startswith("models.oracle_no_foresight.skip")]
        assert skipped and SKIP_OLD_TRUTH.format(path=old, file="medicines.parquet") in skipped[0]
        scores, notes = reference_scores(truth, data, crisis_rows, config=config)
    finally:
        logging.getLogger(LOGGER_NAME).removeHandler(records)
    assert set(scores) == {ORACLE, ORACLE_NO_FORESIGHT}
    assert notes["mc_draws"] == 2 and 0 <= notes["mc_se_mean"] <= notes["mc_se_max"]


def test_the_card_shows_both_references_with_their_notes() -> None:
    from riskstrat.models.card import build_card, render

    y, scores = _scores()
    result = evaluate_scores(y, scores, params=EvalConfig(bootstrap=30), seed=1)
    result.overall = with_notes(
        result.overall,
        score=ORACLE_NO_FORESIGHT,
        notes={"mc_draws": 20, "mc_se_mean": 0.0011, "mc_se_max": 0.045},
    )
    card = build_card(
        evaluation=result,
        config=load_model_config("crisis"),
        version="3",
        aliases=[],
        features=["age"],
        manifest={"horizon_days": 90},
        plots={},
        monitoring={},
        lineage={},
    )
    nf = next(r for r in card.performance if r.score == ORACLE_NO_FORESIGHT)
    assert (nf.mc_draws, nf.mc_se_mean) == (20, 0.0011)
    assert next(r for r in card.performance if r.score == MODEL).mc_draws is None
    md, html = render(card)
    note = text.NO_FORESIGHT_NOTE.format(draws=20, se_mean="0.0011", se_max="0.0450")
    delta = result.overall.set_index("score").loc[ORACLE_NO_FORESIGHT]
    for page in (md, html.replace("&#39;", "'")):
        assert text.ORACLE_NOTE in page and note in page
        assert f"{delta['auroc_delta']:+.3f} ({delta['auroc_delta_lo']:+.3f} to" in page
    assert f"| {ORACLE_NO_FORESIGHT} | 3000 |" in md
