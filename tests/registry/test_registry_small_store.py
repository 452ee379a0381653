"""The shared `small_store` fixture: the synthetic population ingests cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskstrat.registry.contract import TABLES
from riskstrat.registry.store import connect

pytest.importorskip("riskstrat.synth.generate", reason="synthetic generator not landed yet")


def test_small_store_holds_the_synthetic_population(small_store: Path) -> None:
    with connect(small_store) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        (history,) = con.execute("SELECT count(*) FROM extracts").fetchone()
    assert counts["patients"] == 6000
    assert counts["practices"] == 4
    assert counts["spells"] > 0 and counts["gp_contacts"] > counts["patients"]
    assert history == 1
