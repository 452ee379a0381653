"""The arrows run down: cli/runs -> stages -> registry. A stage's modules (all but its cli.py,
the command edge) and the shared bottom modules never import riskstrat.runs, so a stage can be
used and tested without the scheduler's layer (docs/architecture in README "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import riskstrat

PACKAGE = Path(riskstrat.__file__).parent
STAGES = ("synth", "adapters", "registry", "features", "tasks", "models", "explain", "outreach",
          "reports", "spark")  # fmt: skip
BOTTOM = ("errors.py", "db.py", "config.py", "paths.py", "calendar.py", "logs.py", "slices.py",
          "filehash.py", "scored.py")  # fmt: skip


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_stage_or_bottom_module_imports_runs() -> None:
    modules = [PACKAGE / name for name in BOTTOM]
    for stage in STAGES:
        modules += [p for p in (PACKAGE / stage).rglob("*.py") if p.name != "cli.py"]
    upward = {
        str(p.relative_to(PACKAGE)): sorted(
            m for m in _imports(p) if m.startswith("riskstrat.runs")
        )
        for p in modules
    }
    assert {k: v for k, v in upward.items() if v} == {}
