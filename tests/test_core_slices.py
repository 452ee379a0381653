import numpy as np
import pandas as pd
import pytest

from riskstrat.slices import MISSING_SLICE_COLUMN, SLICE_NAMES, UNKNOWN, assign_slices


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [0.0, 17.9, 18.0, 64.99, 65.0, 84.0, 85.0, np.nan],
            "sex": ["F", "M", "U", "F", "M", "F", "M", None],
            "ethnicity": ["White", "Asian", "Black", "Mixed", "Other", "Unknown", None, "White"],
            "imd_decile": [1, 2, 3, 4, 9, 10, np.nan, 5],
            "practice_code": ["A"] * 8,
            "ltc_count": [0, 1, 2, 3, 4, 7, np.nan, 0],
        }
    )


def test_bands_edges() -> None:
    s = assign_slices(frame())
    assert list(s.columns) == list(SLICE_NAMES)
    assert s["age_band"].tolist() == [
        "0-17",
        "0-17",
        "18-44",
        "45-64",
        "65-74",
        "75-84",
        "85+",
        UNKNOWN,
    ]
    assert s["imd_quintile"].tolist()[:6] == [
        "1 (most deprived)",
        "1 (most deprived)",
        "2",
        "2",
        "5 (least deprived)",
        "5 (least deprived)",
    ]
    assert s["imd_quintile"].iloc[6] == UNKNOWN
    assert s["ltc_count"].tolist() == ["0", "1", "2", "3", "4+", "4+", UNKNOWN, "0"]
    assert s["sex"].iloc[7] == UNKNOWN and s["ethnicity"].iloc[6] == UNKNOWN


def test_missing_column_is_named() -> None:
    with pytest.raises(KeyError) as err:
        assign_slices(frame().drop(columns="imd_decile"))
    assert MISSING_SLICE_COLUMN.format(column="imd_decile", slice="imd_quintile") in str(err.value)
