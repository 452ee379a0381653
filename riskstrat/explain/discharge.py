"""The index discharge of a post-discharge (readmission) row, described as "this discharge".

One line per row from the index-spell features and the row's index date (the discharge date):
"This discharge: 28/11/2026, 5 days in hospital; emergency admission; respiratory diagnosis;
to home". A transfer leg is told as the whole stay ("9 days in hospital; emergency admission,
then a transfer between hospitals"), as the patient lived it. Earlier discharges are the
features worded "previous" (discharge_reason in the YAML); this line is the list's context for
the row, never a reason slot.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskstrat.explain.protocols import FeatureText

#: The index-spell features the line is made of (features/index_spell.yml).
LOS, METHOD, DIAGNOSIS, DESTINATION = (
    "los_days",
    "index_admission_method",
    "index_icd10_chapter",
    "index_discharge_destination",
)
#: A transfer leg's whole stay (chain_los_days) and whether it began as an emergency (lace_a).
CHAIN_LOS, ACUITY, EMERGENCY_ACUITY = "chain_los_days", "lace_a", 3
TRANSFER = "transfer"
PREFIX = "This discharge: "
#: A stay of no nights. Not "a day case": in the NHS a day case is a planned same-day admission,
#: which contradicts "emergency admission" beside it; the reasons say "discharged the same day".
SAME_DAY = "admitted the same day"
DATE_FORMAT = "%d/%m/%Y"


def _label(spec: FeatureText | None, value: object) -> str | None:
    if spec is None or value is None or pd.isna(value):
        return None
    return spec.label(float(value))


def describe_discharge(
    matrix: pd.DataFrame, *, texts: Mapping[str, FeatureText], date_column: str = "index_date"
) -> pd.Series:
    """`this_discharge` text per row (None when the frame has no index-spell features)."""
    if LOS not in matrix.columns:
        return pd.Series(
            [None] * len(matrix), index=matrix.index, name="this_discharge", dtype="object"
        )
    out = []
    dates = pd.to_datetime(matrix[date_column]) if date_column in matrix else None
    for i, (_, row) in enumerate(matrix.iterrows()):
        when = (
            dates.iloc[i].strftime(DATE_FORMAT)
            if dates is not None and pd.notna(dates.iloc[i])
            else ""
        )
        parts = []
        method = _label(texts.get(METHOD), row.get(METHOD))
        transferred = method == TRANSFER
        los = row.get(CHAIN_LOS) if transferred and pd.notna(row.get(CHAIN_LOS)) else row.get(LOS)
        if los is not None and pd.notna(los):
            nights = int(los)
            stay = (
                SAME_DAY if nights == 0 else f"{nights} day{'' if nights == 1 else 's'} in hospital"
            )
            parts.append(f"{when}, {stay}" if when else stay)
        elif when:
            parts.append(when)
        if transferred:
            emergency = row.get(ACUITY) == EMERGENCY_ACUITY
            parts.append(
                "emergency admission, then a transfer between hospitals"
                if emergency
                else "transferred from another hospital"
            )
        elif method:
            parts.append(f"{method} admission")
        diagnosis = _label(texts.get(DIAGNOSIS), row.get(DIAGNOSIS))
        if diagnosis:
            parts.append(f"{diagnosis} diagnosis")
        destination = _label(texts.get(DESTINATION), row.get(DESTINATION))
        if destination:
            parts.append(f"to {destination}")
        out.append(PREFIX + "; ".join(parts) if parts else None)
    return pd.Series(np.array(out, dtype=object), index=matrix.index, name="this_discharge")
