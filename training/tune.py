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

from riskstrat.config import load_settings
from riskstrat.models.config import load_model_config
from riskstrat.models.data import load_task_data
from riskstrat.models.train import oracle_scores
from riskstrat.models.tune import validation_table


@click.command()
@click.argument("task")
@click.argument("candidates")
@click.option("--truth", "truth_dir", type=click.Path(exists=True, path_type=Path), default=None)
def main(task: str, candidates: str, truth_dir: Path | None) -> None:
    """Fit each candidate (JSON: name -> config overrides) and print calib-slice metrics."""
    settings = load_settings()
    grid = json.loads(candidates)
    by_split: dict[str, dict[str, dict]] = {}
    for name, overrides in grid.items():
        by_split.setdefault(json.dumps(overrides.get("split", {}), sort_keys=True), {})[name] = (
            overrides
        )
    tables = []
    for split_key, group in by_split.items():
        configs = {name: load_model_config(task, overrides=o) for name, o in group.items()}
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
    main()
