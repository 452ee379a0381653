"""`riskstrat report` on a real DuckDB store: published files, no identifiers, Chromium render."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from reports_synthetic import AS_OF, PRACTICES, REGISTER_CODES, cohort

from riskstrat.cli import main
from riskstrat.config import load_settings
from riskstrat.registry.contract import TABLES, ddl
from riskstrat.reports.loader import NO_LISTS, NO_SCORES

CHROMIUM = Path("/usr/bin/chromium")
SCORE_DATES = [AS_OF - timedelta(days=d) for d in (91, 14, 7, 0)]


def build_store(path: Path) -> pd.DataFrame:
    """Registry tables (contract DDL), scores at four as-of dates, outcomes; returns contacts."""
    people = cohort(1500, seed=5)
    n = len(people)
    rng = np.random.default_rng(6)
    con = duckdb.connect(str(path))
    for table in TABLES.values():  # every contract table (the feature SQL reads them all)
        con.execute(ddl(table))
    con.register("pr", PRACTICES.assign(weekly_capacity=20))
    con.execute("INSERT INTO practices SELECT * FROM pr")
    # born (and registered) before the earliest scoring date, 91 days before AS_OF
    dob = [AS_OF - timedelta(days=int(a * 365.25) + 120) for a in people["age"]]
    pat = pd.DataFrame({
        "patient_id": people["patient_id"], "practice_code": people["practice_code"],
        "date_of_birth": pd.to_datetime(dob), "sex": people["sex"],
        "ethnicity": people["ethnicity"], "lsoa_code": "E01000001",
        "imd_decile": people["imd_decile"].astype(int),
        "registered_from": pd.to_datetime(dob), "registered_to": pd.NaT,
        "date_of_death": pd.NaT, "lives_alone": False, "care_home": False,
        "data_opt_out": False,
    })  # fmt: skip
    con.register("pat", pat)
    con.execute("INSERT INTO patients SELECT * FROM pat")
    contacts = pd.DataFrame({
        "patient_id": people["patient_id"],
        "nhs_number": [f"{9000000000 + i}" for i in range(n)],
        "given_name": [f"Givenname{i}x" for i in range(n)],
        "family_name": [f"Familyname{i}q" for i in range(n)],
        "phone": "07700 900000", "address": "1 High Street",
    })  # fmt: skip
    con.register("ct", contacts)
    con.execute("INSERT INTO contacts SELECT * FROM ct")
    for code in REGISTER_CODES:
        on = people[people[f"register_{code}"]]
        con.executemany(
            "INSERT INTO conditions VALUES (?, ?, ?, NULL)",
            [(p, code, AS_OF - timedelta(days=400)) for p in on["patient_id"]],
        )
    admitted = people[rng.random(n) < people["risk"]]
    spells = [
        (
            f"s{i}",
            p,
            "RXX",
            AS_OF - timedelta(days=60),
            AS_OF - timedelta(days=55),
            "emergency",
            "I50",
            "home",
        )
        for i, p in enumerate(admitted["patient_id"])
    ]
    con.executemany("INSERT INTO spells VALUES (?, ?, ?, ?, ?, ?, ?, ?)", spells)
    listed = people[people["listed"]]
    con.executemany(
        "INSERT INTO outreach_outcomes VALUES (?, 'early_intervention', ?, ?, ?)",
        [(p, AS_OF - timedelta(days=14), AS_OF - timedelta(days=10), "contacted")
         for p in listed["patient_id"]],
    )  # fmt: skip
    con.execute("CREATE TABLE scores (task VARCHAR, as_of DATE, patient_id VARCHAR, "
                "index_date DATE, index_spell_id VARCHAR, risk DOUBLE, model_name VARCHAR, "
                "model_version VARCHAR, scored_at TIMESTAMP)")  # fmt: skip
    for day in SCORE_DATES:
        noise = np.clip(people["risk"] * rng.uniform(0.9, 1.1, size=n), 0, 1)
        day_scores = pd.DataFrame({"as_of": pd.Timestamp(day), "patient_id": people["patient_id"],
                                   "risk": noise})  # fmt: skip
        con.register("sc", day_scores)
        con.execute("INSERT INTO scores SELECT 'crisis', as_of, patient_id, as_of, NULL, risk, "
                    "'lgbm', '1', now() FROM sc")  # fmt: skip
    con.close()
    return contacts.assign(listed=people["listed"].to_numpy())


def write_run_list(out: Path, contacts: pd.DataFrame) -> None:
    """A published run with practice lists (as the outreach stage writes them)."""
    run = out / "runs" / AS_OF.isoformat()
    listed = contacts[contacts["listed"]]
    for k, code in enumerate(PRACTICES["practice_code"]):
        folder = out / "seed" / code
        folder.mkdir(parents=True)
        part = listed.iloc[k::4].drop(columns="listed")
        part.to_csv(folder / "early_intervention.csv", index=False)  # fmt: skip
    run.parent.mkdir(parents=True)
    (out / "seed-run").mkdir()
    (out / "seed").rename(out / "seed-run" / "practices")
    run.symlink_to(out / "seed-run")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("e2e")
    store = home / "store.duckdb"
    contacts = build_store(store)
    out = home / "out"
    write_run_list(out, contacts)
    # no model registry here (never the developer's data/mlflow.db): the context says so
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{home / 'no-registry.db'}"}
    result = CliRunner().invoke(main, ["report", "--as-of", AS_OF.isoformat(), "--store",
                                       str(store), "--out", str(out)], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = out / "latest" / "commissioner"
    return {"folder": folder, "contacts": contacts, "out": out, "store": store, "home": home}


def test_published_with_the_run_kept(published) -> None:
    folder = published["folder"]
    for name in ("report.html", "aggregates.csv", "aggregates.md", "warnings.csv"):
        assert (folder / name).is_file(), name
    assert (folder.parent / "practices" / "P001" / "early_intervention.csv").is_file()
    agg = pd.read_csv(folder / "aggregates.csv")
    listed = agg.query("section == 'outreach' and measure == 'listed' and dimension == 'ics'")
    expected = 5 * np.floor(published["contacts"]["listed"].sum() / 5 + 0.5)
    assert listed["value"].iloc[0] == expected  # read from the run's practice lists
    perf = agg.query("section == 'performance' and measure == 'auroc' and dimension == 'ics'")
    assert 0.6 < perf["value"].iloc[0] < 1.0  # matured window (scores 91 days old) evaluated
    trend = agg.query("section == 'trend' and measure == 'expected_admissions'")
    assert len(trend) == len(SCORE_DATES)
    assert (agg["as_of"] == AS_OF.isoformat()).all()
    html = (folder / "report.html").read_text()
    assert "Expected emergency admissions, week by week" in html  # 4 runs kept: a trend line
    assert "could not be read from the model registry (no model registry found)" in html
    assert html.index('id="findings"') < html.index('id="pyramid"')


def test_a_report_without_its_runs_lists_says_so(published) -> None:
    """`riskstrat report` for a date no run listed (no practices/ in its folder) published
    "Listed 0" for every group and practice, read as no one listed (the demo's 2025-12-22);
    the page and warnings.csv now say no list was read. The run with lists says nothing."""
    out = published["home"] / "out-no-lists"
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{published['home'] / 'no-registry.db'}"}
    args = ["report", "--as-of", AS_OF.isoformat(), "--store", str(published["store"])]
    result = CliRunner().invoke(main, [*args, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    folder = out / "runs" / AS_OF.isoformat() / "commissioner"
    html = (folder / "report.html").read_text()
    assert f"No practice lists were found for {AS_OF.isoformat()}" in html
    assert "not because no one was listed" in html
    technical = pd.read_csv(folder / "warnings.csv")["technical"].tolist()
    assert NO_LISTS.format(as_of=AS_OF.isoformat()) in technical
    kept = published["folder"]
    assert "No practice lists were found" not in (kept / "report.html").read_text()
    assert not pd.read_csv(kept / "warnings.csv")["technical"].str.contains("no practice").any()


def test_no_identifier_or_patient_row_anywhere(published) -> None:
    contacts = published["contacts"]
    text = "\n".join(p.read_text() for p in published["folder"].rglob("*") if p.is_file())
    for column in ("patient_id", "nhs_number", "given_name", "family_name"):
        values = set(contacts[column])
        found = {v for v in values if v in text}
        assert not found, f"{column} values in the commissioner folder: {sorted(found)[:3]}"
    agg = pd.read_csv(published["folder"] / "aggregates.csv")
    assert not agg.columns.str.contains("patient").any()


def test_matured_predictions_dated_from_the_store(published) -> None:
    """The loader names the scoring the performance section judges (scores 91 days before
    AS_OF; the extract ends the day before AS_OF), not 'one horizon ago'."""
    html = (published["folder"] / "report.html").read_text()
    first = SCORE_DATES[0]
    last = first + timedelta(days=89)
    period = f"predictions made on {first.isoformat()}, admissions {first.isoformat()} to "
    assert f"{period}{last.isoformat()}" in html
    assert "Admitted vs expected by practice (predictions made on" in html


def test_html_self_contained_and_accessible(published) -> None:
    html = (published["folder"] / "report.html").read_text()
    assert '<html lang="en-GB">' in html and "@page" in html
    assert not re.search(r"<script|<link|@import|url\(|src=\"http|href=\"http", html)
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) >= 8
    for svg in svgs:
        assert "<title" in svg and "<desc" in svg and 'role="img"' in svg
    assert html.count("<figure>") <= len(re.findall(r"<table[ >]", html))  # a table per chart


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")
def test_chromium_renders_without_console_errors(published, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    page = (published["folder"] / "report.html").resolve()
    run = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--window-size=1100,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 20_000
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console


def _pages(pdf: Path) -> list[str]:
    count = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout,
        ).group(1)
    )
    return [
        subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
                       capture_output=True, text=True, check=True).stdout
        for i in range(1, count + 1)
    ]  # fmt: skip


@pytest.mark.skipif(not CHROMIUM.exists() or not shutil.which("pdftotext"),
                    reason="needs Debian chromium and poppler-utils")  # fmt: skip
def test_prints_to_a4_with_running_title_and_page_numbers(published, tmp_path: Path) -> None:
    page = (published["folder"] / "report.html").resolve()
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(width), round(height)) == (595, 842)  # A4 portrait, in points
    pages = _pages(pdf)
    assert 3 <= len(pages) <= 14, len(pages)
    assert "Cohort risk report for commissioners - as of" in pages[1]
    assert f"Page 2 of {len(pages)}" in pages[1]
    html = page.read_text()
    headings = {re.sub(r"<[^>]+>", "", h).strip()
                for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html)}  # fmt: skip
    for number, text in enumerate(pages, start=1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        body = [ln for ln in lines if not re.fullmatch(r"Page \d+ of \d+", ln)]
        assert body and body[-1] not in headings, f"page {number} ends with heading {body[-1]!r}"


def test_failed_report_leaves_last_good_outputs(published) -> None:
    before = (published["folder"] / "report.html").read_bytes()
    day = AS_OF + timedelta(days=7)
    result = CliRunner().invoke(main, ["report", "--as-of", day.isoformat(), "--store",
                                       str(published["store"]), "--out",
                                       str(published["out"])])  # fmt: skip
    assert result.exit_code == 2
    assert f"Error: {NO_SCORES.format(task='crisis', as_of=day)}\n" in result.output
    assert (published["out"] / "latest" / "commissioner" / "report.html").read_bytes() == before
    assert not (published["out"] / "runs" / day.isoformat()).exists()


def test_cli_help_and_settings_defaults() -> None:
    result = CliRunner().invoke(main, ["report", "--help"])
    assert result.exit_code == 0 and "commissioner cohort risk report" in result.output
    assert load_settings().paths.out_dir.name == "out"
