"""End to end on the small store with real champions in MLflow: score -> outreach CLI -> a
practice returns its spreadsheet -> ingest -> next week's list respects the feedback."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.cli import main
from riskstrat.config import load_settings
from riskstrat.outreach.xlsx import SHEET
from riskstrat.registry.contract import FEEDBACK_HEADINGS, OUTCOME_LABELS
from riskstrat.registry.ingest import ingest

WEEKS = (date(2025, 12, 15), date(2025, 12, 22))
NEXT = date(2025, 12, 29)


@pytest.fixture
def home(isolated_paths, small_store, small_population, outreach_champions, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{outreach_champions}")
    settings = load_settings()
    settings.paths.store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(small_store, settings.paths.store)
    return settings


def _invoke(*args: str) -> str:
    run = CliRunner().invoke(main, list(args))
    assert run.exit_code == 0, run.output + repr(run.exception)
    return run.output


def _practice_files(run: Path) -> dict[str, list[Path]]:
    return {p.name: sorted(p.iterdir()) for p in sorted((run / "practices").iterdir())}


def _listed(run: Path, pathway: str) -> pd.DataFrame:
    frames = [
        pd.read_csv(path, dtype="str", keep_default_na=False).assign(folder=path.parent.name)
        for path in sorted((run / "practices").glob(f"*/{pathway}.csv"))
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.slow
def test_score_list_feedback_cycle(home, small_population, tmp_path):
    for week in (*WEEKS, WEEKS[1]):  # the second week twice: idempotent
        _invoke("score", "--as-of", week.isoformat())
    with duckdb.connect(str(home.paths.store), read_only=True) as con:
        counts = con.execute(
            "SELECT task, as_of, count(*), count(DISTINCT (patient_id, index_spell_id)) "
            "FROM scores GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        patients = con.execute("SELECT * FROM patients").df()
    assert [c[:2] for c in counts if c[0] == "crisis"] == [("crisis", w) for w in WEEKS]
    assert all(c[2] == c[3] and c[2] > 0 for c in counts if c[0] == "crisis")

    out = _invoke("outreach", "--as-of", WEEKS[1].isoformat())
    assert "early_intervention main:" in out
    run = home.paths.out_dir / "runs" / WEEKS[1].isoformat()
    files = _practice_files(run)
    assert sorted(files) == sorted(patients["practice_code"].unique())

    listed = pd.concat(
        [_listed(run, p) for p in ("early_intervention", "post_discharge", "rising_risk",
                                   "palliative_care", "care_home")],
        ignore_index=True,
    )  # fmt: skip
    assert len(listed) > 0
    assert (listed["practice_code"] == listed["folder"]).all()  # the file names its practice
    facts = listed.drop(columns="practice_code").merge(
        patients, on="patient_id", how="left", validate="many_to_one"
    )
    assert (facts["folder"] == facts["practice_code"]).all()  # own practice only
    day = pd.Timestamp(WEEKS[1])
    assert not (facts["date_of_death"] <= day).any()
    assert not (facts["registered_to"] <= day).any()
    assert not facts["data_opt_out"].any()
    generic = facts[facts["pathway"].isin(["early_intervention", "rising_risk"])]
    assert not generic["care_home"].any()
    assert (listed.loc[listed["pathway"] == "early_intervention", "reason_1"] != "").mean() > 0.8
    assert not listed.duplicated("patient_id").any()

    # A practice returns its spreadsheet: the first person was contacted the next day.
    practice, workbook = next(
        (code, paths[0].parent / "early_intervention.xlsx")
        for code, paths in files.items()
        if (paths[0].parent / "early_intervention.csv").read_text().count("\n") > 1
    )
    wb = openpyxl.load_workbook(workbook)
    ws = wb[SHEET]
    top = next(  # the heading row, below the title rows
        r[0].row for r in ws.iter_rows() if FEEDBACK_HEADINGS["patient_id"] in [c.value for c in r]
    )
    header = [c.value for c in ws[top]]
    col = {name: header.index(FEEDBACK_HEADINGS[name]) + 1 for name in FEEDBACK_HEADINGS}
    contacted_id = ws.cell(row=top + 1, column=col["patient_id"]).value
    ws.cell(row=top + 1, column=col["outcome"], value=OUTCOME_LABELS["contacted"])
    ws.cell(row=top + 1, column=col["contacted_on"], value=datetime(2025, 12, 23))
    extract = tmp_path / "extract"
    shutil.copytree(small_population / "extract", extract)
    (extract / "feedback").mkdir()
    wb.save(extract / "feedback" / f"{practice}-early_intervention.xlsx")
    ingest(extract, extract_date="2025-12-28", store_path=home.paths.store, settings=home)
    with duckdb.connect(str(home.paths.store), read_only=True) as con:
        outcomes = con.execute("SELECT * FROM outreach_outcomes").df()
        kept = con.execute("SELECT count(DISTINCT as_of) FROM scores").fetchone()[0]
    assert outcomes[["patient_id", "pathway", "outcome"]].values.tolist() == [
        [contacted_id, "early_intervention", "contacted"]
    ]
    assert kept == 2  # ingest carried the score history over

    _invoke("score", "--as-of", NEXT.isoformat())
    _invoke("outreach", "--as-of", NEXT.isoformat(), "--pathway", "early_intervention")
    nxt = _listed(home.paths.out_dir / "runs" / NEXT.isoformat(), "early_intervention")
    assert contacted_id not in set(nxt["patient_id"])
    assert len(nxt) > 0


def test_outreach_without_scores_names_the_fix(isolated_paths, small_store):
    from riskstrat.outreach.store_io import NO_SCORES

    settings = load_settings()
    settings.paths.store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(small_store, settings.paths.store)
    run = CliRunner().invoke(main, ["outreach", "--as-of", "2025-12-22"])
    assert run.exit_code == 2
    expected = NO_SCORES.format(task="crisis, readmission_30d", as_of=date(2025, 12, 22))
    assert expected in run.output
    assert not (settings.paths.out_dir / "runs" / "2025-12-22").exists()  # nothing published


def test_cli_refuses_missing_store(isolated_paths):
    from riskstrat.outreach.cli import STORE_MISSING

    run = CliRunner().invoke(main, ["score", "--as-of", "2025-12-22"])
    assert run.exit_code == 2
    assert STORE_MISSING.format(path=load_settings().paths.store) in run.output
