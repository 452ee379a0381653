"""The mistakes an operator or a new user makes: each gives one line `Error: ...` (what, where,
what to do), a distinct exit code (2 bad input, 3 the machine, 70 a bug), and no traceback.

Run in-process through the real CLI (click's runner) on a home with the small store and trained
champions; corrupt and missing MLflow parts are made on copies, never the shared database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskstrat.cli import main
from riskstrat.config import Settings
from riskstrat.errors import EXIT_BAD_INPUT, EXIT_ENVIRONMENT
from riskstrat.runs.cli import INGEST_ONLY

AS_OF = "2025-12-29"  # the Monday after the small store's extract (2025-12-28)
TASKS = "choose one of crisis, readmission_30d"
NOT_A_DATE = "is not a date (YYYY-MM-DD)"


def invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def assert_one_line(code: int, output: str, *, expected: str, exit_code: int) -> None:
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output
    assert expected in errors[0], errors[0]
    assert code == exit_code, (code, output)


# (arguments, expected text in the error line, exit code); {src} is the extract folder.
MISTAKES: list[tuple[list[str], str, int]] = [
    (["train", "crisiss"], f"unknown task 'crisiss' (did you mean 'crisis'?): {TASKS}", 2),
    (
        ["model-card", "readmission"],
        f"unknown task 'readmission' (did you mean 'readmission_30d'?): {TASKS}",
        2,
    ),
    (["backtest", "crisis_90d"], f"unknown task 'crisis_90d' (did you mean 'crisis'?): {TASKS}", 2),
    (
        ["promote", "readmision_30d"],
        "unknown task 'readmision_30d' (did you mean 'readmission_30d'?)",
        2,
    ),
    (
        ["score", "crisiss", "--as-of", AS_OF],
        f"unknown task 'crisiss' (did you mean 'crisis'?): {TASKS}",
        2,
    ),
    (["report", "--as-of", "2025/12/29"], f"'2025/12/29' {NOT_A_DATE}", 2),
    (["run", "--as-of", "29/12/2025"], f"'29/12/2025' {NOT_A_DATE}", 2),
    (["score", "--as-of", "yesterday"], f"'yesterday' {NOT_A_DATE}", 2),
    (["outreach", "--as-of", "2025-12-32"], f"'2025-12-32' {NOT_A_DATE}", 2),
    (["features", "crisis", "--as-of", "2025-13-01"], f"'2025-13-01' {NOT_A_DATE}", 2),
    (["ingest", "{src}", "--extract-date", "28.12.2025"], f"'28.12.2025' {NOT_A_DATE}", 2),
    (["run", "--as-of", AS_OF, "--extract-date", "2025-12"], f"'2025-12' {NOT_A_DATE}", 2),
    (["synth", "--start", "2024-02-30"], f"'2024-02-30' {NOT_A_DATE}", 2),
    (["import-synthea", "{src}", "--out", "x", "--extract-date", "2025-1-1"], NOT_A_DATE, 2),
    (
        ["run", "--as-of", AS_OF, "--pathway", "early_interventions"],
        "unknown pathway 'early_interventions' (did you mean 'early_intervention'?): "
        "choose one of early_intervention, post_discharge",
        2,
    ),
    (
        ["outreach", "--as-of", AS_OF, "--pathway", "crisis"],
        "unknown pathway 'crisis': choose one of",
        2,
    ),
    (
        ["run", "--as-of", AS_OF, "--pathways", "early_intervnetion"],  # the older option name
        "unknown pathway 'early_intervnetion' (did you mean 'early_intervention'?): choose one of",
        2,
    ),
    (
        ["report", "--as-of", AS_OF, "--out-dir", "x"],
        "No such option '--out-dir'. Did you mean '--out'?",
        2,
    ),
    (["features", "--task", "crisis", "--as-of", AS_OF], "No such option '--task'", 2),
    (["trian", "crisis"], "No such command 'trian' (did you mean 'train'?): choose one of", 2),
    (["frobnicate"], "No such command 'frobnicate': choose one of synth, import-synthea", 2),
    (["staus"], "No such command 'staus' (did you mean 'status'?): choose one of synth", 2),
    (["run"], "Missing option '--as-of'", 2),
    (["features", "--as-of", AS_OF], "Missing argument 'TASK'", 2),
    (["ingest", "{src}"], "Missing option '--extract-date'", 2),
    (["ingest", "/nonexistent/extract", "--extract-date", "2025-12-28"], "does not exist", 2),
    (["run", "--as-of", AS_OF, "--source", "/nonexistent/extract"], "does not exist", 2),
    (
        ["score", "--as-of", AS_OF, "--store", "/nonexistent/store.duckdb"],
        "store /nonexistent/store.duckdb does not exist: run `riskstrat ingest` first",
        2,
    ),
    (["report", "--as-of", AS_OF, "--store", "/nonexistent/store.duckdb"], "does not exist", 2),
    (["report", "--as-of", AS_OF, "--config", "/nonexistent/report.yaml"], "does not exist", 2),
    (["status", "--limit", "0"], "0 is not in the range x>=1", 2),
    (["schedule", "--install", "upstart"], "'upstart' is not one of 'systemd', 'cron'", 2),
    (["train", "crisis", "--max-rows", "many"], "'many' is not a valid integer", 2),
    # 0 dates or a 0-day step gave "no matured outcomes ... give an earlier --as-of" (helper-53)
    (["recalibrate", "crisis", "--dates", "0"], "0 is not in the range x>=1", 2),
    (["recalibrate", "crisis", "--step-days", "-2"], "-2 is not in the range x>=1", 2),
    (["run", "--as-of", AS_OF, "--wait", "soon"], "'soon' is not a valid float", 2),
    # Options of ingest with --no-ingest: refused, not silently ignored (the run would publish
    # from the store's older extract while the operator believes it read this one).
    (
        ["run", "--as-of", AS_OF, "--no-ingest", "--source", "{src}"],
        INGEST_ONLY.format(option="--source"),
        2,
    ),
    (
        ["run", "--as-of", AS_OF, "--no-ingest", "--extract-date", "2025-12-28"],
        INGEST_ONLY.format(option="--extract-date"),
        2,
    ),
    # Back-dated: the store's extract (2025-12-28) is after the run date.
    (
        ["run", "--as-of", "2025-12-20", "--no-ingest"],
        "extract dated 2025-12-28 is after the run date 2025-12-20",
        2,
    ),
    # A year after the extract: refused, naming both dates, unless --force.
    (
        ["run", "--as-of", "2026-12-28", "--no-ingest"],
        "run date 2026-12-28 is 365 days after the store's extract (2025-12-28)",
        2,
    ),
    (["promote", "crisis"], "no version has the alias 'challenger': train a new model first", 2),
    # --version is the program's version in every command; the card's version is --model-version
    (["model-card", "crisis", "--version", "2"], "Did you mean '--model-version'?", 2),
    (
        ["model-card", "crisis", "--model-version", "99"],
        "no version 99 of registered model 'riskstrat-crisis'",
        2,
    ),
    (["outreach", "--as-of", "2025-12-22"], "no crisis, readmission_30d scores", 2),
    # --out is a folder in every command; the old file meaning is refused, not made a folder.
    (
        ["features", "crisis", "--as-of", AS_OF, "--out", "crisis.parquet"],
        "'crisis.parquet' is a file name, but --out is a folder in every command",
        2,
    ),
    (["backtest", "crisis", "--out", "results.CSV"], "--out is a folder in every command", 2),
]


@pytest.fixture
def home(run_settings: Settings) -> Settings:
    return run_settings


@pytest.mark.slow
def test_every_mistake_gives_one_line_and_no_traceback(home: Settings) -> None:
    src = str(home.paths.source_dir)
    failures = []
    for args, expected, exit_code in MISTAKES:
        args = [a.replace("{src}", src) for a in args]
        code, output = invoke(args)
        try:
            assert_one_line(code, output, expected=expected, exit_code=exit_code)
        except AssertionError as exc:
            failures.append(f"{' '.join(args)}: {exc}")
    assert not failures, "\n".join(failures)
    assert not Path("/nonexistent/store.duckdb").exists()  # a typo never creates a store
    assert len(MISTAKES) >= 38


def test_a_full_disk_is_one_line(home: Settings, tmp_path: Path) -> None:
    # /dev/full: every write fails with ENOSPC, as on a full disk; the features file is a link
    # to it, so the real write path meets the real error.
    (tmp_path / f"crisis-{AS_OF}.parquet").symlink_to("/dev/full")
    code, output = invoke(["features", "crisis", "--as-of", AS_OF, "--out", str(tmp_path)])
    assert_one_line(code, output, expected="no space left on device", exit_code=3)


@pytest.mark.slow
def test_damaged_mlflow_parts_name_the_real_cause(private_mlflow: tuple[Path, Path]) -> None:
    db, artifacts = private_mlflow
    shutil.rmtree(artifacts)  # the artifact store is gone (a moved or deleted mlruns folder)
    code, output = invoke(["model-card", "crisis"])
    assert_one_line(code, output, expected="a model artifact is missing", exit_code=3)
    code, output = invoke(["run", "--as-of", AS_OF, "--no-ingest"])
    assert_one_line(code, output, expected="a model artifact is missing", exit_code=3)
    db.write_bytes(b"this is not a database" * 100)  # a corrupt tracking database
    code, output = invoke(["run", "--as-of", AS_OF, "--no-ingest"])
    assert_one_line(code, output, expected="the database is damaged", exit_code=3)
    code, output = invoke(["--debug", "run", "--as-of", AS_OF, "--no-ingest"])
    assert "Traceback" in output and output.rstrip().splitlines()[-1].startswith("Error: ")


def test_bad_timezone_and_a_corrupt_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from riskstrat.config import project_root

    home = tmp_path / "project"
    shutil.copytree(project_root() / "configs", home / "configs")
    schedule = home / "configs" / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace("Europe/London", "Europe/Lndon"))
    monkeypatch.setenv("RISKSTRAT_HOME", str(home))
    code, output = invoke(["status"])
    assert_one_line(code, output, expected="unknown timezone 'Europe/Lndon'", exit_code=2)
    assert "schedule.yaml: timezone" in output
    store = tmp_path / "broken.duckdb"
    store.write_bytes(b"garbage" * 1000)
    code, output = invoke(["score", "--as-of", AS_OF, "--store", str(store)])
    assert_one_line(code, output, expected="the database is damaged", exit_code=EXIT_ENVIRONMENT)
    code, output = invoke(["status", "--limit", "x"])
    assert_one_line(code, output, expected="'x' is not a valid integer", exit_code=EXIT_BAD_INPUT)
