"""Promotion and rollback leave the registry as a data scientist reads it in MLflow: the
version serving again carries no tag saying it was retired, and two rollbacks walk back two
promotions. Real MLflow on sqlite; the versions are registered without training (the alias and
tag moves do not read the model)."""

from __future__ import annotations

import os

import pytest
from mlflow import MlflowClient

from riskstrat.models.mlflow_import import quiet
from riskstrat.models.promote import Decision, _record
from riskstrat.models.registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    alias_version,
    use_tracking,
)
from riskstrat.models.rollback import NO_PREVIOUS, rollback

NAME = "riskstrat-crisis"
RETIRED_TAG = "retired_by"  # set by a promotion on the champion it replaced


def _new_version(client: MlflowClient, tmp_path) -> str:
    source = tmp_path / "model"
    source.mkdir(exist_ok=True)
    with quiet():
        return str(client.create_model_version(NAME, source=str(source)).version)


def _promote(client: MlflowClient, uri: str, *, champion: str, challenger: str) -> None:
    decision = Decision(True, ["all gate rules passed"], champion, challenger)
    with quiet():
        client.set_registered_model_alias(NAME, CHALLENGER, challenger)
        _record(decision, name=NAME, task="crisis", test_rows=10, uri=uri)


def _tags(client: MlflowClient, version: str) -> dict[str, str]:
    with quiet():
        return client.get_model_version(NAME, version).tags


def _alias(client: MlflowClient, alias: str) -> str | None:
    with quiet():
        return alias_version(client, NAME, alias)


def test_rollback_restores_the_champion_without_its_retired_tag(tmp_path) -> None:
    uri = os.environ["MLFLOW_TRACKING_URI"]
    with quiet():
        client = use_tracking(uri)
        client.create_registered_model(NAME)
    v1, v2, v3 = (_new_version(client, tmp_path) for _ in range(3))
    with quiet():
        client.set_registered_model_alias(NAME, CHAMPION, v1)
    _promote(client, uri, champion=v1, challenger=v2)
    _promote(client, uri, champion=v2, challenger=v3)
    assert _tags(client, v2)[RETIRED_TAG] == v3

    done = rollback("crisis", tracking_uri=uri)
    assert (done.restored, done.demoted, done.previous) == (v2, v3, v1)
    assert _alias(client, CHAMPION) == v2
    assert _alias(client, PREVIOUS_CHAMPION) == v1
    # v2 serves again: a "retired_by 3" tag on the champion would contradict its alias
    assert RETIRED_TAG not in _tags(client, v2)
    assert "rolled_back" in _tags(client, v3)

    done = rollback("crisis", tracking_uri=uri)
    assert (done.restored, done.demoted, done.previous) == (v1, v2, None)
    assert _alias(client, CHAMPION) == v1
    assert _alias(client, PREVIOUS_CHAMPION) is None
    assert RETIRED_TAG not in _tags(client, v1)
    with pytest.raises(LookupError, match="nothing to roll back to"):
        rollback("crisis", tracking_uri=uri)
    assert NO_PREVIOUS  # the message the CLI prints (tests/models/test_models_registry.py)


def test_promote_and_rollback_say_when_the_published_lists_used_another_version(
    tmp_path,
) -> None:
    """After a rollback the lists in out/latest were still those the demoted version scored:
    the output now says which version scored them and that the next run changes it."""
    import json

    from riskstrat.models.cli import PUBLISHED_WITH, published_note

    out = tmp_path / "out"
    run = out / "runs" / "2025-12-29"
    run.mkdir(parents=True)
    (out / "latest").symlink_to(run)
    manifest = {"as_of": "2025-12-29", "models": [{"task": "crisis", "version": "3"}]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    note = published_note("crisis", champion="2", out_dir=out)
    path = out / "latest" / "manifest.json"
    assert note == PUBLISHED_WITH.format(as_of="2025-12-29", path=path, used="3", champion="2")
    assert published_note("crisis", champion="3", out_dir=out) is None  # lists already v3
    assert published_note("readmission_30d", champion="1", out_dir=out) is None  # not listed
    assert published_note("crisis", champion="2", out_dir=tmp_path / "nothing") is None
