"""Manifest, lock, monitoring and status: the parts of a run that need no other stage."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskstrat.config import ConfigError, load_settings
from riskstrat.runs import monitoring as mon
from riskstrat.runs.lock import RUN_LOCKED, RunLocked, lock_path, run_lock
from riskstrat.runs.manifest import (
    Manifest,
    config_hash,
    history_path,
    output_hashes,
    read_manifest,
    recent_manifests,
    write_manifest,
)
from riskstrat.runs.schedule import load_schedule
from riskstrat.runs.status import INTERRUPTED, status_text


def _manifest(**kw: object) -> Manifest:
    base = dict(
        run_id="abc123",
        run_name="2025-12-29",
        as_of=date(2025, 12, 29),
        pathways=["early_intervention"],
        started_at=datetime(2025, 12, 29, 7, tzinfo=UTC),
        riskstrat_version="0.1.0",
        config_hash="f" * 64,
    )
    return Manifest(**{**base, **kw})


# --- manifest ---------------------------------------------------------------------------------


def test_manifest_round_trip_and_stable_view(tmp_path: Path) -> None:
    m = _manifest(counts={"score": {"rows": 5}}, timings={"score": 1.5}, warnings=["w"])
    path = write_manifest(m, tmp_path / "m.json")
    back = read_manifest(path)
    assert back == m
    later = back.model_copy(update={"run_id": "zzz", "timings": {"score": 9.0}})
    assert later.stable() == m.stable()
    assert later.model_copy(update={"warnings": []}).stable() != m.stable()


def test_manifest_refuses_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(_manifest().model_dump_json().replace('"status"', '"stat"'))
    with pytest.raises(ValueError, match="stat"):
        read_manifest(path)


def test_config_hash_changes_with_any_config_file(tmp_path: Path) -> None:
    (tmp_path / "configs" / "tasks").mkdir(parents=True)
    (tmp_path / "configs" / "a.yaml").write_text("x: 1\n")
    (tmp_path / "configs" / "tasks" / "t.yaml").write_text("h: 90\n")
    first = config_hash(tmp_path)
    assert config_hash(tmp_path) == first
    (tmp_path / "configs" / "tasks" / "t.yaml").write_text("h: 365\n")
    assert config_hash(tmp_path) != first


def test_output_hashes_skip_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "practices" / "P1").mkdir(parents=True)
    (tmp_path / "practices" / "P1" / "a.csv").write_text("x\n")
    (tmp_path / "manifest.json").write_text("{}")
    hashes = output_hashes(tmp_path)
    assert list(hashes) == ["practices/P1/a.csv"]
    assert len(hashes["practices/P1/a.csv"]) == 64


def test_recent_manifests_newest_first_and_status(tmp_path: Path) -> None:
    settings = load_settings()
    out = settings.paths.out_dir
    for day, status in ((1, "succeeded"), (2, "failed"), (3, "running")):
        m = _manifest(
            run_id=f"r{day}",
            started_at=datetime(2025, 12, day, 7, tzinfo=UTC),
            status=status,
            timings={"score": 2.0},
        )
        write_manifest(m, history_path(out, m))
    recent = recent_manifests(out, limit=2)
    assert [m.run_id for m in recent] == ["r3", "r2"]
    text = status_text(load_schedule(), settings=settings)
    # Nobody holds the lock, so the "running" manifest was left by a killed run.
    assert INTERRUPTED in text and "failed" in text and "succeeded" in text
    assert "weekly-early-intervention" in text and "config (not installed)" in text


# --- lock -------------------------------------------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from riskstrat.runs.lock import run_lock
with run_lock(Path(sys.argv[1]), timeout=5):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_lock_excludes_a_second_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data), "30"], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        with pytest.raises(RunLocked) as err, run_lock(data, timeout=0.5):
            pass
        assert time.monotonic() - start >= 0.5
        assert str(err.value) == RUN_LOCKED.format(path=lock_path(data), timeout=0.5)
        holder.kill()
    # The holder died (even by SIGKILL): the OS released its lock.
    with run_lock(data, timeout=2):
        pass


def test_lock_waits_for_a_short_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data), "1"], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        with run_lock(data, timeout=20):
            waited = time.monotonic() - start
        assert 0.5 < waited < 10  # we waited for the holder's one-second run, then ran


# --- monitoring -------------------------------------------------------------------------------


def test_psi_zero_for_same_distribution_and_known_value() -> None:
    assert mon.psi([0.5, 0.5], [0.5, 0.5], floor=1e-4) == 0
    expected = (0.7 - 0.5) * np.log(0.7 / 0.5) + (0.3 - 0.5) * np.log(0.3 / 0.5)
    assert mon.psi([0.5, 0.5], [0.7, 0.3], floor=1e-4) == pytest.approx(expected)


def test_bin_shares_with_missing_and_edge_styles() -> None:
    values = np.array([0.0, 1.0, 2.0, 3.0, np.nan])
    assert mon.bin_shares(values, np.array([1.0, 2.5])).tolist() == [0.2, 0.4, 0.2, 0.2]
    inner, shares = mon.reference_bins("f", {"edges": [1.0, 2.5], "proportions": [1, 2, 1]})
    assert inner.tolist() == [1.0, 2.5] and shares.tolist() == [0.25, 0.5, 0.25, 0.0]
    outer, _ = mon.reference_bins("f", {"edges": [0, 1.0, 2.5, 9], "proportions": [1, 2, 1]})
    assert outer.tolist() == [1.0, 2.5]
    with pytest.raises(ValueError) as err:
        mon.reference_bins("f", {"edges": [1.0], "proportions": [1, 2, 3]})
    assert str(err.value) == mon.BAD_REFERENCE.format(name="f", problem="1 edges, 3 shares")


def _reference(values: np.ndarray) -> dict:
    edges = np.quantile(values, [0.1 * i for i in range(1, 10)])
    return {"edges": edges.tolist(), "proportions": mon.bin_shares(values, edges)[:-1].tolist()}


def test_feature_psi_flags_a_shifted_feature_only() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"age": rng.normal(50, 15, 20_000), "bmi": rng.normal(27, 4, 20_000)})
    now = pd.DataFrame({"age": rng.normal(50, 15, 20_000), "bmi": rng.normal(31, 4, 20_000)})
    reference = {c: _reference(train[c].to_numpy()) for c in train}
    params = mon.load_monitoring_config()
    table = mon.feature_psi(now, reference=reference, params=params.psi)
    assert table["feature"].tolist() == ["bmi", "age"]
    assert table.set_index("feature").loc["age", "psi"] < 0.02
    assert table.set_index("feature").loc["bmi", "status"] == "major"
    shift = mon.score_shift(
        rng.beta(2, 20, 5000), reference=None, previous=rng.beta(2, 30, 5000), params=params.psi
    )
    shift["previous_as_of"] = "2025-12-22"
    warnings = mon.drift_warnings(table, shift, params=params)
    assert warnings[0] == mon.WARN_FEATURE_PSI.format(n=1, warn=0.1, names="bmi")
    assert warnings[1] == mon.WARN_FEATURE_PSI_MAJOR.format(alert=0.25, names="bmi")
    assert warnings[2] == mon.WARN_SCORE_MEAN.format(
        change=shift["mean_change"], previous="2025-12-22"
    )


def test_matured_performance_by_slice_and_warnings() -> None:
    rng = np.random.default_rng(1)
    n = 6000
    frame = pd.DataFrame(
        {
            "risk": rng.uniform(0.01, 0.3, n),
            "age": rng.integers(0, 95, n),
            "sex": rng.choice(["F", "M"], n),
            "practice_code": rng.choice(["P1", "P2"], n),
        }
    )
    frame["label"] = (rng.uniform(size=n) < frame["risk"]).astype("Int8")
    # Practice P2's outcomes come true twice as often as predicted: miscalibrated there.
    p2 = frame["practice_code"] == "P2"
    frame.loc[p2, "label"] = (rng.uniform(size=p2.sum()) < 2 * frame.loc[p2, "risk"]).astype(int)
    frame.loc[:99, "label"] = pd.NA  # immature rows are ignored
    perf = mon.matured_performance(frame)
    overall = perf[perf["slice"] == "overall"].iloc[0]
    assert overall["n"] == n - 100
    assert set(perf["slice"]) == {"overall", "age_band", "sex", "practice"}
    p2_row = perf[(perf["slice"] == "practice") & (perf["group"] == "P2")].iloc[0]
    assert p2_row["observed"] > 1.6 * p2_row["expected"]
    params = mon.load_monitoring_config().performance
    warnings = mon.performance_warnings(perf, task="crisis", as_of="2025-09-29", params=params)
    assert any("practice P2" in w for w in warnings)
    assert not any("practice P1" in w for w in warnings)
    few = mon.matured_performance(frame.head(150))
    assert mon.performance_warnings(few, task="crisis", as_of="x", params=params) == []


def test_relative_calibration_warns_on_a_step_the_absolute_gap_misses() -> None:
    # 6,000 matured rows predicted at 13 %: 780 events expected, sd sqrt(6000 * .13 * .87) = 26.
    params = mon.PerformanceConfig(auroc_warn=0.0)  # constant risks: AUROC 0.5, not judged here
    risk = np.full(6000, 0.13)

    def warnings_for(events: int) -> list[str]:
        label = np.zeros(6000, dtype=int)
        label[:events] = 1
        perf = mon.matured_performance(pd.DataFrame({"risk": risk, "label": label}))
        return mon.performance_warnings(perf, task="readmission_30d", as_of="d", params=params)

    # A virtual ward: 690 readmissions (O/E 0.88, -3.5 sd); the gap, 1.5 points, is inside the
    # absolute 2-point band, so only the relative check speaks.
    assert warnings_for(690) == [
        mon.WARN_CALIBRATION_RATIO.format(
            task="readmission_30d",
            as_of="d",
            events=690,
            expected=780.0,
            ratio=690 / 780,
            z=(690 - 780) / np.sqrt(6000 * 0.13 * 0.87),
        )
    ]
    assert warnings_for(740) == []  # O/E 0.95: inside the 10 % band
    # Outside the band but within noise: 300 rows, 3.9 expected, none observed (z = -2.0).
    perf = mon.matured_performance(pd.DataFrame({"risk": np.full(300, 0.013), "label": 0}))
    assert mon.performance_warnings(perf, task="crisis", as_of="d", params=params) == []


def test_monitoring_config_errors_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text("psi:\n  warm: 0.1\n")
    with pytest.raises(ConfigError, match=r"monitoring.yaml: psi.warm"):
        mon.load_monitoring_config(path)


# --- CLI --------------------------------------------------------------------------------------


def test_cli_commands_have_help_and_install_only_syncs() -> None:
    from click.testing import CliRunner

    from riskstrat.cli import main

    runner = CliRunner()
    for name in ("run", "schedule", "status", "demo"):
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        assert len(main.commands[name].help or "") > 20
    result = runner.invoke(main, ["schedule", "--install-only"])
    assert result.exit_code == 0, result.output
    assert "weekly-early-intervention: added" in result.output
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 0 and "job store" in result.output
    result = runner.invoke(main, ["run", "--as-of", "29/12/2025"])
    assert result.exit_code == 2 and "is not a date (YYYY-MM-DD)" in result.output


def test_xlsx_content_hash_ignores_save_time_not_content(tmp_path: Path) -> None:
    import zipfile

    from openpyxl import Workbook

    from riskstrat.filehash import content_hash, sha256_file

    def book(path: Path, value: str) -> Path:
        wb = Workbook()
        wb.active["A1"] = value
        wb.save(path)
        return path

    first = book(tmp_path / "a.xlsx", "risk 12%")
    # The same workbook saved at another time: new zip timestamps and core properties.
    later = tmp_path / "b.xlsx"
    with zipfile.ZipFile(first) as src, zipfile.ZipFile(later, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = data.replace(b"<dcterms:modified", b"<dcterms:modified x=''", 1)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2030, 1, 1, 0, 0, 0)), data)
    assert sha256_file(first) != sha256_file(later)
    assert content_hash(first) == content_hash(later)
    assert content_hash(book(tmp_path / "c.xlsx", "risk 13%")) != content_hash(first)


def test_psi_on_too_few_rows_is_shown_but_never_warns() -> None:
    rng = np.random.default_rng(2)
    reference = {"bmi": _reference(rng.normal(27, 4, 20_000))}
    params = mon.load_monitoring_config()
    few = pd.DataFrame({"bmi": rng.normal(35, 4, params.psi.min_rows - 1)})
    table = mon.feature_psi(few, reference=reference, params=params.psi)
    assert table.loc[0, "status"] == "few" and table.loc[0, "psi"] > params.psi.alert
    shift = {"n": float(len(few)), "psi_vs_training": 1.0, "mean_change": 1.0}
    assert mon.drift_warnings(table, shift, params=params) == []


@pytest.mark.parametrize("command", ["report", "outreach"])
def test_standalone_publishers_wait_for_a_run(
    command: str, isolated_paths: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`riskstrat report` and `outreach` publish into run folders: never while a run holds it."""
    import duckdb
    from click.testing import CliRunner

    import riskstrat.outreach.cli
    import riskstrat.reports.cli
    from riskstrat.cli import main
    from riskstrat.config import load_settings

    settings = load_settings()
    settings.paths.store.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.paths.store)).close()
    for module in (riskstrat.outreach.cli, riskstrat.reports.cli):
        monkeypatch.setattr(module, "STANDALONE_LOCK_WAIT_SECONDS", 0.5)
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.paths.data_dir), "30"],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout.readline().strip() == "locked"
        result = CliRunner().invoke(main, [command, "--as-of", "2025-12-22"])
        holder.kill()
    assert result.exit_code == 3  # the machine (a lock held), not bad input
    expected = RUN_LOCKED.format(path=lock_path(settings.paths.data_dir), timeout=0.5)
    assert expected in result.output
    assert not (settings.paths.out_dir / "runs").exists()
