"""Wording a nurse reads on the lists, on tiny frames with the real catalogue and configs: the
diagnosis of "this discharge" in plain words, one time unit inside one reason, one noun for a
length of stay (nights)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from riskstrat.explain import as_texts, top_reasons
from riskstrat.explain.discharge import DIAGNOSIS, describe_discharge
from riskstrat.explain.reasons import pair_text, reason_text
from riskstrat.explain.wording import display_label, display_labels, load_reason_settings
from riskstrat.features import load_catalogue
from riskstrat.features.catalogue import UNIT_DAYS, time_unit

TEXTS = as_texts(load_catalogue())
CHAPTERS = TEXTS[DIAGNOSIS].categories or []
UNIT = re.compile(r"\b\d+ (day|week|month|year)s? ago|\bless than a (day|week|month|year) ago")


def _line(chapter: str) -> str:
    frame = pd.DataFrame(
        {
            "index_date": [pd.Timestamp("2025-12-27")],
            "los_days": [3.0],
            "index_admission_method": [1.0],  # emergency
            "index_icd10_chapter": [float(CHAPTERS.index(chapter))],
            "index_discharge_destination": [0.0],
        }
    )
    return str(describe_discharge(frame, texts=TEXTS).iloc[0])


@pytest.mark.parametrize(
    ("chapter", "words"),
    [
        ("symptoms", "emergency admission for symptoms without a confirmed diagnosis"),
        ("neoplasms", "emergency admission for cancer or another tumour"),
        ("health_services", "emergency admission for contact with health services"),
        ("injury", "emergency admission for an injury"),
    ],
)
def test_this_discharge_names_the_diagnosis_in_plain_words(chapter: str, words: str) -> None:
    """The demo's lists said "symptoms diagnosis", "neoplasms diagnosis", "health services
    diagnosis", "injury diagnosis": the ICD-10 chapter names."""
    line = _line(chapter)
    assert words in line
    assert f"{chapter.replace('_', ' ')} diagnosis" not in line


def test_every_chapter_has_a_display_label_and_the_codebook_is_unchanged() -> None:
    labels = display_labels()[DIAGNOSIS]
    assert set(labels) == set(CHAPTERS)  # every chapter worded, no key that is not a chapter
    for feature, own in load_reason_settings().labels.items():
        categories = TEXTS[feature].categories
        assert categories is not None and set(own) <= set(categories), feature
    for chapter in CHAPTERS:
        line = _line(chapter)
        assert f"{chapter.replace('_', ' ')} diagnosis" not in line and "_" not in line, line
    # the model's codebook keeps its names: only the words change
    assert TEXTS[DIAGNOSIS].label(CHAPTERS.index("injury")) == "injury"
    assert display_label(TEXTS[DIAGNOSIS], CHAPTERS.index("injury")) == "an injury"


def test_the_diagnosis_as_a_reason_uses_the_display_label() -> None:
    spec = TEXTS[DIAGNOSIS]
    code = float(CHAPTERS.index("symptoms"))
    assert reason_text(spec, code) == "This stay was for symptoms without a confirmed diagnosis"
    contrib = pd.DataFrame({DIAGNOSIS: [0.4], "bias": [-3.0]})
    out = top_reasons(contrib, pd.DataFrame({DIAGNOSIS: [code]}), texts=TEXTS, after_discharge=True)
    assert out.loc[0, "reason_1"] == "This stay was for symptoms without a confirmed diagnosis"


@pytest.mark.parametrize(
    ("admitted", "discharged", "text"),
    [
        # the demo's "Emergency admission 11 weeks ago, discharged from hospital 51 days ago"
        (77, 51, "Emergency admission 11 weeks ago, discharged from hospital 7 weeks ago"),
        (400, 200, "Emergency admission 13 months ago, discharged from hospital 7 months ago"),
        (900, 300, "Emergency admission 2 years ago, discharged from hospital 10 months ago"),
        # a later time under one of the older's unit keeps its own words: never "less than a
        # week ago" or 4 days as "1 week ago" (the recent discharge is what a nurse needs)
        (70, 3, "Emergency admission 10 weeks ago, discharged from hospital 3 days ago"),
        (60, 4, "Emergency admission 9 weeks ago, discharged from hospital 4 days ago"),
        (130, 2, "Emergency admission 4 months ago, discharged from hospital 2 days ago"),
        (70, 1, "Emergency admission 10 weeks ago, discharged from hospital yesterday"),
        (70, 0, "Emergency admission 10 weeks ago, discharged from hospital today"),
        (40, 12, "Emergency admission 40 days ago, discharged from hospital 12 days ago"),
        (214, 210, "Emergency admission 7 months ago, 4 nights in hospital"),
    ],
)
def test_one_reason_says_both_times_in_one_unit(admitted: int, discharged: int, text: str) -> None:
    first, then = TEXTS["days_since_emerg_adm"], TEXTS["days_since_discharge"]
    said = pair_text(first, then, admitted, discharged)
    assert said == text
    units = {m.group(1) or m.group(2) for m in UNIT.finditer(said)}
    assert len(units) <= 1 or discharged < UNIT_DAYS[time_unit(admitted)]


def test_a_pair_is_never_said_in_two_units() -> None:
    first, then = TEXTS["days_since_emerg_adm"], TEXTS["days_since_discharge"]
    for admitted in range(2, 1000, 7):
        for stay in (1, 3, 8, 20, 45, 100):
            later = max(0, admitted - stay)
            said = pair_text(first, then, admitted, later)
            units = {m.group(1) or m.group(2) for m in UNIT.finditer(said)}
            # two units only where the later time is under one of the older's unit
            assert len(units) <= 1 or later < UNIT_DAYS[time_unit(admitted)], said
            assert "less than" not in said, said


def test_a_length_of_stay_is_counted_in_nights_everywhere() -> None:
    """'34 days in hospital' stood beside '55 nights in hospital before this stay': the NHS
    length of stay is discharge date minus admission date, a count of nights."""
    for spec in TEXTS.values():
        for template in (spec.reason, getattr(spec, "discharge_reason", None)):
            if template and "in hospital" in template:
                assert "day{s} in hospital" not in template, spec.column
    assert reason_text(TEXTS["los_days"], 5) == "This stay: 5 nights in hospital"
    assert reason_text(TEXTS["chain_los_days"], 1) == (
        "This stay: 1 night in hospital, including the transfer"
    )
    assert "34 nights in hospital" in _stay_line(34)
    assert "1 night in hospital" in _stay_line(1)


def _stay_line(nights: int) -> str:
    frame = pd.DataFrame({"index_date": [pd.Timestamp("2025-12-27")], "los_days": [float(nights)]})
    return str(describe_discharge(frame, texts=TEXTS).iloc[0])
