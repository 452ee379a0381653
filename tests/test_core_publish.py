import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskstrat.runs.publish import LATEST, clean_stale, publishing, run_dir


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".versions" not in p.parts
    }


def test_publish_then_failure_keeps_last_good(tmp_path: Path) -> None:
    with publishing(tmp_path, "2025-01-06") as tmp:
        (tmp / "a.txt").write_text("good")
    assert (run_dir(tmp_path, "2025-01-06") / "a.txt").read_text() == "good"
    assert (tmp_path / LATEST / "a.txt").read_text() == "good"
    before = tree(tmp_path / "runs")
    with pytest.raises(RuntimeError), publishing(tmp_path, "2025-01-06") as tmp:
        (tmp / "a.txt").write_text("half-written")
        raise RuntimeError("boom")
    assert tree(tmp_path / "runs") == before
    assert len(list((tmp_path / ".versions").iterdir())) == 1


def test_republish_replaces_and_removes_old_version(tmp_path: Path) -> None:
    for text in ("one", "two"):
        with publishing(tmp_path, "r") as tmp:
            (tmp / "a.txt").write_text(text)
    assert (run_dir(tmp_path, "r") / "a.txt").read_text() == "two"
    assert len(list((tmp_path / ".versions").iterdir())) == 1


def test_keep_existing_adds_a_part(tmp_path: Path) -> None:
    with publishing(tmp_path, "r") as tmp:
        (tmp / "lists.csv").write_text("x")
    with publishing(tmp_path, "r", keep_existing=True) as tmp:
        (tmp / "report.html").write_text("y")
    assert sorted(p.name for p in run_dir(tmp_path, "r").iterdir()) == ["lists.csv", "report.html"]


def test_sigkill_mid_run_leaves_published_outputs(tmp_path: Path) -> None:
    with publishing(tmp_path, "r") as tmp:
        (tmp / "a.txt").write_text("good")
    before = tree(tmp_path / "runs")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from riskstrat.runs.publish import publishing\n"
        f"with publishing(Path({str(tmp_path)!r}), 'r') as tmp:\n"
        "    (tmp / 'a.txt').write_text('half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    assert tree(tmp_path / "runs") == before
    stale = clean_stale(tmp_path)
    assert len(stale) == 1 and not stale[0].exists()
    assert (run_dir(tmp_path, "r") / "a.txt").read_text() == "good"
    assert os.path.islink(tmp_path / LATEST)


def test_latest_only_moves_forward(tmp_path: Path) -> None:
    from riskstrat.runs.publish import latest_name

    for name in ("2025-12-22", "2025-12-29"):
        with publishing(tmp_path, name) as tmp:
            (tmp / "a.txt").write_text(name)
    assert latest_name(tmp_path) == "2025-12-29"
    # A re-run (or back-dated outreach/report) of the older date republishes that date only.
    with publishing(tmp_path, "2025-12-22", keep_existing=True) as tmp:
        (tmp / "a.txt").write_text("redone")
    assert (run_dir(tmp_path, "2025-12-22") / "a.txt").read_text() == "redone"
    assert latest_name(tmp_path) == "2025-12-29"
    assert (tmp_path / LATEST / "a.txt").read_text() == "2025-12-29"
    # Re-running the newest date keeps latest on it; a newer one moves it.
    with publishing(tmp_path, "2025-12-29") as tmp:
        (tmp / "a.txt").write_text("again")
    assert (tmp_path / LATEST / "a.txt").read_text() == "again"
    with publishing(tmp_path, "2026-01-05") as tmp:
        (tmp / "a.txt").write_text("new")
    assert latest_name(tmp_path) == "2026-01-05"
