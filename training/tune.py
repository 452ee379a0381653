"""Compare model settings on the calibration slice (never the test period).

    python training/tune.py crisis '{"lr03": {"lightgbm": {"learning_rate": 0.03}}}'

Each candidate is a set of overrides of configs/models/TASK.yaml. Candidates that change the
split (`split:` overrides) rebuild the data; the others share one build. Prints the table of
riskstrat.models.tune.validation_table.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click
import pandas as pd

from riskstrat.cliopts import TASK
from riskstrat.config import ConfigError, load_settings
from riskstrat.models.config import load_model_config
from riskstrat.models.data import load_task_data
from riskstrat.models.train import check_truth, oracle_scores
from riskstrat.models.tune import validation_table

BAD_CANDIDATES = (
    "candidates {text!r} are not a JSON object of name -> config overrides ({detail}): write "
    'e.g. \'{{"lr03": {{"lightgbm": {{"learning_rate": 0.03}}}}}}\''
)
BAD_CANDIDATE = "candidate {name!r}: {detail}"


@click.command()
@TASK
@click.argument("candidates")
@click.option(
    "--truth",
    "truth_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Synthetic ground truth folder: also the oracle's AUROC on the calib rows.",
)
def main(task: str, candidates: str, truth_dir: Path | None) -> None:
    """Fit each candidate (JSON: name -> config overrides) and print calib-slice metrics."""
    settings = load_settings()
    try:
        grid = json.loads(candidates)
        if not isinstance(grid, dict) or not all(isinstance(o, dict) for o in grid.values()):
            raise ValueError("each candidate is a name with an object of overrides")
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise click.ClickException(BAD_CANDIDATES.format(text=candidates, detail=exc)) from exc
    by_split: dict[str, dict[str, dict]] = {}
    for name, overrides in grid.items():
        by_split.setdefault(json.dumps(overrides.get("split", {}), sort_keys=True), {})[name] = (
            overrides
        )
    if truth_dir is not None:
        check_truth(truth_dir)
    tables = []
    for split_key, group in by_split.items():
        configs = {}
        for name, o in group.items():
            try:
                configs[name] = load_model_config(task, overrides=o)
            except ConfigError as exc:  # names the YAML file: the bad key is the candidate's
                raise click.ClickException(BAD_CANDIDATE.format(name=name, detail=exc)) from exc
        first = next(iter(configs.values()))
        data = load_task_data(task, store_path=settings.paths.store, config=first)
        oracle = None
        if truth_dir is not None:
            oracle = partial(oracle_scores, truth_dir, data)
        table = validation_table(data, candidates=configs, oracle=oracle)
        tables.append(table.assign(split=split_key))
    table = pd.concat(tables, ignore_index=True)
    click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    from riskstrat.cli import run_script

    run_script(main, prog_name="training/tune.py")
