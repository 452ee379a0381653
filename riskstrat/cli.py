"""The `riskstrat` command. Each pipeline stage owns its subcommands in `<stage>/cli.py`.

Commands are loaded lazily: `riskstrat --help` reads each command's one-line help from its
module's source (no stage is imported), and `riskstrat CMD` imports only CMD's module.

The error boundary: any failure prints one line `Error: <what>, <where>, <what to do>` and exits
2 (bad input), 3 (the machine: disk, permissions, a lock, a damaged database) or 70 (a bug);
`riskstrat --debug CMD ...` (or RISKSTRAT_DEBUG=1) shows the traceback as well.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from riskstrat.cliopts import close_hint

#: Command name -> the stage module that defines it (in its COMMANDS list), in pipeline order.
COMMAND_MODULES: dict[str, str] = {
    "synth": "riskstrat.synth.cli",
    "import-synthea": "riskstrat.adapters.cli",
    "import-omop": "riskstrat.adapters.cli",
    "ingest": "riskstrat.registry.cli",
    "docs": "riskstrat.registry.cli",
    "export": "riskstrat.registry.export_cli",
    "features": "riskstrat.features.cli",
    "feature-docs": "riskstrat.features.cli",
    "train": "riskstrat.models.cli",
    "promote": "riskstrat.models.cli",
    "rollback": "riskstrat.models.cli",
    "model-card": "riskstrat.models.cli",
    "backtest": "riskstrat.models.cli",
    "recalibrate": "riskstrat.models.recalibrate_cli",
    "score": "riskstrat.outreach.cli",
    "outreach": "riskstrat.outreach.cli",
    "report": "riskstrat.reports.cli",
    "run": "riskstrat.runs.cli",
    "schedule": "riskstrat.runs.cli",
    "status": "riskstrat.runs.cli",
    "demo": "riskstrat.runs.cli",
}
DEBUG = [False]  # set by --debug (or RISKSTRAT_DEBUG=1) for the error boundary
ABORTED = (
    "aborted (Ctrl-C): nothing half-written was kept (lists and reports are published whole, a "
    "model version only once registered in full), re-run the command when ready"
)
USAGE_HINT = "(in `riskstrat {command}`; see `riskstrat {command} --help`)"
#: An option that takes one value, given twice: click kept the last one silently (`run --as-of
#: 2025-12-29 ... --as-of 2025-12-22` ran the 22nd).
REPEATED_OPTION = "option {option} is given {n} times, give it once (only one value is used)"


def _short_help(module: str, name: str) -> str | None:
    """The first line of the docstring of the function decorated @click.command(name) in module,
    read from the source without importing it."""
    # The file from the module name, without importing its package (whose __init__ may be heavy).
    path = Path(__file__).parent.joinpath(*module.split(".")[1:]).with_suffix(".py")
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if (
                isinstance(deco, ast.Call)
                and getattr(deco.func, "attr", None) == "command"
                and (
                    (deco.args and getattr(deco.args[0], "value", None) == name)
                    or (not deco.args and node.name.replace("_", "-") == name)
                )
            ):
                doc = ast.get_docstring(node) or ""
                return doc.split("\n\n")[0].replace("\n", " ").strip() or None
    return None


class LazyGroup(click.Group):
    """A group whose commands live in other modules, imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMAND_MODULES, *(n for n in self.commands if n not in COMMAND_MODULES)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        for command in importlib.import_module(module).COMMANDS:
            self.commands.setdefault(command.name, _single_values(command))
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name, module in COMMAND_MODULES.items():
            if name in self.commands:
                text = self.commands[name].get_short_help_str(limit=formatter.width)
            else:
                text = _short_help(module, name)
                if text is None:
                    continue  # not defined (yet) by its module
                text = click.utils.make_default_short_help(text, formatter.width)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("standalone_mode", False)
        return _guarded(lambda: super(LazyGroup, self).main(*args, **kwargs))


def run_script(command: click.Command, *, prog_name: str) -> None:
    """Run a training/ script's own command (tune.py, fit_frame.py) behind the same error
    boundary as `riskstrat`: one `Error:` line and riskstrat's exit codes, never a traceback."""
    _guarded(lambda: command.main(prog_name=prog_name, standalone_mode=False), script=True)


def _guarded(invoke: Callable[[], Any], *, script: bool = False) -> Any:
    """The error boundary: every failure one line and an exit code (riskstrat.errors)."""
    DEBUG[0] = os.environ.get("RISKSTRAT_DEBUG") == "1"  # --debug sets it for this call
    try:
        result = invoke()
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo(f"Error: {ABORTED}", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        sys.exit(_click_error(exc, debug=DEBUG[0], script=script))
    except Exception as exc:
        from riskstrat.errors import describe

        line, code = describe(exc)
        if DEBUG[0]:
            traceback.print_exc()
        click.echo(f"Error: {line}", err=True)
        sys.exit(code)
    if isinstance(result, int) and result:  # standalone_mode=False returns Exit codes
        sys.exit(result)
    return result


def _single_values(command: click.Command) -> click.Command:
    """`command`, refusing a one-value option given more than once (flags and repeatable
    options such as --pathway may repeat)."""
    parse_args = command.parse_args

    def parse_once(ctx: click.Context, args: list[str]) -> list[str]:
        try:
            _, _, order = command.make_parser(ctx).parse_args(args=list(args))
        except click.UsageError:
            return parse_args(ctx, args)  # click words its own parse errors
        counts = Counter(
            p for p in order if isinstance(p, click.Option) and not (p.multiple or p.is_flag)
        )
        for param, n in counts.items():
            if n > 1:
                option = max(param.opts, key=len)
                raise click.UsageError(REPEATED_OPTION.format(option=option, n=n), ctx=ctx)
        return parse_args(ctx, args)

    command.parse_args = parse_once  # type: ignore[method-assign]
    return command


def _click_error(exc: click.ClickException, *, debug: bool, script: bool = False) -> int:
    """Click's own errors (bad option, unknown command, bad value) on one line, plus where
    (nothing more for a training/ script: it has no `riskstrat --help` to point to)."""
    if debug:
        traceback.print_exc()
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if script:
        pass
    elif isinstance(exc, click.UsageError) and ctx is not None and ctx.parent is not None:
        command = ctx.info_name
        message = f"{message.rstrip('.')} {USAGE_HINT.format(command=command)}"
    elif isinstance(exc, click.UsageError):
        typed = re.match(r"No such command (['\"])(.*?)\1", message)  # click may suggest or not
        if typed:
            known = [n for n, m in COMMAND_MODULES.items() if _short_help(m, n) is not None]
            hint = close_hint(typed.group(2), known)
            message = f"No such command {typed.group(2)!r}{hint}: choose one of {', '.join(known)}"
        message = f"{message.rstrip('.')} (see `riskstrat --help`)"
    click.echo(f"Error: {message}", err=True)
    from riskstrat.errors import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, describe

    if exc.__cause__ is not None and describe(exc.__cause__)[1] == EXIT_ENVIRONMENT:
        return EXIT_ENVIRONMENT  # a command re-raising, say, RunLocked as a ClickException
    return EXIT_BAD_INPUT  # a command refusing its input, or click's usage errors


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="riskstrat")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(debug: bool) -> None:
    """riskstrat: risk stratification and proactive outreach for integrated care."""
    DEBUG[0] = DEBUG[0] or debug
