"""The code mappings in configs/synthea/ checked against the codes the sample really holds."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from riskstrat.adapters.synthea.mappings import load_mappings
from riskstrat.config import ConfigError, config_dir
from riskstrat.registry.contract import REGISTERS

SAMPLE = Path("/work/shared/data/synthea_small")
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared Synthea sample not present")
#: Words that mark a condition a QOF-style register might hold: each such sample code must be
#: mapped or listed as deliberately unmapped.
REGISTER_WORDS = re.compile(
    r"diabet|kidney|renal|malignant|cancer|carcinoma|neoplasm|heart|coronary|myocard|asthma|"
    r"obstructive|emphysema|hypertens|epilep|seizure|obes|body mass|osteopor|depress|dement|"
    r"alzheimer|arthritis|atrial|stroke|cerebrovascular|valve|schizo|bipolar|psychos|palliat|"
    r"anxiety|eclampsia|drug abuse|wheez",
    re.IGNORECASE,
)


def sample_codes(file: str, *, code: str = "CODE", description: str = "DESCRIPTION") -> dict:
    frame = pd.read_csv(SAMPLE / file, dtype=str)
    return dict(zip(frame[code], frame[description], strict=True))


@pytest.fixture(scope="module")
def maps():
    return load_mappings()


@pytest.mark.parametrize(
    ("name", "file", "column"),
    [
        ("registers", "conditions.csv", "CODE"),
        ("icd10", "encounters.csv", "REASONCODE"),
        ("bnf", "medications.csv", "CODE"),
    ],
)
def test_in_sample_flags_are_true(maps, name: str, file: str, column: str) -> None:
    desc = "REASONDESCRIPTION" if column == "REASONCODE" else "DESCRIPTION"
    frame = pd.read_csv(SAMPLE / file, dtype=str).dropna(subset=[column])
    seen = frame.groupby(column)[desc].agg(set).to_dict()
    for code, entry in getattr(maps, name).codes.items():
        if entry.in_sample:
            assert entry.description in seen.get(code, set()), (name, code)
        else:
            assert code not in seen, (name, code)


def test_every_register_like_sample_code_is_decided(maps) -> None:
    codes = sample_codes("conditions.csv")
    mapped, unmapped = maps.registers.codes, maps.registers.unmapped
    undecided = {
        code: text
        for code, text in codes.items()
        if REGISTER_WORDS.search(text) and code not in mapped and code not in unmapped
    }
    assert undecided == {}
    assert not set(mapped) & set(unmapped)
    assert set(unmapped) <= set(codes)  # deliberately unmapped codes are real sample codes


def test_mapping_covers_the_main_registers(maps) -> None:
    codes = sample_codes("conditions.csv")
    in_sample = {e.register_code for c, e in maps.registers.codes.items() if c in codes}
    assert in_sample >= {"HYP", "DM", "AST", "COPD", "CHD", "HF", "CKD", "CAN", "EP", "OB", "OST"}
    every = {e.register_code for e in maps.registers.codes.values()}
    assert every >= {"AF", "DEP", "DEM", "RA", "STIA"}  # from common Synthea modules
    assert every <= set(REGISTERS)


def test_bnf_paragraphs_are_the_feature_classes(maps) -> None:
    paragraphs = {e.bnf for e in maps.bnf.codes.values()}
    assert all(re.fullmatch(r"\d{6}", p) for p in paragraphs)
    assert {p[:4] for p in paragraphs} | {p for p in paragraphs} >= {"0208", "040702", "060101"}


def test_wrong_register_names_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "synthea"
    folder.mkdir()
    for path in (config_dir() / "synthea").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    (folder / "registers.yaml").write_text(
        'codes:\n  "59621000": {register: HYPER, description: "Essential hypertension"}\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_mappings(folder)
    assert f"{folder / 'registers.yaml'}: codes.59621000.register:" in str(caught.value)
