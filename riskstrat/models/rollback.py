"""Undo a promotion: the `previous-champion` version becomes `champion` again."""

from __future__ import annotations

from dataclasses import dataclass

from riskstrat.logs import log_event
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import (
    CHAMPION,
    PREVIOUS_CHAMPION,
    PREVIOUS_TAG,
    RETIRED_TAG,
    alias_version,
    ensure_experiment,
    model_name,
    use_tracking,
)

NO_PREVIOUS = (
    "{name}: no version has the alias 'previous-champion': nothing to roll back to (a version "
    "gets it when a promotion replaces it)"
)


@dataclass
class Rollback:
    restored: str  # the version that is champion again
    demoted: str  # the version that was champion
    previous: str | None  # the version now holding previous-champion, if any


def rollback(task_name: str, *, tracking_uri: str) -> Rollback:
    """Give `champion` back to the `previous-champion` version; the demoted version is tagged
    `rolled_back`, and `previous-champion` moves one promotion further back (or is removed)."""
    client = use_tracking(tracking_uri)
    name = model_name(task_name)
    with quiet():
        previous = alias_version(client, name, PREVIOUS_CHAMPION)
        current = alias_version(client, name, CHAMPION)
        if previous is None or current is None:
            raise LookupError(NO_PREVIOUS.format(name=name))
        client.set_registered_model_alias(name, CHAMPION, previous)
        if RETIRED_TAG in client.get_model_version(name, previous).tags:
            client.delete_model_version_tag(name, previous, RETIRED_TAG)  # serving again
        client.set_model_version_tag(
            name, current, "rolled_back", f"champion returned to v{previous}"
        )
        before = client.get_model_version(name, previous).tags.get(PREVIOUS_TAG)
        if before and before != current:
            client.set_registered_model_alias(name, PREVIOUS_CHAMPION, before)
        else:
            client.delete_registered_model_alias(name, PREVIOUS_CHAMPION)
            before = None
        exp_id = ensure_experiment(name, client=client, uri=tracking_uri)
        with mlflow.start_run(
            experiment_id=exp_id, run_name=f"rollback-{task_name}-v{current}-to-v{previous}"
        ):
            mlflow.set_tags({"task": task_name, "kind": "rollback"})
            mlflow.log_params({"restored_version": previous, "demoted_version": current})
    log_event("models.rollback", task=task_name, restored=previous, demoted=current)
    return Rollback(restored=previous, demoted=current, previous=before)
