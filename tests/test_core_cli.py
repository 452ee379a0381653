"""Every subcommand has --help text, and the CLI assembles every stage's commands."""

import click
import pytest
from click.testing import CliRunner

from riskstrat.cli import main

EXPECTED = {
    "synth", "import-synthea", "ingest", "features", "train", "promote", "model-card",
    "backtest", "score", "outreach", "report", "run", "schedule", "status", "demo",
}  # fmt: skip


def test_all_commands_present() -> None:
    assert set(main.commands) >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    command: click.Command = main.commands[name]
    assert command.help and len(command.help.strip()) > 20
    assert "Usage: " in result.output
