"""The data scientists' scripts (training/) and options fail in one line, never with a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "training"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["crisis", "{bad json"], "Error: candidates '{bad json' are not a JSON object"),
        (["crisis", "[1]"], "Error: candidates '[1]' are not a JSON object"),
        (["crisis", '{"x": {"lightgbm": {"nope": 1}}}'], "Error: candidate 'x': "),
        (["crisiss", "{}"], "unknown task 'crisiss'"),
    ],
)
def test_tune_refuses_bad_candidates_in_one_line(args: list[str], expected: str) -> None:
    from tune import main

    run = CliRunner().invoke(main, args)
    assert run.exit_code == 2 if "unknown task" in expected else run.exit_code == 1
    assert expected in run.output and "Traceback" not in run.output
    assert not isinstance(run.exception, ValueError)  # handled, not raised


def test_model_card_takes_an_alias_or_a_version_not_both() -> None:
    # `--alias challenger --version 2` (now --model-version) wrote version 2's card, the
    # alias silently ignored
    from riskstrat.cli import main
    from riskstrat.models.cli import ALIAS_OR_VERSION

    args = ["model-card", "crisis", "--alias", "challenger", "--model-version", "2"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 2
    assert ALIAS_OR_VERSION.format(alias="challenger", version="2") in run.output
    assert len(run.output.strip().splitlines()) == 1


def test_backtest_without_an_extract_is_the_trains_one_line_error() -> None:
    # was "Error: internal error TypeError: 'NoneType' object is not subscriptable" (exit 70)
    import os

    from riskstrat.cli import main
    from riskstrat.models.data import NO_EXTRACT

    run = CliRunner().invoke(main, ["backtest", "readmission_30d"])  # a fresh home: no store
    assert run.exit_code != 70, run.output
    assert NO_EXTRACT.format(store=os.environ["RISKSTRAT_STORE"]) in run.output
    assert "internal error" not in run.output and len(run.output.strip().splitlines()) == 1


@pytest.mark.parametrize("rows", ["0", "-5", "999"])
def test_train_max_rows_is_checked_as_the_option(rows: str) -> None:
    # 0 trained on every row (taken as "no cap"); -5 blamed configs/models/crisis.yaml
    from riskstrat.cli import main

    run = CliRunner().invoke(main, ["train", "crisis", "--max-rows", rows])
    assert run.exit_code == 2
    assert "Invalid value for '--max-rows'" in run.output and "crisis.yaml" not in run.output


def test_a_truth_folder_without_truth_is_refused_before_the_store_is_read(tmp_path: Path) -> None:
    # was refused only after the fit (the oracle's turn): 14 s for readmission on the demo
    # store, minutes for crisis; with no store at all the store's error came first
    from riskstrat.cli import main
    from riskstrat.synth.truth import TRUTH_MISSING

    run = CliRunner().invoke(main, ["train", "readmission_30d", "--truth", str(tmp_path)])
    assert run.exit_code == 2, run.output
    assert TRUTH_MISSING.format(path=tmp_path.resolve()) in run.output
    # one Error line and no traceback (run.lock log lines show when an earlier test in this
    # worker configured riskstrat's log handler)
    said = run.output.strip().splitlines()
    assert [line for line in said if " INFO " not in line] == [said[-1]]
    assert said[-1].startswith("Error: ") and "Traceback" not in run.output


@pytest.mark.parametrize(
    "args",
    [
        ["train", "readmission_30d"],
        ["promote", "crisis"],
        ["rollback", "crisis"],
        ["recalibrate", "crisis", "--no-gate"],
    ],
)
def test_registry_commands_wait_for_a_run_holding_the_lock(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # they ignored the run lock: a hand-started train or promote could register or promote a
    # version between the scheduler's monthly retrain and its gate, or move the champion
    # while a run scored with it (a train ran to the end while the lock was held)
    from riskstrat.cli import main
    from riskstrat.config import load_settings
    from riskstrat.runs import lock
    from riskstrat.runs.lock import RUN_LOCKED, lock_path, run_lock

    monkeypatch.setattr(lock, "STANDALONE_LOCK_WAIT_SECONDS", 0.2)  # the wait, shortened
    data_dir = load_settings().paths.data_dir
    with run_lock(data_dir, timeout=1):
        run = CliRunner().invoke(main, args)
    assert run.exit_code == 3, run.output
    assert RUN_LOCKED.format(path=lock_path(data_dir), timeout=0.2) in run.output
    assert len(run.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("script", "args"),
    [("rollback.py", ["crisis"]), ("tune.py", ["crisis", '{"base": {}}'])],
)
def test_training_scripts_fail_in_one_line_like_the_cli(script: str, args: list[str]) -> None:
    # `python training/rollback.py crisis` with nothing to roll back to, and tune.py on a store
    # without an extract, printed a Python traceback (the click command ran without riskstrat's
    # error boundary), exit 1
    import subprocess

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "training" / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    errors = [line for line in done.stderr.splitlines() if " INFO " not in line]
    assert "Traceback" not in done.stderr, done.stderr[-400:]
    assert done.returncode == 2 and len(errors) == 1 and errors[0].startswith("Error: ")
