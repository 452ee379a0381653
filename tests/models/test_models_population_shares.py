"""Population check's bin shares with missing values (riskstrat.models.population._shares): the
same counts as binning the present values and counting the missing ones apart."""

from __future__ import annotations

import numpy as np
import pytest

from riskstrat.models.population import _shares


@pytest.mark.parametrize(
    ("values", "edges"),
    [
        (np.array([0.5, np.nan, 2.0, 3.5, np.nan, 10.0, -1.0]), [1.0, 3.0]),
        (np.array([np.nan, np.nan]), [1.0]),
        (np.array([1.0, 2.0, 3.0]), [2.0]),
        (np.array([1.0, np.nan, 3.0]), []),
        (np.array([], dtype=float), [1.0]),
    ],
)
def test_shares_count_missing_values_in_their_own_bin(values, edges) -> None:
    ref = {"edges": edges, "proportions": [1 / (len(edges) + 1)] * (len(edges) + 1), "missing": 0}
    expected, actual = _shares(values, ref)
    present = values[~np.isnan(values)]
    counts = np.bincount(np.digitize(present, edges), minlength=len(edges) + 1)
    want = np.append(counts, np.isnan(values).sum()) / max(len(values), 1)
    assert actual.tolist() == want.tolist()
    assert len(expected) == len(actual)
