"""docs/features.md, generated from the feature catalogue (never written by hand)."""

from __future__ import annotations

from pathlib import Path

from riskstrat.config import project_root
from riskstrat.features.catalogue import Catalogue, FeatureSpec, load_catalogue

DOC_PATH = "docs/features.md"
HEADER = """\
# Feature catalogue

Generated from `features/*.yml` by `riskstrat feature-docs` (a test checks this file is current).
Every feature is computed point-in-time: it sees only events dated strictly before the index date
(docs/architecture.md, "Time conventions"); design notes are in docs/feature-library.md.

Codebook version: `{version}`. Model use: {n_model} of {n_all} features (ethnicity is computed
for slicing and equity reports only). Monotone: +1 = risk never falls as the value rises.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(f: FeatureSpec) -> str:
    flags = []
    if f.monotone:
        flags.append(f"monotone {f.monotone:+d}")
    if f.modifiable:
        flags.append("modifiable")
    if not f.use_in_model:
        flags.append("not in model")
    tests = [name for name in ("not_null",) if getattr(f.tests, name)]
    tests += [
        f"{k} {v:g}" for k, v in (("min", f.tests.min), ("max", f.tests.max)) if v is not None
    ]
    kind = (
        f.dtype
        if f.categories is None
        else ("category: " + ", ".join(f"{i}={c}" for i, c in enumerate(f.categories)))
    )
    return (
        f"| `{f.column}` | {_cell(kind)} | {_cell(f.description)} | {_cell(f.rationale)} | "
        f"{_cell(f.reason)} | {', '.join(flags)} | {', '.join(tests)} |"
    )


def catalogue_markdown(catalogue: Catalogue | None = None) -> str:
    """The text of docs/features.md."""
    cat = catalogue or load_catalogue()
    n_model = sum(f.use_in_model for f in cat.features)
    parts = [HEADER.format(version=cat.codebook_version, n_model=n_model, n_all=len(cat.features))]
    for g in cat.groups:
        scope = "readmission tasks only (index is a spell)" if g.needs_index_spell else "all tasks"
        parts.append(
            f"## {g.name} (`features/{g.sql_path.name}`, {scope})\n\n{_cell(g.description)}\n\n"
            "| column | type | description | rationale | reason | flags | tests |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(_row(f) for f in g.features)
            + "\n"
        )
    return "\n".join(parts)


def write_catalogue_markdown(path: Path | None = None) -> Path:
    path = path or project_root() / DOC_PATH
    path.write_text(catalogue_markdown(), encoding="utf-8")
    return path
