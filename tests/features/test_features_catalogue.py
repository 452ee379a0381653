"""The feature catalogue: YAML validation, model features, codebook, generated docs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from riskstrat.config import CONFIG_ERROR, UNKNOWN_KEY_CLOSE, ConfigError, project_root
from riskstrat.features import catalogue_markdown, load_catalogue
from riskstrat.features.catalogue import (
    DUPLICATE_COLUMN,
    GROUP_NAME,
    MISSING_INCLUDE,
    MISSING_SQL,
    NESTED_INCLUDE,
    REASON_PLACEHOLDER,
    SAID_WITH,
    STAY_NIGHTS,
    feature_dir,
)
from riskstrat.registry.contract import REGISTERS
from riskstrat.tasks import load_task


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "features"
    shutil.copytree(feature_dir(), out)
    return out


def test_catalogue_covers_the_spec() -> None:
    cat = load_catalogue()
    names = [g.name for g in cat.groups]
    assert names == [
        "demographics",
        "conditions",
        "hospital_use",
        "ae",
        "primary_care",
        "prescribing",
        "observations",
        "history",
        "index_spell",
    ]
    columns = {f.column for f in cat.features}
    assert {f"reg_{r.lower()}" for r in REGISTERS} <= columns
    assert {"ltc_count", "hf_with_copd", "lace_total", "charlson_index", "efi_latest"} <= columns
    history = {"emerg_adm_all", "last_discharge_method", "repeat_items_180d", "registers_ever"}
    assert history <= columns


def test_model_features_per_task() -> None:
    cat = load_catalogue()
    crisis = cat.model_features(load_task("crisis"))
    readmission = cat.model_features(load_task("readmission_30d"))
    assert "ethnicity" not in crisis and "ethnicity" in cat.columns(load_task("crisis"))
    assert "lace_total" in readmission and "lace_total" not in crisis
    assert readmission[: len(crisis)] == crisis  # the index-spell group comes last
    assert cat.monotone["emerg_adm_365d"] == 1 and cat.monotone["age"] == 0
    assert set(cat.categorical) == {
        "sex",
        "ethnicity",
        "index_admission_method",
        "last_discharge_method",
        "index_icd10_chapter",
        "index_discharge_destination",
    }


def test_reason_text() -> None:
    cat = load_catalogue()
    admissions = cat.spec("emerg_adm_365d")
    assert admissions.reason_text(3.0) == "3 emergency admissions in the last 12 months"
    assert admissions.reason_text(1.0) == "1 emergency admission in the last 12 months"
    assert admissions.reason_text(0.0) == "0 emergency admissions in the last 12 months"
    years = cat.spec("years_since_hf")
    assert years.reason_text(4.1) == "Heart failure diagnosed 4 years ago"
    assert years.reason_text(0.5) == "Heart failure diagnosed 6 months ago"
    assert cat.spec("days_since_ae").reason_text(1.0) == "A&E visit yesterday"
    assert cat.spec("days_since_ae").reason_text(875.0) == "A&E visit 2 years ago"
    assert cat.spec("reg_hf").reason_text(1.0) == "On the heart failure register"
    destination = cat.spec("index_discharge_destination")
    assert destination.reason_text(1.0) == "This discharge: to care home"


def test_codebook_version_tracks_codebooks(folder: Path) -> None:
    before = load_catalogue(folder).codebook_version
    yml = folder / "demographics.yml"
    yml.write_text(yml.read_text().replace("categories: [F, M]", "categories: [M, F]"))
    assert load_catalogue(folder).codebook_version != before
    assert load_catalogue().codebook_version == before


def test_wrong_key_names_file_and_key(folder: Path) -> None:
    yml = folder / "ae.yml"
    yml.write_text(yml.read_text().replace("    monotone: 1\n", "    monotonic: 1\n", 1))
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert CONFIG_ERROR.format(
        file=yml, key="features.0.monotonic", problem=UNKNOWN_KEY_CLOSE.format(close="monotone")
    ) in str(err.value)


def test_categories_only_for_categoricals(folder: Path) -> None:
    yml = folder / "demographics.yml"
    yml.write_text(
        yml.read_text().replace(
            "    dtype: category\n    categories: [F, M]\n",
            "    dtype: int\n    categories: [F, M]\n",
        )
    )
    with pytest.raises(ConfigError, match=r"demographics.yml: features\.1"):
        load_catalogue(folder)


#: The groups that walk transfer chains (index_spell, hospital_use) or leave the index stay out
#: (all three): each includes the one link rule and the one index stay.
CHAIN_GROUPS = ("index_spell", "hospital_use", "history")


def _includes(folder: Path, group_sql: str, included: str) -> bool:
    """The expanded SQL holds the included file's lines (indentation aside) and no include."""
    lines = (folder / included).read_text().rstrip().splitlines()
    expanded = "\n".join(line.strip() for line in group_sql.splitlines())
    return "\n".join(line.strip() for line in lines) in expanded and "-- include:" not in group_sql


@pytest.mark.parametrize(
    ("included", "not_written_out"),
    [
        # the link rule: a discharge to another hospital and a transfer admitted that day
        ("transfer_link.sql", "'other_hospital'"),
        # a readmission row's stay: the index spell and the legs it continues, walked back once
        ("index_stay.sql", "t.leg_spell_id = "),
    ],
)
def test_a_shared_definition_is_one_file_every_chain_group_includes(
    folder: Path, included: str, not_written_out: str
) -> None:
    """index_spell.sql, hospital_use.sql and history.sql take the transfer-chain link and the
    index stay from one file each (not groups: no YAML), included where each says `-- include:`;
    LACE's first leg and the spells left out of "before this stay" are the same spells."""
    groups = {g.name: g for g in load_catalogue(folder).groups}
    assert included.removesuffix(".sql") not in groups
    for name in CHAIN_GROUPS:
        raw = (folder / f"{name}.sql").read_text()
        assert f"-- include: {included}" in raw and not_written_out not in raw
        assert _includes(folder, groups[name].sql, included)


def test_an_include_is_one_level_and_must_exist(folder: Path) -> None:
    link = (folder / "transfer_link.sql").read_text().rstrip()
    (folder / "transfer_link.sql").write_text(link + "\n-- include: other.sql\n")
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert str(err.value) == NESTED_INCLUDE.format(
        file=folder / "transfer_link.sql", include="other.sql"
    )
    (folder / "transfer_link.sql").unlink()
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert str(err.value) in {  # whichever group is read first
        MISSING_INCLUDE.format(file=folder / f"{name}.sql", include="transfer_link.sql")
        for name in CHAIN_GROUPS
    }


def test_duplicate_column_and_missing_sql(folder: Path) -> None:
    (folder / "ae2.yml").write_text(
        (folder / "ae.yml").read_text().replace("group: ae", "group: ae2")
    )
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert str(err.value) == MISSING_SQL.format(file=folder / "ae2.yml", sql="ae2.sql")
    shutil.copy(folder / "ae.sql", folder / "ae2.sql")
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert str(err.value) == DUPLICATE_COLUMN.format(
        file=folder / "ae2.yml", column="ae_90d", other="ae"
    )


def test_committed_docs_are_current() -> None:
    committed = (project_root() / "docs" / "features.md").read_text(encoding="utf-8")
    assert committed == catalogue_markdown(), "run `riskstrat feature-docs`"


def test_group_name_is_the_file_name(folder: Path) -> None:
    yml = folder / "ae.yml"
    yml.write_text(yml.read_text().replace("group: ae", "group: a_and_e"))
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert str(err.value) == GROUP_NAME.format(file=yml, group="a_and_e")


PLURAL_AFTER_ONE = re.compile(
    r"\b1 (?:\S+ ){0,2}(?:admissions|visits|days|years|nights|contacts|appointments|conditions|"
    r"medicines|sections)\b"
)


def test_no_reason_says_one_of_a_plural() -> None:
    """Every count's template pluralises with {s}: "1 A&E visit", never "1 A&E visits"."""
    cat = load_catalogue()
    numeric = [f for f in cat.features if f.dtype in ("int", "float") and "{value}" in f.reason]
    assert len(numeric) > 20
    for spec in numeric:
        one, two = spec.reason_text(1.0), spec.reason_text(2.0)
        assert not PLURAL_AFTER_ONE.search(one), one
        assert "{" not in one and "{" not in two, spec.column
    pluralised = {f.column for f in numeric if "{s}" in f.reason}
    expected = {"emerg_adm_90d", "ae_365d", "gp_missed_90d", "ltc_count", "bed_days_90d"}
    assert expected <= pluralised


@pytest.mark.parametrize(
    ("old", "new", "column", "placeholder"),
    [
        (
            '"{value} A&E visit{s} in the last 3 months"',
            '"{value} A&E visit{plural} in the last 3 months"',
            0,
            "plural",
        ),
        ('"Sex {value}"', '"Sex {value}{s}"', 1, "s"),  # a category has no plural
    ],
)
def test_unknown_reason_placeholder_names_file_and_key(
    folder: Path, old: str, new: str, column: int, placeholder: str
) -> None:
    yml = folder / ("ae.yml" if column == 0 else "demographics.yml")
    text = yml.read_text()
    assert old in text
    yml.write_text(text.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    message = str(err.value)
    assert f"{yml.name}" in message and f"features.{column}" in message
    assert REASON_PLACEHOLDER.format(reason=new.strip('"'), name=placeholder) in message


SAID_WITH_NOW = {"column": "days_since_discharge", "same_stay": "days_since_emerg_discharge"}


@pytest.mark.parametrize("key", sorted(SAID_WITH_NOW))
@pytest.mark.parametrize("other", ["no_such_feature", "emerg_adm_365d", "days_since_emerg_adm"])
def test_said_with_must_name_another_time_since_an_event(folder: Path, key: str, other: str):
    """An unknown column, a count (no `when`) or the feature itself: refused at load, by name."""
    path = folder / "hospital_use.yml"
    text = path.read_text(encoding="utf-8")
    line = f"      {key}: {SAID_WITH_NOW[key]}\n"
    assert line in text
    path.write_text(text.replace(line, f"      {key}: {other}\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert str(err.value) == SAID_WITH.format(file=path, column="days_since_emerg_adm", other=other)


def test_stay_nights_wording_is_checked(folder: Path) -> None:
    path = folder / "hospital_use.yml"
    text = path.read_text(encoding="utf-8")
    line = 'stay_nights: "{nights} night{s} in hospital"'
    assert line in text
    path.write_text(text.replace(line, 'stay_nights: "{night} nights"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(folder)
    assert STAY_NIGHTS.format(template="{night} nights", name="night") in str(err.value)
