"""docs/contract.md is the generated contract; the CLI ingests and reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_extracts import EXTRACT_DATE, write_extract

from riskstrat.cli import main
from riskstrat.config import load_settings, project_root
from riskstrat.registry.contract import COLUMN_RULES, CROSS_TABLE_RULES, ROW_RULES, TABLES
from riskstrat.registry.docs import CONTRACT_DOC, contract_markdown
from riskstrat.registry.store import connect


def test_committed_contract_doc_is_the_generated_text() -> None:
    committed = (project_root() / CONTRACT_DOC).read_text(encoding="utf-8")
    assert committed == contract_markdown()


def test_contract_doc_names_every_table_column_and_rule() -> None:
    text = contract_markdown()
    for table in TABLES.values():
        assert f"## {table.name}\n" in text
        for col in table.columns:
            assert f"| `{col.name}` | {col.dtype} |" in text
    for rule in (*COLUMN_RULES, *ROW_RULES, *CROSS_TABLE_RULES):
        assert f"| `{rule}` |" in text
    assert "21, 22, 23, 24, 25, 28, 2A, 2B, 2C, 2D -> `emergency`" in text


def test_docs_check_fails_when_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "riskstrat.yaml").write_text("{}\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["docs", "--check"]).exit_code == 2
    assert runner.invoke(main, ["docs"]).exit_code == 0
    assert (tmp_path / CONTRACT_DOC).read_text(encoding="utf-8") == contract_markdown()
    assert runner.invoke(main, ["docs", "--check"]).exit_code == 0


def test_cli_ingest_uses_the_configured_store(tmp_path: Path) -> None:
    source = write_extract(tmp_path / "ex")
    store = load_settings().paths.store  # the isolated per-test store (conftest)
    args = ["ingest", str(source), "--extract-date", str(EXTRACT_DATE)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.stdout
    assert first.stdout.startswith(f"extract {EXTRACT_DATE} (")
    assert f"ingested into {store}\n" in first.stdout
    assert "  gp_contacts: 3 read, 3 accepted, 0 rejected, 0 exact duplicates" in first.stdout
    with connect(store) as con:
        assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 4
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0
    assert f"is already in the store {store}: nothing to do" in again.stdout
