from pathlib import Path

import pytest

from riskstrat.config import (
    CONFIG_ERROR,
    CONFIG_MISSING,
    ConfigError,
    Settings,
    load_settings,
    load_yaml,
)


def test_wrong_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "riskstrat.yaml"
    path.write_text("paths:\n  stor: x.duckdb\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path, Settings)
    assert CONFIG_ERROR.format(
        file=path, key="paths.stor", problem="Extra inputs are not permitted"
    ) in str(err.value)


def test_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "riskstrat.yaml"
    path.write_text("ingest:\n  death_grace_days: seven\n")
    with pytest.raises(ConfigError, match=r"ingest\.death_grace_days"):
        load_yaml(path, Settings)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_yaml(tmp_path / "nope.yaml", Settings)
    assert str(err.value) == CONFIG_MISSING.format(file=tmp_path / "nope.yaml")


def test_env_overrides_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RISKSTRAT_STORE", str(tmp_path / "s.duckdb"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    settings = load_settings()
    assert settings.paths.store == tmp_path / "s.duckdb"
    assert settings.paths.mlflow_uri.endswith("elsewhere.db")
    assert Path(settings.paths.mlflow_uri.removeprefix("sqlite:///")).is_absolute()


def test_relative_paths_anchor_at_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("RISKSTRAT_OUT_DIR", "RISKSTRAT_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    settings = load_settings()
    assert settings.paths.out_dir == tmp_path / "out"


def test_shipped_config_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    load_yaml(root / "configs" / "riskstrat.yaml", Settings)
