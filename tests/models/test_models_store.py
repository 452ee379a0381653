"""End to end on the real small store: tasks + features -> train -> register -> CLI card."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from model_frames import FAST

from riskstrat.cli import main
from riskstrat.config import load_settings
from riskstrat.models.registry import load_model
from riskstrat.models.train import train_task


@pytest.fixture
def settings(small_store: Path):
    base = load_settings()
    return base.model_copy(update={"paths": base.paths.model_copy(update={"store": small_store})})


@pytest.mark.slow
def test_train_crisis_on_the_small_store(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    result = train_task("crisis", settings=settings, overrides=FAST)
    assert (result.version, result.alias) == ("1", "champion")
    overall = result.evaluation.overall.set_index("score")
    assert {"model", "logistic", "prior_utilisation"} <= set(overall.index)
    # loose guards: 6,000 patients give a few dozen test events
    assert overall.loc["model", "auroc"] > 0.65
    assert overall.loc["model", "auroc"] > overall.loc["prior_utilisation", "auroc"] - 0.05
    assert overall.loc["model", "ece"] < 0.05
    sub = result.evaluation.subgroups
    assert {"age_band", "sex", "imd_quintile", "practice", "ltc_count"} <= set(sub["slice"])

    model = load_model("crisis", tracking_uri=settings.paths.mlflow_uri)
    assert "ethnicity" not in model.feature_names  # use_in_model: false
    assert model.reference["score"]["proportions"]
    # the calendar level forecast (configs/models/crisis.yaml) travels with the registered model,
    # fitted only on weeks before the test cutoff, and the served risk reads each row's date
    assert model.level is not None and model.level.reference is not None
    assert model.level.cutoff == str(result.model.rows("test")["index_date"].min().date())
    assert model.input_names == [*model.feature_names, "index_date"]
    test = result.model.rows("test")
    served = model.predict_risk(test)
    assert served == pytest.approx(result.model.predict_proba(test), rel=1e-9)

    monkeypatch.setenv("RISKSTRAT_STORE", str(settings.paths.store))
    out = settings.paths.out_dir / "cards"
    run = CliRunner().invoke(main, ["model-card", "crisis", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert (out / "riskstrat-crisis-v1.html").is_file()
    assert "## Performance by subgroup" in (out / "riskstrat-crisis-v1.md").read_text()


@pytest.mark.slow
def test_promote_refuses_a_retrain_of_the_same_model_and_says_what_to_do(
    settings, small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a retrain on the same data was PROMOTED over the identical champion; a refusal ended
    # "the champion stays v1" without saying what to do
    from riskstrat.models.cli import refused_note
    from riskstrat.models.promote import REASON_SAME_MODEL

    monkeypatch.setenv("RISKSTRAT_STORE", str(small_store))
    for _ in range(2):
        train_task("readmission_30d", settings=settings)
    run = CliRunner().invoke(main, ["promote", "readmission_30d"])
    assert run.exit_code == 0, run.output
    assert f"  - {REASON_SAME_MODEL.format(challenger='2', champion='1')}\n" in run.output
    assert run.output.endswith(refused_note("readmission_30d", champion="1") + "\n")
