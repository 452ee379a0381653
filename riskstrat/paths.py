"""Output paths: the one function that turns names from the data into file paths.

Practice codes (and any other name that comes from an extract) end up in folder names. A code such
as `../../etc` or `/tmp/x` must never write outside the run folder, so every output path is built
here and checked after resolving `..` and links.
"""

from __future__ import annotations

from pathlib import Path

OUTSIDE_RUN_FOLDER = (
    "output path {path!r} resolves outside the run folder {root}; rule inside_run_folder: "
    "check the practice code or name that produced it"
)


def output_path(root: Path, *parts: str) -> Path:
    """`root / parts...`, refusing anything that resolves outside `root` (absolute parts, `..`,
    empty names, links pointing elsewhere). The folder itself is not created."""
    root = Path(root)
    for part in parts:
        if part in ("", ".", "..") or any(c in part for c in "/\\\x00"):
            raise ValueError(OUTSIDE_RUN_FOLDER.format(path="/".join(parts), root=root))
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(OUTSIDE_RUN_FOLDER.format(path="/".join(parts), root=root))
    return path
