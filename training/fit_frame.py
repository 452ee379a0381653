"""The project's recipe on your own table (the public API, docs/models.md):

    python training/fit_frame.py data.csv --label readmitted_30d --group patient_nbr \
        [--time discharge_date] [--exclude encounter_id] [--task my_task] [--mlflow URI]

Reads a CSV or Parquet file, fits (riskstrat.models.fit), prints the evaluation with its
intervals and logs the run (and a registered model) to MLflow.
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from riskstrat.config import load_settings


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", required=True, help="0/1 label column.")
@click.option("--group", default=None, help="Group column (patient): never in train and test.")
@click.option("--time", "time_col", default=None, help="Time column: the test rows are latest.")
@click.option("--exclude", multiple=True, help="Columns that are not features (repeatable).")
@click.option("--task", default="custom", show_default=True, help="Name of the model.")
@click.option("--mlflow", "uri", default=None, help="Tracking URI (default: the settings').")
def main(
    path: Path,
    label: str,
    group: str | None,
    time_col: str | None,
    exclude: tuple[str, ...],
    task: str,
    uri: str | None,
) -> None:
    from riskstrat.models import fit

    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    try:
        model = fit(frame, label=label, task=task, group=group, time=time_col, exclude=exclude)
    except (KeyError, ValueError) as exc:  # a column the recipe cannot use: one line, no trace
        raise click.ClickException(f"{path}: {str(exc).strip(chr(39) + chr(34))}") from exc
    ev = model.evaluate()
    cols = ["score", "n", "events", "auroc", "auroc_lo", "auroc_hi", "ece", "auroc_delta"]
    click.echo(ev.overall[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    run = model.log_to_mlflow(tracking_uri=uri or load_settings().paths.mlflow_uri, evaluation=ev)
    click.echo(f"MLflow run {run.run_name}; {run.model_name} version {run.version} ({run.alias})")


if __name__ == "__main__":
    from riskstrat.cli import run_script

    run_script(main, prog_name="training/fit_frame.py")
