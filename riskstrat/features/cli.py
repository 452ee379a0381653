"""CLI commands of this stage."""

COMMANDS: list = []
