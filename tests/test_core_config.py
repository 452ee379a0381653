from pathlib import Path

import pytest

from riskstrat.config import (
    CONFIG_DUPLICATE_KEY,
    CONFIG_EMPTY,
    CONFIG_ERROR,
    CONFIG_MISSING,
    CONFIG_MISSING_SETTINGS,
    DEFAULTS_ENV,
    ConfigError,
    Settings,
    load_settings,
    load_yaml,
    read_yaml,
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
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "riskstrat.yaml").write_text("paths:\n  out_dir: out\n")
    settings = load_settings()
    assert settings.paths.out_dir == tmp_path / "out"


def test_missing_settings_file_is_an_error_unless_defaults_requested(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    monkeypatch.delenv(DEFAULTS_ENV, raising=False)
    path = tmp_path / "configs" / "riskstrat.yaml"
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == CONFIG_MISSING_SETTINGS.format(file=path)
    assert load_settings(defaults=True).ingest == Settings().ingest
    monkeypatch.setenv(DEFAULTS_ENV, "1")
    assert load_settings().paths.out_dir == Settings().resolved(tmp_path).paths.out_dir


def test_empty_settings_file_is_an_error_even_with_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    path = tmp_path / "configs" / "riskstrat.yaml"
    path.parent.mkdir()
    for text in ("", "# only a comment\n", "\n\n"):
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_settings(defaults=True)
        assert str(err.value) == CONFIG_EMPTY.format(file=path)


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("ingest:\n  max_reject_share: 0.05\n  max_reject_share: 0.5\n", "max_reject_share", 3),
        ("paths:\n  store: a.duckdb\ningest: {}\npaths:\n  store: b.duckdb\n", "paths", 4),
    ],
)
def test_duplicated_yaml_key_names_file_key_and_line(
    tmp_path: Path, text: str, key: str, line: int
) -> None:
    path = tmp_path / "riskstrat.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_yaml(path, Settings)
    assert str(err.value) == CONFIG_DUPLICATE_KEY.format(file=path, key=key, line=line)
    with pytest.raises(ConfigError):
        read_yaml(path)


def test_every_shipped_yaml_has_unique_keys() -> None:
    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("configs/**/*.yaml"), *root.glob("features/*.yaml"),
             *root.glob("outreach/**/*.yaml")]  # fmt: skip
    assert files
    for path in files:
        read_yaml(path)


def test_shipped_config_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    load_yaml(root / "configs" / "riskstrat.yaml", Settings)
