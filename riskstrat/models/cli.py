"""CLI of the models stage: train, promote, rollback, model-card, backtest."""

from __future__ import annotations

import json
from pathlib import Path

import click

from riskstrat.cliopts import TASK, out_option
from riskstrat.config import load_settings


@click.command("train")
@TASK
@click.option(
    "--truth",
    "truth_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Synthetic ground truth folder: also evaluate the oracle on the test rows.",
)
@click.option(
    "--max-rows",
    # the config's own bound (split.max_train_rows >= 1000), checked here so the error names
    # the option, not configs/models/TASK.yaml; 0 was taken as "no cap"
    type=click.IntRange(min=1000),
    default=None,
    help="Train on at most this many rows, at least 1000 (a seeded sample of the training period).",
)
@click.option("--no-register", is_flag=True, help="Log the run but do not register the model.")
def train(task: str, truth_dir: Path | None, max_rows: int | None, no_register: bool) -> None:
    """Train, calibrate and evaluate TASK's model against the baselines; log it to MLflow and
    register it (the first version becomes champion, later ones challenger)."""
    from riskstrat.models.train import train_task

    overrides = {"split": {"max_train_rows": max_rows}} if max_rows is not None else None
    settings = load_settings()
    with registry_lock(settings):
        result = train_task(
            task,
            settings=settings,
            truth_dir=truth_dir,
            overrides=overrides,
            register=not no_register,
        )
    click.echo(train_summary(result))


def registry_lock(settings):
    """The run lock (riskstrat.runs.lock), waited for as `riskstrat outreach` waits: a hand
    started train, promote, rollback or recalibrate never overlaps a scheduled run or its
    monthly retrain + gate (which hold the lock), so no version is registered or promoted
    between the retrain's training and its gate, and no run scores while the champion moves."""
    from riskstrat.runs.lock import STANDALONE_LOCK_WAIT_SECONDS, run_lock

    return run_lock(settings.paths.data_dir, timeout=STANDALONE_LOCK_WAIT_SECONDS)


SAME_AS_CHAMPION = (
    "note: version {version} was trained on the same data, config and code as the champion "
    "v{champion} (tags data_snapshot_hash, config_hash, git_sha): it is the same model, and "
    "promoting it changes nothing"
)


def train_summary(result) -> str:
    """What a training run produced, its test metrics (counts as integers) and the next step."""
    lines = [
        f"{result.model_name} version {result.version or '-'} ({result.alias or 'not registered'})"
        f"; MLflow run {result.run_name} ({result.run_id})",
    ]
    cols = ["score", "n", "events", "auroc", "auroc_lo", "auroc_hi", "auprc", "brier", "ece",
            "calibration_slope", "auroc_delta", "auroc_delta_lo", "auroc_delta_hi"]  # fmt: skip
    table = result.evaluation.overall
    table = table[[c for c in cols if c in table.columns]].astype({"n": int, "events": int})
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if getattr(result.evaluation, "dates", None) is not None:
        lines.append(result.evaluation.dates.text())
    if result.card_path:
        lines.append(f"model card: runs:/{result.run_id}/{result.card_path}")
    if getattr(result, "same_as", None):
        lines.append(SAME_AS_CHAMPION.format(version=result.version, champion=result.same_as))
    lines.append(next_step(result.task, alias=result.alias))
    return "\n".join(lines)


def next_step(task: str, *, alias: str | None) -> str:
    """The command to run after training."""
    if alias == "challenger":
        return f"next: run `riskstrat promote {task}` to compare it with the champion"
    if alias == "champion":
        return f"next: run `riskstrat model-card {task}`, then `riskstrat run` to score and list"
    return f"next: run `riskstrat train {task}` without --no-register to register a model"


@click.command("promote")
@TASK
def promote(task: str) -> None:
    """Compare TASK's challenger with its champion on the latest test period and promote it only
    if the gate in configs/models/TASK.yaml passes. Prints the gate table (champion and
    challenger with 95% intervals, threshold, pass/fail); the decision goes to MLflow."""
    from riskstrat.models.gate import format_gate
    from riskstrat.models.promote import promote_task

    settings = load_settings()
    with registry_lock(settings):
        decision = promote_task(task, settings=settings)
    click.echo(format_gate(decision.table))
    verdict = "PROMOTED" if decision.promote else "REFUSED"
    click.echo(
        f"{verdict}: challenger v{decision.challenger_version} vs champion "
        f"v{decision.champion_version}"
    )
    for reason in decision.reasons:
        click.echo(f"  - {reason}")
    if decision.promote:
        click.echo(
            f"v{decision.champion_version} keeps the alias previous-champion; "
            f"undo with `riskstrat rollback {task}`"
        )
        note = published_note(
            task, champion=decision.challenger_version, out_dir=settings.paths.out_dir
        )
        if note:
            click.echo(note)
    else:
        click.echo(refused_note(task, champion=decision.champion_version))


#: After a refusal: what stays, and what the data scientist can do (the line said only the first).
REFUSED_NEXT = (
    "the champion stays v{champion}; the challenger keeps its alias until the next `riskstrat "
    "train {task}` (its card: `riskstrat model-card {task} --alias challenger`); to replace the "
    "champion, retrain on a new extract or with a changed configs/models/{task}.yaml, then run "
    "`riskstrat promote {task}` again"
)


def refused_note(task: str, *, champion: str) -> str:
    return REFUSED_NEXT.format(task=task, champion=champion)


PUBLISHED_WITH = (
    "note: the lists published for {as_of} ({path}) were scored with v{used}; the next "
    "`riskstrat run` scores with v{champion}"
)


def published_note(task: str, *, champion: str, out_dir: Path) -> str | None:
    """A note when the published lists (out/latest) were scored with another version of
    `task` than the champion a promotion or rollback has just set; None otherwise."""
    from riskstrat.runs.manifest import MANIFEST_FILE
    from riskstrat.runs.publish import LATEST

    path = Path(out_dir) / LATEST / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    models = manifest.get("models") or []
    used = next((m.get("version") for m in models if m.get("task") == task), None)
    if used is None or str(used) == str(champion):
        return None
    return PUBLISHED_WITH.format(
        as_of=manifest.get("as_of", "?"), path=path, used=used, champion=champion
    )


@click.command("rollback")
@TASK
def rollback(task: str) -> None:
    """Make TASK's previous champion (alias previous-champion) the champion again."""
    from riskstrat.models.rollback import rollback as undo_promotion

    settings = load_settings()
    with registry_lock(settings):
        done = undo_promotion(task, tracking_uri=settings.paths.mlflow_uri)
    after = (
        f"previous-champion is now v{done.previous}"
        if done.previous
        else "no earlier champion is left to roll back to"
    )
    click.echo(f"champion is v{done.restored} again (v{done.demoted} tagged rolled_back); {after}")
    note = published_note(task, champion=done.restored, out_dir=settings.paths.out_dir)
    if note:
        click.echo(note)


ALIAS_OR_VERSION = (
    "--alias {alias} and --model-version {version} name two versions: give one of them "
    "(--model-version alone for a version, --alias alone for the version behind it)"
)


@click.command("model-card")
@TASK
@out_option("Folder for the card (default: <out_dir>/model_cards).")
@click.option("--alias", default="champion", show_default=True, help="Registry alias to describe.")
@click.option(
    "--model-version",
    "version",
    default=None,
    help="A registered version instead of the alias (not with --alias). (`riskstrat --version` "
    "is the program's version: one option, one meaning.)",
)
def model_card(task: str, out_dir: Path | None, alias: str, version: str | None) -> None:
    """Write the model card (Markdown + HTML) of TASK's registered model: intended use, data,
    performance overall and by subgroup, calibration, baselines, limitations, lineage."""
    from riskstrat.models.card import write_card

    alias_given = click.get_current_context().get_parameter_source("alias")
    if version is not None and alias_given is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError(ALIAS_OR_VERSION.format(alias=alias, version=version))
    settings = load_settings()
    paths = write_card(
        task,
        tracking_uri=settings.paths.mlflow_uri,
        out_dir=out_dir or settings.paths.out_dir / "model_cards",
        alias=alias,
        version=version,
    )
    for path in paths:
        click.echo(str(path))


@click.command("backtest")
@TASK
@out_option("Folder to write TASK.csv into (default: <out_dir>/backtest).")
def backtest(task: str, out_dir: Path | None) -> None:
    """Rolling-origin evaluation of TASK over several as-of dates, plus the stale-score check
    (a score made at T judged at T+k against one recomputed at T+k)."""
    from riskstrat.models.backtest import backtest_task

    settings = load_settings()
    table = backtest_task(task, settings=settings)
    out_file = (out_dir or settings.paths.out_dir / "backtest") / f"{task}.csv"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_file, index=False)
    shown = table.dropna(axis=1, how="all")  # readmission has no stale-score columns
    click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    click.echo(json.dumps({"written": str(out_file)}))


COMMANDS = [train, promote, rollback, model_card, backtest]
