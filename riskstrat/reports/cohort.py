"""Per-patient report frames from a feature matrix: the model's own definitions, decoded.

Age, sex, ethnicity, IMD decile, number of LTCs and register flags come from the feature
catalogue (features/*.yml + SQL) through `features.decode`, never re-derived here, so the report
cannot drift from what the model saw. The run passes the matrix it scored (features computed
once); the loader builds one from the store for the report's own feature groups only.
"""

from __future__ import annotations

import pandas as pd

from riskstrat.features import Catalogue, decode, load_catalogue
from riskstrat.reports.frames import register_column
from riskstrat.slices import SLICES

MATRIX_MISSING = (
    "report per-patient frame lacks columns {columns}: pass the feature matrix "
    "(riskstrat.features.build_features) with the scored risk in column 'risk'"
)
#: Matrix columns the report reads besides the features.
MATRIX_KEYS = ("patient_id", "practice_code", "risk")


def register_feature(code: str) -> str:
    """The feature column of a register's flag (features/conditions.yml: reg_<code>)."""
    return f"reg_{code.lower()}"


def report_columns(registers: tuple[str, ...]) -> list[str]:
    """Feature columns the report needs: slice inputs and the key registers' flags."""
    slice_inputs = [s.column for s in SLICES if s.column != "practice_code"]
    return slice_inputs + [register_feature(r) for r in registers]


def report_catalogue(
    registers: tuple[str, ...], *, catalogue: Catalogue | None = None
) -> Catalogue:
    """The feature groups holding the report's columns (the loader builds only these)."""
    catalogue = catalogue or load_catalogue()
    needed = set(report_columns(registers))
    groups = tuple(g for g in catalogue.groups if needed & set(g.columns))
    return Catalogue(groups=groups)


def people_frame(
    matrix: pd.DataFrame,
    *,
    practices: pd.DataFrame,
    registers: tuple[str, ...],
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """One row per scored patient: risk, practice and PCN, decoded demographics, register flags.

    matrix: build_features output plus `risk` (and `label` for matured rows, kept as int).
    """
    missing = [c for c in (*MATRIX_KEYS, *report_columns(registers)) if c not in matrix.columns]
    if missing:
        raise ValueError(MATRIX_MISSING.format(columns=missing))
    decoded = decode(matrix, catalogue=catalogue)
    # Strings stay Arrow-backed (`.array`), never one Python object per row; each practice's
    # PCN is looked up once per distinct practice and spread by its code.
    practice = decoded["practice_code"].astype("str").array
    codes, uniques = pd.factorize(practice)
    pcn = dict(zip(practices["practice_code"], practices["pcn_code"], strict=True))
    pcn_of = pd.array([pcn.get(code) for code in uniques], dtype="str")
    out = pd.DataFrame(
        {
            "patient_id": matrix["patient_id"].astype("str").array,
            "risk": matrix["risk"].to_numpy(dtype="float64"),
            "practice_code": practice,
            "pcn_code": pcn_of.take(codes, allow_fill=True),
        },
        index=matrix.index,
    )
    for column in ("age", "sex", "ethnicity", "imd_decile", "ltc_count"):
        out[column] = decoded[column]
    for code in registers:
        out[register_column(code)] = matrix[register_feature(code)].to_numpy() == 1
    if "label" in matrix.columns:
        out["label"] = matrix["label"].astype("int64").to_numpy()
    return out.reset_index(drop=True)
