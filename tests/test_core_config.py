from pathlib import Path

import pytest

from riskstrat.config import (
    BAD_VALUE,
    CONFIG_DUPLICATE_KEY,
    CONFIG_EMPTY,
    CONFIG_EMPTY_FILE,
    CONFIG_ERROR,
    CONFIG_MISSING,
    CONFIG_MISSING_SETTINGS,
    CONFIG_MORE,
    CONFIG_YAML,
    DATE_HINT,
    DEFAULTS_ENV,
    EXPECTED_MAPPING,
    NO_VALUE,
    UNKNOWN_KEY,
    UNKNOWN_KEY_CLOSE,
    UNKNOWN_KEY_ELSEWHERE,
    YAML_BAD_DATE,
    YAML_COLON,
    YAML_INDENT,
    YAML_TAB,
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
        file=path, key="paths.stor", problem=UNKNOWN_KEY_CLOSE.format(close="store")
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


# --- the usual typos of an operator editing a config file: one line, file, key, what to do ----


def _error(path: Path, text: str, model: type = Settings) -> str:
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_yaml(path, model)
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        # a misspelled key: the close match is suggested (difflib)
        ("ingest:\n  max_reject_shar: 0.1\n", "ingest.max_reject_shar",
         UNKNOWN_KEY_CLOSE.format(close="max_reject_share")),
        # a key at the wrong indentation: where it belongs
        ("store: x.duckdb\n", "store", UNKNOWN_KEY_ELSEWHERE.format(where="under paths")),
        ("ingest:\n  data_dir: d\n", "ingest.data_dir",
         UNKNOWN_KEY_ELSEWHERE.format(where="under paths")),
        ("paths:\n  engine: spark\n", "paths.engine",
         UNKNOWN_KEY_ELSEWHERE.format(where="at the top level")),
        # nothing close: the keys that are allowed there
        ("paths:\n  colour: red\n", "paths.colour", UNKNOWN_KEY.format(
            known="data_dir, mlflow_uri, out_dir, parquet_dir, source_dir, store")),
        # a wrong type: the value given, and what to do
        ("ingest:\n  death_grace_days: ten\n", "ingest.death_grace_days", BAD_VALUE.format(
            problem="Input should be a valid integer, unable to parse string as an integer",
            got="'ten'")),
        ("paths: [data, out]\n", "paths", BAD_VALUE.format(problem=EXPECTED_MAPPING,
                                                           got="a list")),
        ("ingest:\n  death_grace_days:\n", "ingest.death_grace_days", BAD_VALUE.format(
            problem="Input should be a valid integer", got=NO_VALUE)),
        ("ingest:\n  earliest_birth_date: 30/12/1890\n", "ingest.earliest_birth_date",
         BAD_VALUE.format(
             problem="Input should be a valid date or datetime, invalid character in year",
             got="'30/12/1890'").replace("correct the value", DATE_HINT)),
    ],
)  # fmt: skip
def test_a_typo_is_one_line_naming_file_key_and_what_to_do(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = tmp_path / "riskstrat.yaml"
    assert _error(path, text) == CONFIG_ERROR.format(file=path, key=key, problem=problem)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_reject_share", "1.5"), ("max_reject_share", "-0.1"), ("death_grace_days", "-1"),
        ("contacts_missing_share", "2"), ("feedback_max_reject_share", "-1"),
        ("future_extract_days", "-1"), ("max_line_bytes", "0"), ("reject_examples", "-5"),
    ],
)  # fmt: skip
def test_out_of_range_ingest_settings_are_refused(tmp_path: Path, key: str, value: str) -> None:
    """A share above 1 (say 5 for 5 %) or a negative count was accepted and silently meant
    'never stop' or 'stop at everything'."""
    line = _error(tmp_path / "riskstrat.yaml", f"ingest:\n  {key}: {value}\n")
    assert f": ingest.{key}: Input should be" in line and f"(got {value}), correct" in line


def test_a_misspelled_required_key_is_one_problem_and_several_stay_on_one_line(
    tmp_path: Path,
) -> None:
    from riskstrat.tasks.spec import TaskSpec

    path = tmp_path / "crisis.yaml"
    text = "name: crisis\ndescription: x\nindex: {kind: population}\nlabel: {horizon: 90}\n"
    assert _error(path, text, TaskSpec) == CONFIG_ERROR.format(
        file=path, key="label.horizon", problem=UNKNOWN_KEY_CLOSE.format(close="horizon_days")
    )
    path = tmp_path / "riskstrat.yaml"
    line = _error(path, "ingest:\n  death_grace_days: -1\n  max_reject_shar: 0.1\n")
    more = CONFIG_MORE.format(
        key="ingest.max_reject_shar", problem=UNKNOWN_KEY_CLOSE.format(close="max_reject_share")
    )
    assert line.startswith(f"{path}: ingest.death_grace_days: ") and line.endswith(more)


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        # an impossible date in date form: PyYAML's bare ValueError was an internal error (70)
        ("ingest:\n  earliest_birth_date: 1890-02-30\n", 2, 24,
         YAML_BAD_DATE.format(value="1890-02-30")),
        ("ingest:\n\tdeath_grace_days: 7\n", 2, 1, YAML_TAB),
        ("paths:\n  store: a\n    out_dir: b\n", 3, 12, YAML_COLON),
        ("paths:\n  - data\n  store: a\n", 3, 3, YAML_INDENT),
        ("engine: [duckdb\n", 2, 1, "expected ',' or ']', but got '<stream end>'"),
    ],
)  # fmt: skip
def test_yaml_syntax_errors_name_line_and_column_in_words(
    tmp_path: Path, text: str, line: int, column: int, problem: str
) -> None:
    path = tmp_path / "riskstrat.yaml"
    expected = CONFIG_YAML.format(file=path, line=line, column=column, problem=problem)
    assert _error(path, text) == expected


def test_an_empty_file_other_than_riskstrat_yaml_does_not_offer_the_defaults(
    tmp_path: Path,
) -> None:
    """RISKSTRAT_DEFAULTS covers configs/riskstrat.yaml only: an empty task or pathway file told
    the operator to set it."""
    from riskstrat.tasks.spec import TaskSpec

    path = tmp_path / "crisis.yaml"
    assert _error(path, "# nothing\n", TaskSpec) == CONFIG_EMPTY_FILE.format(file=path)


def test_a_mistyped_tracking_uri_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite//data/mlflow.db` was taken for a folder by MLflow: internal error 70 (exit 70)."""
    from riskstrat.config import ENVIRONMENT, NOT_A_TRACKING_URI

    for value in ("sqlite//data/mlflow.db", "sqlite:/data/mlflow.db", "data/mlflow.db"):
        problem = f"{NOT_A_TRACKING_URI.format(value=value)}, correct the value"
        path = tmp_path / "riskstrat.yaml"
        line = _error(path, f"paths:\n  mlflow_uri: {value}\n")
        assert line == CONFIG_ERROR.format(file=path, key="paths.mlflow_uri", problem=problem)
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite//elsewhere.db")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "riskstrat.yaml").write_text("engine: duckdb\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    problem = NOT_A_TRACKING_URI.format(value="sqlite//elsewhere.db")
    key = "MLFLOW_TRACKING_URI"
    assert str(err.value) == CONFIG_ERROR.format(file=ENVIRONMENT, key=key, problem=problem)
