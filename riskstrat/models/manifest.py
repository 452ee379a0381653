"""Lineage of a training run: git SHA, data snapshot hash, config hash, feature definitions."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib.metadata import version

from riskstrat.config import project_root
from riskstrat.features.catalogue import feature_dir
from riskstrat.models.config import ModelConfig

PACKAGES = ("lightgbm", "numpy", "pandas", "scikit-learn", "mlflow", "shap", "duckdb")


def git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def config_hash(config: ModelConfig) -> str:
    """sha256 of the effective model configuration (file + overrides), canonical JSON."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def features_hash() -> str:
    """sha256 over every feature definition file (SQL + YAML), in name order."""
    digest = hashlib.sha256()
    for path in sorted(feature_dir().glob("*.*")):
        if path.suffix in (".sql", ".yml", ".yaml"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_manifest(
    *,
    config: ModelConfig,
    data_hash: str,
    extract_date: object,
    codebook_version: str,
    periods: dict[str, str],
    rows: dict[str, int],
    horizon_days: int | None = None,
) -> dict[str, object]:
    return {
        "task": config.task,
        "git_sha": git_sha(),
        "data_snapshot_hash": data_hash,
        "extract_date": str(extract_date),
        "config_hash": config_hash(config),
        "features_hash": features_hash(),
        "codebook_version": codebook_version,
        "periods": periods,
        "horizon_days": horizon_days,
        "rows": rows,
        "python": platform.python_version(),
        "packages": {p: version(p) for p in PACKAGES},
    }
