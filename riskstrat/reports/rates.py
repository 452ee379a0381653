"""Practice comparisons as rates per 1,000, age-sex standardised against the whole area.

Indirect standardisation (the usual method for small areas such as GP practices): the whole
area's expected admissions per person in each age band x sex stratum, applied to an area's own
people in each stratum, gives the admissions its age-sex mix alone would predict (D). The
standardised rate is the whole area's crude rate times E / D, where E is the area's expected
admissions (sum of calibrated risks). A practice above the area rate has more need than its age
and sex explain (deprivation, multimorbidity, ...). Stratum rates are not published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskstrat.reports.frames import tidy
from riskstrat.reports.intervals import z_value
from riskstrat.reports.settings import ReportConfig
from riskstrat.reports.suppression import TOTAL, Protected
from riskstrat.slices import age_band, as_label

GEO_TYPES = {"cell": "practice", "subtotal": "pcn", "total": "ics"}


def stratum(cohort: pd.DataFrame) -> pd.Series:
    """Age band x sex of each row (the standardisation strata)."""
    return age_band(cohort["age"]) + "|" + as_label(cohort["sex"])


def indirect_expected(cohort: pd.DataFrame) -> pd.Series:
    """Per row: the whole area's mean risk in the row's stratum (what age and sex predict)."""
    strata = stratum(cohort)
    return cohort["risk"].groupby(strata).transform("mean")


def standardised_rows(
    cohort: pd.DataFrame,
    groups: dict[str, list[str]],
    table: Protected,
    *,
    config: ReportConfig,
) -> list[dict[str, object]]:
    """Age-sex standardised expected admissions per 1,000 per practice, PCN and ICS."""
    frame = pd.DataFrame(
        {
            "practice": cohort["practice_code"].astype(str).to_numpy(),
            "risk": cohort["risk"].to_numpy(dtype=float),
            "by_mix": indirect_expected(cohort).to_numpy(dtype=float),
        }
    )
    frame["var"] = frame["risk"] * (1 - frame["risk"])
    practice = frame.groupby("practice")[["risk", "by_mix", "var"]].sum()
    areas = {}
    for pcn, codes in groups.items():
        areas[pcn] = practice.reindex(codes).fillna(0).sum()
        for code in codes:
            areas[code] = practice.reindex([code]).fillna(0).iloc[0]
    areas[TOTAL] = practice.sum()
    sums = pd.DataFrame(areas).T
    people = float(table.values.at[TOTAL, TOTAL])
    crude = float(frame["risk"].sum()) / people if people and np.isfinite(people) else np.nan
    z = z_value(config.interval_level)
    rows = []
    for group in table.values.index:
        hidden = bool(table.suppressed.at[group, TOTAL])
        e, d, var = (float(sums.at[group, c]) for c in ("risk", "by_mix", "var"))
        scale = 1000 * crude / d if d > 0 else np.nan
        half = z * np.sqrt(var)
        rows.append(
            tidy(
                "geography",
                "standardised_per_1000",
                GEO_TYPES[table.kind[group]],
                group,
                e * scale,
                lower=max(0.0, e - half) * scale,
                upper=(e + half) * scale,
                suppressed=hidden,
            )
        )
    return rows
