"""Model vs full and no-foresight oracle over many as-of dates (issue 14): the pure summary, and
a real `train --truth` on the small synthetic store into MLflow on sqlite, whose metrics,
artifact, model card section and printed summary must all carry it."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from model_frames import FAST

from riskstrat.config import load_settings
from riskstrat.models.card import load_card, render
from riskstrat.models.cli import train_summary
from riskstrat.models.dates import ARTIFACT, summarise_dates, window_dates
from riskstrat.models.metrics import auroc
from riskstrat.models.tracking import download_json
from riskstrat.models.train import train_task


def test_summary_is_per_date_auroc_and_a_paired_patient_bootstrap() -> None:
    rng = np.random.default_rng(3)
    patients, dates = 800, pd.to_datetime(["2025-01-07", "2025-01-14", "2025-01-21"])
    pid = np.tile(np.arange(patients), len(dates))
    day = np.repeat(dates.to_numpy(), patients)
    truth = rng.beta(1, 12, patients)[pid]
    y = (rng.random(len(pid)) < truth).astype(float)
    model = np.clip(truth + rng.normal(0, 0.05, len(pid)), 1e-4, 1)
    per_date, summary = summarise_dates(
        y, {"model": model, "oracle": truth}, as_of=day, patient=pid, n_boot=100, seed=0
    )
    assert list(per_date["as_of"]) == ["2025-01-07", "2025-01-14", "2025-01-21"]
    first = day == dates[0]
    assert per_date.loc[0, "model"] == pytest.approx(auroc(y[first], model[first]))
    assert per_date["rows"].tolist() == [patients] * 3
    s = summary.set_index("score")
    assert s.loc["model", "mean"] == pytest.approx(per_date["model"].mean())
    assert s.loc["model", "min"] == per_date["model"].min()
    gap = s.loc["gap_to_oracle"]
    assert gap["mean"] == pytest.approx(s.loc["oracle", "mean"] - s.loc["model", "mean"])
    # the noisy model is below the truth beyond noise, and the interval brackets the mean
    assert 0 < gap["lo"] < gap["mean"] < gap["hi"]
    for score in ("model", "oracle"):
        assert s.loc[score, "lo"] < s.loc[score, "mean"] < s.loc[score, "hi"]


def test_window_dates_names_the_run_that_lists_each_discharge() -> None:
    days = pd.Series(pd.to_datetime(["2025-06-30", "2025-06-03", "2025-06-02", "2025-05-01"]))
    runs = window_dates(days, last=pd.Timestamp("2025-06-30"), every_days=28)
    # the run on 1 July lists 3-30 June; the one on 3 June lists 6 May - 2 June
    assert [str(d) for d in runs] == ["2025-07-01", "2025-07-01", "2025-06-03", "2025-05-06"]


@pytest.fixture
def settings(small_store: Path):
    base = load_settings()
    return base.model_copy(update={"paths": base.paths.model_copy(update={"store": small_store})})


@pytest.mark.slow
@pytest.mark.parametrize("task", ["crisis", "readmission_30d"])
def test_train_with_truth_logs_the_dates_evaluation(settings, small_population, task) -> None:
    dates = {"dates_bootstrap": 50, "dates_oracle_draws": 3, "dates_max_patients": 1500}
    overrides = FAST | {"evaluation": FAST["evaluation"] | {"oracle_draws": 3, **dates}}
    result = train_task(
        task, settings=settings, truth_dir=small_population / "truth", overrides=overrides
    )
    ev = result.evaluation.dates
    assert ev is not None
    per_date, summary = ev.per_date, ev.summary.set_index("score")
    if task == "crisis":  # 13 weekly dates ending at the test date, held-out patients only
        assert len(per_date) == 13 and ev.every_days == 7
        test_date = result.model.rows("test")["index_date"].max().date()
        assert per_date["as_of"].iloc[-1] == str(test_date)
        assert 0 < ev.patients <= 1500
        assert ev.draws == 3
    else:  # 4-weekly run windows over the test discharges: every test row once
        assert per_date["rows"].sum() == result.metrics["model/n"]
        assert len(per_date) >= 6
    for score in ("model", "oracle", "oracle_no_foresight"):
        row = summary.loc[score]
        # (a few events per 4-week window on the small store: a single window can be < 0.5)
        assert 0 <= row["min"] <= row["mean"] <= row["max"] <= 1 and row["mean"] > 0.55
        assert row["lo"] < row["hi"]
    gap = summary.loc["gap_to_oracle"]
    means = summary["mean"]
    assert gap["mean"] == pytest.approx(means["oracle"] - means["model"])
    # MLflow: summary metrics, one stepped point per date, and the JSON artifact (no identifiers)
    client = MlflowClient(tracking_uri=settings.paths.mlflow_uri)
    logged = client.get_run(result.run_id).data.metrics
    for key in ("dates/model/auroc_mean", "dates/oracle_no_foresight/auroc_lo",
                "dates/gap_to_oracle/auroc_hi", "dates/n_dates"):  # fmt: skip
        assert logged[key] == pytest.approx(result.metrics[key])
    history = client.get_metric_history(result.run_id, "dates/model/auroc_by_date")
    assert len(history) == len(per_date)
    assert {h.step for h in history} == {int(d.replace("-", "")) for d in per_date["as_of"]}
    artifact = download_json(result.run_id, ARTIFACT)
    assert [r["as_of"] for r in artifact["per_date"]] == list(per_date["as_of"])
    text = json.dumps(artifact)
    ids = result.model.rows("test")["patient_id"].astype(str).head(50)
    assert not any(f'"{p}"' in text for p in ids)
    # the model card has the section, and the printed summary the block
    card = load_card(task, tracking_uri=settings.paths.mlflow_uri, alias="champion")
    assert card.dates is not None and len(card.dates.per_date) == len(per_date)
    markdown, html = render(card)
    assert f"Over {len(per_date)} as-of dates" in markdown
    assert "gap_to_oracle_no_foresight" in html
    printed = train_summary(result)
    assert f"Over {len(per_date)} as-of dates" in printed
    assert f"{summary.loc['model', 'mean']:.4f}" in printed


def test_vectorised_bootstrap_auroc_equals_the_row_by_row_one() -> None:
    from riskstrat.models.dates import _auroc_rows
    from riskstrat.models.metrics import weighted_auroc

    rng = np.random.default_rng(5)
    y = (rng.random(300) < 0.2).astype(float)
    p = np.round(rng.random(300), 2)  # ties
    w = rng.poisson(1.0, (7, 300)).astype(float)
    w[6] = y  # one class only: NaN
    fn = weighted_auroc(np.argsort(p, kind="mergesort"), y, p)
    got = _auroc_rows(y, p, w)
    assert np.allclose(got[:6], [fn(row) for row in w[:6]])
    assert np.isnan(got[6])
