"""The run manifest: who/what/when of every run, as a validated JSON document.

One manifest per run records the inputs (extract content hash, store snapshot), the model
versions used, a hash of every configuration file, counts and timings per step, the status and
the monitoring warnings. It holds counts, dates, codes and hashes only - never identifiers.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from riskstrat.filehash import content_hash, sha256_file

MANIFEST_FILE = "manifest.json"
HISTORY_DIR = "history"  # under out_dir: one manifest per run attempt, published or not
#: Folders (under the project root) whose files make up "the configuration" of a run.
CONFIG_GLOBS = ("configs/**/*.yaml", "configs/**/*.yml", "features/*", "outreach/**/*")
#: Manifest fields that legitimately differ between two runs of the same as-of.
VOLATILE_FIELDS = ("started_at", "finished_at", "timings", "run_id")


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputsInfo(Schema):
    source_dir: str | None = None
    extract_date: date | None = None
    ingested: bool = False  # False: the run used the store as it was (--no-ingest or same hash)
    ingest_message: str | None = None


class StoreInfo(Schema):
    extract_date: date | None = None
    content_hash: str | None = None
    ingested_at: str | None = None


class ModelInfo(Schema):
    task: str
    name: str
    version: str
    alias: str
    run_id: str | None = None
    aliases: list[str] = Field(default_factory=list)


class Manifest(Schema):
    run_id: str
    run_name: str
    as_of: date
    pathways: list[str]
    status: Literal["running", "succeeded", "failed"] = "running"
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    riskstrat_version: str
    config_hash: str
    engine: str = "duckdb"  # riskstrat.runs.engine: where features, scores and lists were made
    inputs: InputsInfo = Field(default_factory=InputsInfo)
    store: StoreInfo = Field(default_factory=StoreInfo)
    models: list[ModelInfo] = Field(default_factory=list)
    counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    monitoring: dict[str, object] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)  # relative path -> sha256
    #: A failed run whose own clean-up failed: the tasks whose scores at as_of it stored and
    #: could not remove (runs.pipeline.forget_failed_scores); the next run removes them.
    scores_left: list[str] = Field(default_factory=list)

    def stable(self) -> dict[str, object]:
        """The manifest without fields that change from one identical run to the next."""
        return self.model_dump(mode="json", exclude=set(VOLATILE_FIELDS))


def config_hash(root: Path) -> str:
    """One hash over every configuration file (path and content), order-independent of disk."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in CONFIG_GLOBS for p in Path(root).glob(pattern) if p.is_file()})
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def output_hashes(run_dir: Path) -> dict[str, str]:
    """Content hash of every file a run wrote (the manifest itself excluded)."""
    run_dir = Path(run_dir)
    return {
        str(p.relative_to(run_dir)): content_hash(p)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name != MANIFEST_FILE
    }


def write_manifest(manifest: Manifest, path: Path) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a manifest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n")
    tmp.replace(path)
    return path


def read_manifest(path: Path) -> Manifest:
    return Manifest.model_validate_json(Path(path).read_text())


def history_path(out_dir: Path, manifest: Manifest) -> Path:
    stamp = manifest.started_at.strftime("%Y%m%dT%H%M%S")
    return Path(out_dir) / HISTORY_DIR / f"{stamp}-{manifest.run_name}-{manifest.run_id}.json"


def recent_manifests(out_dir: Path, *, limit: int = 10) -> list[Manifest]:
    """The latest run attempts, newest first (from the history folder)."""
    folder = Path(out_dir) / HISTORY_DIR
    paths = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
    return [read_manifest(p) for p in paths[:limit]]
