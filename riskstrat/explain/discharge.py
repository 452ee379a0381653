"""The index discharge of a post-discharge (readmission) row, described as "this discharge".

One line per row from the index-spell features and the row's index date (the discharge date):
"This discharge: 28/11/2026, 5 nights in hospital; emergency admission for a chest or breathing
condition; to home". A transfer leg is told as the whole stay ("9 nights in hospital; emergency
admission for an injury, then a transfer between hospitals"), as the patient lived it. The
diagnosis is the chapter's display label (configs/reasons.yaml `labels`), not its ICD-10 name.
A stay's length is in nights, as every reason says it: the NHS length of stay is the discharge
date minus the admission date, which counts nights (a same-day stay has none). Earlier
discharges are the features worded "previous" (discharge_reason in the YAML); this line is the
list's context for the row, never a reason slot.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskstrat.explain.protocols import FeatureText
from riskstrat.explain.wording import display_label

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
    return display_label(spec, float(value))


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
        method_spec, method_code = texts.get(METHOD), row.get(METHOD)
        transferred = (
            method_spec is not None
            and method_code is not None
            and pd.notna(method_code)
            and method_spec.label(float(method_code)) == TRANSFER  # the codebook's name
        )
        los = row.get(CHAIN_LOS) if transferred and pd.notna(row.get(CHAIN_LOS)) else row.get(LOS)
        if los is not None and pd.notna(los):
            nights = int(los)
            stay = (
                SAME_DAY
                if nights == 0
                else f"{nights} night{'' if nights == 1 else 's'} in hospital"
            )
            parts.append(f"{when}, {stay}" if when else stay)
        elif when:
            parts.append(when)
        diagnosis = _label(texts.get(DIAGNOSIS), row.get(DIAGNOSIS))
        cause = f" for {diagnosis}" if diagnosis else ""
        if transferred:
            emergency = row.get(ACUITY) == EMERGENCY_ACUITY
            parts.append(
                f"emergency admission{cause}, then a transfer between hospitals"
                if emergency
                else f"transferred from another hospital{cause}"
            )
        elif method:
            parts.append(f"{method} admission{cause}")
        elif diagnosis:
            parts.append(f"admitted{cause}")
        destination = _label(texts.get(DESTINATION), row.get(DESTINATION))
        if destination:
            parts.append(f"to {destination}")
        out.append(PREFIX + "; ".join(parts) if parts else None)
    return pd.Series(np.array(out, dtype=object), index=matrix.index, name="this_discharge")
