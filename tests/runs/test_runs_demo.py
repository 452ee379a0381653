"""The demo's pieces: config, model table, lists per practice, and (slow) the demo itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskstrat.config import ConfigError
from riskstrat.runs.demo import (
    DELTA_COLUMN,
    NOT_DISTINGUISHABLE,
    SIZE_NOTE,
    DemoConfig,
    lists_per_practice,
    load_demo_config,
    model_table,
    size_notes,
    summary_text,
)


def test_demo_config_matches_the_brief() -> None:
    config = load_demo_config()
    assert config.patients == 40_000 and config.practices == 5
    assert (config.end - config.start).days >= 3 * 365 - 7
    assert config.as_of.weekday() == 0 and 0 < (config.as_of - config.end).days <= 7
    assert config.tasks == ["crisis", "readmission_30d"]


def test_demo_config_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(load_demo_config().model_dump_json().replace('"seed"', '"sed"'))
    with pytest.raises(ConfigError, match=r"demo\.yaml: sed"):
        load_demo_config(path)
    assert DemoConfig.model_fields["patients"].is_required()


def test_model_table_from_flat_metrics() -> None:
    metrics = {
        "auroc": 0.81,
        "model.auroc": 0.81,
        "model.ece": 0.004,
        "oracle.auroc": 0.83,
        "prior_utilisation.auroc": 0.70,
        "gap_to_oracle.auroc": 0.02,
        "model.best_iteration": 40,
    }
    table = model_table({"crisis": {"metrics": metrics}})
    by = table.set_index("scorer")
    assert list(by.index) == ["model", "oracle", "prior_utilisation", "gap_to_oracle"]
    assert by.loc["model", "auroc"] == 0.81 and by.loc["model", "ece"] == 0.004
    assert by.loc["oracle", "auroc"] == 0.83 and pd.isna(by.loc["oracle", "ece"])
    assert pd.isna(by.loc["model", DELTA_COLUMN])


def test_model_table_shows_both_oracles_with_paired_intervals() -> None:
    metrics = {
        "model/auroc": 0.81,
        "oracle/auroc": 0.84,
        "oracle/auroc_delta": -0.03,
        "oracle/auroc_delta_lo": -0.041,
        "oracle/auroc_delta_hi": -0.019,
        "oracle_no_foresight/auroc": 0.825,
        "oracle_no_foresight/auroc_delta": -0.015,
        "oracle_no_foresight/auroc_delta_lo": -0.0254,
        "oracle_no_foresight/auroc_delta_hi": -0.0046,
        "oracle_no_foresight/mc_se_mean": 0.0011,
        "gap_to_oracle/auroc": 0.03,
        "gap_to_oracle_no_foresight/auroc": 0.015,
    }
    by = model_table({"crisis": {"metrics": metrics}}).set_index("scorer")
    assert list(by.index) == [
        "model",
        "oracle",
        "oracle_no_foresight",
        "gap_to_oracle",
        "gap_to_oracle_no_foresight",
    ]
    assert by.loc["oracle_no_foresight", "auroc"] == 0.825
    assert by.loc["oracle_no_foresight", DELTA_COLUMN] == "-0.015 (-0.025 to -0.005)"
    assert by.loc["oracle", DELTA_COLUMN] == "-0.030 (-0.041 to -0.019)"
    assert by.loc["gap_to_oracle_no_foresight", "auroc"] == 0.015


def test_lists_per_practice_counts_rows_only(tmp_path: Path) -> None:
    for practice, rows in (("P1", 3), ("P2", 0)):
        folder = tmp_path / "practices" / practice
        folder.mkdir(parents=True)
        body = "".join(f"id{i},x\n" for i in range(rows))
        (folder / "early_intervention.csv").write_text("patient_id,name\n" + body)
        (folder / "feedback.csv").write_text("patient_id\nzz\n")
    table = lists_per_practice(tmp_path)
    assert table.to_dict() == {"early_intervention": {"P1": 3, "P2": 0}}


def test_size_notes_say_what_the_table_rests_on_and_what_it_cannot_tell() -> None:
    metrics = {
        "model/auroc": 0.69,
        "model/n": 1135.0,
        "model/events": 164.0,
        "lace/auroc_delta_lo": -0.008,  # interval includes 0: not distinguishable
        "lace/auroc_delta_hi": 0.049,
        "hospital/auroc_delta_lo": 0.004,  # wholly above 0: the model is better
        "hospital/auroc_delta_hi": 0.074,
        "oracle/auroc_delta_lo": -0.046,  # a reference, never listed as a baseline
        "oracle/auroc_delta_hi": 0.020,
    }
    (note,) = size_notes({"readmission_30d": {"metrics": metrics}})
    assert note == SIZE_NOTE.format(
        task="readmission_30d", n=1135, events=164
    ) + NOT_DISTINGUISHABLE.format(scorers="lace")
    clear = {k: v for k, v in metrics.items() if not k.startswith("lace")}
    (note,) = size_notes({"crisis": {"metrics": clear}})
    assert note == SIZE_NOTE.format(task="crisis", n=1135, events=164)


def test_summary_reads_without_stutter_or_nan(tmp_path: Path) -> None:
    """The demo printed '(generated; ingest ingested; ...)' and 'NaN' for the realism rows
    DESIGN gives no figure for (the model table beside it already shows '-')."""
    from riskstrat.config import Settings

    realism = pd.DataFrame(
        {"measure": ["age <18 (%)", "30-day emergency readmission, age 75+ (%)"],
         "generated": [21.6, 25.5], "reference": [21.0, float("nan")]}
    )  # fmt: skip
    config = load_demo_config()
    text = summary_text(
        config=config, settings=Settings(), generated=True, ingest_status="ingested",
        realism=realism, models=pd.DataFrame({"task": ["crisis"]}), trained={"crisis": True},
        lists=pd.DataFrame(), run_folder=tmp_path, warnings=[],
    )  # fmt: skip
    assert "ingest ingested" not in text and "extract ingested" in text
    assert "NaN" not in text
