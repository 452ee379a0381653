"""Monitoring warnings in a commissioner's words, from the exact wording the checks write
(riskstrat.models.population, riskstrat.runs.monitoring), pure."""

from __future__ import annotations

from riskstrat.models.population import FEATURE_SHIFT, OUT_OF_RANGE, SMALL_SAMPLE
from riskstrat.reports.plain import UNKNOWN, plain_warning, report_warnings
from riskstrat.runs.monitoring import WARN_FEATURE_PSI, WARN_FEATURE_PSI_MAJOR

#: The names as the population check writes them: each feature with its PSI or its range.
SHIFT = FEATURE_SHIFT.format(task="crisis", n=2, alert=0.25,
                             names="days_since_ae 0.38, bmi_latest 0.31")  # fmt: skip
RANGE = OUT_OF_RANGE.format(task="crisis", share=0.12,
                            names="bmi_latest up to 61.2 (training 12-55), age up to 107 "
                                  "(training 0-105)")  # fmt: skip
SMALL = SMALL_SAMPLE.format(task="crisis", n=85, min_rows=500)
DRIFT = "crisis: " + WARN_FEATURE_PSI.format(n=2, warn=0.1, names="days_since_ae, ltc_count")
MAJOR = "crisis: " + WARN_FEATURE_PSI_MAJOR.format(alert=0.25, names="days_since_ae")


def test_every_check_as_written_has_its_own_sentence():
    plain = [plain_warning(w) for w in (SHIFT, RANGE, SMALL, DRIFT, MAJOR)]
    assert UNKNOWN not in plain and len(set(plain)) == len(plain)
    assert plain[0].endswith(
        "in days from the last A&E attendance; latest body mass index (kg/m²)."
    )
    assert plain[1].startswith("12% of the people scored") and "age in completed years" in plain[1]
    assert plain[2].startswith("Only 85 people were scored")


def test_a_report_shows_its_own_model_once_per_fact():
    other = SHIFT.replace("crisis:", "readmission_30d:", 1)
    ingest = "ingest: 3 rows rejected in spells.csv"
    shown = report_warnings([SMALL, DRIFT, MAJOR, other, ingest, DRIFT], task="crisis")
    assert shown == [plain_warning(w) for w in (SMALL, DRIFT, ingest)]
    # a major drift in a feature the drift warning does not name is still said
    alone = "crisis: " + WARN_FEATURE_PSI_MAJOR.format(alert=0.25, names="bmi_latest")
    assert plain_warning(alone) in report_warnings([DRIFT, alone], task="crisis")
    assert report_warnings([other], task="readmission_30d") == [plain_warning(other)]


def test_absent_optional_inputs_are_said_plainly():
    """The demo's ingest warnings (as riskstrat.registry writes them) read "The model team
    flagged a technical check on this week's data" beside an outreach table of zeros."""
    absent = "ingest: optional table 'outreach_outcomes' absent from /srv/extract"
    other = "ingest: optional table 'observations' absent from /srv/extract"
    column = (
        "ingest: /srv/extract/prescriptions.parquet: optional column 'drug_code' absent "
        "(read as empty)"
    )
    plain = [plain_warning(w) for w in (absent, other, column)]
    assert UNKNOWN not in plain
    assert plain[0].startswith("This week's data extract has no outreach feedback")
    assert "does not mean that no one was contacted" in plain[0]
    assert plain[1].startswith("This week's data extract has no observations table")
    assert plain[2].startswith("This week's data extract has no drug_code column")
    assert not [p for p in plain if "/srv" in p]  # no server paths on the page


def test_per_group_checks_are_one_sentence_on_the_page():
    """Monitoring warns once per group whose matured predictions fall behind the overall
    AUROC; the golden steady week's page had seven "less accurate for one group" sentences, four
    of them age bands, where ranking within a band is naturally harder than across all ages."""
    from riskstrat.runs.monitoring import WARN_SLICE_AUROC, WARN_SLICE_GAP

    def group(slice_: str, name: str) -> str:
        return "crisis: " + WARN_SLICE_AUROC.format(
            task="crisis", as_of="2025-09-29", slice=slice_, group=name, auroc=0.6, overall=0.78
        )

    gap = "crisis: " + WARN_SLICE_GAP.format(
        task="crisis", as_of="2025-09-29", slice="sex", group="M", observed=0.01, expected=0.03
    )
    warnings = [DRIFT, group("age_band", "0-17"), group("age_band", "18-44"),
                group("practice", "Z00003"), gap, group("ltc_count", "0"), SMALL]  # fmt: skip
    shown = report_warnings(warnings, task="crisis")
    assert shown[0] == plain_warning(DRIFT) and shown[-1] == plain_warning(SMALL)
    (merged,) = [s for s in shown if "some groups" in s]
    assert shown.index(merged) == 1 and len(shown) == 3
    assert "(ages 0-17, 18-44; practice Z00003; sex M; number of long-term conditions 0)" in merged
    assert not [s for s in shown if "one group" in s]
    # one group alone keeps its own sentence
    assert report_warnings([group("sex", "F")], task="crisis") == [plain_warning(group("sex", "F"))]
