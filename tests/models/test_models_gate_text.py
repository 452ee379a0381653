"""The promotion gate as the data scientist reads it (`riskstrat promote`): every interval
readable whatever its sign, every subgroup threshold as a number."""

from __future__ import annotations

import pandas as pd

from riskstrat.models.config import Gate
from riskstrat.models.evaluate import MODEL, EvalResult
from riskstrat.models.gate import GateRow, format_gate, gate


def _evaluation(*, auroc: float, gap: float, group_auroc: float) -> EvalResult:
    overall = pd.DataFrame(
        [
            {
                "score": MODEL,
                "auroc": auroc,
                "auroc_lo": auroc - 0.03,
                "auroc_hi": auroc + 0.03,
                "ece": 0.005,
                "ece_lo": 0.004,
                "ece_hi": 0.008,
                "calibration_slope": 1.0,
                "calibration_slope_lo": 0.9,
                "calibration_slope_hi": 1.1,
            }
        ]
    )
    subgroups = pd.DataFrame(
        [
            {
                "score": MODEL,
                "slice": "age_band",
                "group": "75-84",
                "n": 940,
                "auroc": group_auroc,
                "auroc_lo": group_auroc - 0.05,
                "auroc_hi": group_auroc + 0.05,
                "gap": gap,
                "gap_lo": gap - 0.018,
                "gap_hi": gap + 0.018,
            }
        ]
    )
    return EvalResult(overall=overall, subgroups=subgroups, reliability={})


def test_negative_intervals_read_as_ranges_not_subtractions() -> None:
    # seen in `riskstrat promote crisis` on the demo: "-0.0377 (-0.0558--0.0176)"
    row = GateRow("Calibration gap in age_band 75-84", -0.0159, -0.0339, 0.0029,
                  -0.0377, -0.0558, -0.0176, "t", False)  # fmt: skip
    text = format_gate([row])
    assert "--" not in text
    assert "-0.0159 (-0.0339 to +0.0029)" in text
    assert "-0.0377 (-0.0558 to -0.0176)" in text
    # positive intervals keep the compact form
    auroc = GateRow("AUROC not worse", 0.7644, 0.7365, 0.7953, 0.7255, 0.6898, 0.7619, "t", True)
    assert "0.7644 (0.7365-0.7953)" in format_gate([auroc])


def test_failing_subgroup_rows_give_their_threshold_as_a_number() -> None:
    champion = _evaluation(auroc=0.76, gap=-0.0159, group_auroc=0.7859)
    challenger = _evaluation(auroc=0.76, gap=-0.0377, group_auroc=0.7138)
    passed, _, table = gate(champion, challenger, params=Gate())
    assert not passed
    rules = {r.rule: r for r in table}
    margin_auc, margin_gap = Gate().subgroup_auroc_margin, Gate().subgroup_gap_margin
    assert rules["AUROC in age_band 75-84"].threshold.endswith(f"= {0.7859 - margin_auc:.4f}")
    gap_rule = rules["Calibration gap in age_band 75-84"]
    assert gap_rule.threshold.endswith(f"= {0.0159 + margin_gap:.4f}")
