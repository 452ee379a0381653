"""The population lands near DESIGN section 8 (loose bounds for a 20,000-patient sample)."""

from __future__ import annotations

from datetime import date

import numpy as np

from riskstrat.synth.realism import REFERENCE_PREVALENCE, realism_table

AS_OF = date(2025, 12, 29)


def _table(synth_con) -> dict[str, float]:
    table = realism_table(synth_con, as_of=AS_OF)
    assert list(table.columns) == ["measure", "generated", "reference"]
    return dict(zip(table["measure"], table["generated"], strict=True))


def test_synth_realism_near_design(synth_con):
    g = _table(synth_con)
    assert 18 <= g["age <18 (%)"] <= 24
    assert 56 <= g["age 18-64 (%)"] <= 65
    assert 15 <= g["age 65+ (%)"] <= 22
    assert 90 <= g["emergency admissions per 1,000 per year"] <= 135
    assert 6 <= g["people with >= 1 emergency admission in 12 months (%)"] <= 10
    most, least = (g[f">= 1 emergency admission, IMD decile {d} (%)"] for d in (1, 10))
    assert most > 1.3 * least
    ages = [g[f">= 1 emergency admission, age {a} (%)"] for a in ("18-64", "65-74", "75-84", "85+")]
    assert np.all(np.diff(ages) > 0)  # steeply rising with age
    overall = g["30-day emergency readmission (%)"]
    assert 11 <= overall <= 19
    assert g["30-day emergency readmission, age 75+ (%) [DESIGN: higher]"] > overall
    assert g["30-day emergency readmission, HF or COPD (%) [DESIGN: higher]"] > overall
    assert 0.35 <= g["A&E attendances per person-year"] <= 0.55
    for code, (ref, adult) in REFERENCE_PREVALENCE.items():
        got = g[f"prevalence {code}{' (18+)' if adult else ''} (%)"]
        assert 0.5 * ref <= got <= 1.5 * ref, (code, got, ref)


def test_synth_realism_references_declared_once(synth_con):
    table = realism_table(synth_con, as_of=AS_OF).set_index("measure")
    assert table.loc["emergency admissions per 1,000 per year", "reference"] == 110
    assert table.loc["prevalence HYP (%)", "reference"] == 14


def test_synth_volume_per_person_is_sane(synth_population):
    rows = synth_population[1].rows
    per_person = sum(rows.values()) / rows["patients"]
    assert 15 <= per_person <= 70  # ~30-60M event rows at 1M patients
