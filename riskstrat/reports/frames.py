"""The frames the report's pure core takes, and the tidy frame it returns.

The loader (riskstrat.reports.loader) builds these from the store; tests build them by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskstrat.reports.dictionary import COLUMNS
from riskstrat.reports.suppression import Protected

#: One row per scored patient at the as-of date (registers add `register_<CODE>` bool columns).
COHORT_COLUMNS = (
    "patient_id", "risk", "practice_code", "pcn_code", "age", "sex", "ethnicity", "imd_decile",
    "ltc_count", "listed",
)  # fmt: skip
#: One row per patient scored one horizon ago, with what happened (label 1 = admitted).
MATURED_COLUMNS = (
    "patient_id", "risk", "label", "practice_code", "pcn_code", "age", "sex", "ethnicity",
    "imd_decile", "ltc_count",
)  # fmt: skip
PRACTICE_COLUMNS = ("practice_code", "practice_name", "pcn_code", "pcn_name")
OUTCOME_COLUMNS = ("practice_code", "pathway", "listed_on", "contacted_on", "outcome")
HEADLINE_COLUMNS = (
    "as_of", "population", "expected_admissions", "expected_lower", "expected_upper",
    "case_management_threshold",
)  # fmt: skip
#: The tidy aggregates (aggregates.csv): one row per (as_of, section, dimension, group, measure);
#: columns defined once in riskstrat.reports.dictionary.
TIDY_COLUMNS = tuple(COLUMNS)

MISSING_COLUMNS = "report input {frame!r} lacks columns {columns}"
RISK_RANGE = "report input {frame!r}: column 'risk' must hold probabilities in [0, 1]"
PRACTICE_UNKNOWN = "report input {frame!r}: practice_code not in practices: {codes}"


def register_column(code: str) -> str:
    return f"register_{code}"


def require(frame: pd.DataFrame, columns: Sequence[str], *, name: str) -> None:
    """Fail early, naming the input and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(frame=name, columns=missing))
    if "risk" in columns:
        risk = frame["risk"].to_numpy(dtype=float)
        if np.any(~np.isfinite(risk)) or np.any((risk < 0) | (risk > 1)):
            raise ValueError(RISK_RANGE.format(frame=name))


def tidy(
    section: str,
    measure: str,
    dimension: str,
    group: str,
    value: float,
    *,
    suppressed: bool = False,
    lower: float = np.nan,
    upper: float = np.nan,
) -> dict[str, object]:
    hide = bool(suppressed)
    return {
        "section": section,
        "measure": measure,
        "dimension": dimension,
        "group": str(group),
        "value": np.nan if hide else float(value),
        "suppressed": hide,
        "lower": np.nan if hide else float(lower),
        "upper": np.nan if hide else float(upper),
    }


def tidy_protected(
    table: Protected,
    *,
    section: str,
    measures: dict[str, str],
    group_types: dict[str, str],
) -> list[dict[str, object]]:
    """Rows of a protected table: column -> measure name, row kind -> dimension."""
    values = {col: table.values[col].to_numpy(dtype=float) for col in measures}
    hidden = {col: table.suppressed[col].to_numpy(dtype=bool) for col in measures}
    kinds = table.kind.to_numpy()
    out = []
    for k, group in enumerate(table.values.index):
        for col, measure in measures.items():
            out.append(
                tidy(section, measure, group_types[kinds[k]], group, values[col][k],
                     suppressed=hidden[col][k])
            )  # fmt: skip
    return out
