"""DuckDB 2 correctness: no unfinished results anywhere, and the crisis-only run that crashed."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from score_runs import last_post_discharge_list

import riskstrat
from riskstrat.config import Settings
from riskstrat.db import fetch_one, fetch_value
from riskstrat.runs.pipeline import run_once

PACKAGE = Path(riskstrat.__file__).parent
AS_OF = date(2025, 12, 29)  # the Monday after the small population's extract (2025-12-28)


def _fetchone_calls() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "fetchone":
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def test_no_fetchone_in_the_package() -> None:
    # fetchone() leaves the result unfinished: DuckDB 2 then refuses register/sql/from_df.
    assert _fetchone_calls() == []


def test_fetch_helpers_close_the_result() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(5)")
    assert fetch_one(con, "SELECT i FROM t ORDER BY i LIMIT 1") == (0,)
    con.register("frame", pd.DataFrame({"a": [1]}))  # would raise after an unfinished fetchone
    assert fetch_one(con, "SELECT i FROM t WHERE i > ?", [99]) is None
    assert fetch_value(con, "SELECT count(*) FROM t") == 5
    con.register("frame2", pd.DataFrame({"a": [2]}))
    # The trap itself, so the test notices if DuckDB ever relaxes or tightens it.
    con.execute("SELECT count(*) FROM t").fetchone()
    with pytest.raises(duckdb.Error):
        con.register("frame3", pd.DataFrame({"a": [3]}))


@pytest.mark.slow
def test_crisis_only_run_end_to_end(run_settings: Settings) -> None:
    """`riskstrat run --pathways early_intervention` (the issue's words; `--pathway` is the same
    option), ingest included: validate -> features with crisis as the run's first task, the path
    that crashed under DuckDB 2."""
    from click.testing import CliRunner

    from riskstrat.cli import main
    from riskstrat.runs.manifest import MANIFEST_FILE, read_manifest

    result = CliRunner().invoke(
        main, ["run", "--as-of", AS_OF.isoformat(), "--pathways", "early_intervention"]
    )
    assert result.exit_code == 0, result.output
    assert f"published run {AS_OF} (succeeded)" in result.output
    run = run_settings.paths.out_dir / "runs" / AS_OF.isoformat()
    m = read_manifest(run / MANIFEST_FILE)
    assert m.status == "succeeded" and m.inputs.extract_date == AS_OF - timedelta(days=1)
    assert [x.task for x in m.models] == ["crisis"]
    assert m.counts["features"]["crisis_rows"] > 0
    assert m.counts["lists"]["early_intervention_listed"] > 0
    assert list(run.glob("practices/*/early_intervention.csv"))
    assert (run / "commissioner" / "report.html").is_file()
    assert AS_OF - timedelta(days=1) == m.store.extract_date


@pytest.mark.slow
def test_post_discharge_run_lists_the_discharges_since_the_last_run(
    run_settings: Settings,
) -> None:
    """Last readmission scoring Friday 19 Dec; runs missed until Monday 29 (Christmas between):
    the run covers every discharge from the 19th, not only since the previous working day."""

    from riskstrat.registry.store import connect
    from riskstrat.runs.state import RunOptions

    last = date(2025, 12, 19)
    last_post_discharge_list(run_settings, last)
    m = run_once(
        as_of=AS_OF,
        pathways=["post_discharge"],
        settings=run_settings,
        options=RunOptions(ingest=False),
    )
    assert m.status == "succeeded"
    with connect(run_settings.paths.store) as con:
        days = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT CAST(index_date AS DATE) FROM scores "
                "WHERE task = 'readmission_30d' AND as_of = ? ORDER BY 1",
                [AS_OF],
            ).fetchall()
        ]
    assert days and days[0] >= last and days[-1] < AS_OF
    assert days[0] < date(2025, 12, 24)  # before the previous working day (Wed 24th)


@pytest.mark.slow
def test_stale_store_is_refused_unless_forced_and_latest_never_goes_back(
    run_settings: Settings,
) -> None:
    from riskstrat.runs.publish import latest_name
    from riskstrat.runs.state import RunOptions
    from riskstrat.runs.steps import EXTRACT_TOO_OLD

    late = date(2026, 1, 20)  # 23 days after the extract (2025-12-28)
    with pytest.raises(ValueError) as err:
        run_once(as_of=late, pathways=["early_intervention"], settings=run_settings,
                 options=RunOptions(ingest=False))  # fmt: skip
    assert str(err.value) == EXTRACT_TOO_OLD.format(
        as_of=late, days=23, extract=date(2025, 12, 28), limit=14
    )
    forced = run_once(as_of=late, pathways=["early_intervention"], settings=run_settings,
                      options=RunOptions(ingest=False, force=True))  # fmt: skip
    assert forced.status == "succeeded"
    assert any(w.startswith("forced: run date 2026-01-20 is 23 days") for w in forced.warnings)
    # A back-dated run afterwards publishes its own date; latest stays on the newest as-of.
    run_once(as_of=AS_OF, pathways=["early_intervention"], settings=run_settings,
             options=RunOptions(ingest=False))  # fmt: skip
    assert latest_name(run_settings.paths.out_dir) == late.isoformat()
    assert (run_settings.paths.out_dir / "runs" / AS_OF.isoformat()).is_dir()
