"""docs/models.md's public-API example runs as written (MLflow on sqlite in a temp folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mlflow import MlflowClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"


def test_the_public_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    example = next(b for b in blocks if "from riskstrat.models import fit" in b)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(example, str(DOC), "exec"), scope)
    run = scope["run"]
    uri = f"sqlite:///{tmp_path / 'mlflow-example.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.get_run(run.run_id).info.run_name == run.run_name
    assert (run.version, run.alias) == ("1", "champion")
    overall = scope["ev"].overall.set_index("score")
    assert list(overall.index) == ["model", "prior_inpatient", "logistic", "stay_rule"]
    assert overall.loc["model", "auroc"] > 0.6
