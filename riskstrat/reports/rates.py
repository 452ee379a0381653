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
from riskstrat.reports.tables import group_sums
from riskstrat.slices import slice_categories

GEO_TYPES = {"cell": "practice", "subtotal": "pcn", "total": "ics"}


def stratum(cohort: pd.DataFrame) -> np.ndarray:
    """Age band x sex of each row as one integer code (the standardisation strata), from the
    slices' codes (labels made per distinct value only)."""
    groups = slice_categories(cohort, names=("age_band", "sex"))
    age = np.asarray(groups["age_band"].array.codes, dtype=np.int64)
    sex = groups["sex"].array
    return age * len(sex.categories) + np.asarray(sex.codes, dtype=np.int64)


def indirect_expected(cohort: pd.DataFrame) -> np.ndarray:
    """Per row: the whole area's mean risk in the row's stratum (what age and sex predict)."""
    key = stratum(cohort)
    risk = cohort["risk"].to_numpy(dtype=float)
    mean = np.bincount(key, weights=risk) / np.maximum(np.bincount(key), 1)
    return mean[key]


def standardised_rows(
    cohort: pd.DataFrame,
    groups: dict[str, list[str]],
    table: Protected,
    *,
    config: ReportConfig,
) -> list[dict[str, object]]:
    """Age-sex standardised expected admissions per 1,000 per practice, PCN and ICS."""
    risk = cohort["risk"].to_numpy(dtype=float)
    codes = [c for cs in groups.values() for c in cs]
    practice = group_sums(
        cohort["practice_code"],
        {"risk": risk, "by_mix": indirect_expected(cohort), "var": risk * (1 - risk)},
        index=codes,
    )
    areas = {}
    for pcn, codes in groups.items():
        areas[pcn] = practice.reindex(codes).fillna(0).sum()
        for code in codes:
            areas[code] = practice.reindex([code]).fillna(0).iloc[0]
    areas[TOTAL] = practice.sum()
    sums = pd.DataFrame(areas).T
    people = float(table.values.at[TOTAL, TOTAL])
    crude = float(risk.sum()) / people if people and np.isfinite(people) else np.nan
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
