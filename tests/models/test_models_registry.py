"""Training on a synthetic matrix through MLflow: registry, aliases, loading, privacy, gate,
model card, determinism, and pred_contrib == SHAP."""

import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient
from model_frames import FAST, synthetic_task_data

from riskstrat.cli import main
from riskstrat.models.card import write_card
from riskstrat.models.cli import train_summary
from riskstrat.models.config import load_model_config
from riskstrat.models.core import fit_all
from riskstrat.models.gate import PASSED, REASON_AUROC, REASON_NOT_BETTER, format_gate
from riskstrat.models.promote import promote_on_data
from riskstrat.models.registry import load_model
from riskstrat.models.rollback import NO_PREVIOUS, rollback
from riskstrat.models.train import train_on_data


@pytest.fixture
def uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def _all_text(uri: str) -> str:
    """Every string MLflow holds: the sqlite database and every artifact file."""
    db = Path(uri.removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    chunks = []
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in con.execute(f"SELECT * FROM {table}"):
            chunks.append(" ".join(str(v) for v in row))
    con.close()
    for path in (db.parent / "mlartifacts").rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("utf-8", errors="ignore"))
    return "\n".join(chunks)


def test_register_load_promote_card(
    uri: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = load_model_config("crisis", overrides=FAST)
    data = synthetic_task_data()
    first = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    assert (first.version, first.alias) == ("1", "champion")
    assert first.metrics["model/auroc"] > 0.7
    assert first.metrics["model/auroc"] > first.metrics["prior_utilisation/auroc"]

    model = load_model("crisis", tracking_uri=uri)
    test = data.dataset[data.dataset["split"] == "test"]
    np.testing.assert_allclose(model.predict_risk(test), first.fitted.predict(test))
    contrib = model.contributions(test)
    assert list(contrib.columns) == [*model.feature_names, "bias"]
    raw = model.booster.predict(test[model.feature_names].to_numpy(), raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-9)
    assert (model.name, model.version, model.run_id) == ("riskstrat-crisis", "1", first.run_id)
    ref = model.reference
    assert set(ref["features"]) == set(model.feature_names)
    age = ref["features"]["age"]
    assert len(age["proportions"]) == len(age["edges"]) + 1
    assert sum(age["proportions"]) + age["missing"] == pytest.approx(1.0)
    assert ref["features"]["imd_decile"]["missing"] > 0.02

    # a deliberately weakened challenger is refused, with the AUROC reason recorded
    weak = train_on_data(
        synthetic_task_data(weaken=True), config=config, truth_dir=None, tracking_uri=uri
    )
    assert (weak.version, weak.alias) == ("2", "challenger")
    # what `riskstrat train` prints: integer counts, the run, the card, the next command
    printed = train_summary(weak)
    assert re.search(r"\n\s*model\s+\d+\s+\d+\s+0\.\d{4}\s", printed), printed
    assert ".0000" not in printed.split("\n")[2].split("0.")[0]
    assert f"MLflow run {weak.run_name}" in printed and weak.card_path in printed
    assert printed.endswith("next: run `riskstrat promote crisis` to compare it with the champion")
    assert "`riskstrat model-card crisis`" in train_summary(first)
    refused = promote_on_data(data, tracking_uri=uri)
    assert not refused.promote
    assert any(r.startswith(REASON_AUROC.split("{")[0]) for r in refused.reasons)
    assert load_model("crisis", tracking_uri=uri).version == "1"

    # an equally good challenger (new seed) passes the gate and becomes champion
    again = train_on_data(
        data, config=config.model_copy(update={"seed": 8}), truth_dir=None, tracking_uri=uri
    )
    assert again.alias == "challenger"
    # small test set: wider calibration/subgroup bounds than production (the gate is configurable)
    loose = load_model_config(
        "crisis",
        overrides={
            # 1,541 calibration rows: ECE on 3,042 test rows is noisy (isotonic 0.019-0.021,
            # centred isotonic 0.020-0.025, Platt 0.016-0.017 over seeds 7 and 8)
            "gate": {"slope_bounds": [0.5, 1.5], "subgroup_auroc_margin": 0.1, "max_ece": 0.03}
        },
    )
    # ... unless the gate asks for an improvement beyond noise: the paired CI straddles 0
    strict = loose.model_copy(
        update={"gate": loose.gate.model_copy(update={"require_improvement": True})}
    )
    not_better = promote_on_data(data, tracking_uri=uri, config=strict)
    assert not not_better.promote
    assert any(r.startswith(REASON_NOT_BETTER.split("{")[0]) for r in not_better.reasons)
    decision = promote_on_data(data, tracking_uri=uri, config=loose)
    assert decision.promote, decision.reasons
    assert decision.reasons == [PASSED]
    assert load_model("crisis", tracking_uri=uri).version == again.version

    # the gate table: every rule with both versions' values and 95% intervals
    rules = {r.rule: r for r in decision.table}
    auroc = rules["AUROC not worse"]
    assert auroc.passed and auroc.champion_lo < auroc.champion < auroc.champion_hi
    assert auroc.challenger_lo < auroc.challenger < auroc.challenger_hi
    assert {"ECE", "Calibration slope"} <= set(rules)
    text = format_gate(decision.table)
    assert "challenger (95% CI)" in text and f"{auroc.challenger:.4f} (" in text
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    tags = client.get_model_version("riskstrat-crisis", again.version).tags
    assert tags["gate/auroc_not_worse"] == "pass" and tags["gate/ece"] == "pass"
    refused_tags = client.get_model_version("riskstrat-crisis", weak.version).tags
    assert refused_tags["gate/auroc_not_worse"] == "fail"

    # the old champion keeps an alias; rollback restores it (and can't go further back)
    assert load_model("crisis", alias="previous-champion", tracking_uri=uri).version == "1"
    run = CliRunner().invoke(main, ["rollback", "crisis"])  # MLFLOW_TRACKING_URI = uri
    assert run.exit_code == 0, run.output
    assert f"champion is v1 again (v{again.version} tagged rolled_back)" in run.output
    assert load_model("crisis", tracking_uri=uri).version == "1"
    assert "rolled_back" in client.get_model_version("riskstrat-crisis", again.version).tags
    with pytest.raises(LookupError, match=NO_PREVIOUS.format(name="riskstrat-crisis")[:40]):
        rollback("crisis", tracking_uri=uri)

    capfd.readouterr()
    md, html = write_card("crisis", tracking_uri=uri, out_dir=tmp_path)
    assert "Downloading artifacts" not in capfd.readouterr().err  # MLflow's bars stay off
    text = md.read_text()
    for heading in (
        "Intended use",
        "Data and period",
        "Performance on the test period",
        "Calibration (centred_isotonic)",
        "Performance by subgroup",
        "Known limitations",
        "Lineage",
    ):
        assert f"## {heading}" in text
    assert "| prior_utilisation |" in text and "| logistic |" in text
    assert "version 1" in text and "<h2>Lineage</h2>" in html.read_text()

    # no patient identifier anywhere in MLflow (params, tags, metrics, artifacts)
    everything = _all_text(uri)
    ids = set(data.dataset["patient_id"])
    assert "P3-000001" in ids
    leaked = [p for p in list(ids)[:2000] if p in everything]
    assert not leaked


def test_same_config_and_data_give_the_same_model() -> None:
    config = load_model_config("crisis", overrides=FAST)
    data = synthetic_task_data(6000, seed=5)
    a = fit_all(data.dataset, features=data.features, config=config)
    b = fit_all(data.dataset, features=data.features, config=config)
    assert a.booster.model_to_string() == b.booster.model_to_string()
    x = data.dataset
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


@pytest.mark.filterwarnings(
    "ignore:The set_(bad|over|under) function will be deprecated:PendingDeprecationWarning"
)
@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer:UserWarning")
def test_pred_contrib_equals_shap_tree_explainer() -> None:
    import shap  # its import warns about matplotlib colormap setters (third-party)

    config = load_model_config("crisis", overrides=FAST)
    data = synthetic_task_data(4000, seed=9)
    fitted = fit_all(data.dataset, features=data.features, config=config)
    x = data.dataset[[f.name for f in data.features]].head(300)
    from riskstrat.models.booster import contributions

    ours = contributions(fitted.booster, x)
    explainer = shap.TreeExplainer(fitted.booster)
    theirs = explainer.shap_values(x.to_numpy())
    np.testing.assert_allclose(ours.drop(columns="bias").to_numpy(), theirs, atol=1e-6)
    np.testing.assert_allclose(ours["bias"].to_numpy(), explainer.expected_value, atol=1e-6)


def test_training_again_on_the_same_data_says_it_is_the_champion_again(uri: str) -> None:
    """`riskstrat train` twice on one extract registered v2 as a challenger identical to v1
    (same run name too) without a word; now the summary says so."""
    from riskstrat.models.cli import SAME_AS_CHAMPION

    config = load_model_config("crisis", overrides=FAST)
    data = synthetic_task_data(6000)
    first = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    again = train_on_data(data, config=config, truth_dir=None, tracking_uri=uri)
    assert (first.alias, again.alias, first.same_as, again.same_as) == (
        "champion", "challenger", None, "1"
    )  # fmt: skip
    assert SAME_AS_CHAMPION.format(version="2", champion="1") in train_summary(again)
    other = train_on_data(
        data, config=config.model_copy(update={"seed": 8}), truth_dir=None, tracking_uri=uri
    )
    assert other.same_as is None and "note:" not in train_summary(other)
