"""Same seed -> identical files; another seed -> a different population; bad arguments fail
with the module's messages; the CLI prints the summary with the oracle's AUROCs."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskstrat.synth.generate import BAD_FORMAT, BAD_PERIOD, synthesize

SMALL = dict(patients=800, practices=2, start=date(2024, 1, 1), end=date(2024, 12, 31))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_synth_same_seed_identical_files(tmp_path):
    synthesize(**SMALL, seed=4, out_dir=tmp_path / "a")
    synthesize(**SMALL, seed=4, out_dir=tmp_path / "b")
    synthesize(**SMALL, seed=5, out_dir=tmp_path / "c")
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b and len(a) >= 14
    assert a["extract/spells.parquet"] != c["extract/spells.parquet"]


def test_synth_rerun_replaces_output_atomically(tmp_path):
    out = tmp_path / "out"
    synthesize(**SMALL, seed=4, out_dir=out)
    before = _digest(out)
    synthesize(**SMALL, seed=4, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["extract", "truth"]
    assert _digest(out) == before


def test_synth_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError) as err:
        synthesize(**SMALL, seed=1, out_dir=tmp_path, fmt="xlsx")
    assert str(err.value) == BAD_FORMAT.format(allowed=("parquet", "csv"), value="xlsx")
    bad = {**SMALL, "end": SMALL["start"]}
    with pytest.raises(ValueError) as err:
        synthesize(**bad, seed=1, out_dir=tmp_path)
    assert str(err.value) == BAD_PERIOD.format(start=bad["start"], end=bad["end"])
    assert not (tmp_path / "extract").exists()


def test_synth_cli_prints_summary_and_oracle_auroc(tmp_path):
    from riskstrat.cli import main

    result = CliRunner().invoke(main, [
        "synth", "--patients", "1500", "--practices", "2", "--start", "2024-01-01",
        "--end", "2024-12-31", "--seed", "2", "--out", str(tmp_path), "--realism",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "oracle AUROC, 90-day emergency admission" in result.output
    assert "oracle AUROC, 30-day readmission" in result.output
    assert "emergency admissions per 1,000 per year" in result.output
    assert (tmp_path / "extract" / "patients.parquet").is_file()
    bad = CliRunner().invoke(main, ["synth", "--start", "2024-13-01", "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "is not a date" in bad.output
