"""The `riskstrat` command. Each pipeline stage owns its subcommands in `<stage>/cli.py`."""

from __future__ import annotations

import importlib

import click

#: Stage modules that contribute subcommands, in pipeline order.
COMMAND_MODULES = (
    "riskstrat.synth.cli",  # synth
    "riskstrat.adapters.cli",  # import-synthea
    "riskstrat.registry.cli",  # ingest, docs
    "riskstrat.features.cli",  # features
    "riskstrat.models.cli",  # train, promote, model-card, backtest
    "riskstrat.models.recalibrate_cli",  # recalibrate
    "riskstrat.outreach.cli",  # score, outreach
    "riskstrat.reports.cli",  # report
    "riskstrat.runs.cli",  # run, schedule, status, demo
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="riskstrat")
def main() -> None:
    """riskstrat: risk stratification and proactive outreach for integrated care."""


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        main.add_command(_command)
