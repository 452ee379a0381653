"""docs/contract.md, generated from `riskstrat.registry.contract` so the two never disagree."""

from __future__ import annotations

from riskstrat.registry.contract import (
    COLUMN_RULES,
    COLUMN_WARNINGS,
    CROSS_TABLE_RULES,
    DUCKDB_TYPES,
    PATIENT_TABLES,
    ROW_RULES,
    TABLE_RULES,
    TABLE_WARNINGS,
    TABLES,
    Column,
    Table,
)

CONTRACT_DOC = "docs/contract.md"
HEADER = """# Registry data contract

Generated from `riskstrat/registry/contract.py` by `riskstrat docs`; do not edit by hand (a test
checks this file equals the generated text).

An extract is a folder with one file per table, `<table>.csv` or `<table>.parquet`, plus
practices' returned lists in `feedback/` (read as `outreach_outcomes`). How files are read and
checked, and what happens to rejected rows, is in [ingest.md](ingest.md).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _rules_of(col: Column) -> str:
    parts = []
    if col.allowed:
        parts.append("allowed: " + ", ".join(f"`{v}`" for v in col.allowed))
    if col.normalise:
        groups: dict[str, list[str]] = {}
        for alias, value in col.normalise.items():
            groups.setdefault(value, []).append(alias)
        mapped = "; ".join(f"{', '.join(a)} -> `{v}`" for v, a in groups.items())
        parts.append(f"normalised: {mapped}")
    if col.fold_case:
        parts.append("any case")
    if col.grouped:
        parts.append(f"written in groups (`{col.grouped}`): spaces and hyphens removed")
    if col.pattern:
        parts.append(f"pattern: `{col.pattern}`")
    if col.warn_rules:
        parts.append("warns (row kept): " + ", ".join(f"`{r}`" for r in col.warn_rules))
    if col.min is not None or col.max is not None:
        lo = "" if col.min is None else f"{col.min:g}"
        hi = "" if col.max is None else f"{col.max:g}"
        parts.append(f"range: {lo}..{hi}")
    return "<br>".join(_cell(p) for p in parts)


def _table_section(table: Table) -> list[str]:
    flags = [
        "required" if table.required else "optional (a warning when absent)",
        "must have rows (rule not_empty)" if table.required and not table.may_be_empty else "",
        "identifiable: read only for a practice's own list" if table.identifiable else "",
    ]
    lines = [f"## {table.name}", "", table.description, ""]
    lines.append("- " + "; ".join(f for f in flags if f))
    lines.append("- key: " + (", ".join(f"`{k}`" for k in table.key) or "none (exact copies only)"))
    if table.event_columns:
        lines.append(
            "- dated columns checked against extract, birth and death dates: "
            + ", ".join(f"`{c}`" for c in table.event_columns)
        )
    if table.row_rules:
        lines.append("- row rules: " + ", ".join(f"`{r}`" for r in table.row_rules))
    if table.name in PATIENT_TABLES:
        lines.append("- every row's `patient_id` must be an accepted patient (`patient_exists`)")
    lines += [
        "",
        "| column | type | DuckDB | in file | nulls | rules | description |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in table.columns:
        lines.append(
            f"| `{c.name}` | {c.dtype} | {DUCKDB_TYPES[c.dtype]} "
            f"| {'required' if c.required else 'optional'} "
            f"| {'nullable' if c.nullable else 'not null'} | {_rules_of(c)} "
            f"| {_cell(c.description)} |"
        )
    return [*lines, ""]


def _rule_table(title: str, rules: dict[str, str]) -> list[str]:
    lines = [f"## {title}", "", "| rule | meaning |", "| --- | --- |"]
    return [*lines, *(f"| `{name}` | {_cell(text)} |" for name, text in rules.items()), ""]


def contract_markdown() -> str:
    """The whole contract as Markdown: tables, columns, rules."""
    lines = [HEADER]
    lines += [
        "## Tables",
        "",
        "| table | required | key | description |",
        "| --- | --- | --- | --- |",
    ]
    for t in TABLES.values():
        lines.append(
            f"| [{t.name}](#{t.name}) | {'yes' if t.required else 'no'} "
            f"| {', '.join(t.key) or '-'} | {_cell(t.description)} |"
        )
    lines.append("")
    for table in TABLES.values():
        lines += _table_section(table)
    lines += _rule_table("Column rules", COLUMN_RULES)
    lines += _rule_table(
        "Column warnings (the row is kept, listed in flagged/<table>.csv)", COLUMN_WARNINGS
    )
    row_rules = {name: f"{text} (`{sql}`)" for name, (sql, _, text) in ROW_RULES.items()}
    lines += _rule_table("Row rules", row_rules)
    lines += _rule_table("Cross-table rules", CROSS_TABLE_RULES)
    lines += _rule_table("Table rules (breaking one stops the ingest)", TABLE_RULES)
    lines += _rule_table(
        "Table warnings (in the data-quality summary and run manifest)", TABLE_WARNINGS
    )
    return "\n".join(lines).rstrip() + "\n"
