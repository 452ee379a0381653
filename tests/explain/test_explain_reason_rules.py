"""Reason rules on constructed rows, with the real feature catalogue (pure functions).

Each test builds a row whose contributions would put a misleading fact in a reason slot, and
asserts the YAML-driven rule keeps it out (or words it as a clinician would)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskstrat.explain import as_texts, top_reasons
from riskstrat.explain.discharge import describe_discharge
from riskstrat.explain.wording import load_reason_settings, recent_days
from riskstrat.features import build_features, load_catalogue
from riskstrat.features.audit import memory_registry
from riskstrat.features.catalogue import (
    ABSENCE_NEEDS_NUMBER,
    BANDS_ORDER,
    FeatureSpec,
    friendly_ago,
)

TEXTS = as_texts(load_catalogue())
CONTEXT = ("age", "sex", "ethnicity", "imd_decile")


def reasons(values: dict[str, float], contrib: dict[str, float], **kw: object) -> pd.DataFrame:
    """One row: `contrib` per feature (log-odds), `values` per feature."""
    c = pd.DataFrame({**{f: [v] for f, v in contrib.items()}, "bias": [-4.0]})
    v = pd.DataFrame({f: [values[f]] for f in {**contrib, **values}})
    return top_reasons(c, v, texts=TEXTS, k=3, **kw)


def said(out: pd.DataFrame) -> list[str]:
    return [r for r in out.loc[0, ["reason_1", "reason_2", "reason_3"]] if isinstance(r, str)]


def test_demographics_never_take_a_reason_slot() -> None:
    values = {"age": 91, "sex": 0, "ethnicity": 2, "imd_decile": 1, "lives_alone": 1}
    contrib = {"age": 2.0, "sex": 0.4, "ethnicity": 0.3, "imd_decile": 0.9, "lives_alone": 0.1}
    out = reasons(values, contrib)
    assert said(out) == ["Lives alone"]
    assert out.loc[0, "feature_1"] == "lives_alone"
    for column in CONTEXT:
        assert TEXTS[column].role == "context"
        assert not TEXTS[column].is_fact(1.0)


def test_a_zero_or_absence_is_never_a_reason_unless_the_yaml_says_so() -> None:
    values = {
        "bed_days_90d": 0,
        "ae_90d": 0,
        "reg_copd": 0,
        "gp_contacts_365d": 0,
        "efi_latest": np.nan,
    }
    contrib = {
        "bed_days_90d": 0.8,
        "ae_90d": 0.5,
        "reg_copd": 0.4,
        "gp_contacts_365d": 0.2,
        "efi_latest": 0.9,
    }
    out = reasons(values, contrib)
    # gp_contacts_365d has an absence_reason: no contact in a year is itself the concern
    assert said(out) == ["No GP contact in the last 12 months"]
    assert out.loc[0, "feature_1"] == "gp_contacts_365d" and pd.isna(out.loc[0, "feature_2"])


def test_one_reason_per_concept_the_strongest_member() -> None:
    values = {
        "reg_hf": 1, "years_since_hf": 4.1, "bed_days_365d": 12, "bed_days_730d": 30,
        "emerg_adm_90d": 1, "emerg_adm_365d": 2, "days_since_emerg_adm": 20,
    }  # fmt: skip
    contrib = {
        "reg_hf": 0.3, "years_since_hf": 0.5, "bed_days_365d": 0.6, "bed_days_730d": 0.2,
        "emerg_adm_90d": 0.7, "emerg_adm_365d": 0.9, "days_since_emerg_adm": 0.4,
    }  # fmt: skip
    out = reasons(values, contrib)
    assert said(out) == [
        "2 emergency admissions in the last 12 months",
        "12 nights in hospital in the last 12 months",
        "Heart failure diagnosed 4 years ago",
    ]
    concepts = out.loc[0, ["concept_1", "concept_2", "concept_3"]].tolist()
    assert concepts == ["emergency_admissions", "nights_in_hospital", "hf"]
    assert len(set(concepts)) == 3
    # the contribution shown is the spoken member's own
    assert out.loc[0, "contribution_1"] == pytest.approx(0.9)


def test_one_stay_is_one_reason() -> None:
    """The last emergency admission and the discharge that ended its stay take one reason slot
    (their summed contribution decides its place), not two of the three."""
    base = {"ltc_count": 5, "lives_alone": 1, "efi_latest": 0.31}
    push = {"ltc_count": 0.9, "lives_alone": 0.1, "efi_latest": 0.2}
    # days_since_emerg_discharge (not a model input) equal to days_since_discharge: the last
    # discharge ended the emergency stay
    same_day = {**base, "days_since_emerg_adm": 26, "days_since_discharge": 26,
                "days_since_emerg_discharge": 26}  # fmt: skip
    stay = {"days_since_emerg_adm": 0.45, "days_since_discharge": 0.5}
    out = reasons(same_day, {**push, **stay})
    assert said(out) == [
        "Emergency admission 26 days ago, discharged the same day",
        "Has 5 long-term conditions",
        "Moderate frailty (eFI 0.31)",
    ]
    assert out.loc[0, "feature_1"] == "days_since_discharge"  # the stronger member speaks
    assert out.loc[0, "contribution_1"] == pytest.approx(0.95)
    # a longer stay, after a discharge (readmission wording), the admission the stronger
    longer = {**base, "days_since_emerg_adm": 32, "days_since_discharge": 16,
              "days_since_emerg_discharge": 16}  # fmt: skip
    out = reasons(longer, {**push, "days_since_emerg_adm": 0.6, "days_since_discharge": 0.1},
                  after_discharge=True)  # fmt: skip
    assert said(out)[0] == "Has 5 long-term conditions"
    assert said(out)[1] == (
        "Previous emergency admission 32 days ago, previous discharge 16 days ago"
    )
    assert out.loc[0, "feature_2"] == "days_since_emerg_adm"
    # both times would read the same ("7 months ago"): the stay's length instead
    months = {**base, "days_since_emerg_adm": 214, "days_since_emerg_discharge": 210,
              "days_since_discharge": 210}  # fmt: skip
    out = reasons(months, {**push, **stay})
    assert said(out)[0] == "Emergency admission 7 months ago, 4 nights in hospital"
    # the last discharge ended a planned stay (the emergency stay ended 50 days ago), or the
    # row does not say: two stays, two reasons
    planned_last = {**longer, "days_since_emerg_discharge": 50}
    unknown = {k: v for k, v in longer.items() if k != "days_since_emerg_discharge"}
    for row in (planned_last, unknown):
        out = reasons(row, {**push, **stay})
        assert said(out) == [
            "Has 5 long-term conditions",
            "Discharged from hospital 16 days ago",
            "Emergency admission 32 days ago",
        ]
    # a count that speaks for the admissions' concept is not joined with the discharge
    counted = {**same_day, "emerg_adm_365d": 3}
    out = reasons(counted, {**push, **stay, "emerg_adm_365d": 1.2})
    assert said(out)[:2] == [
        "3 emergency admissions in the last 12 months",
        "Has 5 long-term conditions",
    ]
    assert said(out)[2] == "Discharged from hospital 26 days ago"


def test_a_transfer_chain_is_one_stay() -> None:
    """An emergency admission continued in another hospital (a transfer leg admitted the day of
    the discharge to it) is one stay: the features built from a tiny store say it as one reason,
    its nights counted over the whole chain, not the first leg's."""
    day = pd.Timestamp
    spells = pd.DataFrame({
        "spell_id": ["s1", "s2"], "patient_id": ["p", "p"],
        "admission_date": [day("2024-04-01"), day("2024-04-03")],
        "discharge_date": [day("2024-04-03"), day("2024-04-12")],
        "admission_method": ["emergency", "transfer"],
        "discharge_destination": ["other_hospital", "home"],
    })  # fmt: skip
    patients = pd.DataFrame({"patient_id": ["p"], "practice_code": ["P1"],
                             "date_of_birth": [day("1940-01-01")]})  # fmt: skip
    con = memory_registry({"patients": patients, "spells": spells})
    stay = {"days_since_emerg_adm": 0.6, "days_since_discharge": 0.5, "ltc_count": 0.1}
    for index_date, text in (
        ("2024-06-01", "Emergency admission 9 weeks ago, discharged from hospital 7 weeks ago"),
        ("2024-11-01", "Emergency admission 7 months ago, 11 nights in hospital"),
    ):
        index = pd.DataFrame({"patient_id": ["p"], "index_date": [day(index_date)]})
        matrix = build_features(con, index, task="crisis")
        contrib = pd.DataFrame({**{f: [v] for f, v in stay.items()}, "bias": [-4.0]})
        out = top_reasons(contrib, matrix, texts=TEXTS, k=3)
        assert said(out) == [text], index_date
        assert out.loc[0, "contribution_1"] == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("days", "text"),
    [(0, "today"), (1, "yesterday"), (6, "6 days ago"), (55, "55 days ago"), (70, "10 weeks ago"),
     (150, "5 months ago"), (400, "13 months ago"), (875, "2 years ago"), (1500, "4 years ago")],
)  # fmt: skip
def test_friendly_durations(days: int, text: str) -> None:
    assert friendly_ago(days) == text


def test_recent_only_within_the_configured_window() -> None:
    assert recent_days() == load_reason_settings().recent_days == 90
    old = reasons({"days_since_ae": 875}, {"days_since_ae": 1.0})
    assert said(old) == ["A&E visit 2 years ago"] and old.loc[0, "recent_1"] is np.False_
    new = reasons({"days_since_ae": 6}, {"days_since_ae": 1.0})
    assert said(new) == ["A&E visit 6 days ago"] and bool(new.loc[0, "recent_1"])
    # a count is recent when its whole window is: 3 months yes, 12 months no
    counts = reasons(
        {"emerg_adm_90d": 1, "gp_missed_365d": 2}, {"emerg_adm_90d": 1.0, "gp_missed_365d": 0.5}
    )
    assert counts.loc[0, ["recent_1", "recent_2"]].tolist() == [True, False]
    # timeless facts (a register) have no recency
    reg = reasons({"reg_copd": 1}, {"reg_copd": 1.0})
    assert pd.isna(reg.loc[0, "recent_1"])
    # the window is configuration: a shorter one makes the 3-month count history
    short = reasons({"emerg_adm_90d": 1}, {"emerg_adm_90d": 1.0}, recent_days=30)
    assert short.loc[0, "recent_1"] is np.False_


def test_no_template_claims_recency_by_itself() -> None:
    for spec in TEXTS.values():
        for template in (spec.reason, spec.absence_reason, spec.discharge_reason):
            assert "recent" not in (template or "").lower(), spec.column


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("efi_latest", 0.05, None),
        ("efi_latest", 0.12, "Mild frailty (eFI 0.12)"),
        ("efi_latest", 0.30, "Moderate frailty (eFI 0.30)"),
        ("efi_latest", 0.41, "Severe frailty (eFI 0.41)"),
        ("bmi_latest", 22.0, None),
        ("bmi_latest", 17.2, "Underweight (BMI 17.2)"),
        ("bmi_latest", 32.14, "Obese (BMI 32.1)"),
        ("bmi_latest", 41.0, "Severely obese (BMI 41)"),
        ("distinct_drugs_90d", 3, None),
        ("distinct_drugs_90d", 7, "Taking 7 different medicines (polypharmacy)"),
        ("distinct_drugs_90d", 12, "Taking 12 different medicines (polypharmacy, 10 or more)"),
        ("hba1c_latest", 40.0, None),
        ("hba1c_latest", 80.4, "HbA1c very high: 80 mmol/mol"),
        ("egfr_latest", 75.0, None),
        ("egfr_latest", 38.6, "Moderately to severely reduced kidney function, CKD G3b (eGFR 39)"),
    ],
)
def test_clinical_categories(feature: str, value: float, text: str | None) -> None:
    out = reasons({feature: value}, {feature: 0.7})
    assert said(out) == ([text] if text else [])


def test_post_discharge_row_says_this_discharge_and_previous() -> None:
    values = {"days_since_discharge": 351, "emerg_adm_365d": 1, "los_days": 5, "lace_a": 3,
              "index_icd10_chapter": 9}  # fmt: skip
    contrib = {"days_since_discharge": 0.9, "emerg_adm_365d": 0.5, "los_days": 0.6, "lace_a": 0.7,
               "index_icd10_chapter": 0.2}  # fmt: skip
    out = reasons(values, contrib, after_discharge=True)
    assert said(out) == [
        "Previous discharge 12 months ago",
        "This admission was an emergency (acuity score 3)",
        "1 previous emergency admission in the last 12 months",
    ]
    # the same features on a crisis row (no index discharge)
    crisis = reasons(values, contrib)
    assert said(crisis)[0] == "Discharged from hospital 12 months ago"
    line = describe_discharge(
        pd.DataFrame(
            {
                "index_date": [pd.Timestamp("2026-11-28")],
                "los_days": [5.0],
                "index_admission_method": [1.0],
                "index_icd10_chapter": [9.0],
                "index_discharge_destination": [1.0],
            }
        ),
        texts=TEXTS,
    )
    assert line.iloc[0] == (
        "This discharge: 28/11/2026, 5 nights in hospital; emergency admission for a chest or "
        "breathing condition; to care home"
    )


def test_a_transfer_legs_discharge_is_told_as_the_whole_stay() -> None:
    """A nurse reads the stay the patient had: 9 nights from the emergency admission, not the 3 of
    the last hospital's leg, and an emergency admission, not 'transfer admission'."""
    frame = pd.DataFrame(
        {
            "index_date": [pd.Timestamp("2025-12-26")] * 2,
            "los_days": [3.0, 3.0],
            "chain_los_days": [9.0, 4.0],
            "lace_a": [3.0, 0.0],
            "index_admission_method": [3.0, 3.0],  # transfer
            "index_icd10_chapter": [8.0, 8.0],
            "index_discharge_destination": [0.0, 0.0],
        }
    )
    lines = describe_discharge(frame, texts=TEXTS).tolist()
    assert lines == [
        "This discharge: 26/12/2025, 9 nights in hospital; emergency admission for a heart or "
        "circulation condition, then a transfer between hospitals; to home",
        "This discharge: 26/12/2025, 4 nights in hospital; transferred from another hospital "
        "for a heart or circulation condition; to home",
    ]


def test_a_stay_of_no_nights_is_not_called_a_day_case() -> None:
    """In the NHS a day case is a planned same-day admission: "a day case; emergency admission"
    contradicted itself on the demo's post-discharge lists. The reasons already say "discharged
    the same day"; this line says the same thing."""
    frame = pd.DataFrame(
        {
            "index_date": [pd.Timestamp("2025-12-25")] * 2,
            "los_days": [0.0, 1.0],
            "index_admission_method": [1.0, 1.0],  # emergency
            "index_icd10_chapter": [9.0, 9.0],
            "index_discharge_destination": [0.0, 0.0],
        }
    )
    lines = describe_discharge(frame, texts=TEXTS).tolist()
    assert lines == [
        "This discharge: 25/12/2025, admitted the same day; emergency admission for a chest or "
        "breathing condition; to home",
        "This discharge: 25/12/2025, 1 night in hospital; emergency admission for a chest or "
        "breathing condition; to home",
    ]
    assert not any("day case" in line for line in lines)


def test_yaml_rules_are_validated() -> None:
    base = dict(column="x", dtype="float", description="d", rationale="r", modifiable=False)
    with pytest.raises(ValueError, match=BANDS_ORDER[:40]):
        FeatureSpec(
            **base,
            reason="{band}",
            bands=[{"below": 2, "label": "a"}, {"below": 1, "label": "b"}, {"label": "c"}],
        )
    with pytest.raises(ValueError, match=ABSENCE_NEEDS_NUMBER[:30]):
        FeatureSpec(**base, reason="{value}", absence_reason="none")
    with pytest.raises(ValueError, match="unknown placeholder"):
        FeatureSpec(**base, reason="{when}")


def test_reason_violations_finds_each_broken_rule_and_passes_clean_rows() -> None:
    from riskstrat.explain.reasons import VIOLATION, reason_violations

    explained = pd.DataFrame(
        {
            "reason_1": ["Aged 84", "0 nights in hospital in the last 3 months", "Lives alone"],
            "feature_1": ["age", "bed_days_90d", "lives_alone"],
            "recent_1": pd.array([None, True, None], dtype="boolean"),
            "reason_2": [
                "2 emergency admissions in the last 12 months",
                "Recent A&E visit",
                "Severe frailty (eFI 0.41)",
            ],
            "feature_2": ["emerg_adm_365d", "days_since_ae", "efi_latest"],
            "recent_2": pd.array([False, False, None], dtype="boolean"),
            "reason_3": ["Emergency admission 2 years ago", None, None],
            "feature_3": ["days_since_emerg_adm", None, None],
            "recent_3": pd.array([False, None, None], dtype="boolean"),
        },
        index=["a", "b", "c"],
    )
    got = reason_violations(explained, texts=TEXTS)
    assert got == [
        VIOLATION.format(row="a", rule="context feature", detail="Aged 84"),
        VIOLATION.format(
            row="a",
            rule="concept emergency_admissions twice",
            detail="'2 emergency admissions in the last 12 months' and "
            "'Emergency admission 2 years ago'",
        ),
        VIOLATION.format(row="b", rule="states a zero", detail=explained.loc["b", "reason_1"]),
        VIOLATION.format(row="b", rule="recent but not", detail="Recent A&E visit"),
    ]
    assert reason_violations(explained.loc[["c"]], texts=TEXTS) == []
