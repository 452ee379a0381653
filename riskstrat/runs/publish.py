"""Atomic publishing of a run folder.

Everything a run writes goes into a temporary folder beside the published ones; only when the run
succeeds is it renamed into place and the `latest` pointer swapped. A crash, an exception or a
SIGKILL at any point leaves the previously published outputs exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUNS_DIR = "runs"
VERSIONS_DIR = ".versions"  # the real folders; runs/<name> and latest are symlinks into it
LATEST = "latest"
TMP_PREFIX = ".tmp-"


def run_dir(out_root: Path, run_name: str) -> Path:
    return Path(out_root) / RUNS_DIR / run_name


@contextmanager
def publishing(
    out_root: Path,
    run_name: str,
    *,
    keep_existing: bool = False,
    removals: list[Path] | None = None,
) -> Iterator[Path]:
    """Yield a fresh run folder; on success publish it as `runs/<run_name>` and `latest`.

    Publishing is one atomic symlink swap (os.replace), so there is no instant at which the
    published run is missing or half-written. `latest` only moves forward: it points at the
    newest run name (ISO as-of dates sort by date), so re-running or back-dating an older date
    republishes that date's folder but leaves `latest` where it is. keep_existing: start from a
    copy of the published run of the same name, so a command writing one part (say, the report)
    keeps the others. removals: the replaced folder (no longer linked) is appended there for the
    caller to delete (runs.pipeline deletes it beside closing the store) instead of here.
    """
    out_root = Path(out_root)
    versions = out_root / VERSIONS_DIR
    runs = out_root / RUNS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    runs.mkdir(parents=True, exist_ok=True)
    link = runs / run_name
    new = versions / f"{run_name}-{uuid.uuid4().hex[:12]}"
    if keep_existing and link.is_dir():
        shutil.copytree(link, new, symlinks=True)
    else:
        new.mkdir()
    try:
        yield new
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    previous = link.resolve() if link.is_symlink() else None
    _replace_symlink(link, new)
    current = latest_name(out_root)
    if current is None or run_name >= current:
        _replace_symlink(out_root / LATEST, link)
    if previous is not None and previous != new.resolve():
        if removals is None:
            shutil.rmtree(previous, ignore_errors=True)
        else:
            removals.append(previous)


def latest_name(out_root: Path) -> str | None:
    """The run name `latest` points at (None when nothing is published yet)."""
    link = Path(out_root) / LATEST
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def _replace_symlink(link: Path, target: Path) -> None:
    tmp = link.with_name(f"{TMP_PREFIX}{link.name}-{uuid.uuid4().hex[:8]}")
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)


def clean_stale(out_root: Path) -> list[Path]:
    """Remove folders of runs that never published (killed or failed); returns them."""
    out_root = Path(out_root)
    versions = out_root / VERSIONS_DIR
    runs = out_root / RUNS_DIR
    live = {p.resolve() for p in runs.iterdir() if p.is_symlink()} if runs.is_dir() else set()
    stale = (
        [p for p in sorted(versions.iterdir()) if p.resolve() not in live]
        if versions.is_dir()
        else []
    )
    stale += sorted(runs.glob(f"{TMP_PREFIX}*")) if runs.is_dir() else []
    for path in stale:
        if path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
    return stale
