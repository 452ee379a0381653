"""Practice codes made by the adapters (riskstrat.adapters.codes) and their configured
unassigned practices: every code passes ingest's practice-code rule."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pydantic import ValidationError

from riskstrat.adapters.codes import BAD_PREFIX, CODE_CLASH, practice_codes
from riskstrat.adapters.omop.mappings import load_mappings as load_omop
from riskstrat.adapters.synthea.mappings import BAD_PRACTICE_CODE, UnassignedPractice
from riskstrat.adapters.synthea.mappings import load_mappings as load_synthea
from riskstrat.adapters.synthea.people import org_code
from riskstrat.registry.contract import PRACTICE_CODE_PATTERN


def test_readable_when_it_fits_hashed_otherwise() -> None:
    ids = pd.Series([10, None, 1234567890, 12345678901, 9223372036854775000, 10], dtype="Int64")
    codes = practice_codes("CS", ids, source="care_site_id")
    assert codes.iloc[[0, 2, 5]].tolist() == ["CS10", "CS1234567890", "CS10"]
    assert pd.isna(codes.iloc[1])
    hashed = codes.iloc[[3, 4]]
    assert all(c.startswith("CSX") and len(c) == 12 for c in hashed)
    assert hashed.nunique() == 2
    again = practice_codes("CS", ids.iloc[::-1], source="care_site_id").iloc[::-1]
    assert again.tolist()[2:] == codes.tolist()[2:]  # stable: the id alone decides the code
    text = pd.Series(["a-b", "X1", "ABC", "ab", "AB"])
    codes = practice_codes("LOC", text, source="location_id")
    assert codes.iloc[2] == "LOCABC" and codes.iloc[4] == "LOCAB"
    assert codes.nunique() == 5  # lower case and a leading X are hashed, so never collide
    assert all(re.fullmatch(PRACTICE_CODE_PATTERN, c) for c in codes)


def test_bad_prefix_and_a_clash_are_errors() -> None:
    with pytest.raises(ValueError) as err:
        practice_codes("cs", pd.Series([1]), source="care_site_id")
    assert str(err.value) == BAD_PREFIX.format(prefix="cs")
    with pytest.raises(ValueError) as err:
        practice_codes("CSXY", pd.Series([1]), source="care_site_id")
    assert str(err.value) == BAD_PREFIX.format(prefix="CSXY")
    assert CODE_CLASH.format(source="s", first="1", second="2", code="C1").startswith("s: ")


def test_configured_codes_pass_the_ingest_rule() -> None:
    for code in (
        load_omop().rules.practices.unassigned.code,
        load_synthea().rules.unassigned_practice.code,
    ):
        assert re.fullmatch(PRACTICE_CODE_PATTERN, code), code
    with pytest.raises(ValidationError) as err:
        UnassignedPractice(code="OMOPUNASSIGNED", name="too long")
    assert BAD_PRACTICE_CODE.format(value="OMOPUNASSIGNED", pattern=PRACTICE_CODE_PATTERN) in str(
        err.value
    )
    uuids = pd.Series(["b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "org_1.a"])
    assert all(re.fullmatch(PRACTICE_CODE_PATTERN, c) for c in org_code(uuids))
